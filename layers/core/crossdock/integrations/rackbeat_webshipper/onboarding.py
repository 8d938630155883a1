"""A new `rackbeat_webshipper` connection, as an operator creates it (SPEC §3 install; issue 15, item 1).

The operator gives the merchant's Rackbeat API key, the Webshipper account with a login (or an API token), and the
settings. Everything is checked before anything is stored: the settings (the model and its rules), the Rackbeat
key (`GET /self`, which also names the company), the Webshipper credentials and account (`install.sign_in`, which
reads the order channels and shipping rates: the choices for `order_channel` and `delivery_term_rates`). A wrong
password is one clear problem and nothing is stored. Only then are the references the settings name looked up in
both accounts.

Like a Shopbox connection it has no OAuth install to wait for: with settings whose references all exist it is
activated at once (`activation`: its webhooks in both systems, then the state); one whose settings name what an
account lacks is stored `installing` with what is missing reported, and the first settings save that passes
activates it. A document without `order_channel` (required while orders go to Webshipper) is refused with the
account's channels and rates listed, so the operator can choose and run the create again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connections.settings_rules import SettingProblem, SettingsRejected
from crossdock.connectors.rackbeat.account import RACKBEAT_API, RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY, RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.webshipper.account import WEBSHIPPER_API
from crossdock.integrations import rackbeat_key
from crossdock.integrations.rackbeat_webshipper import settings_save
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.install import (
    Choice,
    SignedIn,
    SignInRefused,
    WebshipperCredentials,
    WebshipperSignIn,
    sign_in,
)


@dataclass(frozen=True)
class NewWebshipperConnection:
    """What the operator gives. The API bases are where the platforms answer, when not at their public addresses
    (Webshipper's names `{account}`)."""

    rackbeat_api_key: str = field(repr=False)
    webshipper: WebshipperCredentials
    settings: dict[str, Any]
    rackbeat_api_base: str = RACKBEAT_API
    webshipper_api_base: str = WEBSHIPPER_API


class ConnectionRefused(Exception):
    """The new connection's input is wrong; nothing was stored. Every problem, by the field that has it, and, when
    Webshipper accepted the credentials, its order channels and shipping rates: an operator who has not chosen
    `order_channel` yet (it is required while orders go to Webshipper) sees what to choose from."""

    def __init__(
        self, problems: list[SettingProblem], channels: list[Choice] | None = None, rates: list[Choice] | None = None
    ) -> None:
        super().__init__("connection refused:\n" + "\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.channels = channels or []
        self.rates = rates or []


@dataclass(frozen=True)
class PreparedConnection:
    connection: RackbeatWebshipperConnection  # `installing`: activated once stored, when nothing is missing
    secrets: dict[str, str] = field(repr=False)  # name → value, to be stored KMS-encrypted with the connection
    # What the settings name that an account does not have (yet); empty: the connection can be activated.
    missing_references: list[SettingProblem]
    channels: list[Choice]  # the account's order channels and shipping rates, to choose the settings from
    rates: list[Choice]

    @property
    def ready(self) -> bool:
        return not self.missing_references


def prepare(
    connection_id: str, new: NewWebshipperConnection, rackbeat: RackbeatClient, webshipper: WebshipperSignIn
) -> PreparedConnection:
    """The connection to store, or `ConnectionRefused` with every problem found. `rackbeat` is a client with the
    given key; `webshipper` opens the account with the given credentials. A platform that cannot be reached raises
    its client's transient error (nothing is wrong with the input)."""
    problems: list[SettingProblem] = []
    settings = None
    try:
        settings = settings_save.validated(new.settings)
    except SettingsRejected as rejected:
        problems += rejected.problems
    account_id = rackbeat_key.tested_account(new.rackbeat_api_key, rackbeat, problems)
    credentials_wrong = new.webshipper.problems()
    problems += credentials_wrong
    signed_in: SignedIn | None = None
    if not credentials_wrong:
        try:
            signed_in = sign_in(new.webshipper, webshipper, new.webshipper_api_base)
        except SignInRefused as refused:
            problems += refused.problems
    if problems or settings is None or account_id is None or signed_in is None:
        if signed_in is None:
            raise ConnectionRefused(problems)
        raise ConnectionRefused(problems, signed_in.channels, signed_in.rates)
    missing = settings_save.check_references(settings, rackbeat, signed_in.catalog)
    connection = RackbeatWebshipperConnection(
        id=connection_id,
        state=ConnectionState.INSTALLING,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=account_id, api_base=new.rackbeat_api_base),
            webshipper=signed_in.account,
        ),
        settings=settings,
    )
    secrets = {
        RACKBEAT_API_KEY: new.rackbeat_api_key.strip(),
        RACKBEAT_WEBHOOK_TOKENS: json.dumps([]),
        **signed_in.secrets,
    }
    return PreparedConnection(connection, secrets, missing, signed_in.channels, signed_in.rates)
