"""What the Webshipper simulator remembers: one `AccountState` per account (the API's subdomain), its users,
tokens, order channels, carriers, shipping rates, orders, shipments and webhooks.

The bottom of the package: every other module reads and writes these records and this module imports none of
them. Records are plain dicts of a resource's `attributes` plus `_private` keys the rendering leaves out; ids are
sequential integers per account and resource type, as the API's are (shown as strings on the wire).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Record = dict[str, Any]
RESOURCE_TYPES = (
    "order_channels",
    "carriers",
    "shipping_rates",
    "orders",
    "shipments",
    "tracking_events",
    "webhooks",
)
ID_STARTS = {
    "order_channels": 100,
    "carriers": 200,
    "shipping_rates": 300,
    "webhooks": 400,
    "orders": 1000,
    "order_lines": 5000,
    "shipments": 7000,
    "tracking_events": 8000,
}


@dataclass
class User:
    """A Webshipper user; the password grant logs in as one. Deleting it breaks every token it issued (seed 003)."""

    id: int
    email: str
    password: str = field(repr=False)
    deleted: bool = False


@dataclass
class Token:
    """A bearer token: a password grant's (`oauth`, expires) or a stored API token (`api`, never expires).

    The value is a secret, so it stays out of `repr` (and so out of logs and assertion messages)."""

    id: int
    value: str = field(repr=False)
    kind: Literal["oauth", "api"]
    account: str
    user: int | None  # the user an oauth token logged in as
    issued_at: float
    expires_at: float | None  # on the simulator's clock; None never expires
    revoked_at: str | None = None  # ISO 8601, as `GET /oauth_access_tokens` shows it

    def live(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass
class AccountState:
    name: str
    users: dict[str, User] = field(default_factory=dict)  # by lower-cased e-mail
    records: dict[str, dict[int, Record]] = field(default_factory=lambda: {t: {} for t in RESOURCE_TYPES})
    webhook_failures: list[Record] = field(default_factory=list)
    # webhook id → its signing secret; apart from the records and out of `repr`, so it is never rendered or logged
    webhook_secrets: dict[int, str] = field(default_factory=dict, repr=False)
    last_ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        # Guess: each resource type counts on its own, as a database sequence per table does; the series start
        # apart (ID_STARTS), so a client mixing an order id up with a shipment id is caught rather than lucky.
        self.last_ids[kind] = self.last_ids.get(kind, ID_STARTS.get(kind, 9000)) + 1
        return self.last_ids[kind]

    def of(self, kind: str) -> dict[int, Record]:
        return self.records[kind]


@dataclass
class WebshipperState:
    accounts: dict[str, AccountState] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict, repr=False)
    last_token_id: int = 0
    last_user_id: int = 0
