"""Signing a new connection in to Shopbox (SPEC §2 install, reference/shopbox.md "Auth"): the login is tested, the
Shopbox client (company) it acts for is chosen, and its branches are read, all before anything is stored.

The operator gives the merchant's Shopbox e-mail and password, or a long-lived API token. A login may act for
several clients (`/clients/myclients`); then the operator names one, and without a name the refusal lists the
choices (uid and name) rather than guessing. A client the login cannot act for is refused by name. The branches
are read with the chosen client as the last test: that is the call every later one is like (`client=` in the query
string), and a login that cannot list them could not sell through Crossdock either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from crossdock.connectors.shopbox import login
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.connectors.shopbox.shapes import ClientChoice, Login
from crossdock.connectors.shopbox.tokens import ShopboxTokens
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.install_credentials import INSTALLING, OnlyHolder, UnsavedSecrets
from crossdock.integrations.rackbeat_shopbox.settings import SettingProblem
from crossdock.integrations.rackbeat_shopbox.settings_save import ShopboxCatalog


class _Login(Protocol):
    @property
    def access_token(self) -> str: ...


class _ClientChoice(Protocol):
    @property
    def uid(self) -> str: ...

    @property
    def name(self) -> str | None: ...


class ShopboxSignIn(Protocol):
    """Shopbox as an install asks it (`ConnectorSignIn` over the connector; a test may give its own)."""

    def login(self, username: str, password: str) -> _Login: ...

    def clients(self, token: str, *, api_token: bool) -> Sequence[_ClientChoice]: ...

    def catalog(self, account: ShopboxAccount, token: str, *, api_token: bool) -> ShopboxCatalog: ...


class ConnectorSignIn:
    """`ShopboxSignIn` over the connector: `login.authenticate`, `login.my_clients`, and a `ShopboxClient` whose
    credential lives in memory only (nothing is stored before everything has been tested). One per install."""

    def __init__(self, api_base: str, *, timeout_seconds: float, transport: httpx.BaseTransport | None = None) -> None:
        self._api_base = api_base
        self._timeout = timeout_seconds
        self._transport = transport
        self._password: str | None = None
        self._clients: list[ShopboxClient] = []

    def login(self, username: str, password: str) -> Login:
        self._password = password  # a login token that expires during the install is renewed with it
        return login.authenticate(self._api_base, username, password, transport=self._transport)

    def clients(self, token: str, *, api_token: bool) -> list[ClientChoice]:
        return login.my_clients(self._api_base, token, api_token=api_token, transport=self._transport)

    def catalog(self, account: ShopboxAccount, token: str, *, api_token: bool) -> ShopboxClient:
        unsaved = UnsavedSecrets({SHOPBOX_API_TOKEN: token} if api_token else {SHOPBOX_ACCESS_TOKEN: token})
        if self._password is not None and not api_token:
            unsaved.put(INSTALLING, SHOPBOX_PASSWORD, self._password)
        tokens = ShopboxTokens(INSTALLING, account, unsaved, OnlyHolder(), holder=INSTALLING, transport=self._transport)
        client = ShopboxClient(account, tokens, transport=self._transport, timeout_seconds=self._timeout)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


@dataclass(frozen=True)
class ShopboxCredentials:
    """What the operator gives for Shopbox. Either a login (e-mail and password) or an API token."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)
    client_uid: str | None = None  # needed when the login acts for several clients

    def problems(self) -> list[SettingProblem]:
        username, password, token = (
            value.strip() if value else "" for value in (self.username, self.password, self.api_token)
        )
        if token and (username or password):
            return [SettingProblem("shopbox_api_token", "give either an API token or an e-mail and password, not both")]
        if token:
            return []
        problems = []
        if not username:
            problems.append(SettingProblem("shopbox_username", "is empty (the Shopbox login's e-mail)"))
        if not password:
            problems.append(SettingProblem("shopbox_password", "is empty"))
        return problems


@dataclass(frozen=True)
class SignedIn:
    """The tested account, the secret to keep (a login token or the API token) and the catalog it opened."""

    account: ShopboxAccount
    access_token: str = field(repr=False)
    uses_api_token: bool
    catalog: ShopboxCatalog
    branch_count: int


class SignInRefused(Exception):
    """Shopbox refused the login, or the client cannot be chosen; every problem by the input that has it."""

    def __init__(self, problems: list[SettingProblem], choices: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.choices = list(choices)  # (uid, name) of the clients the login may act for, when one must be chosen


def sign_in(credentials: ShopboxCredentials, shopbox: ShopboxSignIn, api_base: str) -> SignedIn:
    """The account the credentials open, tested; `SignInRefused` when Shopbox says no or a choice is missing.
    A Shopbox that cannot be reached raises the connector's `RetryableError` (nothing is wrong with the input)."""
    uses_api_token = bool(credentials.api_token and credentials.api_token.strip())
    if uses_api_token:
        token = (credentials.api_token or "").strip()
    else:
        username = (credentials.username or "").strip()
        try:
            token = shopbox.login(username, credentials.password or "").access_token
        except PermanentError as refused:
            if refused.failure_class is not FailureClass.AUTH:
                raise
            # The password field: a wrong password is by far the likelier mistake of the two, and neither is shown.
            raise SignInRefused(
                [SettingProblem("shopbox_password", f"Shopbox refused the login for {username}: {refused.reason}")]
            ) from None
    wanted = (credentials.client_uid or "").strip() or None
    if uses_api_token and wanted is not None:
        # An API token belongs to one client and may not list any (the branches below test that it is this one).
        chosen = (wanted, "")
    else:
        chosen = _chosen(wanted, _choices(shopbox, token, uses_api_token))
    account = ShopboxAccount(
        api_base=api_base,
        client_uid=chosen[0],
        client_name=chosen[1] or None,
        username=None if uses_api_token else (credentials.username or "").strip(),
    )
    catalog = shopbox.catalog(account, token, api_token=uses_api_token)
    try:
        branches = catalog.branches()
    except PermanentError as refused:
        if refused.failure_class is not FailureClass.AUTH:
            raise
        raise SignInRefused(
            [
                SettingProblem(
                    "shopbox_client", f"Shopbox refused to list client {chosen[0]}'s branches: {refused.reason}"
                )
            ]
        ) from None
    return SignedIn(account, token, uses_api_token, catalog, len(branches))


def _choices(shopbox: ShopboxSignIn, token: str, uses_api_token: bool) -> list[tuple[str, str]]:
    try:
        found = shopbox.clients(token, api_token=uses_api_token)
    except PermanentError as refused:
        if refused.failure_class is not FailureClass.AUTH:
            raise
        if uses_api_token:
            raise SignInRefused(
                [
                    SettingProblem(
                        "shopbox_client",
                        f"is required with an API token: Shopbox lists no clients for it ({refused.reason})",
                    )
                ]
            ) from None
        raise SignInRefused(
            [SettingProblem("shopbox_password", f"Shopbox refused the login: {refused.reason}")]
        ) from None
    return [(str(choice.uid), choice.name or "") for choice in found]


def _chosen(wanted: str | None, choices: list[tuple[str, str]]) -> tuple[str, str]:
    listed = ", ".join(f"{uid} ({name or 'no name'})" for uid, name in choices)
    if wanted is not None:
        for uid, name in choices:
            if uid == wanted:
                return uid, name
        raise SignInRefused(
            [
                SettingProblem(
                    "shopbox_client",
                    f"the login cannot act for Shopbox client {wanted}; it can for: {listed or 'none'}",
                )
            ],
            choices,
        )
    if len(choices) == 1:
        return choices[0]
    if not choices:
        raise SignInRefused([SettingProblem("shopbox_client", "the login can act for no Shopbox client")])
    raise SignInRefused(
        [
            SettingProblem(
                "shopbox_client", f"the login can act for {len(choices)} Shopbox clients; choose one: {listed}"
            )
        ],
        choices,
    )
