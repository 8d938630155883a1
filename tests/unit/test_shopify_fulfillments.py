"""Fulfilling a Shopify order with tracking: the simulator's fulfillment orders and `fulfillmentCreate`
(reference/shopify_wms.md, "Reads", "Writes", "Behaviours a simulator must model" 1–2), and the connector that
reads and writes them (`connectors.shopify.fulfillments`).

The order is Shopify's own example order (`../shared/fixtures/shopify/order.json`, read in place), admitted as new:
its earlier fulfilment and cancellation are taken off, so all three lines are left to fulfil.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import fulfillments
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
SECRET = "shpss_fulfil_secret"
TOKEN = "shpat_fulfil"
HOOK = "https://crossdock.example.com/shopify/webhooks"
GLS = fulfillments.Tracking("GLS", ("00340434161234567890",), ("https://gls-group.eu/track/00340434161234567890",))

FO_QUERY = """
query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillmentOrders(first: 5) { nodes { id status
  assignedLocation { name location { id } }
  lineItems(first: 10) { nodes { id remainingQuantity totalQuantity lineItem { id sku } } } } } } }
"""
CREATE = """
mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id status trackingInfo(first: 3) { company number url } } userErrors { field message } } }
"""


def new_order(payload: Callable[[str], Any]) -> dict[str, Any]:
    order: dict[str, Any] = payload("order.json")["order"]
    for key in ("fulfillments", "fulfillment_status", "cancelled_at", "cancel_reason", "closed_at"):
        order.pop(key, None)
    for item in order["line_items"]:
        for key in ("fulfillable_quantity", "fulfillment_status"):
            item.pop(key, None)
    order["line_items"][0]["quantity"] = 2  # one line of two, to fulfil in parts
    return order


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=15)
    simulator.add_shop(SHOP, SECRET, TOKEN)
    for topic in ("orders/fulfilled", "orders/updated"):
        simulator.subscribe(SHOP, topic, HOOK)
    return simulator


@pytest.fixture
def order(sim: ShopifySimulator, shopify_payload: Callable[[str], Any]) -> dict[str, Any]:
    return sim.create_order(SHOP, new_order(shopify_payload))


def graphql(sim: ShopifySimulator, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}") as http:
        answer = http.post(
            "/admin/api/2026-04/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
        ).json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def fulfillment_orders(sim: ShopifySimulator, order: dict[str, Any]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = graphql(sim, FO_QUERY, {"id": order["admin_graphql_api_id"]})["order"][
        "fulfillmentOrders"
    ]["nodes"]
    return nodes


def admin(sim: ShopifySimulator) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(sim))


# ---- the simulator ------------------------------------------------------------------------------------------------


def test_a_new_order_has_one_open_fulfillment_order_at_the_primary_location(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN a new order of three lines (2 + 1 + 1 units)
    # WHEN its fulfillment orders are read
    (fo,) = fulfillment_orders(sim, order)
    # THEN there is one, OPEN, at the shop's primary location, with every unit left, on ids of its own
    assert fo["status"] == "OPEN"
    primary = sim.shops[SHOP].catalog.primary_location
    assert fo["assignedLocation"] == {"name": primary.name, "location": {"id": primary.gid}}
    lines = fo["lineItems"]["nodes"]
    assert [(line["lineItem"]["sku"], line["remainingQuantity"], line["totalQuantity"]) for line in lines] == [
        ("IPOD2008GREEN", 2, 2),
        ("IPOD2008RED", 1, 1),
        ("IPOD2008BLACK", 1, 1),
    ]
    own_ids = {line["id"].rsplit("/", 1)[1] for line in lines}
    assert own_ids.isdisjoint({str(item["id"]) for item in order["line_items"]})
    # AND reading again gives the same fulfillment order
    assert fulfillment_orders(sim, order)[0]["id"] == fo["id"]


def test_fulfilling_everything_left_closes_it_with_the_tracking_and_emits_the_order_webhooks(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN the order's open fulfillment order
    (fo,) = fulfillment_orders(sim, order)
    # WHEN it is fulfilled with no line list, GLS tracking and the customer notified
    answer = graphql(
        sim,
        CREATE,
        {
            "f": {
                "notifyCustomer": True,
                "trackingInfo": {"company": "GLS", "number": "0034", "url": "https://gls-group.eu/track/0034"},
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
            }
        },
    )["fulfillmentCreate"]
    # THEN the fulfilment carries the tracking and the fulfillment order is closed with nothing left
    assert answer["userErrors"] == []
    assert answer["fulfillment"]["status"] == "SUCCESS"
    assert answer["fulfillment"]["trackingInfo"] == [
        {"company": "GLS", "number": "0034", "url": "https://gls-group.eu/track/0034"}
    ]
    (after,) = fulfillment_orders(sim, order)
    assert after["status"] == "CLOSED"
    assert [line["remainingQuantity"] for line in after["lineItems"]["nodes"]] == [0, 0, 0]
    # AND the REST order says fulfilled, with the notification asked for on its fulfilment
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and stored["fulfillment_status"] == "fulfilled"
    (rest,) = stored["fulfillments"]
    assert (rest["tracking_company"], rest["tracking_numbers"], rest["notify_customer"]) == ("GLS", ["0034"], True)
    # AND Shopify tells the app: orders/fulfilled, then orders/updated
    sim.deliver()
    assert [topic for _, topic in sink.topics()] == ["orders/fulfilled", "orders/updated"]


def test_a_closed_fulfillment_order_is_refused_and_nothing_changes(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN an order fulfilled once
    (fo,) = fulfillment_orders(sim, order)
    fulfil = {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}}
    assert graphql(sim, CREATE, fulfil)["fulfillmentCreate"]["userErrors"] == []
    # WHEN it is fulfilled again
    again = graphql(sim, CREATE, fulfil)["fulfillmentCreate"]
    # THEN Shopify refuses with a user error naming the status, and the order keeps one fulfilment
    assert again["fulfillment"] is None
    assert [error["message"] for error in again["userErrors"]] == [
        f"Fulfillment order {fo['id'].rsplit('/', 1)[1]} has an unfulfillable status= closed."
    ]
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and len(stored["fulfillments"]) == 1


def test_part_of_a_line_leaves_it_in_progress_and_more_than_is_left_is_refused(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN the open fulfillment order of the 2-unit line
    (fo,) = fulfillment_orders(sim, order)
    line = fo["lineItems"]["nodes"][0]
    one = {"id": line["id"], "quantity": 1}
    # WHEN one unit is fulfilled
    part = {
        "f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [one]}]}
    }
    assert graphql(sim, CREATE, part)["fulfillmentCreate"]["userErrors"] == []
    # THEN the fulfillment order is IN_PROGRESS with one unit left on that line, and the order partially fulfilled
    (after,) = fulfillment_orders(sim, order)
    assert after["status"] == "IN_PROGRESS"
    assert after["lineItems"]["nodes"][0]["remainingQuantity"] == 1
    assert graphql(sim, FO_QUERY, {"id": order["admin_graphql_api_id"]})["order"]["displayFulfillmentStatus"] == (
        "PARTIALLY_FULFILLED"
    )
    # WHEN two more units of it are asked for
    two = {"id": line["id"], "quantity": 2}
    over = {
        "f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [two]}]}
    }
    refused = graphql(sim, CREATE, over)["fulfillmentCreate"]
    # THEN the quantity is refused, naming its field
    assert refused["userErrors"] == [
        {
            "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", "0", "quantity"],
            "message": "Invalid fulfillment order line item quantity requested.",
        }
    ]


def test_an_order_line_id_is_not_a_fulfillment_order_line_id(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN the open fulfillment order
    (fo,) = fulfillment_orders(sim, order)
    # WHEN a client names an order line's id where a fulfillment order line's belongs
    wrong = {"id": f"gid://shopify/FulfillmentOrderLineItem/{order['line_items'][0]['id']}", "quantity": 1}
    mixed = {
        "f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [wrong]}]}
    }
    refused = graphql(sim, CREATE, mixed)["fulfillmentCreate"]
    # THEN it is refused as unknown and nothing is fulfilled
    assert [error["message"] for error in refused["userErrors"]] == ["Fulfillment order line item does not exist."]
    assert fulfillment_orders(sim, order)[0]["status"] == "OPEN"


def test_a_cancelled_order_has_a_cancelled_fulfillment_order(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN an order cancelled in Shopify
    sim.cancel(SHOP, order["id"])
    # WHEN its fulfillment orders are read THEN the one it has is CANCELLED
    assert fulfillment_orders(sim, order)[0]["status"] == "CANCELLED"


def test_the_orders_search_serves_fulfillment_orders_too(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN an order WHEN the orders search selects its fulfillment orders THEN they are the order's own
    query = "{ orders(first: 5) { nodes { fulfillmentOrders(first: 2) { nodes { id status } } } } }"
    nodes = graphql(sim, query, {})["orders"]["nodes"]
    assert nodes[0]["fulfillmentOrders"]["nodes"] == [{"id": fulfillment_orders(sim, order)[0]["id"], "status": "OPEN"}]


# ---- the connector --------------------------------------------------------------------------------------------------


def test_the_connector_fulfils_every_open_fulfillment_order_with_the_tracking(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN an order read through the connector: one fulfillable fulfillment order, no tracking yet
    shopify = admin(sim)
    before = fulfillments.fulfillment_orders(shopify, order["id"])
    assert [fo.status for fo in before.fulfillable()] == ["OPEN"]
    assert before.tracking_numbers == frozenset() and before.name == order["name"]
    # WHEN it is fulfilled with GLS tracking, the customer not notified
    created = fulfillments.create_fulfillment(shopify, before.fulfillable(), GLS, notify=False)
    # THEN one fulfilment exists with the number, URL and company, and nothing is left to fulfil
    after = fulfillments.fulfillment_orders(shopify, order["id"])
    assert len(created) == 1 and after.fulfillable() == []
    assert after.tracking_numbers == frozenset(GLS.numbers)
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None
    (rest,) = stored["fulfillments"]
    assert rest["admin_graphql_api_id"] == created[0]
    assert (rest["tracking_company"], rest["tracking_urls"], rest["notify_customer"]) == ("GLS", list(GLS.urls), False)


def test_the_connector_reports_shopifys_user_errors_as_a_permanent_refusal(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN an order whose fulfillment order was fulfilled after the connector read it
    shopify = admin(sim)
    stale = fulfillments.fulfillment_orders(shopify, order["id"]).fulfillable()
    fulfillments.create_fulfillment(shopify, stale, GLS, notify=False)
    # WHEN the connector fulfils what it read before
    with pytest.raises(PermanentError) as refused:
        fulfillments.create_fulfillment(shopify, stale, GLS, notify=False)
    # THEN the refusal carries Shopify's user error, and the order still has one fulfilment
    assert "unfulfillable status= closed" in refused.value.reason
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and len(stored["fulfillments"]) == 1


def test_an_order_the_shop_does_not_have_is_a_permanent_refusal(sim: ShopifySimulator) -> None:
    # GIVEN a shop WHEN the connector reads the fulfillment orders of an order it does not have THEN it says so
    with pytest.raises(PermanentError, match="has no order gid://shopify/Order/1"):
        fulfillments.fulfillment_orders(admin(sim), 1)
