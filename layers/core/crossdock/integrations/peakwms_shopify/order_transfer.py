"""Shopify → PeakWMS: each Shopify order becomes one PeakWMS sales order, and follows Shopify's changes until the
warehouse has picked it (SPEC §4 step 3, issue 16 item 2).

Once, however often and in whatever order the webhooks come and whatever answer is lost:
- the binding (`order_binding`): an order already sent is updated, never created again; one cancelled or deleted
  first is never sent;
- the order's lease while it is sent, so two events of one order never both create;
- `connectors.peakwms.sales_orders.create_sales_order` looks the order up by `orderId` before creating and adopts
  a create whose answer was lost (or a duplicate POST PeakWMS refused).

`orders/create` and `orders/updated` are handled alike (an update may overtake its create): no binding → create;
a binding → update when what PeakWMS keeps changed. An older delivery than the version applied is skipped; so is
one that changes nothing PeakWMS keeps (the echoes of our own fulfilments and captures), before any call. PeakWMS
may change its sales order until it is picked (Created, Released, OnHold); after that the event needs attention
naming what changed (the warehouse holds goods picked for the old order), except a change of payment only, which
the packed order no longer needs, and a change that is only refunds (`_refunds_only`: items taken off by the
order's refunds, ours from a PeakWMS 104 or the merchant's; the address and everything else as before): after
picking that is skipped with the reason — the warehouse already has the goods, and a return is PeakWMS's to book.

A refund that takes every item before picking leaves nothing to ship: the merchant's cancels the PeakWMS sales
order (the goods are not to be picked); our own (a PeakWMS 104, known by its note, `message_refund.is_own_refund`)
never does — PeakWMS refunded it itself and keeps its sales order as it wants it.

The sales order goes in whatever the stock: PeakWMS holds it (OnHold, NoStock) until every line can be met and
releases it itself (seed 004). The event's outcome says which.

Calls per new order: PeakWMS 1 look-up + 1 create; Shopify 1 read of the transactions (none for a pending order)
+ 1 read of the fulfillment orders when `locations` maps any. Per update: PeakWMS 1 read + 1 update (+ the
transactions read); per echo that changes nothing, none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from crossdock.connectors.peakwms import sales_orders
from crossdock.connectors.peakwms.client import PeakwmsClient, PeakwmsRejected
from crossdock.connectors.peakwms.shapes import (
    CANCELLED,
    CREATED,
    ERROR,
    HOLD_NO_STOCK,
    ON_HOLD,
    ORDER_STATES,
    RELEASED,
    SHIPPED,
    STATE_NAMES,
    PeakSalesOrder,
)
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.peakwms_shopify import order_binding
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_refund import is_own_refund
from crossdock.integrations.peakwms_shopify.order_binding import Binding
from crossdock.integrations.peakwms_shopify.order_mapping import (
    NothingToShip,
    PlannedOrder,
    ProductKeys,
    main_shop_keys,
    plan_order,
)
from crossdock.integrations.peakwms_shopify.order_payload import WarehouseLine, WarehouseOrder
from crossdock.integrations.peakwms_shopify.order_payment import transaction_number
from crossdock.integrations.peakwms_shopify.order_routing import warehouse_of
from crossdock.integrations.peakwms_shopify.product_map import peak_product_for
from crossdock.store.outcome import Outcome

# States in which PeakWMS still changes a sales order: nothing has been picked for it.
CHANGEABLE = frozenset({CREATED, RELEASED, ON_HOLD, ERROR})  # Error: PeakWMS could not process it; a fix may help
# States in which the goods have left the warehouse (Shipped, DropShip, SentTogether).
GONE_OUT = frozenset({SHIPPED, ORDER_STATES["DropShip"], ORDER_STATES["SentTogether"]})


@dataclass(frozen=True)
class OrderSystems:
    """What sending an order talks to: the connection's two API clients and the table."""

    peakwms: PeakwmsClient
    shopify: ShopifyAdmin
    table: Any


def product_keys(connection: PeakwmsShopifyConnection, table: Any) -> ProductKeys:
    """Where each line's PeakWMS product is: the main shop's own ids; for a shop sharing its stock, the main shop's
    variant of the same SKU (PW_CATALOG's map, `product_map.peak_product_for`)."""
    if connection.settings.main_shop:
        return main_shop_keys

    def shared(line: WarehouseLine, index: int) -> tuple[str, str] | str:
        sku = (line.sku or "").strip()
        if not sku:
            return (
                f"line_items[{index}].sku: the line '{line.title}' has no SKU, which is how a shop sharing the main "
                "shop's PeakWMS stock finds its products"
            )
        found = peak_product_for(table, connection, str(line.product_id), str(line.variant_id))
        if found is None:
            return (
                f"line_items[{index}].sku: '{sku}' is not matched to a PeakWMS product yet (the main shop has no "
                "variant of that SKU, or products were not fetched: setup step fetch_products)"
            )
        return found.product_id, found.variant_id

    return shared


def send_order(
    connection: PeakwmsShopifyConnection, order: WarehouseOrder, systems: OrderSystems, *, look_again: bool = False
) -> Outcome:
    """The order created or updated in PeakWMS; raises `Skip` (POS, cancelled first, nothing changed, older) or
    `PermanentError` naming the field, `RetryableError` as the systems answer. `look_again` (an operator's redrive)
    sends it even when its fingerprint says nothing changed."""
    settings = connection.settings
    if order.is_pos and not settings.use_shopify_pos:
        raise Skip(f"Shopify order {order.name} is a POS sale and use_shopify_pos is off")
    try:
        planned: PlannedOrder | None = plan_order(order, product_keys(connection, systems.table))
    except NothingToShip:
        planned = None  # an order never sent is refused below; a bound one may have been refunded whole
    order_id = str(order.id)
    with order_binding.order_lock(systems.table, connection.id, order_id):
        bound = order_binding.binding(systems.table, connection.id, order_id)
        if bound is None and order.fulfillment_status == "fulfilled":
            # An order the shop shipped itself (one from before the setup, touched later): nothing for the warehouse.
            raise Skip(f"Shopify order {order.name} is fulfilled in Shopify already: nothing for PeakWMS to ship")
        if bound is None:
            if planned is None:
                raise NothingToShip(
                    f"Shopify order {order.name} has nothing for the warehouse to ship", FailureClass.VALIDATION
                )
            return _create(connection, order, planned, systems)
        if bound.cancelled:
            raise Skip(f"Shopify order {order.name} was cancelled or deleted before; it is not sent to PeakWMS again")
        if order_binding.is_older(order.updated_at, bound.updated_at):
            raise Skip(
                f"this version of Shopify order {order.name} ({order.updated_at}) is older than the one PeakWMS has "
                f"({bound.updated_at})"
            )
        if planned is None:
            return _refunded_whole(connection, order, bound, systems)
        if bound.fingerprint == planned.fingerprint() and not look_again:
            raise Skip(f"nothing PeakWMS keeps of Shopify order {order.name} changed")
        return _update(connection, order, planned, bound, systems)


def _create(
    connection: PeakwmsShopifyConnection, order: WarehouseOrder, planned: PlannedOrder, systems: OrderSystems
) -> Outcome:
    warehouse = warehouse_of(order, connection.settings.locations, systems.shopify)
    draft = _with_payment(planned, systems, warehouse)
    try:
        made, new = sales_orders.create_sales_order(systems.peakwms, draft)
    except PeakwmsRejected as refused:
        # Most often a product PeakWMS does not have (setup step fetch_products skipped or not finished).
        raise PermanentError(
            f"PeakWMS refused Shopify order {order.name}: {refused.message or refused.reason}", refused.failure_class
        ) from None
    peakwms_id = made.id or draft.order_id
    _bind(systems, connection, order, planned, peakwms_id, warehouse)
    verb = "is now" if new else "was already (adopted)"
    where = f" in warehouse {warehouse}" if warehouse else ""
    reason = (
        f"Shopify order {order.name} {verb} PeakWMS sales order {peakwms_id}{where}: {_lines(planned)}; "
        f"{held(made)}{_left_out(planned)}"
    )
    return Outcome.done(reason, peakwms_order=peakwms_id, peakwms_state=_state_text(made))


def _update(
    connection: PeakwmsShopifyConnection,
    order: WarehouseOrder,
    planned: PlannedOrder,
    bound: Binding,
    systems: OrderSystems,
) -> Outcome:
    current = sales_orders.get_sales_order(systems.peakwms, planned.draft.order_id)
    if current is None:
        raise PermanentError(
            f"Shopify order {order.name} was sent as PeakWMS sales order {bound.peakwms_id}, which PeakWMS no longer "
            "has (deleted there?); redrive this event after checking PeakWMS to create it again",
            FailureClass.VALIDATION,
        )
    changed = what_changed(bound, planned)
    if current.state == CANCELLED:
        raise Skip(f"PeakWMS sales order {bound.peakwms_id} of Shopify order {order.name} is cancelled there")
    if current.state is not None and current.state not in CHANGEABLE:
        _bind(systems, connection, order, planned, bound.peakwms_id, bound.warehouse)
        state = STATE_NAMES.get(current.state, str(current.state))
        if set(changed) <= {"payment"}:
            raise Skip(
                f"only the payment of Shopify order {order.name} changed, and PeakWMS has it {state} already: "
                "nothing to change"
            )
        if _refunds_only(order, bound, planned.line_summary(), changed):
            raise Skip(
                f"Shopify order {order.name} changed only by refunds ({', '.join(changed.values())}) after PeakWMS "
                f"{state} it: nothing for the warehouse to change (a return is booked in PeakWMS)"
            )
        if current.state in GONE_OUT and not _more_to_ship(bound.lines, planned.line_summary()):
            # A return or refund after shipping (ours, from PeakWMS's 104, or the merchant's) takes items off the
            # order, an address corrected then is moot: nothing for the warehouse, which shipped it.
            raise Skip(
                f"Shopify order {order.name} changed ({', '.join(changed.values())}) after PeakWMS {state} it, "
                "with nothing more to ship: nothing to change in PeakWMS"
            )
        raise PermanentError(
            f"Shopify order {order.name} changed ({', '.join(changed.values())}) after PeakWMS sales order "
            f"{bound.peakwms_id} was {state}, so PeakWMS was not changed: change it in PeakWMS by hand",
            FailureClass.VALIDATION,
        )
    draft = _with_payment(planned, systems, bound.warehouse)
    try:
        updated = sales_orders.update_sales_order(systems.peakwms, draft)
    except PeakwmsRejected as refused:
        # Picked in the moment between the read and the update, or a product PeakWMS does not have.
        raise PermanentError(
            f"Shopify order {order.name} changed ({', '.join(changed.values()) or 'sent again'}), but PeakWMS "
            f"refused the update of sales order {bound.peakwms_id}: {refused.message or refused.reason}",
            refused.failure_class,
        ) from None
    _bind(systems, connection, order, planned, bound.peakwms_id, bound.warehouse)
    what = ", ".join(changed.values()) or "sent again"
    return Outcome.done(
        f"Shopify order {order.name} changed ({what}): PeakWMS sales order {bound.peakwms_id} updated; {held(updated)}",
        peakwms_order=bound.peakwms_id,
        peakwms_state=_state_text(updated),
    )


def _refunds_only(order: WarehouseOrder, bound: Binding, after: str, changed: dict[str, str]) -> bool:
    """Whether the order differs from the version bound only by items its refunds took off: no line or piece
    more, the address as before, and every piece fewer accounted for by the order's refunds."""
    if "address" in changed or _more_to_ship(bound.lines, after):
        return False
    before, now, refunded = _quantities(bound.lines), _quantities(after), order.refunded_units()
    fewer = {line: quantity - now.get(line, 0) for line, quantity in before.items() if quantity > now.get(line, 0)}
    return bool(fewer) and all(refunded.get(line, 0) >= less for line, less in fewer.items())


def _refunded_whole(
    connection: PeakwmsShopifyConnection, order: WarehouseOrder, bound: Binding, systems: OrderSystems
) -> Outcome:
    """A bound order whose refunds took every item: skipped when the refunds are ours or the goods are picked,
    else the merchant refunded it whole before picking and its PeakWMS sales order is cancelled."""
    if not _refunds_only(order, bound, "", {}):
        raise NothingToShip(
            f"Shopify order {order.name} has nothing for the warehouse to ship", FailureClass.VALIDATION
        )
    notes = [refund.note for refund in order.refunds if refund.refund_line_items]
    if notes and all(is_own_refund(systems.table, connection.id, note) for note in notes):
        raise Skip(
            f"Shopify order {order.name} was refunded whole by PeakWMS's own refund (104): PeakWMS sales order "
            f"{bound.peakwms_id} is left as PeakWMS has it"
        )
    current = sales_orders.get_sales_order(systems.peakwms, str(order.id))
    if current is None or current.state == CANCELLED:
        raise Skip(f"Shopify order {order.name} was refunded whole; PeakWMS has no open sales order of it")
    if current.state is not None and current.state not in CHANGEABLE:
        state = STATE_NAMES.get(current.state, str(current.state))
        raise Skip(
            f"Shopify order {order.name} was refunded whole after PeakWMS {state} it: nothing for the warehouse "
            "to change (a return is booked in PeakWMS)"
        )
    try:
        sales_orders.cancel_sales_order(systems.peakwms, str(order.id))
    except PeakwmsRejected as refused:
        raise PermanentError(
            f"Shopify order {order.name} was refunded whole, but PeakWMS did not cancel sales order "
            f"{bound.peakwms_id}: {refused.message or refused.reason}",
            refused.failure_class,
        ) from None
    marked = replace(bound, status=order_binding.CANCELLED, updated_at=order.updated_at or bound.updated_at)
    order_binding.bind(systems.table, connection.id, str(order.id), marked)
    return Outcome.done(
        f"Shopify order {order.name} was refunded whole before it was picked: PeakWMS sales order "
        f"{bound.peakwms_id} cancelled",
        peakwms_order=bound.peakwms_id,
    )


def what_changed(bound: Binding, planned: PlannedOrder) -> dict[str, str]:
    """What differs from the version bound, by part: `lines`, `address`, `payment`, `other` → its description."""
    changed: dict[str, str] = {}
    if bound.lines != planned.line_summary():
        changed["lines"] = f"line_items: {_line_changes(bound.lines, planned.line_summary())}"
    if bound.address != planned.address_fingerprint():
        changed["address"] = "shipping_address, billing_address or the drop point"
    if not changed and bound.fingerprint != planned.fingerprint():
        changed["other"] = "payment, shipping cost, prices or note"
    if set(changed) == {"other"} and _payment_only(bound, planned):
        changed = {"payment": f"financial_status (payment status {planned.draft.payment_status})"}
    return changed


def _payment_only(bound: Binding, planned: PlannedOrder) -> bool:
    # The fingerprint of the same order with the bound payment status: equal → only the payment differs.
    for status in range(4):
        if status != planned.draft.payment_status:
            other = PlannedOrder(replace(planned.draft, payment_status=status), planned.name, planned.left_out)
            if other.fingerprint() == bound.fingerprint:
                return True
    return False


def _more_to_ship(before: str, after: str) -> bool:
    """Whether `after` asks for a line or pieces that `before` did not (`<line id>:<quantity>` lists)."""
    old = _quantities(before)
    return any(quantity > old.get(line, 0) for line, quantity in _quantities(after).items())


def _quantities(summary: str) -> dict[str, int]:
    return {line: int(quantity) for line, _, quantity in (p.partition(":") for p in summary.split(",")) if quantity}


def _line_changes(before: str, after: str) -> str:
    old = dict(part.split(":", 1) for part in before.split(",") if ":" in part)
    new = dict(part.split(":", 1) for part in after.split(",") if ":" in part)
    notes = [f"{line} added ({new[line]})" for line in new if line not in old]
    notes += [f"{line} {old[line]} → {new[line]}" for line in new if line in old and old[line] != new[line]]
    notes += [f"{line} removed" for line in old if line not in new]
    return ", ".join(notes) or "changed"


def _with_payment(planned: PlannedOrder, systems: OrderSystems, warehouse: str | None) -> Any:
    draft = planned.draft
    number = transaction_number(systems.shopify, draft.order_id, draft.payment_status or 0)
    return replace(draft, transaction_number=number, warehouse=warehouse)


def _bind(
    systems: OrderSystems,
    connection: PeakwmsShopifyConnection,
    order: WarehouseOrder,
    planned: PlannedOrder,
    peakwms_id: str,
    warehouse: str | None,
) -> None:
    found = Binding(
        peakwms_id=peakwms_id,
        status=order_binding.CREATED,
        updated_at=order.updated_at or "",
        fingerprint=planned.fingerprint(),
        lines=planned.line_summary(),
        address=planned.address_fingerprint(),
        warehouse=warehouse,
    )
    order_binding.bind(systems.table, connection.id, str(order.id), found)


def held(made: PeakSalesOrder) -> str:
    """Whether PeakWMS holds the order, in words."""
    if made.state == ON_HOLD and made.on_hold_reason == HOLD_NO_STOCK:
        return "on hold in PeakWMS until every line is in stock (NoStock)"
    if made.state == ON_HOLD:
        return f"on hold in PeakWMS (reason {made.on_hold_reason})"
    if made.state == RELEASED:
        return "released for picking"
    if made.state is None:
        return "PeakWMS did not say whether it holds it"
    return f"{STATE_NAMES.get(made.state, str(made.state))} in PeakWMS"


def _state_text(made: PeakSalesOrder) -> str:
    return "" if made.state is None else STATE_NAMES.get(made.state, str(made.state))


def _lines(planned: PlannedOrder) -> str:
    count = len(planned.draft.lines)
    pieces = sum(line.quantity_requested for line in planned.draft.lines)
    return f"{count} line{'s' if count != 1 else ''}, {pieces} piece{'s' if pieces != 1 else ''}"


def _left_out(planned: PlannedOrder) -> str:
    return f"; left out: {', '.join(planned.left_out)}" if planned.left_out else ""
