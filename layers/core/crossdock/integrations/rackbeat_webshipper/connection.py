"""A `rackbeat_webshipper` connection: one Webshipper account and one Rackbeat account, with this kind's settings."""

from __future__ import annotations

from typing import ClassVar, Literal

from crossdock.connections.model import Accounts, Connection
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings

KIND: Literal["rackbeat_webshipper"] = "rackbeat_webshipper"


class RackbeatWebshipperAccounts(Accounts):
    # A Webshipper account's orders go to one Rackbeat account only (two connections would each import every order).
    claimed: ClassVar[frozenset[str]] = frozenset({"webshipper"})

    rackbeat: RackbeatAccount
    webshipper: WebshipperAccount


class RackbeatWebshipperConnection(Connection):
    kind: Literal["rackbeat_webshipper"] = KIND
    accounts: RackbeatWebshipperAccounts
    settings: RackbeatWebshipperSettings
