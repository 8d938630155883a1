"""How far an order has come, and what it holds or takes from stock: the rules orders, shipments, invoices, credit
notes and the catalogue share.

An order's flags (`is_shipped`, `is_partly_shipped`, `is_ready_for_*`) follow from its shipments; booked orders
reserve what is left to ship (`in_order_quantity`); shipping draws stock and a credit note's stock return puts it
back the same way. Everything here works on one account's state, so no resource module needs another.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from crossdock_local.sims.rackbeat.session import Session
from crossdock_local.sims.rackbeat.state import AccountState, Record
from crossdock_local.sims.rackbeat.wire import integer, invalid, not_found, now

Reservations = dict[str, dict[str | None, Decimal]]
"""Item number → location number (None where the line names none) → quantity booked orders still have to ship."""


def find_order(account: AccountState, number: str) -> Record:
    order = account.orders.get(integer(number) or 0)
    if order is None:
        raise not_found()
    return order


def find_invoice(account: AccountState, number: str) -> Record:
    invoice = account.invoices.get(integer(number) or 0)
    if invoice is None:
        raise not_found()
    return invoice


def refuse_if_cancelled(order: Record, action: str) -> None:
    """A cancelled order is closed for good (cancellation lives in orders.py)."""
    if order["is_cancelled"]:
        # Guess: wording; the sheet shows only the is_cancelled flag.
        raise invalid({"order": [f"Order is cancelled and can not be {action}"]})


def order_shipments(account: AccountState, order: Record) -> list[Record]:
    return [s for s in account.shipments.values() if s["order_number"] == order["number"]]


def quantities_on_shipments(account: AccountState, order: Record, shipped_only: bool) -> Counter[int]:
    """Quantity per order line id already put on (shipped) shipments."""
    totals: Counter[int] = Counter()
    for shipment in order_shipments(account, order):
        if shipped_only and not shipment["is_shipped"]:
            continue
        for line in shipment["lines"]:
            totals[line["line_id"]] += line["quantity"]
    return totals


def refresh_flags(account: AccountState, order: Record) -> None:
    shipped = quantities_on_shipments(account, order, shipped_only=True)
    wanted = [line for line in order["lines"] if line["quantity"] > 0]
    all_shipped = bool(wanted) and all(shipped[line["id"]] >= line["quantity"] for line in wanted)
    any_shipped = any(shipped[line["id"]] > 0 for line in wanted)
    open_order = order["is_booked"] and not order["is_cancelled"]
    order.update(
        is_shipped=all_shipped,
        is_partly_shipped=any_shipped and not all_shipped,
        is_ready_for_shipping=open_order and not all_shipped,  # guess: meaning of the flag
        is_ready_for_invoicing=open_order and not order["is_invoiced"],  # guess: meaning of the flag
    )


def reservations(account: AccountState) -> Reservations:
    """What booked orders hold. Guess: booked, not cancelled orders reserve what is left to ship of each line
    (positive lines only), at the line's own location_id; that is what in_order_quantity shows.

    Worked out by walking every order, so reads in a row share one walk: a stock push reads each changed item's
    quantity, and with thousands of orders the walk per read was what grew with the orders. Callers only read it.
    """
    if account.reading and account.held_while_reading is not None:
        kept: Reservations = account.held_while_reading
        return kept
    held = _walk_orders(account)
    if account.reading:
        account.held_while_reading = held
    return held


def _walk_orders(account: AccountState) -> Reservations:
    held: Reservations = {}
    for order in account.orders.values():
        if not order["is_booked"] or order["is_shipped"] or order["is_cancelled"]:
            continue
        # Only a partly shipped order has shipped quantities to subtract; skipping the lookup keeps lists fast.
        shipped = (
            quantities_on_shipments(account, order, shipped_only=True) if order["is_partly_shipped"] else Counter[int]()
        )
        for line in order["lines"]:
            left = line["quantity"] - shipped[line["id"]]
            if left > 0:
                per_location = held.setdefault(line["item_id"], {})
                per_location[line["location_id"]] = per_location.get(line["location_id"], Decimal(0)) + left
    return held


def announce_reservations(session: Session, order: Record) -> None:
    """Booking, reopening or cancelling an order changes what its items have available: one
    `product.stock_changed` per stock-keeping item on it. Guess: Rackbeat's stock event covers reservations, not
    only stock movements (a shop showing available stock must hear about both)."""
    stamp = now()
    changed: list[str] = []
    for line in order["lines"]:
        product = session.account.products.get(line["item_id"])
        if product is None or not product["inventory_enabled"] or line["quantity"] <= 0:
            continue
        if product["number"] not in changed:
            product["updated_at"] = stamp  # guess: availability counts as a change of the product
            changed.append(product["number"])
    for number in changed:
        session.emit("product.stock_changed", number)


def draw_stock(account: AccountState, lines: list[Record]) -> list[str]:
    """Take shipped quantities off each product's stock (and its location's); returns changed product numbers.
    A stock return passes negative quantities."""
    changed: list[str] = []
    for line in lines:
        product = account.products.get(line["item_id"])
        if product is None or not product["inventory_enabled"]:
            continue
        product["stock_quantity"] -= line["quantity"]
        if line["location_id"] is not None:
            per_location = product["_locations"]
            location = line["location_id"]
            per_location[location] = per_location.get(location, Decimal(0)) - line["quantity"]
        product["updated_at"] = now()
        product["_stock_moved"] = True
        if product["number"] not in changed:
            changed.append(product["number"])
    return changed
