"""What a test, the demo or an operator does in PeakWMS outside its API: make a customer (warehouses, an API key),
receive goods, count stock, switch a message's sending on or off, change the rules — and (fulfilment.py) pack,
ship, change an EAN, close a purchase order, refund. Not part of PeakWMS.

The functions work on the state through a `Session` (the simulator's Python methods call them under its lock);
the `/_control/...` routes parse a JSON body and call the same functions, so a change made either way follows the
same rules and sends the same webhooks. Like the base's `/_control/state` they need no key and see no faults.
"""

from __future__ import annotations

from collections import Counter

from pydantic import Field

from crossdock_local.sims.base import SimRequest, SimResponse, json_response, rules_control
from crossdock_local.sims.peakwms import auth, fulfilment, orders, products, stock
from crossdock_local.sims.peakwms.fulfilment import at_customer
from crossdock_local.sims.peakwms.rules import RulesUpdate
from crossdock_local.sims.peakwms.seeds import Strict, parsed
from crossdock_local.sims.peakwms.session import Handler, Session
from crossdock_local.sims.peakwms.state import STATE_NAMES, CustomerState, Record
from crossdock_local.sims.peakwms.webhooks import EVENTS
from crossdock_local.sims.peakwms.wire import invalid, not_found, object_body, render

ControlRoute = tuple[str, str, Handler]


class CustomerSeed(Strict):
    name: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")  # a path segment
    api_key: str | None = Field(default=None, alias="apiKey", min_length=8)
    sandbox: bool = False
    warehouses: list[str] = Field(default_factory=lambda: ["Main"], min_length=1)


class StockChange(Strict):
    product_id: str = Field(alias="productId", min_length=1)
    variant_id: str = Field(default="", alias="variantId")
    quantity: int
    warehouse: str | None = None
    reason: str = "Count"


def seed_customer(session: Session, body: Record) -> Record:
    seed = parsed(CustomerSeed, body)
    customer = session.state.customers.get(seed.name)
    if customer is None:
        if len(set(seed.warehouses)) != len(seed.warehouses):
            raise invalid("warehouses", "names a warehouse twice")
        customer = CustomerState(seed.name, sandbox=seed.sandbox, warehouses=list(seed.warehouses))
        session.state.customers[seed.name] = customer
    elif customer.sandbox != seed.sandbox:
        raise invalid("sandbox", f"customer {seed.name} exists on the other host")
    return {"customer": customer.name, "apiKey": auth.issue(session.state, customer, seed.api_key)}


def _stock_row(session: Session, change: StockChange) -> Record:
    customer = session.customer
    product = products.find(customer, change.product_id, change.variant_id)
    if product is None:
        raise not_found("product", f"{change.product_id}/{change.variant_id}")
    if change.warehouse is not None and change.warehouse not in customer.warehouses:
        raise invalid("warehouse", f"names no warehouse of this customer ({change.warehouse})")
    return stock.ensure_item(customer, change.product_id, change.variant_id, product["itemNumber"], change.warehouse)


def receive_stock(session: Session, body: Record) -> Record:
    change = parsed(StockChange, body)
    if change.quantity < 1:
        raise invalid("quantity", "must be at least 1")
    row = _stock_row(session, change)
    stock.change(session, row, change.quantity, "Receive", "Goods received")
    orders.release_held(session, {change.product_id})
    return dict(row)


def adjust_stock(session: Session, body: Record) -> Record:
    change = parsed(StockChange, body)
    if change.quantity == 0:
        raise invalid("quantity", "must not be 0")
    row = _stock_row(session, change)
    stock.change(session, row, change.quantity, "Adjust", change.reason)
    if change.quantity > 0:
        orders.release_held(session, {change.product_id})
    return dict(row)


def add_warehouse(session: Session, name: str) -> list[str]:
    """Another warehouse of the customer (a Shopify location maps to one by name); the first stays the default."""
    if not name.strip() or len(name) > 100:
        raise invalid("name", "must be 1–100 characters")
    if name in session.customer.warehouses:
        raise invalid("name", f"warehouse {name} exists")
    session.customer.warehouses.append(name)
    return list(session.customer.warehouses)


def set_sending(session: Session, body: Record) -> Record:
    """`{"<event>": true|false, …}`: each message's sending switched on or off."""
    chosen: dict[int, bool] = {}
    for key, value in body.items():
        if not key.isdigit() or int(key) not in EVENTS:
            raise invalid(key, "is not an event number")
        if not isinstance(value, bool):
            raise invalid(key, "must be true or false")
        chosen[int(key)] = value
    session.customer.sending.update(chosen)
    return {str(event): session.customer.sending.get(event, session.rules.sending_default) for event in EVENTS}


def customer_snapshot(customer: CustomerState) -> Record:
    """The demo audit's view of a customer: orders by orderId with their state and packed quantities, stock,
    products, sales history; no key."""
    sales_orders = sorted(customer.of("sales_orders").values(), key=lambda o: int(o["id"]))
    return {
        "name": customer.name,
        "sandbox": customer.sandbox,
        "warehouses": list(customer.warehouses),
        "counts": {kind: len(rows) for kind, rows in customer.records.items()},
        "orders_by_state": dict(Counter(STATE_NAMES[o["state"]] for o in sales_orders)),
        "orders": {
            o["orderId"]: {
                "id": o["id"],
                "state": o["state"],
                "onHoldReason": o["onHoldReason"],
                "paymentStatus": o["paymentStatus"],
                "packed": {line["orderLineId"]: line["quantityPacked"] for line in o["orderLines"]},
                "requested": {line["orderLineId"]: line["quantityRequested"] for line in o["orderLines"]},
            }
            for o in sales_orders
        },
        "stock": [
            {
                k: row[k]
                for k in ("productId", "variantId", "itemNumber", "quantity", "reservedQuantity", "warehouseName")
            }
            for row in sorted(customer.of("stock").values(), key=lambda r: int(r["id"]))
        ],
        "products": [
            {k: row.get(k) for k in ("id", "productId", "variantId", "itemNumber", "ean", "averageCostPrice")}
            for row in sorted(customer.of("products").values(), key=lambda r: int(r["id"]))
        ],
        "sales_history": {
            "rows": len(customer.sales_history) + len(customer.history_appended),
            "quantity": sum(int(r["quantity"]) for r in (*customer.sales_history.values(), *customer.history_appended)),
        },
        "refunds": [render(r) for r in customer.refunds],
        "webhooks": [
            {"id": h["id"], "name": h["name"], "url": h["url"].split("?")[0]}  # the query may carry a key
            for h in sorted(customer.of("webhooks").values(), key=lambda h: int(h["id"]))
        ],
        "sending": {str(k): v for k, v in sorted(customer.sending.items())},
    }


# ---- the HTTP side ------------------------------------------------------------------------------------------------


def post_customer(session: Session, request: SimRequest) -> SimResponse:
    return json_response(201, seed_customer(session, object_body(request)))


def post_receive(session: Session, request: SimRequest, name: str) -> SimResponse:
    return json_response(200, receive_stock(at_customer(session, name), object_body(request)))


def post_adjust(session: Session, request: SimRequest, name: str) -> SimResponse:
    return json_response(200, adjust_stock(at_customer(session, name), object_body(request)))


def put_sending(session: Session, request: SimRequest, name: str) -> SimResponse:
    return json_response(200, set_sending(at_customer(session, name), object_body(request)))


def post_warehouse(session: Session, request: SimRequest, name: str) -> SimResponse:
    warehouse = object_body(request).get("name")
    if not isinstance(warehouse, str):
        raise invalid("name", "must be a string")
    return json_response(201, {"warehouses": add_warehouse(at_customer(session, name), warehouse)})


def post_revoke(session: Session, request: SimRequest, name: str) -> SimResponse:
    at_customer(session, name)
    return json_response(200, {"revoked": auth.revoke(session.state, name)})


def put_rules(session: Session, request: SimRequest) -> SimResponse:
    return rules_control.put_rules(session.rules, RulesUpdate, object_body(request))


ROUTES: tuple[ControlRoute, ...] = (
    ("POST", "/_control/customers", post_customer),
    ("POST", "/_control/customers/{name}/stock/receive", post_receive),
    ("POST", "/_control/customers/{name}/stock/adjust", post_adjust),
    ("PUT", "/_control/customers/{name}/sending", put_sending),
    ("POST", "/_control/customers/{name}/warehouses", post_warehouse),
    ("POST", "/_control/customers/{name}/revoke-keys", post_revoke),
    ("PUT", "/_control/rules", put_rules),
    *fulfilment.CONTROL_ROUTES,
)
