"""What the Rackbeat simulator remembers: one `AccountState` per company, and the webhook calls it makes.

The bottom of the package: every other module reads and writes these records, and this module imports none of
them (only the shared base's `Delivery`). Records are plain dicts shaped as the API shows them, plus `_private`
keys the rendering leaves out; money is kept as `Decimal` (a test can read
`sim.state(account_id).orders[1]["total"]`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crossdock_local.sims.base.webhooks import Delivery

Record = dict[str, Any]
Errors = dict[str, list[str]]


@dataclass
class RackbeatDelivery(Delivery):
    """One webhook call as Rackbeat makes it: the base's delivery with Rackbeat's names (the account is its tenant,
    the webhook's id its subscription, the event name its topic) and the subscription's static token.

    The token is a secret, so it stays out of `repr` (and so out of logs and assertion messages). It is taken when
    the delivery is queued: a subscription's token never changes (a new token is a new subscription), so it is the
    one a send-time lookup would find. Guess: a delivery queued before its subscription is deleted still goes out."""

    token: str = field(default="", repr=False)

    @property
    def event(self) -> str:
        return self.topic

    @property
    def account_id(self) -> int:
        return int(self.tenant)

    @property
    def webhook_id(self) -> int:
        return int(self.subscription)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class AccountState:
    """One Rackbeat company; every dict is keyed by the resource's number (reference data by str(number))."""

    id: int
    name: str
    customers: dict[int, Record] = field(default_factory=dict)
    products: dict[str, Record] = field(default_factory=dict)
    orders: dict[int, Record] = field(default_factory=dict)
    shipments: dict[int, Record] = field(default_factory=dict)  # keyed by shipment id
    invoices: dict[int, Record] = field(default_factory=dict)
    webhooks: dict[int, Record] = field(default_factory=dict)  # keyed by webhook id
    employees: dict[str, Record] = field(default_factory=dict)
    layouts: dict[str, Record] = field(default_factory=dict)
    payment_terms: dict[str, Record] = field(default_factory=dict)
    customer_groups: dict[str, Record] = field(default_factory=dict)
    locations: dict[str, Record] = field(default_factory=dict)
    delivery_terms: dict[str, Record] = field(default_factory=dict)
    product_groups: dict[str, Record] = field(default_factory=dict)
    fields: dict[int, Record] = field(default_factory=dict)  # custom field definitions, keyed by field id
    lots: dict[str, Record] = field(default_factory=dict)  # BOMs; a lot number is never also a product number
    adjustments: dict[int, Record] = field(default_factory=dict)  # inventory regulations, keyed by id
    credit_notes: dict[int, Record] = field(default_factory=dict)  # customer credit notes (credit_notes.py)
    # Guess: per-customer item prices, customer number → product number → price row (customers.py).
    customer_prices: dict[int, dict[str, Record]] = field(default_factory=dict)
    # What booked orders hold (`fulfilment.reservations`), worked out once for a run of reads: kept only while the
    # simulator answers a read (`reading`), forgotten as soon as a write or a change from Python begins.
    reading: bool = field(default=False, repr=False, compare=False)
    held_while_reading: Any = field(default=None, repr=False, compare=False)

    def forget_held(self) -> None:
        """The orders or shipments may change: what they hold is worked out again at the next read."""
        self.held_while_reading = None
