"""What happens to goods in the warehouse and to money afterwards, done by hand in PeakWMS (control methods):
packing (pick orders), shipping, EAN changes, closing purchase orders, refunds — each sending its webhook.

- `pack`: one pick order of the lines named (orderLineId → quantity) or of everything not packed yet, for a
  released order; the goods leave the shelf and their reservation (no 100 unless rules.stock_adjust_on_pack).
  Sends 110 PickOrderPicked and 102 PickOrderPacked with only that pick order's lines (seen P1: packed quantities;
  fact sheet "Behaviours" 3: partial packing = several pick orders). `paymentCaptured` says PeakWMS captured the
  payment itself (guess; rules.payment_captured_via_109 says it in a 109 too). The pick order that completes the
  order takes it Released → Picked (2) → Packed (3), each a 109 (the sheet's path); partly packed it stays
  Released (guess: the pick order, not the order, is picked).
- `ship`: the packed pick orders leave; a fully packed order becomes Shipped (4) (109).
- `change_ean`: an existing variant's EAN changes: 101 `{productId, variantId, ean}` (guess) and 105 with the
  product.
- `close_purchase_order`: goods of a purchase order received (a 100 per line), `averageCostPrice` set where given,
  then 103 with the purchase order (guess: its shape) and 105 per product whose cost changed.
- `refund`: 104 `{orderId, amount, orderLines[{orderLineId, quantity}]}` (guess); full or partial; paymentStatus
  3 Refunded once the refunds reach `totalSalesPrice`. With rules.refund_takes_unpacked (guess) a line's refunded
  units not packed yet are not packed (`quantityRefunded` on the line), and an order left with nothing to pack is
  Packed short.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import Field

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms import orders, products, stock
from crossdock_local.sims.peakwms.seeds import Strict, parsed
from crossdock_local.sims.peakwms.session import Handler, Session
from crossdock_local.sims.peakwms.state import (
    ORDER_CANCELLED,
    ORDER_PACKED,
    ORDER_PICKED,
    ORDER_RELEASED,
    ORDER_SHIPPED,
    STATE_NAMES,
    Record,
)
from crossdock_local.sims.peakwms.wire import WRONG_STATE_CODE, invalid, not_found, object_body, refuse

LINE_PACKED = 3  # guess: line states 1–3 follow the order's (Released, Picked, Packed)
PACKABLE = frozenset({ORDER_RELEASED})
REFUNDABLE_FROM = frozenset({ORDER_RELEASED, ORDER_PICKED, ORDER_PACKED, ORDER_SHIPPED})
CENT = Decimal("0.01")


def at_customer(session: Session, name: str) -> Session:
    """The session of a control route's `{name}`; 404 if no such customer."""
    if name not in session.state.customers:
        raise refuse(404, f"customer {name} not found", "4040", name)
    session.customer_name = name
    return session


def _wrong_state(order: Record, doing: str) -> Exception:
    state = STATE_NAMES[order["state"]]
    return refuse(400, f"Sales order {order['orderId']} cannot be {doing} in state {state}", WRONG_STATE_CODE, state)


def pack(
    session: Session,
    order_id: str,
    lines: dict[str, int] | None = None,
    *,
    tracking_number: str | None = None,
    tracking_url: str | None = None,
    payment_captured: bool = False,
) -> Record:
    customer = session.customer
    order = orders.found(session, order_id)
    if order["state"] not in PACKABLE:
        raise _wrong_state(order, "packed")
    by_line = {line["orderLineId"]: line for line in order["orderLines"]}
    left = {key: orders.to_pack(session.rules, line) for key, line in by_line.items()}
    chosen = {key: n for key, n in left.items() if n > 0} if lines is None else dict(lines)
    for key, quantity in chosen.items():
        if key not in by_line:
            raise invalid(f"lines.{key}", f"is no line of order {order_id}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= left[key]:
            raise invalid(f"lines.{key}", f"must be between 1 and the {left[key]} not packed yet")
    if not chosen:
        raise invalid("lines", f"order {order_id} has nothing left to pack")
    pick_id = customer.next_id("pick_orders")
    number = tracking_number or f"PW{pick_id:010d}"
    for key, quantity in chosen.items():
        line = by_line[key]
        row = customer.of("stock")[line["_stock"]]
        line["quantityPacked"] = int(line["quantityPacked"]) + quantity
        line["_reserved"] = int(line["_reserved"]) - quantity
        row["reservedQuantity"] = int(row["reservedQuantity"]) - quantity
        row["quantity"] = int(row["quantity"]) - quantity
        stock.log_action(session, row, -quantity, "Pick", f"Pick order {pick_id}")
        if session.rules.stock_adjust_on_pack:
            stock.announce(session, row, -quantity, "Picked")
        if orders.to_pack(session.rules, line) == 0:
            line["state"] = LINE_PACKED
    pick: Record = {
        "id": pick_id,
        "orderId": order["orderId"],
        "salesOrderId": order["id"],
        "shipped": False,
        "orderLines": [{"orderLineId": key, "quantity": quantity} for key, quantity in chosen.items()],
        "trackingNumber": number,
        "trackingUrl": tracking_url or f"https://tracking.peakwms.test/{number}",
        "paymentCaptured": payment_captured,
        "packedAt": session.timestamp(),
    }
    customer.of("pick_orders")[pick_id] = pick
    if payment_captured:
        order["paymentStatus"] = 2
    lines_out = [dict(line) for line in pick["orderLines"]]
    session.send(110, {"orderId": order["orderId"], "pickOrderId": pick_id, "orderLines": lines_out}, order["orderId"])
    complete = all(orders.to_pack(session.rules, line) == 0 for line in order["orderLines"])
    if complete:
        orders.set_state(
            session, order, ORDER_PICKED
        )  # everything picked: Released → Picked → Packed (the sheet's path)
    session.send(
        102,
        {
            "orderId": order["orderId"],
            "pickOrderId": pick_id,
            "paymentCaptured": payment_captured,
            "trackingNumber": pick["trackingNumber"],
            "trackingUrl": pick["trackingUrl"],
            "orderLines": [dict(line) for line in lines_out],
        },
        order["orderId"],
    )
    if complete:
        orders.set_state(session, order, ORDER_PACKED)  # its 109 shows paymentStatus 2 already
    elif payment_captured and session.rules.payment_captured_via_109:
        session.send(109, orders.view(order), order["orderId"])
    return dict(pick)


def ship(session: Session, order_id: str) -> Record:
    """The order's packed pick orders leave the warehouse; a fully packed order is Shipped."""
    order = orders.found(session, order_id)
    picks = [
        p for p in session.customer.of("pick_orders").values() if p["salesOrderId"] == order["id"] and not p["shipped"]
    ]
    if not picks:
        raise _wrong_state(order, "shipped with nothing packed")
    for pick in picks:
        pick["shipped"] = True
    if order["state"] == ORDER_PACKED:
        orders.set_state(session, order, ORDER_SHIPPED)
    return orders.view(order)


def change_ean(session: Session, product_id: str, variant_id: str, ean: str) -> Record:
    customer = session.customer
    product = products.find(customer, product_id, variant_id)
    if product is None:
        raise not_found("product", f"{product_id}/{variant_id}")
    if not ean or len(ean) > 50 or not ean.isdigit():
        raise invalid("ean", "must be 1–50 digits")
    product["ean"] = ean
    product["updatedAt"] = session.timestamp()
    session.send(101, {"productId": product_id, "variantId": variant_id, "ean": ean}, f"{product_id}:{variant_id}")
    session.send(105, products.view(customer, product), f"{product_id}:{variant_id}")
    return products.view(customer, product)


def close_purchase_order(
    session: Session, lines: list[Record], average_costs: dict[tuple[str, str], float] | None = None
) -> Record:
    """`lines`: `{productId, variantId, quantity}` received; `average_costs`: (productId, variantId) → the new
    `averageCostPrice` PeakWMS computed."""
    customer = session.customer
    if not lines:
        raise invalid("lines", "must name at least one line")
    costs = dict(average_costs or {})
    checked = []
    for index, line in enumerate(lines):
        key = (str(line.get("productId", "")), str(line.get("variantId", "")))
        product = products.find(customer, *key)
        if product is None:
            raise invalid(f"lines[{index}].productId", f"names no product ({key[0]}/{key[1]})")
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise invalid(f"lines[{index}].quantity", "must be a whole number ≥ 0")
        checked.append((product, quantity))
    for key, cost in costs.items():
        if products.find(customer, *key) is None:
            raise invalid("average_costs", f"names no product ({key[0]}/{key[1]})")
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
            raise invalid("average_costs", f"of {key[0]}/{key[1]} must be a number ≥ 0")
    po_id = customer.next_id("purchase_orders")
    changed = []
    for key, cost in costs.items():
        product = products.find(customer, *key)
        assert product is not None
        product["averageCostPrice"] = float(cost)
        product["updatedAt"] = session.timestamp()
        changed.append(product)
    for product, quantity in checked:
        if quantity:
            row = stock.ensure_item(customer, product["productId"], product["variantId"], product["itemNumber"])
            stock.change(session, row, quantity, "Receive", f"Purchase order PO{po_id}")
    purchase: Record = {
        "id": po_id,
        "purchaseOrderNumber": f"PO{po_id}",
        "state": "Closed",
        "warehouseName": stock.default_warehouse(customer),
        "closedAt": session.timestamp(),
        "orderLines": [
            {
                "productId": product["productId"],
                "variantId": product["variantId"],
                "itemNumber": product["itemNumber"],
                "quantityReceived": quantity,
                "averageCostPrice": product["averageCostPrice"],
            }
            for product, quantity in checked
        ],
    }
    customer.of("purchase_orders")[po_id] = purchase
    session.send(103, purchase, str(po_id))
    for product in changed:
        session.send(105, products.view(customer, product), f"{product['productId']}:{product['variantId']}")
    orders.release_held(session, {product["productId"] for product, _ in checked})
    return dict(purchase)


def refund(session: Session, order_id: str, amount: object, lines: dict[str, int] | None = None) -> Record:
    customer = session.customer
    order = orders.found(session, order_id)
    if order["state"] not in REFUNDABLE_FROM or order["state"] == ORDER_CANCELLED:
        raise _wrong_state(order, "refunded")
    try:
        value = Decimal(str(amount)).quantize(CENT)
    except InvalidOperation:
        raise invalid("amount", "must be a number") from None
    if value <= 0:
        raise invalid("amount", "must be more than 0")
    earlier = [r for r in customer.refunds if r["orderId"] == order_id]
    refunded = sum((Decimal(str(r["amount"])) for r in earlier), Decimal(0))
    total = order.get("totalSalesPrice")
    if total is not None and refunded + value > Decimal(str(total)).quantize(CENT):
        raise invalid("amount", f"would refund more than the order's totalSalesPrice {total}")
    by_line = {line["orderLineId"]: line for line in order["orderLines"]}
    for key, quantity in (lines or {}).items():
        if key not in by_line:
            raise invalid(f"lines.{key}", f"is no line of order {order_id}")
        back = sum(int(ln.get(key, 0)) for ln in (r["_lines"] for r in earlier))
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= int(by_line[key]["quantityRequested"]) - back
        ):
            raise invalid(f"lines.{key}", "must be between 1 and the quantity not refunded yet")
    body: Record = {
        "orderId": order_id,
        "amount": float(value),
        "orderLines": [{"orderLineId": key, "quantity": q} for key, q in (lines or {}).items()],
    }
    customer.refunds.append(
        {"id": customer.next_id("refunds"), **body, "amount": str(value), "_lines": dict(lines or {})}
    )
    if total is not None and refunded + value == Decimal(str(total)).quantize(CENT):
        order["paymentStatus"] = 3
    if session.rules.refund_takes_unpacked:
        _not_to_pack(session, order, lines or {})
    session.send(104, body, order_id)
    return body


def _not_to_pack(session: Session, order: Record, lines: dict[str, int]) -> None:
    """rules.refund_takes_unpacked: the refunded units are no longer packed — their reservation freed — and a
    released order with something packed and nothing left to pack is Packed, short (its 109s, as a last pick order
    sends them)."""
    by_line = {line["orderLineId"]: line for line in order["orderLines"]}
    freed = set()
    for key, quantity in lines.items():
        line = by_line[key]
        before = orders.to_pack(session.rules, line)
        line["_refunded"] = int(line.get("_refunded", 0)) + quantity
        release = min(before - orders.to_pack(session.rules, line), int(line["_reserved"]))
        row = session.customer.of("stock").get(line.get("_stock", -1))
        if release > 0 and row is not None:
            line["_reserved"] = int(line["_reserved"]) - release
            row["reservedQuantity"] = int(row["reservedQuantity"]) - release
            freed.add(str(line["productId"]))
        if orders.to_pack(session.rules, line) == 0 and int(line["quantityPacked"]):
            line["state"] = LINE_PACKED
    packed = any(int(line["quantityPacked"]) for line in order["orderLines"])
    if (
        order["state"] == ORDER_RELEASED
        and packed
        and not any(orders.to_pack(session.rules, ln) for ln in by_line.values())
    ):
        orders.set_state(session, order, ORDER_PICKED)
        orders.set_state(session, order, ORDER_PACKED)
    if freed:
        orders.release_held(session, freed)


# ---- the HTTP side ------------------------------------------------------------------------------------------------


class PackSeed(Strict):
    lines: dict[str, int] | None = None
    tracking_number: str | None = Field(default=None, alias="trackingNumber", min_length=1)
    tracking_url: str | None = Field(default=None, alias="trackingUrl")
    payment_captured: bool = Field(default=False, alias="paymentCaptured")


class EanSeed(Strict):
    product_id: str = Field(alias="productId", min_length=1)
    variant_id: str = Field(default="", alias="variantId")
    ean: str


class PurchaseLine(Strict):
    product_id: str = Field(alias="productId", min_length=1)
    variant_id: str = Field(default="", alias="variantId")
    quantity: int = Field(ge=0)
    average_cost_price: float | None = Field(default=None, alias="averageCostPrice", ge=0)


class PurchaseSeed(Strict):
    lines: list[PurchaseLine] = Field(min_length=1)


class RefundSeed(Strict):
    amount: Decimal = Field(gt=0)
    lines: dict[str, int] | None = None


def post_pack(session: Session, request: SimRequest, name: str, orderId: str) -> SimResponse:
    seed = parsed(PackSeed, object_body(request))
    picked = pack(
        at_customer(session, name),
        orderId,
        seed.lines,
        tracking_number=seed.tracking_number,
        tracking_url=seed.tracking_url,
        payment_captured=seed.payment_captured,
    )
    return json_response(200, picked)


def post_ship(session: Session, request: SimRequest, name: str, orderId: str) -> SimResponse:
    return json_response(200, ship(at_customer(session, name), orderId))


def post_ean(session: Session, request: SimRequest, name: str) -> SimResponse:
    seed = parsed(EanSeed, object_body(request))
    return json_response(200, change_ean(at_customer(session, name), seed.product_id, seed.variant_id, seed.ean))


def post_purchase(session: Session, request: SimRequest, name: str) -> SimResponse:
    seed = parsed(PurchaseSeed, object_body(request))
    lines: list[Record] = [
        {"productId": ln.product_id, "variantId": ln.variant_id, "quantity": ln.quantity} for ln in seed.lines
    ]
    costs = {
        (ln.product_id, ln.variant_id): ln.average_cost_price for ln in seed.lines if ln.average_cost_price is not None
    }
    return json_response(200, close_purchase_order(at_customer(session, name), lines, costs))


def post_refund(session: Session, request: SimRequest, name: str, orderId: str) -> SimResponse:
    seed = parsed(RefundSeed, object_body(request))
    return json_response(200, refund(at_customer(session, name), orderId, seed.amount, seed.lines))


CONTROL_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/_control/customers/{name}/orders/{orderId}/pack", post_pack),
    ("POST", "/_control/customers/{name}/orders/{orderId}/ship", post_ship),
    ("POST", "/_control/customers/{name}/orders/{orderId}/refund", post_refund),
    ("POST", "/_control/customers/{name}/products/ean", post_ean),
    ("POST", "/_control/customers/{name}/purchase-orders", post_purchase),
)
