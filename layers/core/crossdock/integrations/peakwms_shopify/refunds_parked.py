"""PeakWMS refunds (104) parked until the pack (102) that captures their order: where they wait (docs/peakwms.md
"Messages to the shop", 104).

A 104 of an order that is authorised and not captured yet cannot be refunded — there is nothing captured to give
back — and PeakWMS's messages come in no order, so its 102 may come minutes or hours later (its retries, a sweep's
recovery). The refund is parked here and its event ends skipped; `refunds_after_capture` makes it once the 102
has captured, and the PeakWMS sweep surfaces one parked longer than `TOO_LONG`.

Stored with the Rackbeat refunds that wait for their invoice (`store.waiting_refunds`: one item per connection, a
map by refund, read with one GetItem, written item-level — the poll function reads it too). An entry holds ids
and moments only: the refund's idempotency key (the map's key), the Shopify order, the 104's own event (whose
payload is the refund: read back when it is made, never copied here), since when it waits, and when the sweep
said it waited too long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.aws.observability import count_finished_event
from crossdock.store import events, waiting_refunds
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome

TOO_LONG = 86400  # a day: an order authorised a day ago and still not packed is the merchant's to look at


@dataclass(frozen=True)
class ParkedRefund:
    key: str  # the refund's idempotency key (`message_refund.refund_key`)
    order_id: str  # the Shopify order's
    event_sk: str  # the 104's own event: the one its outcome is recorded on
    since: int  # epoch seconds
    overdue: int = 0  # when the sweep marked its event needs_attention for waiting too long (0: not yet)


def park(table: Any, connection_id: str, key: str, order_id: str, event_sk: str, now: float) -> ParkedRefund:
    """Parks the refund; a refund parked already keeps its first moment (a redelivery does not restart its day),
    unless it is its own event tried again after the sweep said it waited too long: then it waits anew."""
    earlier = parked_refund(table, connection_id, key)
    if earlier is not None and not (earlier.overdue and earlier.event_sk == event_sk):
        return earlier
    parked = ParkedRefund(key, order_id, event_sk, int(now))
    _put(table, connection_id, parked)
    return parked


def parked_refund(table: Any, connection_id: str, key: str) -> ParkedRefund | None:
    entry = waiting_refunds.entries(table, connection_id).get(key)
    return None if entry is None else _parked(key, entry)


def parked(table: Any, connection_id: str, order_id: str | None = None) -> list[ParkedRefund]:
    """The parked refunds (of `order_id`, else all), the longest parked first."""
    found = [_parked(key, entry) for key, entry in waiting_refunds.entries(table, connection_id).items()]
    chosen = [p for p in found if order_id is None or p.order_id == order_id]
    return sorted(chosen, key=lambda p: (p.since, p.key))


def mark_overdue(table: Any, connection_id: str, parked_refund: ParkedRefund, now: float) -> None:
    _put(table, connection_id, ParkedRefund(**{**parked_refund.__dict__, "overdue": int(now)}))


def unpark(table: Any, connection_id: str, key: str) -> None:
    """No longer parked (made, refused, or never parked)."""
    waiting_refunds.remove(table, connection_id, key)


def _put(table: Any, connection_id: str, parked: ParkedRefund) -> None:
    entry: dict[str, Any] = {"order_id": parked.order_id, "event_sk": parked.event_sk, "since": parked.since}
    if parked.overdue:
        entry["overdue"] = parked.overdue
    waiting_refunds.put_entry(table, connection_id, parked.key, entry)


def _parked(key: str, entry: dict[str, Any]) -> ParkedRefund:
    return ParkedRefund(
        key=key,
        order_id=str(entry["order_id"]),
        event_sk=str(entry["event_sk"]),
        since=int(entry.get("since", 0)),
        overdue=int(entry.get("overdue", 0)),
    )


def record_on_event(
    table: Any,
    connection_id: str,
    event_sk: str,
    outcome: Outcome,
    expected: tuple[EventStatus, ...] = (EventStatus.SKIPPED, EventStatus.NEEDS_ATTENTION),
) -> bool:
    """The parked refund's outcome on its own 104 event, which ended skipped (parked) or needs_attention (the sweep
    found it waiting too long): written only while the event is in one of the `expected` states. False when it is
    not — still being handled (dispatch records `skipped` a moment after the park) or gone — and then nothing is
    written: the entry stays, and the next look at it (the sweep, another 102) records it."""
    details: dict[str, Any] = {}
    if outcome.failure_class is not None:
        details["failure_class"] = outcome.failure_class.value
    for before in expected:
        if events.finish_event_if(table, connection_id, event_sk, outcome.status, outcome.reason, before, **details):
            if outcome.status is not before:
                count_finished_event(outcome.status.value, details.get("failure_class"))
            return True
    return False
