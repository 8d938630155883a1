"""The connection's Rackbeat account: which company, and where its API answers."""

from __future__ import annotations

from crossdock.connections.model import Account

RACKBEAT_API = "https://app.rackbeat.com/api/"


class RackbeatAccount(Account):
    # Rackbeat's company id (`GET /self`); unknown until the API key has been checked once.
    account_id: int | None = None
    # Per connection so the same client talks to the real service or to a simulator.
    api_base: str = RACKBEAT_API

    @property
    def identity(self) -> str | None:
        return None if self.account_id is None else str(self.account_id)
