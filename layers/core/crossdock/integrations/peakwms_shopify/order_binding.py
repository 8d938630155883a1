"""The binding of a Shopify order to its PeakWMS sales order (`MAP#order#shopify#<order id>`), and the lease that
serialises the work on one order.

The binding says the order reached PeakWMS (`target_id` = PeakWMS's internal id, or the order id when PeakWMS's
answer named none), or that it must not (`status` `cancelled` with no target: a cancellation or deletion that came
first). Beside it: the Shopify `updated_at` last applied (an older delivery never overwrites a newer one), the
fingerprint of what was sent (an `orders/updated` that changes nothing PeakWMS keeps costs no call), the line
summary and address fingerprint (what changed, when PeakWMS has picked the order already) and the warehouse chosen.
Ids, counts and hashes only: nothing about the customer.

The lease (`peakwms-order#<connection>#<order id>`) is held while an event of the order talks to PeakWMS, so an
`orders/create` and an `orders/updated` (or a cancellation) handled at the same moment do not both create, or
cancel between a look-up and a create; the second is retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crossdock import pacing
from crossdock.errors import RetryableError
from crossdock.store import leases, mappings

ORDER = "order"
SHOPIFY = "shopify"
CREATED = "created"
CANCELLED = "cancelled"
LEASE_SECONDS = 120.0  # longer than an order's few PeakWMS and Shopify calls, each with its timeout


@dataclass(frozen=True)
class Binding:
    peakwms_id: str  # "" when the order never reached PeakWMS
    status: str
    updated_at: str
    fingerprint: str
    lines: str
    address: str
    warehouse: str | None

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


def binding(table: Any, connection_id: str, order_id: str) -> Binding | None:
    item = mappings.get_mapping(table, connection_id, ORDER, SHOPIFY, order_id)
    if item is None:
        return None
    return Binding(
        peakwms_id=str(item.get("target_id") or ""),
        status=str(item.get("status") or CREATED),
        updated_at=str(item.get("updated_at") or ""),
        fingerprint=str(item.get("fingerprint") or ""),
        lines=str(item.get("lines") or ""),
        address=str(item.get("address") or ""),
        warehouse=str(item["warehouse"]) if item.get("warehouse") else None,
    )


def bind(table: Any, connection_id: str, order_id: str, found: Binding) -> None:
    details: dict[str, Any] = {
        "status": found.status,
        "updated_at": found.updated_at,
        "fingerprint": found.fingerprint,
        "lines": found.lines,
        "address": found.address,
    }
    if found.warehouse:
        details["warehouse"] = found.warehouse
    mappings.put_mapping(table, connection_id, ORDER, SHOPIFY, order_id, found.peakwms_id, **details)


def mark_cancelled(table: Any, connection_id: str, order_id: str) -> bool:
    """A `cancelled` mark where no binding exists yet (True if it put one): a create that comes later skips."""
    return mappings.mark_cancelled_if_unmapped(table, connection_id, ORDER, SHOPIFY, order_id)


def is_older(updated_at: str | None, than: str) -> bool:
    """Whether a delivery of `updated_at` is older than the version applied (`than`); the same version is not (its
    repeat after a crash must still be applied). Shopify writes its stamps in the shop's zone: compared as moments."""
    if not updated_at or not than:
        return False
    return _moment(updated_at) < _moment(than)


def _moment(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@contextmanager
def order_lock(table: Any, connection_id: str, order_id: str) -> Iterator[None]:
    """Holds the order's lease for the block; `RetryableError` while another event of the order holds it."""
    name = f"peakwms-order#{connection_id}#{order_id}"
    lease = leases.claim(table, name, uuid.uuid4().hex, pacing.clock.time(), LEASE_SECONDS)
    if lease is None:
        raise RetryableError(f"Shopify order {order_id} is being sent to PeakWMS by another event", retry_after=5.0)
    try:
        yield
    finally:
        leases.release(table, lease)
