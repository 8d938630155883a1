"""The narrow context a request handler works with, instead of the whole simulator.

A `Session` is made for each API request and each control call: the whole state, the customer the path names and
its key once the pipeline has checked them, the rules, the time, and `emit`, which hands the simulator a webhook
to send (the event int, the bare data object, the subject it concerns). Handlers never see the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crossdock_local.sims.base import SimResponse
from crossdock_local.sims.peakwms.rules import PeakwmsRules
from crossdock_local.sims.peakwms.state import CustomerState, PeakwmsState, Record

Emit = Callable[["Session", int, Record, str], None]
"""(session, event int such as 100, the bare data object, its subject such as a stock item id): a webhook."""


def _silent(session: Session, event: int, body: Record, subject: str) -> None:
    return None


@dataclass
class Session:
    state: PeakwmsState
    rules: PeakwmsRules
    unix_now: float
    customer_name: str | None = None
    emit: Emit = field(default=_silent, repr=False)

    @property
    def customer(self) -> CustomerState:
        assert self.customer_name is not None, "a customer route ran without a customer"
        return self.state.customers[self.customer_name]

    def timestamp(self) -> str:
        """Seen P1: ISO 8601 with an offset and no fractions (`2025-01-08T10:30:00+01:00`); the simulator says UTC."""
        return datetime.fromtimestamp(int(self.unix_now), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def send(self, event: int, body: Record, subject: str) -> None:
        self.emit(self, event, body, subject)


Handler = Callable[..., SimResponse]
"""A route's handler: (session, request, **path parameters) → answer."""
Route = tuple[str, str, Handler]
