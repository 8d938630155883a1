"""Message 104 OrderRefunded → a Shopify refund, full or partial (`messages.order_refunded`; docs/peakwms.md
"Messages to the shop").

[guess] the payload is `{orderId, amount, orderLines[{orderLineId, quantity}]}`: the lines (by `orderLineId`, the
Shopify line item id) are refunded with their quantities, the amount as money; no amount means everything the order
still has to refund. The money goes back against what took it — the order's successful CAPTUREs and SALEs, oldest
first, each up to what is left of it — through each one's gateway.

Restock: NO_RESTOCK. PeakWMS keeps the stock: a returned item put back on its shelf is a stock adjustment, whose
message 100 sets the shop's level; restocking here too (RETURN) would count the same item twice. No customer
notification (the merchant's refund e-mail is Shopify's choice, made in Shopify).

Once. The idempotency key comes from the event's subject and body (`peakwms-104-<order>-<hash>`), and the refund
planned is stored before it is sent (mapping `refund`): a retry after a lost answer sends the same input with the
same key, which Shopify answers with the first refund (a replayed key with other input would be refused); once
Shopify answered, the refund's id is stored and a repeat is skipped. Shopify echoes `refunds/create` and
`orders/updated`; the refund's note carries the key (`OUR_NOTE`), by which the order route knows the echo as
PeakWMS's own refund (`own_refund_keys`) and never cancels or changes the sales order for it.

Not captured yet. A 104 handled before the 102 whose capture it refunds (PeakWMS's messages come in no order, and a
102 may be retried later, or recovered by the sweep) finds an authorisation and nothing captured: that is a wait,
not an end. The refund is parked (`refunds_parked`, under the order's lease) and its event ends skipped "waiting
for the pack that captures order …"; the 102 handler, once it has captured, makes every refund parked for the
order whose lines are fulfilled (`refunds_after_capture`: a refund of a line another pick order still has to fulfil
waits for that pick order's 102) and records each on its own 104 event. Once: the refund's key is the same wherever
it is made, so a redelivered 104 after that, or a second 102, finds it made. The PeakWMS sweep turns a refund
parked longer than a day into needs_attention naming the order. With neither pack message switched on no 102 would
ever capture, so the 104 needs attention at once. (Voiding the authorisation instead is not done: the fact sheet
documents no void mutation, and the 102 that follows would then find nothing to capture.)

Not packed yet. Shopify takes a refunded unit off what is left to fulfil, so a refund of a line whose pack is still
on its way — an order packed in two pick orders, the other pick order's 102 told and captured — would leave that
pack's 102 finding fewer units than it packed. A refund of lines that can be made is first checked against the
fulfillment orders (one Shopify read) and, when a refunded line still has units to fulfil, against PeakWMS's sales
order (one PeakWMS read, `refund_wait`): when a pack of the line may still come (a packed unit not fulfilled in
Shopify yet, units PeakWMS still has to pack, or nothing known) it is parked the same way, its event skipped
"waiting for the pack of line …", and the 102 that fulfils the line makes it; when none can (PeakWMS refunded a
unit it will not ship: the order Packed with the line short) it is made at once. An operator's retry of the event
is not held back. A refund of an amount alone takes no unit and never waits for a pack.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crossdock.connectors.peakwms.sales_orders import get_sales_order
from crossdock.connectors.peakwms.shapes import OrderRefunded
from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.payments import OrderPayment, order_payment
from crossdock.connectors.shopify.refund_create import RefundLine, RefundMoney, create_refund
from crossdock.errors import FailureClass, Skip
from crossdock.integrations.peakwms_shopify import refund_wait, refunds_parked
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_basics import order_lock, require_own_order, require_switch
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import mappings
from crossdock.store.outcome import Outcome

MESSAGE = "order_refunded"
REFUND = "refund"
SYSTEM = "peakwms"
RESTOCK = "NO_RESTOCK"
CENT = Decimal("0.01")
# The note of every refund made here, with its idempotency key: Shopify's echo (`orders/updated`, `refunds/create`)
# carries the note, and the key names the plan stored before the call, so the order route knows its own refund.
OUR_NOTE = "Refunded in PeakWMS ({key})"
_NOTE_PREFIX, _NOTE_SUFFIX = OUR_NOTE.split("{key}")
# What parks a 104: the pack messages whose 102 captures (`order_packed_capture`) or may show the capture
# (`payment_captured`: PeakWMS captured through the provider).
PACK_MESSAGES = ("order_packed_capture", "payment_captured")
OPERATOR = "operator"  # the `redrive` of an operator's retry (`InboundEvent.redrive`)


class NotCapturedYet(Exception):
    """The order is authorised and the money the refund names is not captured yet."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WaitsForPack(Exception):
    """The order is captured and a line the refund names still has units to fulfil: its pack is on its way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def key_in_note(note: str | None) -> str | None:
    """The idempotency key a refund's note names when the refund was made here, else None."""
    text = (note or "").strip()
    if not (text.startswith(_NOTE_PREFIX) and text.endswith(_NOTE_SUFFIX)):
        return None
    key = text[len(_NOTE_PREFIX) : len(text) - len(_NOTE_SUFFIX)]
    return key if key.startswith("peakwms-104-") else None


def is_own_refund(table: Any, connection_id: str, note: str | None) -> bool:
    """Whether a Shopify refund with this note is one this connection made for a PeakWMS 104: its note names a key
    whose plan is stored (the plan is stored before the refund is sent, so the echo always finds it)."""
    key = key_in_note(note)
    return key is not None and mappings.get_mapping(table, connection_id, REFUND, SYSTEM, key) is not None


def refund_key(order_id: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"peakwms-104-{order_id}-{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def order_refunded(
    connection: PeakwmsShopifyConnection, body: dict[str, Any], event: InboundEvent, ports: DispatchPorts
) -> Outcome:
    require_switch(connection, MESSAGE)
    refund = OrderRefunded.parse(body)
    require_own_order(ports.table, connection, refund.order_id)
    key = refund_key(refund.order_id, body)
    shopify = ports.clients.shopify(connection)
    with order_lock(ports.table, connection, refund.order_id):
        try:
            waits = None if event.redrive == OPERATOR else _unpacked_line(refund, shopify, ports.clients, connection)
            outcome = make_refund(connection, refund, key, shopify, ports.table, waits)
        except NotCapturedYet as waiting:
            return _park(connection, refund.order_id, key, event, ports, waiting.reason)
        except WaitsForPack as waiting:
            return _park(connection, refund.order_id, key, event, ports, waiting.reason, for_capture=False)
        _unpark(ports.table, connection.id, key, event.sk, outcome)
        return outcome


def _unpacked_line(
    refund: OrderRefunded, shopify: ShopifyAdmin, clients: Any, connection: PeakwmsShopifyConnection
) -> Callable[[], str | None]:
    """What a refund of lines of a captured order waits for before it is planned: the pack of a line Shopify still
    has units of to fulfil, when PeakWMS may still send it (`refund_wait`: a 102 on its way, units still to pack) —
    Shopify would take the refunded unit off what is left, and that 102 would find fewer units than it packed. Not
    asked for an amount alone (it takes no unit), a refund planned already (sent once: the same input again) or an
    operator's retry (the operator refunds what PeakWMS refunded, fulfilled or not). One Shopify read, and one
    PeakWMS read when a refunded line is still to fulfil."""
    return lambda: refund_wait.waits_for(
        refund,
        fulfillments.fulfillment_orders(shopify, refund.order_id, with_lines=True),
        lambda: get_sales_order(clients.peakwms(connection), refund.order_id),
    )


def _unpark(table: Any, connection_id: str, key: str, event_sk: str, outcome: Outcome) -> None:
    """The refund is made (or refused) by this event: parked before — an operator's retry of its event after the
    capture — it waits no more; parked by another event (the same refund delivered twice), that event says so."""
    parked = refunds_parked.parked_refund(table, connection_id, key)
    if parked is None:
        return
    if parked.event_sk != event_sk:
        told = Outcome(outcome.status, f"{outcome.reason} (by event {event_sk})", outcome.failure_class)
        if not refunds_parked.record_on_event(table, connection_id, parked.event_sk, told):
            return  # that event is still being handled: the sweep records it later
    refunds_parked.unpark(table, connection_id, key)


def make_refund(
    connection: PeakwmsShopifyConnection,
    refund: OrderRefunded,
    key: str,
    shopify: ShopifyAdmin,
    table: Any,
    waits: Callable[[], str | None] | None = None,
) -> Outcome:
    """The refund made in Shopify, once per key (the caller holds the order's lease): `done`, or needs_attention
    when Shopify has less left to refund. Raises `NotCapturedYet` and, when a refund of lines that can be made
    `waits` for something (the pack of a line), `WaitsForPack` (nothing planned, nothing sent either way), and
    `Skip` (made before, or nothing to refund)."""
    planned = mappings.get_mapping(table, connection.id, REFUND, SYSTEM, key)
    if planned is not None and planned.get("target_id"):
        raise Skip(f"order {refund.order_id}: this refund was made before ({planned['target_id']})")
    if planned is not None:
        plan = json.loads(str(planned["plan"]))  # a lost answer: the same input again, with the same key
    else:
        found = _plan(refund, order_payment(shopify, refund.order_id))
        if isinstance(found, Outcome):
            return found
        waiting = waits() if waits is not None and found["lines"] else None
        if waiting:
            raise WaitsForPack(waiting)
        plan = found
        mappings.put_mapping(table, connection.id, REFUND, SYSTEM, key, "", plan=json.dumps(plan))
    lines = [RefundLine(line, quantity, RESTOCK) for line, quantity in plan["lines"]]
    money = [RefundMoney(parent, Decimal(amount), gateway) for parent, amount, gateway in plan["money"]]
    refund_id = create_refund(shopify, refund.order_id, lines, money, key, notify=False, note=OUR_NOTE.format(key=key))
    mappings.put_mapping(table, connection.id, REFUND, SYSTEM, key, refund_id, plan=json.dumps(plan))
    total = sum((Decimal(amount) for _, amount, _ in plan["money"]), Decimal(0))
    units = sum(quantity for _, quantity in plan["lines"])
    return Outcome.done(
        f"order {refund.order_id}: refunded {total} {plan['currency']} and {units} unit(s) in Shopify "
        f"({refund_id.rsplit('/', 1)[-1]}, not restocked: PeakWMS keeps the stock)"
    )


def made_refund(table: Any, connection_id: str, key: str) -> str | None:
    """The Shopify refund made under `key` (its id), or None when none was answered yet."""
    planned = mappings.get_mapping(table, connection_id, REFUND, SYSTEM, key)
    return str(planned["target_id"]) if planned is not None and planned.get("target_id") else None


def _park(
    connection: PeakwmsShopifyConnection,
    order_id: str,
    key: str,
    event: InboundEvent,
    ports: DispatchPorts,
    why: str,
    *,
    for_capture: bool = True,
) -> Outcome:
    """Parked for the 102 that captures the order (or, `for_capture` False, that fulfils the refunded line: `why`
    names it), or needs attention when no switched-on message would bring one."""
    if not any(getattr(connection.settings.messages, name) for name in PACK_MESSAGES):
        return Outcome.needs_attention(
            f"{why}, and no pack message is switched on (messages.order_packed_capture, messages.payment_captured) "
            "to capture it: capture the order in Shopify and retry this event",
            FailureClass.VALIDATION,
        )
    parked = refunds_parked.park(ports.table, connection.id, key, order_id, event.sk, ports.now())
    earlier = "" if parked.event_sk == event.sk else f", parked before with event {parked.event_sk}"
    if not for_capture:
        return Outcome.skipped(
            f"order {order_id}: waiting {why} (PeakWMS's 102 of it is on its way); the refund is parked and made "
            f"once that pack has fulfilled it{earlier}"
        )
    return Outcome.skipped(
        f"waiting for the pack that captures order {order_id} (PeakWMS's 102): "
        f"{why.removeprefix(f'order {order_id}: ')}; the refund is parked and "
        f"made once the pack has captured{earlier}"
    )


def _plan(refund: OrderRefunded, payment: OrderPayment) -> dict[str, Any] | Outcome:
    """The refund's lines and money as plain JSON (stored before the call), or why it cannot be made."""
    refunded: dict[str, Decimal] = {}
    for t in payment.transactions:
        if t.kind == "REFUND" and t.succeeded and t.parent_id:
            refunded[t.parent_id] = refunded.get(t.parent_id, Decimal(0)) + t.amount
    taken = [t for t in payment.transactions if t.kind in ("SALE", "CAPTURE") and t.succeeded]
    left = [(t, t.amount - refunded.get(t.id, Decimal(0))) for t in taken]
    refundable = sum((amount for _, amount in left), Decimal(0))
    amount = (refundable if refund.amount is None else refund.amount).quantize(CENT)
    currency = payment.presentment_currency
    if payment.capturable > 0 and (refund.amount is None or amount > refundable):
        # Authorised and not (all) captured yet: the 102 that captures it is still on its way.
        raise NotCapturedYet(
            f"order {refund.order_id}: {payment.capturable} {currency} is authorised and not captured yet, "
            f"{refundable} {currency} left to refund"
        )
    if amount > refundable:
        return Outcome.needs_attention(
            f"order {refund.order_id}: amount {amount} {currency} is more than the {refundable} {currency} left to "
            "refund in Shopify; nothing refunded"
        )
    money, rest = [], amount
    for transaction, available in left:
        part = min(rest, available)
        if part > 0:
            money.append([transaction.id, str(part), transaction.gateway or ""])
            rest -= part
    lines = [[line, quantity] for line, quantity in refund.lines if quantity > 0]
    if not money and not lines:
        raise Skip(f"order {refund.order_id}: nothing to refund (no amount, no lines, nothing left to refund)")
    return {"lines": lines, "money": money, "currency": currency}
