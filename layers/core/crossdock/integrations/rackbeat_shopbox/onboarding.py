"""A new `rackbeat_shopbox` connection, as an operator creates it (SPEC §2 install; issue 14, item 1).

The operator gives the merchant's Rackbeat API key, the Shopbox login (or an API token), the Shopbox client when the
login acts for several, and the settings. Everything is checked before anything is stored: the settings (the model
and its rules), the Rackbeat key (`GET /self`, which also names the company), the Shopbox login, the client and its
branches (`install.sign_in`). Only then are the references the settings name looked up in both accounts.

A Shopbox connection has no OAuth install to wait for: with settings whose references all exist it is activated
at once (`activation.activate`: its poll schedules, then the state). One whose settings name something an account
lacks is stored `installing`, with what is missing reported (the merchant may still be setting up Rackbeat, as seed
002 describes); the first settings save that passes activates it. `initial_sync` may change until then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RACKBEAT_API, RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY, RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.shopbox.account import SHOPBOX_API
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.integrations import rackbeat_key
from crossdock.integrations.rackbeat_shopbox import settings_save
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials, ShopboxSignIn, SignInRefused, sign_in
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings, SettingProblem


@dataclass(frozen=True)
class NewShopboxConnection:
    """What the operator gives. The API bases are where the platforms answer, when not at their public addresses."""

    rackbeat_api_key: str = field(repr=False)
    shopbox: ShopboxCredentials
    settings: dict[str, Any]
    rackbeat_api_base: str = RACKBEAT_API
    shopbox_api_base: str = SHOPBOX_API


class ConnectionRefused(Exception):
    """The new connection's input is wrong; nothing was stored. Every problem, by the field that has it, and the
    Shopbox clients to choose from when the choice is what is missing."""

    def __init__(self, problems: list[SettingProblem], client_choices: list[tuple[str, str]] | None = None) -> None:
        super().__init__("connection refused:\n" + "\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.client_choices = client_choices or []


@dataclass(frozen=True)
class PreparedConnection:
    connection: RackbeatShopboxConnection  # `installing`: activated once stored, when nothing is missing
    secrets: dict[str, str] = field(repr=False)  # name → value, to be stored KMS-encrypted with the connection
    # What the settings name that an account does not have (yet); empty: the connection can be activated.
    missing_references: list[SettingProblem]
    branch_count: int

    @property
    def ready(self) -> bool:
        return not self.missing_references


def prepare(
    connection_id: str, new: NewShopboxConnection, rackbeat: RackbeatClient, shopbox: ShopboxSignIn
) -> PreparedConnection:
    """The connection to store, or `ConnectionRefused` with every problem found. `rackbeat` is a client with the
    given key; `shopbox` signs in with the given credentials. A platform that cannot be reached raises its client's
    `RetryableError` (nothing is wrong with the input)."""
    problems: list[SettingProblem] = []
    settings: RackbeatShopboxSettings | None = None
    try:
        settings = settings_save.validated(None, new.settings)
    except settings_save.SettingsRejected as rejected:
        problems += rejected.problems
    account_id = rackbeat_key.tested_account(new.rackbeat_api_key, rackbeat, problems)
    credentials_wrong = new.shopbox.problems()
    problems += credentials_wrong
    signed_in, choices = None, None
    if not credentials_wrong:
        try:
            signed_in = sign_in(new.shopbox, shopbox, new.shopbox_api_base)
        except SignInRefused as refused:
            problems += refused.problems
            choices = refused.choices
    if problems or settings is None or account_id is None or signed_in is None:
        raise ConnectionRefused(problems, choices)
    missing = settings_save.check_references(settings, rackbeat, signed_in.catalog)
    connection = RackbeatShopboxConnection(
        id=connection_id,
        state=ConnectionState.INSTALLING,
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=account_id, api_base=new.rackbeat_api_base),
            shopbox=signed_in.account,
        ),
        settings=settings,
    )
    secrets = {RACKBEAT_API_KEY: new.rackbeat_api_key.strip(), RACKBEAT_WEBHOOK_TOKENS: json.dumps([])}
    if signed_in.uses_api_token:
        secrets[SHOPBOX_API_TOKEN] = signed_in.access_token
    else:
        # The password stays so an expired login token can be replaced without asking the merchant again.
        secrets[SHOPBOX_PASSWORD] = new.shopbox.password or ""
        secrets[SHOPBOX_ACCESS_TOKEN] = signed_in.access_token
    return PreparedConnection(connection, secrets, missing, signed_in.branch_count)
