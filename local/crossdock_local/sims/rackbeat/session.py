"""The narrow context a request handler works with, instead of the whole simulator.

A `Session` is made for each API request (and each control call that acts as a user in Rackbeat's UI): the caller's
account, the simulator-wide id series, the API keys (the token route replaces the caller's) and where to announce a
change. Handlers never see the simulator, so no resource module can reach into another's state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock_local.sims.base import SimResponse
from crossdock_local.sims.rackbeat.state import AccountState

Announce = Callable[[AccountState, str, Any, str], None]
"""Queue one event for the account's subscribed webhooks: (account, event, key, key name)."""


@dataclass
class Session:
    account: AccountState
    ids: Counter[str]  # sim-wide ids: shipments, lines, webhooks, adjustments
    api_keys: dict[str, int]  # API key → account id
    announce: Announce
    suppress: bool = False  # `suppress_webhooks=true`: the caller's own writes don't echo back

    def next_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def emit(self, event: str, key: Any, key_name: str = "number") -> None:
        """Announce a change of the caller's account to its webhooks (queued; sent by the simulator's `deliver`)."""
        if not self.suppress:
            self.announce(self.account, event, key, key_name)


Handler = Callable[..., SimResponse]
"""A route's handler: (session, request, **path parameters) → answer."""
Route = tuple[str, str, Handler]
