"""Refunds as credit notes (`orders.refunds_as_credit_notes`, SPEC §1.4): one booked credit note per Shopify refund,
for exactly the refunded lines, quantities and shipping, with the goods returned to stock when Shopify restocked.

A credit note is made from the order's booked invoice. A refund of an order without one is applied as a careful
bookkeeper would (`refund_reduction`): the order's lines are reduced while it can still change, and otherwise the
refund waits for the invoice (`store.waiting_refunds`; the reconciliation sweep starts its credit once the invoice
is booked). A refund that arrives while its order is still on its way to Rackbeat waits (the workflow retries)
rather than failing. Partial and repeated refunds each make their own credit note (or reduction) once: the note is
found again by the refund's reference before anything is written.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from crossdock.connectors.rackbeat import credit_notes
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.connectors.shopify.refunds import (
    PRICE_PLACES,
    CreditLine,
    ShopifyRefund,
    credit_lines,
    credited_total,
    ignored_adjustments,
    parse_refund,
)
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopify import order_lines, refund_reduction
from crossdock.integrations.rackbeat_shopify.refund_reduction import OrderState, RefundPath
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, RackbeatStatus
from crossdock.store import events, mappings, waiting_refunds
from crossdock.store.events import EventStatus
from crossdock.store.outcome import finish_event

CENT = Decimal("0.01")
IN_PROGRESS = frozenset({"transferred"})


def refund_payload(table: Any, context: dict[str, Any]) -> ShopifyRefund:
    event = events.load_event(table, context["connection_id"], context["event_sk"])
    if event is None:
        raise PermanentError(f"event {context['event_sk']} is gone from the event log", FailureClass.BUG)
    return parse_refund(json.loads(event["payload"]))


def _order_mapping(table: Any, connection_id: str, refund: ShopifyRefund) -> dict[str, Any]:
    mapping = mappings.get_mapping(table, connection_id, "order", "shopify", str(refund.order_id))
    if mapping is None or (mapping.get("status") == "cancelled" and not mapping.get("target_id")):
        if mapping is not None:
            raise PermanentError(
                f"Shopify refund {refund.id}: order {refund.order_id} was cancelled before it reached Rackbeat; "
                "there is nothing to credit",
                FailureClass.VALIDATION,
            )
        # Retried by the workflow: the order's own events may still be on their way (delivery is unordered).
        raise RetryableError(
            f"Shopify refund {refund.id}: order {refund.order_id} has not reached Rackbeat (yet)", FailureClass.UNMAPPED
        )
    if mapping.get("status") in IN_PROGRESS:
        raise RetryableError(f"Shopify refund {refund.id}: order {refund.order_id} is still being processed")
    if mapping.get("status") == "needs_attention":
        raise PermanentError(
            f"Shopify refund {refund.id}: order {refund.order_id} needs attention itself (Rackbeat order "
            f"{mapping['target_id']}); resolve the order first",
            FailureClass.VALIDATION,
        )
    return mapping


def _item(line: CreditLine, settings: RackbeatShopifySettings) -> str:
    if line.is_shipping:
        return settings.shipping_product_number
    if line.unmapped or not line.sku:
        fallback = settings.orders.fallback_product_number
        if settings.orders.unmapped_lines == "fallback" and fallback:
            return fallback
        raise PermanentError(
            f"refunded line '{line.title}' cannot be matched to a Rackbeat item ({line.unmapped or 'no SKU'}; "
            "orders.unmapped_lines is 'fail')",
            FailureClass.UNMAPPED,
        )
    return line.sku


def _rackbeat_lines(
    lines: list[CreditLine], credited: Decimal, settings: RackbeatShopifySettings
) -> list[dict[str, Any]]:
    """The credit note's lines, priced so that Rackbeat's total is the amount Shopify refunded, to the cent."""
    body = [
        {
            "item_id": _item(line, settings),
            "name": line.title,
            "quantity": line.quantity,
            "line_price": str(line.unit_price_excl_vat.normalize()),
            "discount_percentage": "0",
            "vat_percentage": str((line.vat_rate * 100).normalize()),
        }
        for line in lines
    ]
    _absorb_rounding(body, credited)
    return body


def _absorb_rounding(body: list[dict[str, Any]], credited: Decimal) -> None:
    """Shopify rounds a refunded share's amount and its VAT to the cent each; Rackbeat works the VAT out again from
    the net price and rate, which can land a cent away. Orders put that cent on the rounding item, but a credit note
    may only credit what its invoice holds, so here the largest line's net unit price moves by the fraction of a
    cent that makes the totals meet (Rackbeat keeps 6 decimals). A larger difference is not rounding: it is left
    visible in the event's reason instead."""
    difference = credited - rackbeat.expected_total(body)
    if not difference or not body or abs(difference) > _rounding_tolerance(body):
        return
    # Aim the unrounded total at the refunded amount itself: then net and VAT round to cents that add up to it.
    exact = credited - sum((rackbeat.rackbeat_line_total(row) for row in body), Decimal(0))
    line = max(body, key=lambda row: abs(rackbeat.rackbeat_line_total(row)))
    gross_per_unit = Decimal(line["quantity"]) * (1 + Decimal(line["vat_percentage"]) / 100)
    nudged = Decimal(line["line_price"]) + (exact / gross_per_unit).quantize(PRICE_PLACES)
    line["line_price"] = str(nudged.normalize())


def _rounding_tolerance(body: list[dict[str, Any]]) -> Decimal:
    """Each refunded share has its amount and its VAT rounded to the cent (up to a cent together), and the document
    total is rounded once more."""
    return CENT * len(body) + rackbeat.CENT_HALF


def _create(
    client: RackbeatClient,
    invoice: int,
    reference: str,
    lines: list[CreditLine],
    credited: Decimal,
    settings: RackbeatShopifySettings,
) -> dict[str, Any]:
    body_lines = _rackbeat_lines(lines, credited, settings)
    restock = any(line.restock for line in lines if not line.is_shipping)
    try:
        return credit_notes.create(client, invoice, reference, body_lines, restock)
    except Unprocessable as refused:
        unknown = order_lines.refused_line_indexes(refused.errors)
        fallback = settings.orders.fallback_product_number
        if not unknown or settings.orders.unmapped_lines != "fallback" or not fallback:
            raise
        for index in unknown:
            body_lines[index] = {**body_lines[index], "item_id": fallback}
        return credit_notes.create(client, invoice, reference, body_lines, restock)


def credit_note_stage(
    context: dict[str, Any], settings: RackbeatShopifySettings, client: RackbeatClient, table: Any
) -> dict[str, Any]:
    connection_id = context["connection_id"]
    refund = refund_payload(table, context)
    mapping = _order_mapping(table, connection_id, refund)
    order_name = str(mapping.get("order_name") or f"order {refund.order_id}")
    number = int(mapping["target_id"])
    reference = credit_notes.refund_reference(refund.id, order_name)
    found = credit_notes.find(client, reference)
    if found is None:
        # Orders transferred before the flag was recorded are Danish VAT-inclusive shops in practice.
        taxes_included = bool(mapping.get("taxes_included", True))
        lines = credit_lines(refund, taxes_included)
        if not lines:
            raise PermanentError(
                f"Shopify refund {refund.id} of {order_name} returns {refund.refunded_amount} without any line or "
                "shipping to credit; a Rackbeat credit note needs lines, so book it by hand",
                FailureClass.VALIDATION,
            )
        state = refund_reduction.current_state(client, number)
        if state.path is not RefundPath.CREDIT or state.invoice is None:
            return _without_invoice(context, settings, client, table, (refund, lines), mapping, state)
        found = _create(client, state.invoice, reference, lines, credited_total(refund, taxes_included), settings)
    credit_notes.book(client, found)
    credit_number = str(found["number"])
    mappings.put_mapping(
        table, connection_id, "refund", "shopify", str(refund.id), credit_number, status="done", order=str(number)
    )
    _finish(table, context, EventStatus.DONE, _done_reason(refund, order_name, number, found), credit_number)
    return {**context, "rackbeat_credit_note": credit_number, "next": "done"}


def _finish(table: Any, context: dict[str, Any], status: EventStatus, reason: str, credit_note: str = "") -> None:
    """The refund's event gets its outcome, and it waits no more."""
    details = {"rackbeat_credit_note": credit_note} if credit_note else {}
    finish_event(table, context["connection_id"], context["event_sk"], status, reason, **details)
    waiting_refunds.remove(table, context["connection_id"], str(context["refund_id"]))


def _without_invoice(
    context: dict[str, Any],
    settings: RackbeatShopifySettings,
    client: RackbeatClient,
    table: Any,
    refund_and_lines: tuple[ShopifyRefund, list[CreditLine]],
    mapping: dict[str, Any],
    state: OrderState,
) -> dict[str, Any]:
    """The order has no booked invoice: reduce it, let the refund wait for the invoice, or skip a cancelled one."""
    refund, lines = refund_and_lines
    connection_id = context["connection_id"]
    order_name = str(mapping.get("order_name") or f"order {refund.order_id}")
    number = int(mapping["target_id"])
    heading = f"Shopify refund {refund.id} of {order_name}"
    if state.path is RefundPath.CANCELLED:
        _finish(
            table, context, EventStatus.SKIPPED, f"{heading}: Rackbeat order {number} is cancelled, nothing to credit"
        )
        return {**context, "next": "done"}
    if state.path is RefundPath.WAIT:
        return _wait(context, settings, table, refund, (number, order_name), state.why)
    done = refund_reduction.reduce_order(
        client,
        table,
        connection_id,
        number,
        credit_notes.refund_reference(refund.id, order_name),
        lines,
        [_item(line, settings) for line in lines],
        order_name,
        RackbeatStatus(mapping.get("target") or RackbeatStatus.BOOKED.value),
        settings.advanced.rounding_product_number,
    )
    mappings.put_mapping(
        table, connection_id, "refund", "shopify", str(refund.id), str(number), status="done", applied="order_reduced"
    )
    _finish(table, context, EventStatus.DONE, f"{heading}: {done}")
    return {**context, "next": "done"}


def _wait(
    context: dict[str, Any],
    settings: RackbeatShopifySettings,
    table: Any,
    refund: ShopifyRefund,
    order: tuple[int, str],
    why: str,
) -> dict[str, Any]:
    """Parks the refund until its order's invoice is booked; its event stays open, saying what it waits for."""
    number, order_name = order
    connection_id = context["connection_id"]
    before = waiting_refunds.get(table, connection_id, str(refund.id))
    waiting = waiting_refunds.WaitingRefund(
        str(refund.id),
        str(refund.order_id),
        number,
        context["event_sk"],
        int(time.time()),
        before.round + 1 if before is not None else 1,
    )
    waiting_refunds.put(table, connection_id, waiting)
    mappings.put_mapping(
        table, connection_id, "refund", "shopify", str(refund.id), "", status="awaiting_invoice", order=str(number)
    )
    sweep = settings.reconciliation
    when = (
        f"the reconciliation sweep looks every {sweep.interval_minutes} minutes"
        if sweep.enabled
        else "reconciliation.enabled is off, so retry this event once it is invoiced"
    )
    events.note_progress(
        table,
        connection_id,
        context["event_sk"],
        f"Shopify refund {refund.id} of {order_name} waits: Rackbeat order {number} {why} and no booked invoice, "
        f"so it can neither change nor be credited yet; it is credited once its invoice is booked ({when})",
    )
    return {**context, "next": "done", "waiting_for_invoice": number}


def _done_reason(refund: ShopifyRefund, order_name: str, order_number: int, credit_note: dict[str, Any]) -> str:
    restocked = "items returned to stock" if credit_note.get("stock_return", True) else "no items returned to stock"
    reason = (
        f"Shopify refund {refund.id} of {order_name} is Rackbeat credit note {credit_note['number']} "
        f"(booked, on order {order_number}'s invoice, {restocked}), total {credit_notes.total(credit_note)}"
    )
    refunded = refund.refunded_amount
    if refunded and refunded != credit_notes.total(credit_note):
        reason += f"; Shopify refunded {refunded}"
    extra = ignored_adjustments(refund)
    if extra != Decimal(0):
        reason += f"; {extra} refunded without lines (refund discrepancy) is not credited"
    return reason
