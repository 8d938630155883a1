"""Signing a new connection in to Webshipper (SPEC §3 install, reference/webshipper.md "Auth"): the credentials
are tested, and the account's order channels and shipping rates read, all before anything is stored.

The operator gives the Webshipper account name (the subdomain of `https://<account>.webshipper.io`) and either the
e-mail and password of a Webshipper user (seed 003: a user that stays; deleting it breaks the connection) or a
stored API token. The channels are read first: that is the call that proves the credentials (a password grant, or
the token, then one authenticated call) and the account; then the rates. Both are what the operator chooses
`order_channel` and `delivery_term_rates` from, and what the settings' references are checked against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from crossdock.connections.settings_rules import SettingProblem
from crossdock.connectors.webshipper import catalogue, login
from crossdock.connectors.webshipper.account import WEBSHIPPER_API, WebshipperAccount, api_base_for
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.secret_names import ACCESS_TOKEN, API_TOKEN, PASSWORD
from crossdock.connectors.webshipper.shapes import OrderChannel, ShippingRate
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.install_credentials import INSTALLING, OnlyHolder, UnsavedSecrets
from crossdock.integrations.rackbeat_webshipper.settings_save import WebshipperCatalog

# A Webshipper account name is a DNS label: the subdomain its web UI and API answer at.
# How `channel_choices` marks a rate that requires a drop point (a Rackbeat order carries none).
DROP_POINT_MARK = " (requires a drop point: not for default_shipping_rate)"
_ACCOUNT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class WebshipperCredentials:
    """What the operator gives for Webshipper: the account, and a login (e-mail and password) or an API token."""

    account: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)

    @property
    def account_name(self) -> str:
        return self.account.strip().lower()

    @property
    def uses_api_token(self) -> bool:
        return bool(self.api_token and self.api_token.strip())

    def problems(self) -> list[SettingProblem]:
        problems = []
        if not _ACCOUNT_NAME.fullmatch(self.account_name):
            problems.append(
                SettingProblem(
                    "webshipper_account",
                    f"{self.account!r} is not a Webshipper account name (the subdomain of "
                    "https://<account>.webshipper.io, letters, digits and hyphens)",
                )
            )
        username, password = ((value or "").strip() for value in (self.username, self.password))
        if self.uses_api_token:
            if username or password:
                problems.append(
                    SettingProblem(
                        "webshipper_api_token", "give either an API token or an e-mail and password, not both"
                    )
                )
            return problems
        if not username:
            problems.append(SettingProblem("webshipper_username", "is empty (the Webshipper user's e-mail)"))
        if not password:
            problems.append(SettingProblem("webshipper_password", "is empty"))
        return problems


class OpenedWebshipper(WebshipperCatalog, Protocol):
    """An account opened with credentials held in memory only: its catalog, and the secrets to keep once stored."""

    def secrets(self) -> dict[str, str]:
        """Secret name → value (`connectors.webshipper.secret_names`): the password and the token it was granted,
        or the API token."""
        ...


class WebshipperSignIn(Protocol):
    """Webshipper as an install asks it (`ConnectorSignIn` over the connector; a test may give its own). `open`
    logs in when the credentials are a login (`PermanentError` AUTH when refused)."""

    def open(self, account: WebshipperAccount, credentials: WebshipperCredentials) -> OpenedWebshipper: ...


class ConnectorSignIn:
    """`WebshipperSignIn` over the connector: the password grant (`login.authenticate`), then a `WebshipperClient`
    whose credentials live in memory only (nothing is stored before everything has been tested). One per install."""

    def __init__(self, *, timeout_seconds: float, transport: httpx.BaseTransport | None = None) -> None:
        self._timeout = timeout_seconds
        self._transport = transport
        self._clients: list[WebshipperClient] = []

    def open(self, account: WebshipperAccount, credentials: WebshipperCredentials) -> _ConnectorOpened:
        if credentials.uses_api_token:
            unsaved = UnsavedSecrets({API_TOKEN: (credentials.api_token or "").strip()})
        else:
            password = credentials.password or ""
            grant = login.authenticate(account.api_base, account.username or "", password, transport=self._transport)
            # The password stays so an expired grant can be replaced without asking the merchant again.
            unsaved = UnsavedSecrets({PASSWORD: password, ACCESS_TOKEN: grant.access_token})
        tokens = WebshipperTokens(
            INSTALLING, account, unsaved, OnlyHolder(), holder=INSTALLING, transport=self._transport
        )
        client = WebshipperClient(account, tokens, transport=self._transport, timeout_seconds=self._timeout)
        self._clients.append(client)
        return _ConnectorOpened(client, unsaved)

    def close(self) -> None:
        for client in self._clients:
            client.close()


class ConnectorCatalog:
    """`WebshipperCatalog` over a connector client: the order channels and shipping rates, read when asked."""

    def __init__(self, client: WebshipperClient) -> None:
        self._client = client

    def order_channels(self) -> list[OrderChannel]:
        return catalogue.order_channels(self._client)

    def shipping_rates(self) -> list[ShippingRate]:
        return catalogue.shipping_rates(self._client)


class _ConnectorOpened(ConnectorCatalog):
    def __init__(self, client: WebshipperClient, unsaved: UnsavedSecrets) -> None:
        super().__init__(client)
        self._unsaved = unsaved

    def secrets(self) -> dict[str, str]:
        return self._unsaved.values()


@dataclass(frozen=True)
class Choice:
    """An order channel or a shipping rate the operator may name in the settings."""

    id: str
    name: str
    channel_id: str | None = None  # a rate's channel (None: any channel)
    drop_point: bool = False  # a rate that requires a drop point: not for `default_shipping_rate`

    def __str__(self) -> str:
        return f"{self.id} {self.name}" + (f" (channel {self.channel_id})" if self.channel_id else "")


@dataclass(frozen=True)
class SignedIn:
    """The tested account, the secrets to keep, the catalog it opened and what it offers."""

    account: WebshipperAccount
    secrets: dict[str, str] = field(repr=False)
    catalog: WebshipperCatalog
    channels: list[Choice]
    rates: list[Choice]


class SignInRefused(Exception):
    """Webshipper refused the credentials or does not know the account; every problem by the input that has it."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def sign_in(
    credentials: WebshipperCredentials, webshipper: WebshipperSignIn, api_base: str = WEBSHIPPER_API
) -> SignedIn:
    """The account the credentials open, tested, with its channels and rates; `SignInRefused` when Webshipper says
    no. `api_base` names `{account}` (the public API, staging, a simulator). A Webshipper that cannot be reached
    raises the connector's `TransientError` (nothing is wrong with the input)."""
    name = credentials.account_name
    account = WebshipperAccount(
        account=name,
        api_base=api_base_for(name, api_base),
        username=None if credentials.uses_api_token else (credentials.username or "").strip(),
    )
    try:
        opened = webshipper.open(account, credentials)
        channels = channels_of(opened)
    except PermanentError as refused:
        raise SignInRefused([_refusal(credentials, refused)]) from None
    rates = rates_of(opened)
    return SignedIn(account, opened.secrets(), opened, channels, rates)


def channels_of(catalog: WebshipperCatalog) -> list[Choice]:
    return [Choice(str(channel.id), channel.label or "") for channel in catalog.order_channels()]


def rates_of(catalog: WebshipperCatalog) -> list[Choice]:
    return [
        Choice(
            str(rate.id),
            rate.name or "",
            None if rate.channel_id is None else str(rate.channel_id),
            rate.require_drop_point,
        )
        for rate in catalog.shipping_rates()
    ]


def _refusal(credentials: WebshipperCredentials, refused: PermanentError) -> SettingProblem:
    if refused.failure_class is FailureClass.AUTH:
        if credentials.uses_api_token:
            return SettingProblem("webshipper_api_token", f"Webshipper refused the API token: {refused.reason}")
        # The password field: a wrong password is by far the likelier mistake of the two, and neither is shown.
        return SettingProblem(
            "webshipper_password",
            f"Webshipper refused the login of {(credentials.username or '').strip()} to account "
            f"{credentials.account_name}: {refused.reason}",
        )
    return SettingProblem(
        "webshipper_account",
        f"Webshipper did not answer for account {credentials.account_name} ({refused.reason}); check the name",
    )


def channel_choices(channels: Sequence[Choice], rates: Sequence[Choice]) -> list[str]:
    """What the operator chooses from, as lines: each channel (`order_channel`), and the rates of that channel or of
    any — what `delivery_term_rates`, `shipping_method_rates` and `default_shipping_rate` name; a rate that requires
    a drop point is marked, as the default may not be one."""
    lines = []
    for channel in channels:
        lines.append(f"order channel {channel}")
        lines += [
            f"  shipping rate {rate.id} {rate.name}" + (DROP_POINT_MARK if rate.drop_point else "")
            for rate in rates
            if rate.channel_id in (None, channel.id)
        ]
    unbound = [
        rate for rate in rates if rate.channel_id is not None and rate.channel_id not in {c.id for c in channels}
    ]
    lines += [f"shipping rate {rate}" for rate in unbound]
    return lines
