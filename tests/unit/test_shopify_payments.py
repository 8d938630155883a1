"""Payments in the Shopify simulator — authorised vs. sale orders, `Order.transactions`, `orderCapture` — and the
connector's `connectors.shopify.payments` / `capture` (reference/shopify_wms.md "Reads", "Writes" → Capture,
"Behaviours a simulator must model" 3).

Orders are Shopify's own examples, read in place: `order.json` (an order whose payment was authorised, 409.94 USD)
and `2025-01/order_0.json` (for a presentment currency other than the shop's).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import capture as shopify_capture
from crossdock.connectors.shopify import payments
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
TOKEN = "shpat_payments"
HOOK = "https://crossdock.example.com/webhooks/peakwms_shopify/shopify"
DAY = 86_400.0

CAPTURE = """
mutation($input: OrderCaptureInput!) { orderCapture(input: $input) {
  transaction { id kind status amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
                parentTransaction { id } }
  userErrors { field message } } }
"""
TRANSACTIONS = """
query($id: ID!) { order(id: $id) { displayFinancialStatus capturable
  totalCapturableSet { presentmentMoney { amount } }
  transactions { id kind status gateway manuallyCapturable multiCapturable authorizationExpiresAt
                 amountSet { presentmentMoney { amount currencyCode } } parentTransaction { id } } } }
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(clock: FakeClock, sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=clock, webhook_sink=sink, seed=16)
    simulator.add_shop(SHOP, "shpss_payments_secret", TOKEN)
    for topic in ("orders/paid", "orders/updated"):
        simulator.subscribe(SHOP, topic, HOOK)
    return simulator


def authorised(payload: Callable[[str], Any], gateway: str = "shopify_payments") -> dict[str, Any]:
    order: dict[str, Any] = payload("order.json")["order"]
    order["payment_gateway_names"] = [gateway]
    return order


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


def admin(sim: ShopifySimulator) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(sim))


def read(sim: ShopifySimulator, order: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = graphql(sim, TRANSACTIONS, {"id": order["admin_graphql_api_id"]})["order"]
    return found


def capture_input(order: dict[str, Any], parent: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"input": {"id": order["admin_graphql_api_id"], "parentTransactionId": parent, "amount": amount, **extra}}


# ---- the simulator ------------------------------------------------------------------------------------------------


def test_an_authorised_order_has_one_capturable_authorisation_of_its_total(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an order whose payment Shopify Payments only authorised at checkout
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    # WHEN its transactions are read
    seen = read(sim, order)
    # THEN it is AUTHORIZED with one authorisation of the whole total, capturable, expiring in a week
    assert seen["displayFinancialStatus"] == "AUTHORIZED" and seen["capturable"] is True
    (auth,) = seen["transactions"]
    assert (auth["kind"], auth["status"], auth["gateway"]) == ("AUTHORIZATION", "SUCCESS", "shopify_payments")
    assert auth["amountSet"]["presentmentMoney"] == {"amount": "409.94", "currencyCode": "USD"}
    assert auth["manuallyCapturable"] is True and auth["multiCapturable"] is False
    assert auth["authorizationExpiresAt"] is not None and auth["parentTransaction"] is None
    assert seen["totalCapturableSet"]["presentmentMoney"]["amount"] == "409.94"


def test_a_sale_order_has_a_sale_and_nothing_to_capture(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an order paid at checkout WHEN its transactions are read
    seen = read(sim, sim.create_order(SHOP, authorised(shopify_payload), paid=True))
    # THEN it is PAID by one SALE and nothing is capturable
    assert seen["displayFinancialStatus"] == "PAID" and seen["capturable"] is False
    assert [(t["kind"], t["manuallyCapturable"]) for t in seen["transactions"]] == [("SALE", False)]


def test_capturing_the_whole_authorisation_pays_the_order_and_echoes_orders_paid(
    sim: ShopifySimulator, sink: RecordingSink, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an authorised order
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    auth = read(sim, order)["transactions"][0]["id"]
    # WHEN the whole amount is captured in the presentment currency
    answer = graphql(sim, CAPTURE, capture_input(order, auth, "409.94", currency="USD"))["orderCapture"]
    # THEN a successful CAPTURE with the authorisation as its parent is answered
    assert answer["userErrors"] == []
    assert answer["transaction"]["kind"] == "CAPTURE" and answer["transaction"]["parentTransaction"] == {"id": auth}
    # AND the order is paid with nothing left to capture, and Shopify echoes orders/paid and orders/updated
    seen = read(sim, order)
    assert seen["displayFinancialStatus"] == "PAID" and seen["capturable"] is False
    sim.deliver()
    assert [topic for _, topic in sink.topics()] == ["orders/paid", "orders/updated"]
    # AND capturing again is refused, naming the authorisation, and changes nothing
    again = graphql(sim, CAPTURE, capture_input(order, auth, "1.00", currency="USD"))["orderCapture"]
    assert again["transaction"] is None
    assert again["userErrors"] == [
        {"field": ["input", "parentTransactionId"], "message": "The authorization has already been captured"}
    ]
    assert [t["kind"] for t in read(sim, order)["transactions"]] == ["AUTHORIZATION", "CAPTURE"]


def test_more_than_the_authorised_amount_is_refused(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an authorised order of 409.94
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    auth = read(sim, order)["transactions"][0]["id"]
    # WHEN 409.95 is captured THEN Shopify refuses naming the amount and the order stays authorised
    answer = graphql(sim, CAPTURE, capture_input(order, auth, "409.95", currency="USD"))["orderCapture"]
    assert answer["userErrors"] == [
        {"field": ["input", "amount"], "message": "Amount cannot exceed the capturable amount of 409.94"}
    ]
    assert read(sim, order)["displayFinancialStatus"] == "AUTHORIZED"


def test_a_partial_single_capture_releases_the_rest_without_orders_paid(
    sim: ShopifySimulator, sink: RecordingSink, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an authorised order on a shop without multi-capture
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    auth = read(sim, order)["transactions"][0]["id"]
    # WHEN 200.00 of it is captured
    graphql(sim, CAPTURE, capture_input(order, auth, "200.00", currency="USD"))
    # THEN the order is partially paid, the rest is released, and only orders/updated is echoed
    seen = read(sim, order)
    assert seen["displayFinancialStatus"] == "PARTIALLY_PAID" and seen["capturable"] is False
    sim.deliver()
    assert [topic for _, topic in sink.topics()] == ["orders/updated"]


def test_a_multi_capturable_authorisation_takes_several_captures_until_the_final_one(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN a Plus shop with Shopify Payments, and an authorised order
    sim.payments.enable_multi_capture(SHOP)
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    auth = read(sim, order)["transactions"][0]
    assert auth["multiCapturable"] is True
    # WHEN 100.00 is captured not finally, then 200.00 finally
    first = capture_input(order, auth["id"], "100.00", currency="USD", finalCapture=False)
    assert graphql(sim, CAPTURE, first)["orderCapture"]["userErrors"] == []
    assert read(sim, order)["totalCapturableSet"]["presentmentMoney"]["amount"] == "309.94"
    final = capture_input(order, auth["id"], "200.00", currency="USD", finalCapture=True)
    assert graphql(sim, CAPTURE, final)["orderCapture"]["userErrors"] == []
    # THEN two captures exist, the rest (109.94) is voided and nothing more can be captured
    seen = read(sim, order)
    assert [t["kind"] for t in seen["transactions"]] == ["AUTHORIZATION", "CAPTURE", "CAPTURE"]
    assert seen["capturable"] is False and seen["displayFinancialStatus"] == "PARTIALLY_PAID"


def test_an_expired_authorisation_cannot_be_captured(
    sim: ShopifySimulator, clock: FakeClock, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an order authorised eight days ago through Shopify Payments
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    auth = read(sim, order)["transactions"][0]["id"]
    clock.advance(8 * DAY)
    # WHEN it is captured THEN Shopify refuses, naming the expired authorisation
    answer = graphql(sim, CAPTURE, capture_input(order, auth, "409.94", currency="USD"))["orderCapture"]
    assert answer["userErrors"][0]["field"] == ["input", "parentTransactionId"]
    assert "expired" in answer["userErrors"][0]["message"]
    assert read(sim, order)["capturable"] is False


def test_the_capture_currency_must_be_the_presentment_currency(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN a USD shop's order presented to the buyer in EUR (550.00 EUR for 598.94 USD), authorised
    order: dict[str, Any] = shopify_payload("2025-01/order_0.json")["order"]
    order.update(presentment_currency="EUR", refunds=[], financial_status="authorized")
    order["total_price_set"]["presentment_money"] = {"amount": "550.00", "currency_code": "EUR"}
    stored = sim.create_order(SHOP, order, authorized=True)
    auth = read(sim, stored)["transactions"][0]["id"]
    # WHEN it is captured without a currency, or in the shop's currency
    missing = graphql(sim, CAPTURE, capture_input(stored, auth, "550.00"))["orderCapture"]
    wrong = graphql(sim, CAPTURE, capture_input(stored, auth, "550.00", currency="USD"))["orderCapture"]
    # THEN both are refused naming the currency
    assert missing["userErrors"][0]["field"] == ["input", "currency"]
    assert wrong["userErrors"][0]["field"] == ["input", "currency"]
    # AND in EUR it is captured, its shop money converted at the order's own rate
    right = graphql(sim, CAPTURE, capture_input(stored, auth, "550.00", currency="EUR"))["orderCapture"]
    assert right["transaction"]["amountSet"] == {
        "shopMoney": {"amount": "598.94", "currencyCode": "USD"},
        "presentmentMoney": {"amount": "550.0", "currencyCode": "EUR"},
    }


def test_the_order_generator_authorises_the_share_asked_for_and_keeps_the_orders() -> None:
    # GIVEN the same 40 generated orders without and with every checkout payment only authorised
    plain = varied_orders(40, seed=7, skus=["SOCK", "MUG"])
    authorising = varied_orders(40, seed=7, skus=["SOCK", "MUG"], authorized_share=1.0)
    # THEN the orders are the same but for their financial status, and every paid-at-checkout one is authorised
    assert [p.order["line_items"] for p in plain] == [p.order["line_items"] for p in authorising]
    assert [p.paid_at_creation for p in plain] == [p.authorized for p in authorising]
    assert not any(p.paid_at_creation for p in authorising)
    # AND an authorised plan creates an authorised order
    sim = ShopifySimulator(clock=FakeClock(), seed=1)
    sim.add_shop(SHOP, "s", TOKEN)
    plan = next(p for p in authorising if p.authorized)
    assert plan.create(sim, SHOP)["financial_status"] == "authorized"


# ---- the connector --------------------------------------------------------------------------------------------------


def test_the_connector_reads_the_payment_and_captures_once(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an authorised order read through the connector
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    shopify = admin(sim)
    payment = payments.order_payment(shopify, order["id"])
    (auth,) = payment.authorizations()
    assert (payment.presentment_currency, payment.capturable, auth.amount) == ("USD", Decimal("409.94"), auth.amount)
    # WHEN it captures the whole amount, and then the same call comes again (a redelivered message)
    first = shopify_capture.capture(shopify, order["id"], auth.id, Decimal("409.94"))
    second = shopify_capture.capture(shopify, order["id"], auth.id, Decimal("409.94"))
    # THEN the second adopts the first: one capture in Shopify, the order paid
    assert second == first and first.kind == "CAPTURE" and first.parent_id == auth.id
    assert sim.mutation_count("orderCapture") == 1
    after = payments.order_payment(shopify, order["id"])
    assert after.financial_status == "PAID" and after.captured_for(auth.id) == first and after.paid == Decimal("409.94")


def test_a_capture_whose_answer_was_lost_is_adopted_not_repeated(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an authorised order, and Shopify losing the answer of every mutation it commits
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    shopify = admin(sim)
    (auth,) = payments.order_payment(shopify, order["id"]).authorizations()
    sim.faults.drop_response_rate = 1.0
    # WHEN the connector captures
    captured = shopify_capture.capture(shopify, order["id"], auth.id, Decimal("409.94"))
    # THEN it re-read the order and adopted the capture that went through: one capture
    assert captured.kind == "CAPTURE" and sim.mutation_count("orderCapture") == 1


def test_shopifys_refusal_is_a_permanent_error_naming_the_field(
    sim: ShopifySimulator, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN an authorised order WHEN the connector captures more than was authorised
    order = sim.create_order(SHOP, authorised(shopify_payload), authorized=True)
    shopify = admin(sim)
    (auth,) = payments.order_payment(shopify, order["id"]).authorizations()
    with pytest.raises(PermanentError) as refused:
        shopify_capture.capture(shopify, order["id"], auth.id, Decimal("500.00"))
    # THEN the refusal names input.amount and nothing was captured
    assert "input.amount" in refused.value.reason
    assert payments.order_payment(shopify, order["id"]).captured_for(auth.id) is None
