"""A refund of an order that has no booked invoice yet, applied as a careful bookkeeper would (issue 13).

While the Rackbeat order can still change (a draft, or booked with nothing shipped and no invoice: Rackbeat lets
such an order be reopened), its lines are reduced by what Shopify refunded: the refunded quantities come off their
lines (a line at zero goes) and refunded shipping comes off the shipping line's price. Reduced rather than offset
by a negative line, because the order is also the warehouse's picking list: a line of 2 and a line of −1 would
still have 2 picked, and Rackbeat reserves stock per line (the fact sheet says nothing of negative quantities).
Nothing was drawn from stock yet, so there is nothing to return; the reservation shrinks with the line. An order
refunded in full is cancelled instead (Rackbeat refuses to book an order without lines).

Once the order can no longer change (shipped, a shipment made, or an invoice draft) the refund waits, and is
credited by a credit note once the order's invoice is booked (`store.waiting_refunds`, picked up by the
reconciliation sweep).

The change is made idempotent by Rackbeat itself: the order's `note` gets a line naming the refund in the same
write that reduces the lines, so a retry after a lost response finds it and reduces nothing a second time. Two
refunds of one order read-modify-write the same lines, so they take turns under a lease on the order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from crossdock.connectors.rackbeat import order_edits
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify.refunds import PRICE_PLACES, CreditLine
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus
from crossdock.store import leases

CANCELLED_NOTE = "refunded in full, order cancelled"
REBOOKED_NOTE = "; reopened and booked again"
# Longer than a reduction takes (a few Rackbeat calls); a crashed holder's lease lapses after it.
LEASE_SECONDS = 120.0


class RefundPath(StrEnum):
    CREDIT = "credit"  # a booked invoice: a credit note on it
    REDUCE = "reduce"  # the order can still change: its lines are reduced
    WAIT = "wait"  # it can no longer change and has no booked invoice yet
    CANCELLED = "cancelled"  # the Rackbeat order is cancelled: nothing to credit or reduce


@dataclass(frozen=True)
class OrderState:
    path: RefundPath
    invoice: int | None  # the booked invoice's number (CREDIT)
    why: str  # why it waits (WAIT)


def path_for(order: dict[str, Any], invoice: dict[str, Any] | None, has_shipments: bool) -> OrderState:
    """What a refund can do to this Rackbeat order now. `invoice` is the order's invoice when it has one."""
    if order.get("is_cancelled"):
        return OrderState(RefundPath.CANCELLED, None, "")
    if order.get("is_invoiced"):
        if invoice is not None and invoice.get("is_booked"):
            return OrderState(RefundPath.CREDIT, int(invoice["number"]), "")
        return OrderState(RefundPath.WAIT, None, "has an invoice draft")
    if not order.get("is_booked"):
        return OrderState(RefundPath.REDUCE, None, "")
    # Rackbeat refuses to reopen an order with shipments; a shipped one has drawn its stock.
    if order.get("is_shipped") or order.get("is_partly_shipped"):
        return OrderState(RefundPath.WAIT, None, "is shipped")
    if has_shipments:
        return OrderState(RefundPath.WAIT, None, "has a shipment")
    return OrderState(RefundPath.REDUCE, None, "")


def current_state(client: RackbeatClient, number: int) -> OrderState:
    """`path_for` the order as Rackbeat has it now: one call, two when it is invoiced or booked."""
    order = rackbeat.get_order(client, number)
    invoice = rackbeat.find_invoice(client, number) if order.get("is_invoiced") else None
    booked_open = bool(order.get("is_booked")) and not order.get("is_invoiced") and not order.get("is_cancelled")
    unshipped = not (order.get("is_shipped") or order.get("is_partly_shipped"))
    has_shipments = booked_open and unshipped and bool(order_edits.shipments(client, number))
    return path_for(order, invoice, has_shipments)


def _net(line: dict[str, Any]) -> Decimal:
    return (
        Decimal(str(line["quantity"]))
        * Decimal(str(line["line_price"]))
        * (1 - Decimal(str(line.get("discount_percentage") or 0)) / 100)
    )


def _names_line(line: dict[str, Any], title: str) -> bool:
    # A line on the fallback item carries "title (why)" (order_lines); others carry the title itself.
    name = str(line.get("name") or "")
    return name == title or name.startswith(f"{title} (")


def reduced_lines(
    current: list[dict[str, Any]], refunded: list[CreditLine], items: list[str], order_name: str
) -> list[dict[str, Any]]:
    """The order's lines (as PUT bodies) after the refund: `items[i]` is the Rackbeat item of `refunded[i]`.

    A refunded quantity that the order's lines of that item no longer hold is refused with the line named: the
    order was changed in Rackbeat meanwhile, and guessing which line to take it from would book the wrong goods."""
    lines = [order_edits.line_body(line) for line in current]
    for credit, item in zip(refunded, items, strict=True):
        if credit.is_shipping:
            _reduce_shipping(lines, credit, item, order_name)
            continue
        on_item = [line for line in lines if line["item_id"] == item]
        named = [line for line in on_item if _names_line(line, credit.title)] or on_item
        remaining = Decimal(credit.quantity)
        for line in named:
            taken = min(remaining, Decimal(str(line["quantity"])))
            line["quantity"] = _quantity(Decimal(str(line["quantity"])) - taken)
            remaining -= taken
        if remaining > 0:
            raise PermanentError(
                f"refund of {credit.quantity} × '{credit.title}' (item {item}) on {order_name}: the Rackbeat order "
                f"holds only {credit.quantity - remaining} of it; it was changed in Rackbeat, so reduce it by hand",
                FailureClass.VALIDATION,
            )
    return [line for line in lines if Decimal(str(line["quantity"])) > 0]


def _reduce_shipping(lines: list[dict[str, Any]], credit: CreditLine, item: str, order_name: str) -> None:
    refunded = credit.unit_price_excl_vat * credit.quantity
    line = next((line for line in lines if line["item_id"] == item and _net(line) > 0), None)
    if line is None or _net(line) + rackbeat.CENT_HALF < refunded:
        raise PermanentError(
            f"refund of {refunded} shipping (net) on {order_name}: the Rackbeat order has no shipping line on item "
            f"{item} that large; reduce it by hand",
            FailureClass.VALIDATION,
        )
    left = _net(line) - refunded
    if left <= rackbeat.CENT_HALF:
        line["quantity"] = 0  # refunded in full: the line goes
        return
    per_unit = Decimal(str(line["quantity"])) * (1 - Decimal(str(line.get("discount_percentage") or 0)) / 100)
    line["line_price"] = _text((left / per_unit).quantize(PRICE_PLACES))


def _quantity(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else _text(value)


def _text(value: Decimal) -> str:
    # Fixed-point: `normalize` alone would write 30 as "3E+1".
    return format(value.normalize(), "f")


def _summary(refunded: list[CreditLine], items: list[str]) -> str:
    parts = [
        f"shipping {(c.unit_price_excl_vat * c.quantity).quantize(Decimal('0.01'))} (net)"
        if c.is_shipping
        else f"{c.quantity} × {item}"
        for c, item in zip(refunded, items, strict=True)
    ]
    return ", ".join(parts) + " taken off"


def _note_line(note: str | None, reference: str) -> str | None:
    return next((line for line in (note or "").splitlines() if line.startswith(f"{reference}:")), None)


def reduce_order(
    client: RackbeatClient,
    table: Any,
    connection_id: str,
    number: int,
    reference: str,
    refunded: list[CreditLine],
    items: list[str],
    order_name: str,
    target: RackbeatStatus,
    rounding_item: str | None,
) -> str:
    """Applies the refund to Rackbeat order `number` (once, whatever the retries) and says what was done."""
    lease = leases.claim(table, f"rackbeat-order#{connection_id}#{number}", reference, time.time(), LEASE_SECONDS)
    if lease is None:
        raise RetryableError(f"another refund of Rackbeat order {number} is being applied; this one waits its turn")
    try:
        return _reduce_once(client, number, reference, (refunded, items), order_name, target, rounding_item)
    finally:
        leases.release(table, lease)


def _reduce_once(
    client: RackbeatClient,
    number: int,
    reference: str,
    refund: tuple[list[CreditLine], list[str]],
    order_name: str,
    target: RackbeatStatus,
    rounding_item: str | None,
) -> str:
    refunded, items = refund
    order = rackbeat.get_order(client, number)
    applied = _note_line(order.get("note"), reference)
    if applied is None:
        lines = reduced_lines(order.get("lines") or [], refunded, items, order_name)
        # A rounding line alone is not an order: it only made the cents of the refunded lines meet.
        everything = not any(line["item_id"] != rounding_item for line in lines)
        # The note also says whether the order was booked, so a retry books it again even when the target is
        # `draft` (the merchant booked it by hand) and the first attempt's reopening is all Rackbeat shows.
        summary = CANCELLED_NOTE if everything else _summary(refunded, items)
        booked = not everything and bool(order.get("is_booked"))
        applied = f"{reference}: {summary}{REBOOKED_NOTE if booked else ''}"
        note = f"{order['note']}\n{applied}" if order.get("note") else applied
        if everything:
            order = order_edits.update(client, number, {"note": note})
        else:
            if booked:
                order_edits.reopen(client, number)
            order = order_edits.update(client, number, {"lines": lines, "note": note})
    # Whether this attempt made the change or an earlier one whose answer was lost: finish what it began.
    if applied.endswith(CANCELLED_NOTE):
        if not order.get("is_cancelled"):
            rackbeat.cancel(client, number)
        return f"Rackbeat order {number} had no invoice yet and everything was refunded, so it was cancelled"
    rebook = applied.endswith(REBOOKED_NOTE) or target is not RackbeatStatus.DRAFT
    if rebook:
        rackbeat.book(client, number)
    total = rackbeat.order_total(order)
    change = applied.split(": ", 1)[1].removesuffix(REBOOKED_NOTE)
    return (
        f"Rackbeat order {number} had no invoice yet, so its lines were reduced ({change}; "
        f"{'booked again' if rebook else 'still a draft'}, total now {total})"
    )
