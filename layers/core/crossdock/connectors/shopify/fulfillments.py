"""Fulfilling a Shopify order with tracking: its fulfillment orders, and `fulfillmentCreate` with `trackingInfo`
(reference/shopify_wms.md, "Reads", "Writes" and "Idempotency handles").

Shopify fulfils fulfillment orders, not orders: each order has one or more, one per location that fulfils it. A
fulfilment names them, with the lines and quantities to fulfil; an empty line list fulfils everything left on that
fulfillment order, which is what a carrier's shipment of the whole order means. All fulfillment orders of one call
must share one location, so an order split over locations takes one call per location.

`fulfillmentCreate` takes no idempotency key, so a retry after a lost answer must look first: a fulfillment order
that is CLOSED has nothing left and is never fulfilled again, and a fulfilment that already carries the tracking
number shows the earlier call went through. Shopify refuses what is wrong with the merchant's data (a closed
fulfillment order, a quantity above what is left) with `userErrors` in a 200 answer, which is read before the
mutation is taken as done. Needs the `write_merchant_managed_fulfillment_orders` (or `write_orders`) scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

# Fulfillment orders that can be fulfilled now; ON_HOLD, SCHEDULED and INCOMPLETE wait for the merchant (a hold
# released, a date reached), CLOSED and CANCELLED have nothing left.
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
FINISHED = frozenset({"CLOSED", "CANCELLED"})
# An order has a fulfillment order per location (a handful); a fulfilment carries a few tracking numbers.
MAX_FULFILLMENT_ORDERS = 20
MAX_FULFILLMENTS = 30
MUTATION_COST = 10
# Requested cost of FULFILLMENT_ORDERS (the order, 20 fulfillment orders with their location, 30 fulfilments with
# up to 5 tracking rows each): the client waits until the shop's bucket holds this much.
FULFILLMENT_ORDERS_COST = 2 + MAX_FULFILLMENT_ORDERS * 3 + MAX_FULFILLMENTS * 6
# With their lines (for partial fulfilment): fewer fulfillment orders, so the query stays under Shopify's single
# query limit of 1,000 points (10 × 40 lines ≈ 855); an order with more on one fulfillment order is refused.
MAX_LINED_FULFILLMENT_ORDERS = 10
MAX_FO_LINES = 40
LINED_FULFILLMENT_ORDERS_COST = 2 + MAX_LINED_FULFILLMENT_ORDERS * (3 + MAX_FO_LINES * 2) + MAX_FULFILLMENTS * 6

_ORDER_FULFILLMENT = """
query FulfillmentOrders($id: ID!) {{
  order(id: $id) {{
    id
    name
    fulfillmentOrders(first: {orders}) {{
      nodes {{ id status assignedLocation {{ location {{ id }} }}{lines} }}
    }}
    fulfillments(first: {fulfillments}) {{ id trackingInfo(first: 5) {{ company number url }} }}
  }}
}}
"""
FULFILLMENT_ORDERS = _ORDER_FULFILLMENT.format(orders=MAX_FULFILLMENT_ORDERS, lines="", fulfillments=MAX_FULFILLMENTS)
FULFILLMENT_ORDERS_WITH_LINES = _ORDER_FULFILLMENT.format(
    orders=MAX_LINED_FULFILLMENT_ORDERS,
    lines=f"\n        lineItems(first: {MAX_FO_LINES}) "
    "{ nodes { id totalQuantity remainingQuantity lineItem { id sku } } }",
    fulfillments=MAX_FULFILLMENTS,
)

TRACKING_UPDATE = """
mutation UpdateTracking($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer
  ) {
    fulfillment { id trackingInfo(first: 5) { company number url } }
    userErrors { field message }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfilWithTracking($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id name status }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True)
class FulfillmentOrderLine:
    """One line of a fulfillment order: its own id, the order line (`LineItem`) it fulfils, what is left of it and
    its units in all (`totalQuantity`: fulfilled and left; None when the answer has none)."""

    id: str
    line_item_id: str
    sku: str | None
    remaining: int
    total: int | None = None

    @property
    def fulfilled(self) -> int | None:
        return None if self.total is None else max(0, self.total - self.remaining)


@dataclass(frozen=True)
class FulfillmentOrder:
    id: str
    status: str
    location_id: str | None
    lines: tuple[FulfillmentOrderLine, ...] = ()

    @property
    def fulfillable(self) -> bool:
        return self.status in FULFILLABLE


@dataclass(frozen=True)
class Tracking:
    """A shipment's carrier and tracking numbers, as Shopify's `FulfillmentTrackingInput` takes them."""

    company: str | None
    numbers: tuple[str, ...]
    urls: tuple[str, ...] = ()

    def as_input(self) -> dict[str, Any]:
        tracking: dict[str, Any] = {"numbers": list(self.numbers)}
        if self.company:
            tracking["company"] = self.company
        if self.urls:
            tracking["urls"] = list(self.urls)
        return tracking


@dataclass(frozen=True)
class OrderFulfillment:
    """What an order's fulfilment stands at: its name, its fulfillment orders, every tracking number already on
    one of its fulfillments, and those fulfillments' ids (oldest first, the first `MAX_FULFILLMENTS`): a fulfilment
    made since an earlier read is an id that read did not have."""

    order_id: str
    name: str
    fulfillment_orders: tuple[FulfillmentOrder, ...]
    tracking_numbers: frozenset[str]
    fulfillment_ids: tuple[str, ...] = ()

    def fulfillable(self) -> list[FulfillmentOrder]:
        return [fo for fo in self.fulfillment_orders if fo.fulfillable]

    def waiting(self) -> list[FulfillmentOrder]:
        """Fulfillment orders with something left that Shopify will not fulfil now (on hold, scheduled …)."""
        return [fo for fo in self.fulfillment_orders if fo.status not in FULFILLABLE | FINISHED]


def order_gid(order_id: str | int) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def fulfillment_orders(shopify: ShopifyAdmin, order_id: str | int, *, with_lines: bool = False) -> OrderFulfillment:
    """The order's fulfillment orders and the tracking numbers of its fulfillments; `with_lines` adds each fulfillment
    order's lines with their `remainingQuantity` (what `fulfil_lines` needs). `PermanentError` when the shop has no
    such order (deleted, or not this shop's), or one fulfillment order has more lines than are read."""
    gid = order_gid(order_id)
    document, cost = (
        (FULFILLMENT_ORDERS_WITH_LINES, LINED_FULFILLMENT_ORDERS_COST)
        if with_lines
        else (FULFILLMENT_ORDERS, FULFILLMENT_ORDERS_COST)
    )
    order = shopify.run(document, {"id": gid}, expected_cost=cost)["order"]
    if order is None:
        raise PermanentError(f"{shopify.shop_domain} has no order {gid}", FailureClass.VALIDATION)
    orders = tuple(_fulfillment_order(node) for node in order["fulfillmentOrders"]["nodes"])
    if with_lines and any(len(fo.lines) >= MAX_FO_LINES for fo in orders):
        raise PermanentError(
            f"order {gid} has a fulfillment order of {MAX_FO_LINES} lines or more, more than Crossdock reads at once",
            FailureClass.VALIDATION,
        )
    numbers = frozenset(
        str(row["number"])
        for fulfillment in order.get("fulfillments") or []
        for row in fulfillment.get("trackingInfo") or []
        if row.get("number")
    )
    ids = tuple(str(fulfillment["id"]) for fulfillment in order.get("fulfillments") or [] if fulfillment.get("id"))
    return OrderFulfillment(str(order["id"]), str(order.get("name") or gid), orders, numbers, ids)


def _fulfillment_order(node: dict[str, Any]) -> FulfillmentOrder:
    lines = tuple(
        FulfillmentOrderLine(
            str(line["id"]),
            str((line.get("lineItem") or {}).get("id") or ""),
            (line.get("lineItem") or {}).get("sku"),
            int(line.get("remainingQuantity") or 0),
            None if line.get("totalQuantity") is None else int(line["totalQuantity"]),
        )
        for line in ((node.get("lineItems") or {}).get("nodes") or [])
    )
    return FulfillmentOrder(
        str(node["id"]),
        str(node["status"]),
        ((node.get("assignedLocation") or {}).get("location") or {}).get("id"),
        lines,
    )


def line_item_gid(line_item_id: str | int) -> str:
    text = str(line_item_id)
    return text if text.startswith("gid://") else f"gid://shopify/LineItem/{text}"


def create_fulfillment(
    shopify: ShopifyAdmin, fulfillment_orders: list[FulfillmentOrder], tracking: Tracking, notify: bool
) -> list[str]:
    """Fulfils everything left on `fulfillment_orders` with the tracking, one call per location; returns the new
    fulfillments' ids. `PermanentError` with Shopify's user errors when it refuses (then nothing of that call was
    fulfilled; calls for other locations before it stay done, and a retry finds those fulfillment orders closed)."""
    by_location: dict[str | None, list[FulfillmentOrder]] = {}
    for fulfillment_order in fulfillment_orders:
        by_location.setdefault(fulfillment_order.location_id, []).append(fulfillment_order)
    created = []
    for group in by_location.values():
        variables = {
            "fulfillment": {
                "notifyCustomer": notify,
                "trackingInfo": tracking.as_input(),
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo.id} for fo in group],
            }
        }
        answer = shopify.run(FULFILLMENT_CREATE, variables, expected_cost=MUTATION_COST)["fulfillmentCreate"]
        errors = answer.get("userErrors") or []
        if errors:
            detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
            raise PermanentError(
                f"Shopify refused the fulfilment of {', '.join(fo.id for fo in group)}: {detail}",
                FailureClass.VALIDATION,
            )
        created.append(str(answer["fulfillment"]["id"]))
    return created


@dataclass(frozen=True)
class LinesFulfilled:
    """What `fulfil_lines` did: the new fulfilments' ids, the quantities fulfilled per order line (GID), and the
    quantities asked for that nothing was left of (already fulfilled, refunded or on a fulfillment order that cannot
    be fulfilled now)."""

    fulfillment_ids: tuple[str, ...]
    fulfilled: dict[str, int]
    not_left: dict[str, int]


def fulfil_lines(
    shopify: ShopifyAdmin,
    state: OrderFulfillment,
    quantities: dict[str, int],
    tracking: Tracking | None,
    notify: bool,
) -> LinesFulfilled:
    """Fulfil these quantities of the order's lines (order line item id or GID → quantity), read from `state`
    (`fulfillment_orders(..., with_lines=True)`, read just before): each is placed on the lines of that order line
    on the fulfillable fulfillment orders, never above their `remainingQuantity`, one `fulfillmentCreate` per
    location with only those lines. A line with nothing left is not fulfilled again but reported in `not_left`.

    Not idempotent by itself: Shopify takes no key on `fulfillmentCreate`, and a partial pack repeated would
    fulfil the next units. The caller dedupes (the pick order it already wrote, or its tracking number found in
    `state.tracking_numbers`). `PermanentError` with Shopify's user errors when it refuses a call."""
    plan, fulfilled, not_left = _placement(state, quantities)
    created = []
    for by_order in plan.values():
        fulfillment: dict[str, Any] = {
            "notifyCustomer": notify,
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": lines} for fo_id, lines in by_order.items()
            ],
        }
        if tracking is not None:
            fulfillment["trackingInfo"] = tracking.as_input()
        answer = shopify.run(FULFILLMENT_CREATE, {"fulfillment": fulfillment}, expected_cost=MUTATION_COST)
        created.append(_created(answer["fulfillmentCreate"], ", ".join(by_order)))
    return LinesFulfilled(tuple(created), fulfilled, not_left)


def placeable(state: OrderFulfillment, quantities: dict[str, int]) -> dict[str, int]:
    """What `fulfil_lines(shopify, state, quantities, …)` would fulfil, per order line GID, without calling Shopify
    (a caller records it before the call)."""
    return _placement(state, quantities)[1]


def _placement(
    state: OrderFulfillment, quantities: dict[str, int]
) -> tuple[dict[str | None, dict[str, list[dict[str, Any]]]], dict[str, int], dict[str, int]]:
    """Where the quantities go: location → fulfillment order id → its line inputs; the units per order line GID;
    and what nothing is left of."""
    wanted = {line_item_gid(line): int(quantity) for line, quantity in quantities.items() if int(quantity) > 0}
    plan: dict[str | None, dict[str, list[dict[str, Any]]]] = {}  # location → FO id → its line inputs
    fulfilled: dict[str, int] = {}
    for fulfillment_order in state.fulfillable():
        for line in fulfillment_order.lines:
            asked = wanted.get(line.line_item_id, 0) - fulfilled.get(line.line_item_id, 0)
            take = min(asked, line.remaining)
            if take <= 0:
                continue
            group = plan.setdefault(fulfillment_order.location_id, {}).setdefault(fulfillment_order.id, [])
            group.append({"id": line.id, "quantity": take})
            fulfilled[line.line_item_id] = fulfilled.get(line.line_item_id, 0) + take
    not_left = {line: quantity - fulfilled.get(line, 0) for line, quantity in wanted.items()}
    return plan, fulfilled, {line: quantity for line, quantity in not_left.items() if quantity > 0}


def update_tracking(shopify: ShopifyAdmin, fulfillment_id: str, tracking: Tracking, notify: bool) -> None:
    """Replace a fulfilment's tracking (`fulfillmentTrackingInfoUpdate`; the `…V2` mutation is deprecated [doc H1]).
    Setting the same tracking twice is harmless, so a retry needs no look first."""
    variables = {"fulfillmentId": fulfillment_id, "trackingInfoInput": tracking.as_input(), "notifyCustomer": notify}
    answer = shopify.run(TRACKING_UPDATE, variables, expected_cost=MUTATION_COST)["fulfillmentTrackingInfoUpdate"]
    errors = answer.get("userErrors") or []
    if errors:
        raise PermanentError(
            f"Shopify refused the tracking update of {fulfillment_id}: {_detail(errors)}", FailureClass.VALIDATION
        )


def _created(answer: dict[str, Any], what: str) -> str:
    errors = answer.get("userErrors") or []
    if errors:
        raise PermanentError(f"Shopify refused the fulfilment of {what}: {_detail(errors)}", FailureClass.VALIDATION)
    return str(answer["fulfillment"]["id"])


def _detail(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
