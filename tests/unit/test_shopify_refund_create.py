"""`refundCreate` in the Shopify simulator and `connectors.shopify.refund_create` (reference/shopify_wms.md
"Writes" → Refund, "Idempotency keys", "Behaviours a simulator must model" 5).

Shopify's example product (`product.json`) is stocked at the primary location; its example order (`order.json`,
three lines, 409.94 USD) is placed for three of its variants and paid at checkout (one SALE).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import payments, refund_create
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError, RetryableError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
TOKEN = "shpat_refunds"
HOOK = "https://crossdock.example.com/webhooks/peakwms_shopify/shopify"

REFUND = """
mutation($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: "%s") {
  refund { id refundLineItems(first: 5) { nodes { quantity restockType } } } userErrors { field message } } }
"""
UNKEYED = """
mutation($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { field message } } }
"""


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=16)
    simulator.add_shop(SHOP, "shpss_refunds", TOKEN)
    return simulator


@pytest.fixture
def order(sim: ShopifySimulator, sink: RecordingSink, shopify_payload: Callable[[str], Any]) -> dict[str, Any]:
    product = sim.create_product(SHOP, shopify_payload("product.json")["product"], emit=False)
    by_sku = {variant["sku"]: variant for variant in product["variants"]}
    for variant in product["variants"]:
        sim.set_available(SHOP, variant["inventory_item_id"], 10)
    order: dict[str, Any] = shopify_payload("order.json")["order"]
    for key in ("fulfillments", "fulfillment_status", "cancelled_at", "cancel_reason", "closed_at"):
        order.pop(key, None)
    for item in order["line_items"]:
        item["variant_id"] = by_sku[item["sku"]]["id"]
        for key in ("fulfillable_quantity", "fulfillment_status"):
            item.pop(key, None)
    order["line_items"][0]["quantity"] = 2
    order["payment_gateway_names"] = ["shopify_payments"]
    stored = sim.create_order(SHOP, order, paid=True)
    for topic in ("refunds/create", "orders/updated", "inventory_levels/update"):
        sim.subscribe(SHOP, topic, HOOK)
    return stored


def post(sim: ShopifySimulator, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}") as http:
        answer: dict[str, Any] = http.post(
            "/admin/api/2026-04/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
        ).json()
    return answer


def admin(sim: ShopifySimulator) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(sim))


def sale(sim: ShopifySimulator, order: dict[str, Any]) -> payments.Transaction:
    (found,) = [t for t in payments.order_payment(admin(sim), order["id"]).transactions if t.kind == "SALE"]
    return found


def line(order: dict[str, Any], index: int) -> str:
    return str(order["line_items"][index]["admin_graphql_api_id"])


def available(sim: ShopifySimulator, sku: str) -> int:
    return sum(level["available"] for level in sim.inventory(SHOP, sku))


def refund_input(order: dict[str, Any], lines: list[dict[str, Any]], money: list[dict[str, Any]]) -> dict[str, Any]:
    return {"input": {"orderId": order["admin_graphql_api_id"], "refundLineItems": lines, "transactions": money}}


# ---- the simulator ------------------------------------------------------------------------------------------------


def test_without_an_idempotency_key_the_refund_fails_at_runtime_and_nothing_is_refunded(
    sim: ShopifySimulator, order: dict[str, Any]
) -> None:
    # GIVEN a paid order WHEN a refund is asked for without @idempotent
    answer = post(sim, UNKEYED, refund_input(order, [{"lineItemId": line(order, 1), "quantity": 1}], []))
    # THEN the call fails as a whole and the order has no refund
    assert answer["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and not stored.get("refunds")


def test_a_replayed_key_answers_the_first_refund(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN a refund of one unit made with a key
    ask = refund_input(order, [{"lineItemId": line(order, 1), "quantity": 1, "restockType": "NO_RESTOCK"}], [])
    first = post(sim, REFUND % "peak:104:1", ask)["data"]["refundCreate"]
    # WHEN the same call comes again with the same key
    again = post(sim, REFUND % "peak:104:1", ask)["data"]["refundCreate"]
    # THEN it answers the first refund, and the order has one refund and one refunds/create echo
    assert again == first and first["userErrors"] == []
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and len(stored["refunds"]) == 1
    sim.deliver()
    assert len(sink.by_topic("refunds/create")) == 1


def test_cancel_takes_unfulfilled_units_off_the_order_and_back_to_stock(
    sim: ShopifySimulator, order: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN a paid, unfulfilled order of two green iPods, ten in stock
    before = available(sim, "IPOD2008GREEN")
    # WHEN one is refunded with CANCEL
    ask = refund_input(order, [{"lineItemId": line(order, 0), "quantity": 1, "restockType": "CANCEL"}], [])
    answer = post(sim, REFUND % "cancel-1", ask)["data"]["refundCreate"]
    # THEN the refund line says CANCEL, one unit is left to fulfil and the unit is back in stock
    assert answer["refund"]["refundLineItems"]["nodes"] == [{"quantity": 1, "restockType": "CANCEL"}]
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None
    assert stored["line_items"][0]["fulfillable_quantity"] == 1
    assert available(sim, "IPOD2008GREEN") == before + 1
    # AND Shopify echoes the stock change and refunds/create with the REST restock type, then orders/updated
    sim.deliver()
    topics = [headers["X-Shopify-Topic"] for _, headers, _ in sink.calls]
    assert topics == ["inventory_levels/update", "refunds/create", "orders/updated"]
    (payload,) = sink.payloads("refunds/create")
    assert payload["refund_line_items"][0]["restock_type"] == "cancel"


def test_return_needs_fulfilled_units(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN an unfulfilled order WHEN a unit is refunded with RETURN
    ask = refund_input(order, [{"lineItemId": line(order, 1), "quantity": 1, "restockType": "RETURN"}], [])
    refused = post(sim, REFUND % "return-early", ask)["data"]["refundCreate"]
    # THEN it is refused naming the quantity: nothing was fulfilled to come back
    assert refused["userErrors"][0]["field"] == ["input", "refundLineItems", "0", "quantity"]
    # WHEN the line was fulfilled first THEN the same return is taken, the unit back in stock
    sim.fulfill(SHOP, order["id"])
    before = available(sim, "IPOD2008RED")
    taken = post(sim, REFUND % "return-late", ask)["data"]["refundCreate"]
    assert taken["userErrors"] == [] and available(sim, "IPOD2008RED") == before + 1


def test_restock_types_shopify_refuses(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN a paid order WHEN a refund names a location with NO_RESTOCK, and another uses LEGACY_RESTOCK
    location = sim.shops[SHOP].catalog.primary_location.gid
    no_restock = {"lineItemId": line(order, 1), "quantity": 1, "restockType": "NO_RESTOCK", "locationId": location}
    legacy = {"lineItemId": line(order, 2), "quantity": 1, "restockType": "LEGACY_RESTOCK"}
    answer = post(sim, REFUND % "restock-types", refund_input(order, [no_restock, legacy], []))
    # THEN both are refused, each naming its field, and nothing is refunded
    errors = answer["data"]["refundCreate"]["userErrors"]
    assert [error["field"] for error in errors] == [
        ["input", "refundLineItems", "0", "locationId"],
        ["input", "refundLineItems", "1", "restockType"],
    ]
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and not stored.get("refunds")


def test_money_needs_a_parent_and_partial_repeated_refunds_add_up(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN a paid order (409.94 in one sale)
    parent = sale(sim, order).id
    money = {"orderId": order["admin_graphql_api_id"], "gateway": "shopify_payments", "kind": "REFUND"}
    # WHEN money is refunded without a parent THEN it is refused naming the parentId
    orphan = post(sim, REFUND % "orphan", refund_input(order, [], [{**money, "amount": "10.00"}]))
    assert orphan["data"]["refundCreate"]["userErrors"][0]["field"] == ["input", "transactions", "0", "parentId"]
    # WHEN 100.00 is refunded, then 309.94 more
    part = {**money, "parentId": parent}
    assert (
        post(sim, REFUND % "p1", refund_input(order, [], [{**part, "amount": "100.00"}]))["data"]["refundCreate"][
            "userErrors"
        ]
        == []
    )
    assert sim.get_order(SHOP, order["id"])["financial_status"] == "partially_refunded"  # type: ignore[index]
    post(sim, REFUND % "p2", refund_input(order, [], [{**part, "amount": "309.94"}]))
    # THEN the order is refunded, and a cent more is refused naming the amount
    assert sim.get_order(SHOP, order["id"])["financial_status"] == "refunded"  # type: ignore[index]
    more = post(sim, REFUND % "p3", refund_input(order, [], [{**part, "amount": "0.01"}]))["data"]["refundCreate"]
    assert more["userErrors"][0]["field"] == ["input", "transactions", "0", "amount"]


# ---- the connector --------------------------------------------------------------------------------------------------


def test_the_connector_refunds_lines_and_money_once_per_key(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN a paid order and its sale read through the connector
    shopify = admin(sim)
    parent = sale(sim, order)
    location = sim.shops[SHOP].catalog.primary_location.id
    lines = [refund_create.RefundLine(order["line_items"][0]["id"], 1, "CANCEL", location)]
    money = [refund_create.RefundMoney(parent.id, Decimal("199.00"), "shopify_payments")]
    # WHEN it refunds one green iPod with its price, and the same command comes again
    first = refund_create.create_refund(shopify, order["id"], lines, money, "peak:104:green", note="PeakWMS refund")
    second = refund_create.create_refund(shopify, order["id"], lines, money, "peak:104:green", note="PeakWMS refund")
    # THEN both answer the same refund and the order has one, with the money and the note
    assert first == second and first.startswith("gid://shopify/Refund/")
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None
    (refund,) = stored["refunds"]
    assert refund["note"] == "PeakWMS refund"
    assert [(t["amount"], t["parent_id"]) for t in refund["transactions"]] == [
        ("199.00", int(parent.id.rsplit("/", 1)[1]))
    ]


def test_a_refund_whose_answer_was_lost_is_not_made_twice(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN Shopify committing the refund and losing its answer
    shopify = admin(sim)
    lines = [refund_create.RefundLine(order["line_items"][1]["id"], 1)]
    sim.faults.drop_response_rate = 1.0
    with pytest.raises(RetryableError):
        refund_create.create_refund(shopify, order["id"], lines, [], "peak:104:lost")
    sim.faults.drop_response_rate = 0.0
    # WHEN the caller retries with the same key
    refund_id = refund_create.create_refund(shopify, order["id"], lines, [], "peak:104:lost")
    # THEN the first refund is answered and only one exists
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None and [r["admin_graphql_api_id"] for r in stored["refunds"]] == [refund_id]


def test_shopifys_refusal_is_a_permanent_error_naming_the_field(sim: ShopifySimulator, order: dict[str, Any]) -> None:
    # GIVEN a paid order WHEN the connector refunds three units of a one-unit line
    lines = [refund_create.RefundLine(order["line_items"][2]["id"], 3)]
    with pytest.raises(PermanentError, match=r"input\.refundLineItems\.0\.quantity"):
        refund_create.create_refund(admin(sim), order["id"], lines, [], "peak:104:too-many")
    # AND a restock type Shopify refuses never leaves Crossdock
    with pytest.raises(ValueError, match="restock_type"):
        refund_create.create_refund(
            admin(sim), order["id"], [refund_create.RefundLine(1, 1, "LEGACY_RESTOCK")], [], "peak:104:legacy"
        )
