"""The narrow context a request handler works with, instead of the whole simulator.

A `Session` is made for each API request and each control call: the whole state, the account the path names
and the caller's token once the pipeline has checked them, the rules, the time, the base URL links are built on,
and `emit`, which tells the simulator a resource changed (it queues the webhooks). Handlers never see the
simulator, so no resource module reaches into another's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from crossdock_local.sims.base import SimResponse
from crossdock_local.sims.webshipper.rules import WebshipperRules
from crossdock_local.sims.webshipper.state import AccountState, Record, Token, WebshipperState

Emit = Callable[["Session", str, str, Record], None]
"""(session, topic such as `order/created`, resource type, record): a change Webshipper sends webhooks for."""


def _silent(session: Session, topic: str, kind: str, record: Record) -> None:
    return None


@dataclass
class Session:
    state: WebshipperState
    rules: WebshipperRules
    clock: float  # the simulator's clock (token expiry)
    unix_now: float  # wall time, as `created_at` and `updated_at` carry it
    public_url: str  # links are `<public_url>/<account>/v2/...`
    account_name: str | None = None
    token: Token | None = None
    emit: Emit = field(default=_silent, repr=False)

    @property
    def account(self) -> AccountState:
        """The account the path names; the pipeline checked it before an API route's handler runs."""
        assert self.account_name is not None, "an account route ran without an account"
        return self.state.accounts[self.account_name]

    @property
    def base(self) -> str:
        return f"{self.public_url}/{self.account_name}/v2"

    def timestamp(self) -> str:
        """ISO 8601 in UTC with milliseconds and `Z`, as the spec shows (`…T14:01:18.000Z`)."""
        moment = datetime.fromtimestamp(self.unix_now, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def changed(self, topic: str, kind: str, record: Record) -> None:
        self.emit(self, topic, kind, record)


Handler = Callable[..., SimResponse]
"""A route's handler: (session, request, **path parameters) → answer."""
Access = Literal["public", "token"]
"""Who may call a route: "public" (the password grant) or "token" (a live bearer token of the path's account)."""
Route = tuple[str, str, Handler, Access]
