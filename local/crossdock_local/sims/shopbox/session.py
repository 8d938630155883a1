"""The narrow context a request handler works with, instead of the whole simulator.

A `Session` is made for each API request and each control call: the whole state (logins and tokens for the auth
routes), the caller's token and client once the pipeline has checked them, the rules, the time, and the faults'
seeded random source for what Shopbox does now and then. Handlers never see the simulator, so no resource module
reaches into another's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from crossdock_local.sims.base import SimResponse
from crossdock_local.sims.shopbox.rules import ShopboxRules
from crossdock_local.sims.shopbox.state import ClientState, Record, ShopboxState, Token

Sold = Callable[[ClientState, Record, int], None]
"""Announce a sale (+1) or its cancellation (-1) of a basket: the optional stock-delta push (push.py)."""


def _unannounced(client: ClientState, basket: Record, sign: int) -> None:
    return None


@dataclass
class Session:
    state: ShopboxState
    rules: ShopboxRules
    clock: float  # the simulator's clock (token expiry, listing delay)
    unix_now: int  # wall time in Unix seconds, as `crdate` and `tstamp` carry it
    roll: Callable[[float], bool]  # True with the given probability, from the faults' seeded stream
    token: Token | None = None
    client: ClientState | None = None
    sold: Sold = _unannounced

    @property
    def tenant(self) -> ClientState:
        """The client chosen by `client=`; the pipeline checked it before a client route's handler runs."""
        assert self.client is not None, "a client route ran without a client"
        return self.client

    def next_uid(self) -> int:
        return self.state.next_uid()


Handler = Callable[..., SimResponse]
"""A route's handler: (session, request, **path parameters) → answer."""
Access = Literal["public", "login", "client"]
"""Who may call a route: "public" (no token), "login" (a token, no client) or "client" (a token and `client=`)."""
Route = tuple[str, str, Handler, Access]
