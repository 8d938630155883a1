"""What the Rackbeat simulator remembers: one `AccountState` per company, and the webhook calls it makes.

The bottom of the package: every other module reads and writes these records, and this module imports none of
them. Records are plain dicts shaped as the API shows them, plus `_private` keys the rendering leaves out; money is
kept as `Decimal` (a test can read `sim.state(account_id).orders[1]["total"]`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Errors = dict[str, list[str]]


@dataclass
class WebhookDelivery:
    """One webhook call as Rackbeat would make it (`outbox` holds these when no sink is set)."""

    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None

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
