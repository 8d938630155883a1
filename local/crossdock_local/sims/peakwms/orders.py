"""Sales orders (seen P1, P2): `POST /salesOrder`, `PUT /salesOrder/{orderId}`, `PUT /salesOrder/{orderId}/cancel`,
`DELETE /salesOrder/{id}`, and (guess, rules.get_order_by_order_id) `GET /salesOrder/{orderId}`.

The life cycle (fact sheet "Behaviours" 2, seed 004): a new order is Created (0) and at once either Released (1),
its lines reserved in its warehouse, when every line can be met from free stock, or OnHold (7) with reason 7
NoStock and the short lines in line state 4 NoStock — reserving nothing. `release_held` runs after anything that
frees or adds stock and releases every held order (oldest first; guess: a later order that fits is released
past an earlier one that does not). Packing and shipping are in fulfilment.py. Cancelling twice is 400 with
errorCode 4148 (seen P1), as is cancelling a packed or shipped order (guess: the same code, its state named).
Every change of state sends 109 OrderStateChanged with the whole order (doc P1: 109 carries a SalesOrder).
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms import products, stock
from crossdock_local.sims.peakwms.paging import keyset
from crossdock_local.sims.peakwms.rules import PeakwmsRules
from crossdock_local.sims.peakwms.session import Route, Session
from crossdock_local.sims.peakwms.state import (
    HOLD_NO_STOCK,
    LINE_CREATED,
    LINE_NO_STOCK,
    ORDER_CANCELLED,
    ORDER_CREATED,
    ORDER_ON_HOLD,
    ORDER_PACKED,
    ORDER_PICKED,
    ORDER_RELEASED,
    ORDER_SHIPPED,
    STATE_NAMES,
    CustomerState,
    Record,
)
from crossdock_local.sims.peakwms.wire import (
    ALREADY_CANCELLED_CODE,
    DUPLICATE_ORDER_CODE,
    WRONG_STATE_CODE,
    country,
    flag,
    host_id,
    invalid,
    not_found,
    number,
    object_body,
    refuse,
    render,
    text,
    whole,
)

ADDRESS_FIELDS = (
    "customerName",
    "address1",
    "address2",
    "postalCode",
    "city",
    "stateCode",
    "company",
    "email",
    "phone",
)
ADDRESSES = ("billingAddress", "shippingAddress", "senderAddress")
ORDER_TEXTS = (
    "orderNumber",
    "orderDateTime",
    "requestedDeliveryDate",
    "forwarderProductId",
    "parcelShopId",
    "paymentMethod",
    "transactionNumber",
    "comment",
)
ORDER_NUMBERS = ("shippingCost", "shippingTaxCost", "discountCost", "totalSalesPrice")
LINE_NUMBERS = ("salesPricePiece", "salesPriceTaxPiece", "salesDiscountPiece")
CHANGEABLE = frozenset({ORDER_CREATED, ORDER_RELEASED, ORDER_ON_HOLD})
CANCELLABLE = frozenset({ORDER_CREATED, ORDER_RELEASED, ORDER_PICKED, ORDER_ON_HOLD})


def _address(value: Any, field: str) -> Record | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(field, "must be an object")
    found: Record = {name: text(value.get(name), f"{field}.{name}", max_length=200) for name in ADDRESS_FIELDS}
    found["country"] = country(value.get("country"), f"{field}.country")
    return found


def _lines(session: Session, value: Any) -> list[Record]:
    if not isinstance(value, list) or not value:
        raise invalid("orderLines", "must be a non-empty list")
    lines: list[Record] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        where = f"orderLines[{index}]"
        if not isinstance(raw, dict):
            raise invalid(where, "must be an object")
        line_id = host_id(raw.get("orderLineId"), f"{where}.orderLineId")
        if line_id in seen:
            raise invalid(f"{where}.orderLineId", f"{line_id} appears twice")
        seen.add(line_id)
        product_id = host_id(raw.get("productId"), f"{where}.productId")
        variant_id = host_id(raw.get("variantId"), f"{where}.variantId", required=False)
        product = products.find(session.customer, product_id, variant_id)
        if product is None:  # guess: PeakWMS must know what it is to pick
            raise invalid(f"{where}.productId", f"names no product ({product_id}/{variant_id})")
        line: Record = {
            "orderLineId": line_id,
            "productId": product_id,
            "variantId": variant_id,
            "itemNumber": product["itemNumber"],
            "quantityRequested": whole(raw.get("quantityRequested"), f"{where}.quantityRequested", minimum=1),
            "lotNumber": text(raw.get("lotNumber"), f"{where}.lotNumber", max_length=100),
            "state": LINE_CREATED,
            "quantityPacked": 0,
            "_refunded": 0,
            "_reserved": 0,
        }
        for name in LINE_NUMBERS:
            line[name] = number(raw.get(name), f"{where}.{name}", minimum=None)
        lines.append(line)
    return lines


def fields_of(session: Session, body: Record) -> Record:
    """Every field of an order body, checked; the first bad one is refused by name before anything is written."""
    chosen: Record = {name: text(body.get(name), name) for name in ORDER_TEXTS}
    for name in ADDRESSES:
        chosen[name] = _address(body.get(name), name)
    for name in ORDER_NUMBERS:
        chosen[name] = number(body.get(name), name, minimum=None)
    status = body.get("paymentStatus", 0)
    if isinstance(status, bool) or status not in (0, 1, 2, 3):
        raise invalid("paymentStatus", "must be 0 Pending, 1 Authorized, 2 Captured or 3 Refunded")
    chosen["paymentStatus"] = status
    currency = text(body.get("salesCurrency"), "salesCurrency", max_length=3)
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise invalid("salesCurrency", "must be an ISO 4217 code")
    chosen["salesCurrency"] = currency
    priority = body.get("priority")
    chosen["priority"] = None if priority is None else whole(priority, "priority", minimum=1)
    if chosen["priority"] is not None and chosen["priority"] > 10:
        raise invalid("priority", "must be between 1 and 10")
    chosen["giftWrap"] = bool(flag(body.get("giftWrap"), "giftWrap"))
    # Guess: the warehouse is named by `warehouseName` (the sheet names no such field; the stock log has names).
    warehouse = text(body.get("warehouseName"), "warehouseName", max_length=100)
    if warehouse is not None and warehouse not in session.customer.warehouses:
        raise invalid("warehouseName", f"names no warehouse of this customer ({warehouse})")
    chosen["warehouseName"] = warehouse or stock.default_warehouse(session.customer)
    chosen["orderLines"] = _lines(session, body.get("orderLines"))
    return chosen


def by_order_id(customer: CustomerState, order_id: str) -> Record | None:
    """The newest order of a host orderId (a second one exists only with rules.refuse_duplicate_order off)."""
    found = customer.orders_of(order_id)
    return max(found, key=lambda o: int(o["id"])) if found else None


def view(order: Record, rules: PeakwmsRules | None = None) -> Record:
    """The order as PeakWMS shows it; `rules` (the customer's) say which guessed line quantities it shows."""
    shown = render(order)
    if rules is not None:
        for line, record in zip(shown["orderLines"], order["orderLines"], strict=True):
            if not rules.line_packed_quantity:
                line.pop("quantityPacked", None)
            if rules.refund_takes_unpacked:
                line["quantityRefunded"] = int(record.get("_refunded", 0))
    return shown


def to_pack(rules: PeakwmsRules, line: Record) -> int:
    """What is left to pack of the line: ordered − packed, and with rules.refund_takes_unpacked less what was
    refunded (never below 0: a unit refunded after its packing was packed)."""
    refunded = int(line.get("_refunded", 0)) if rules.refund_takes_unpacked else 0
    return max(0, int(line["quantityRequested"]) - refunded - int(line["quantityPacked"]))


def set_state(session: Session, order: Record, state: int, reason: int | None = None) -> None:
    changed = order["state"] != state or order.get("onHoldReason") != reason
    order["state"], order["onHoldReason"] = state, reason
    if state == ORDER_ON_HOLD:
        session.customer.held[order["id"]] = None
    else:
        session.customer.held.pop(order["id"], None)
    order["updatedAt"] = session.timestamp()
    if changed:
        session.send(109, view(order, session.rules), order["orderId"])


def _place(session: Session, order: Record) -> bool:
    """Reserve every line's unpacked quantity in the order's warehouse and release it, or hold it; True if
    released. Reserves nothing unless everything fits."""
    customer = session.customer
    rows, short = [], []
    for line in order["orderLines"]:
        needed = to_pack(session.rules, line)
        row = stock.ensure_item(
            customer, line["productId"], line["variantId"], line["itemNumber"], order["warehouseName"]
        )
        rows.append((line, row, needed))
        if needed > stock.free(row) - sum(n for (_, r, n) in rows[:-1] if r is row):
            short.append(line)
    if short:
        for line in order["orderLines"]:
            line["state"] = LINE_NO_STOCK if line in short else LINE_CREATED
        set_state(session, order, ORDER_ON_HOLD, HOLD_NO_STOCK)
        return False
    for line, row, needed in rows:
        row["reservedQuantity"] = int(row["reservedQuantity"]) + needed
        line["_reserved"] = int(line["_reserved"]) + needed
        line["_stock"] = row["id"]
        if line["state"] == LINE_NO_STOCK:
            line["state"] = LINE_CREATED
    set_state(session, order, ORDER_RELEASED)
    return True


def unreserve(session: Session, order: Record) -> None:
    for line in order["orderLines"]:
        row = session.customer.of("stock").get(line.get("_stock", -1))
        if row is not None and line["_reserved"]:
            row["reservedQuantity"] = max(0, int(row["reservedQuantity"]) - int(line["_reserved"]))
        line["_reserved"] = 0


def release_held(session: Session, product_ids: set[str] | None = None) -> int:
    """Release every held order whose lines can now all be met, oldest first; returns how many. `product_ids`: only
    orders wanting one of these products can have become possible (the others are not tried)."""
    released = 0
    for order in session.customer.held_orders():
        if product_ids is None or any(line["productId"] in product_ids for line in order["orderLines"]):
            released += int(_place(session, order))
    return released


def _products(order: Record) -> set[str]:
    return {line["productId"] for line in order["orderLines"]}


def sort_key(order: Record) -> int:
    return int(order["id"])


def create(session: Session, body: Record) -> Record:
    customer = session.customer
    order_id = host_id(body.get("orderId"), "orderId")
    chosen = fields_of(session, body)
    if by_order_id(customer, order_id) is not None and session.rules.refuse_duplicate_order:
        raise refuse(400, f"A sales order with orderId {order_id} exists", DUPLICATE_ORDER_CODE, "orderId")
    now = session.timestamp()
    order: Record = {
        "id": customer.next_id("sales_orders"),
        "orderId": order_id,
        **chosen,
        "state": ORDER_CREATED,
        "onHoldReason": None,
        "createdAt": now,
        "updatedAt": now,
    }
    for line in order["orderLines"]:
        line["id"] = customer.next_id("order_lines")
    customer.add_order(order)
    _place(session, order)
    return order


def found(session: Session, order_id: str) -> Record:
    order = by_order_id(session.customer, order_id)
    if order is None:
        raise not_found("sales order", order_id)
    return order


def update(session: Session, order_id: str, body: Record) -> Record:
    """Guess: the body is the whole order again (as P2 sends it); its fields replace the stored ones. Only an order
    not yet picked may change."""
    order = found(session, order_id)
    if order["state"] not in CHANGEABLE or any(line["quantityPacked"] for line in order["orderLines"]):
        raise refuse(
            400,
            f"Sales order {order_id} cannot be changed because it is in state {STATE_NAMES[order['state']]}",
            WRONG_STATE_CODE,
            "orderId",
        )
    body_id = body.get("orderId")
    if body_id is not None and host_id(body_id, "orderId") != order_id:
        raise invalid("orderId", "must be the orderId of the path")
    chosen = fields_of(session, body)
    freed = _products(order)
    unreserve(session, order)
    ids = {line["orderLineId"]: line["id"] for line in order["orderLines"]}
    for line in chosen["orderLines"]:
        line["id"] = ids.get(line["orderLineId"]) or session.customer.next_id("order_lines")
    order.update(chosen)
    order["updatedAt"] = session.timestamp()
    _place(session, order)
    release_held(session, freed)
    return order


def cancel(session: Session, order_id: str) -> Record:
    order = found(session, order_id)
    if order["state"] not in CANCELLABLE:
        raise refuse(
            400,
            f"Sales order {order_id} cannot be cancelled because it is in state {STATE_NAMES[order['state']]}",
            ALREADY_CANCELLED_CODE,
            order_id,
            STATE_NAMES[order["state"]],
        )
    unreserve(session, order)
    set_state(session, order, ORDER_CANCELLED)
    release_held(session, _products(order))
    return order


def delete(session: Session, raw_id: str) -> None:
    customer = session.customer
    order = customer.of("sales_orders").get(int(raw_id)) if raw_id.isdigit() else None
    if order is None:
        raise not_found("sales order", raw_id)
    if order["state"] in (ORDER_PACKED, ORDER_SHIPPED) or any(line["quantityPacked"] for line in order["orderLines"]):
        raise refuse(
            400,
            f"Sales order {order['orderId']} cannot be deleted because it is in state {STATE_NAMES[order['state']]}",
            WRONG_STATE_CODE,
            raw_id,
        )
    unreserve(session, order)
    customer.remove_order(order)
    release_held(session, _products(order))


# ---- the API ------------------------------------------------------------------------------------------------------


def post_order(session: Session, request: SimRequest) -> SimResponse:
    return json_response(200, view(create(session, object_body(request))))


def put_order(session: Session, request: SimRequest, orderId: str) -> SimResponse:
    return json_response(200, view(update(session, orderId, object_body(request))))


def put_cancel(session: Session, request: SimRequest, orderId: str) -> SimResponse:
    return json_response(200, view(cancel(session, orderId)))


def delete_order(session: Session, request: SimRequest, id: str) -> SimResponse:
    delete(session, id)
    return SimResponse(204)


def get_order(session: Session, request: SimRequest, orderId: str) -> SimResponse:
    if not session.rules.get_order_by_order_id:
        return json_response(404, {"message": "Not found"})
    return json_response(200, view(found(session, orderId), session.rules))


def order_key_set(session: Session, request: SimRequest) -> SimResponse:
    """Guess: sales orders page like products and stock."""
    return keyset(request, session.rules, session.customer.of("sales_orders"))


ROUTES: tuple[Route, ...] = (
    ("POST", "/salesOrder", post_order),
    ("GET", "/salesOrder/keySet", order_key_set),
    ("PUT", "/salesOrder/{orderId}/cancel", put_cancel),
    ("PUT", "/salesOrder/{orderId}", put_order),
    ("GET", "/salesOrder/{orderId}", get_order),
    ("DELETE", "/salesOrder/{id}", delete_order),
)
