"""Shopify simulator: webhooks as the fact sheet describes them, GraphQL selection and throttling, order generator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from sim_fakes import FakeClock, RecordingSink

from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "acme.myshopify.com"
SECRET = "shpss_test_secret"
TOKEN = "shpat_acme"
HOOK = "https://hooks.example.com/shopify"
GRAPHQL = "/admin/api/2026-04/graphql.json"
SKUS = ["SOCK-GRY-40", "MUG-BLU", "TOTE-NAT", "CANDLE-3", "BOWL-S", "PLAID-RED", "TOWEL-LIN"]

ORDER = {
    "email": "søren.østergaard@example.com",
    "currency": "DKK",
    "taxes_included": True,
    "source_name": "web",
    "customer": {"email": "søren.østergaard@example.com", "first_name": "Søren", "last_name": "Østergaard"},
    "shipping_address": {"first_name": "Søren", "city": "Aarhus C", "zip": "8000", "country_code": "DK"},
    "line_items": [
        {
            "sku": "MUG-BLU",
            "title": "Kaffekop",
            "quantity": 2,
            "price": "149.00",
            "variant_id": 42300000000001,
            "discount_allocations": [{"amount": "29.80", "discount_application_index": 0}],
            "tax_lines": [{"price": "53.64", "rate": 0.25, "title": "Moms"}],
        },
        {"sku": "", "title": "Gavekort", "quantity": 1, "price": "100.00", "variant_id": None, "tax_lines": []},
    ],
    "shipping_lines": [
        {"title": "GLS Pakkeshop", "code": "gls", "price": "49.00", "discounted_price": "49.00", "tax_lines": []}
    ],
    "discount_applications": [{"type": "discount_code", "code": "RABAT10", "allocation_method": "across"}],
    "total_line_items_price": "398.00",
    "total_discounts": "29.80",
    "subtotal_price": "368.20",
    "total_tax": "63.44",
    "total_price": "417.20",
}


def make_sim(sink: RecordingSink | None = None, clock: FakeClock | None = None, **shop: Any) -> ShopifySimulator:
    sim = ShopifySimulator(clock=clock or FakeClock(), webhook_sink=sink, seed=7)
    sim.add_shop(SHOP, SECRET, TOKEN, **shop)
    for topic in ("orders/create", "orders/paid", "orders/updated", "orders/fulfilled"):
        sim.subscribe(SHOP, topic, HOOK)
    return sim


def client(sim: ShopifySimulator, token: str | None = TOKEN) -> httpx.Client:
    headers = {"X-Shopify-Access-Token": token} if token else {}
    return httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}", headers=headers)


def graphql(sim: ShopifySimulator, query: str, **variables: Any) -> dict[str, Any]:
    with client(sim) as http:
        response = http.post(GRAPHQL, json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- webhooks ----------------------------------------------------------------------------------------------------


def test_webhook_signature_covers_raw_bytes_and_headers_are_present() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    order = sim.create_order(SHOP, ORDER)

    report = sim.deliver()

    assert report.delivered == 1
    url, headers, body = sink.calls[0]
    assert url == HOOK
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(headers["X-Shopify-Hmac-Sha256"], expected)
    assert "Ø".encode() in body  # raw UTF-8, not \u escapes: re-serialising would break the signature
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == SHOP
    assert headers["X-Shopify-API-Version"] == "2026-04"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"] and headers["X-Shopify-Triggered-At"]
    payload = json.loads(body)
    assert payload["id"] == order["id"]
    assert payload["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
    assert (payload["name"], payload["order_number"], payload["financial_status"]) == ("#1001", 1001, "pending")
    assert all(item["id"] for item in payload["line_items"])


def test_order_numbers_and_paid_flow_emit_the_documented_topics() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    first = sim.create_order(SHOP, ORDER, paid=True)
    second = sim.create_order(SHOP, ORDER)
    sim.mark_paid(SHOP, second["id"])
    sim.fulfill(SHOP, second["id"])
    sim.deliver()

    assert (first["name"], second["name"]) == ("#1001", "#1002")
    assert first["id"] != second["id"]
    assert [topic for _, topic in sink.topics()] == [
        "orders/create",
        "orders/paid",
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/fulfilled",
        "orders/updated",
    ]
    stored = sim.get_order(SHOP, second["id"])
    assert stored is not None
    assert (stored["financial_status"], stored["fulfillment_status"]) == ("paid", "fulfilled")
    assert stored["customer"]["id"] == first["customer"]["id"]  # same e-mail → same customer


def test_duplicate_delivery_keeps_event_id_and_changes_webhook_id() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    sim.delivery_faults.duplicate_rate = 1.0
    sim.create_order(SHOP, ORDER)

    report = sim.deliver()

    assert (report.delivered, report.duplicates_sent) == (2, 1)
    (_, first, body1), (_, second, body2) = sink.calls
    assert first["X-Shopify-Event-Id"] == second["X-Shopify-Event-Id"]
    assert first["X-Shopify-Webhook-Id"] != second["X-Shopify-Webhook-Id"]
    assert body1 == body2


def test_reorder_can_deliver_paid_before_create() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    sim.delivery_faults.reorder = True
    for _ in range(10):
        sim.create_order(SHOP, ORDER, paid=True)

    sim.deliver()

    seen: dict[int, list[str]] = {}
    for order_id, topic in sink.topics():
        seen.setdefault(order_id, []).append(topic)
    assert any(topics == ["orders/paid", "orders/create"] for topics in seen.values())


def test_paid_first_is_deterministic() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    sim.create_order(SHOP, ORDER, paid=True, paid_first=True)
    sim.deliver()
    assert [topic for _, topic in sink.topics()] == ["orders/paid", "orders/create"]


def test_delay_holds_a_delivery_until_a_later_call() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    sim.delivery_faults.delay_rate = 1.0
    sim.create_order(SHOP, ORDER)

    held = sim.deliver()
    released = sim.deliver()

    assert (held.delivered, held.delayed, held.pending) == (0, 1, 1)
    assert (released.delivered, released.pending) == (1, 0)


def test_failed_delivery_is_retried_8_times_then_subscription_dropped() -> None:
    sink = RecordingSink(status=500)
    sim = make_sim(sink)
    sim.create_order(SHOP, ORDER)

    reports = [sim.deliver() for _ in range(9)]

    assert [r.failed for r in reports] == [1] * 9
    assert sum(r.retried for r in reports) == 8
    assert [r.dropped_subscriptions for r in reports] == [0] * 8 + [1]
    assert len({headers["X-Shopify-Webhook-Id"] for _, headers, _ in sink.calls}) == 1  # retries keep the id
    assert len({body for _, _, body in sink.calls}) == 1  # and the original payload
    assert "orders/create" not in {s.topic for s in sim.shop(SHOP).subscriptions}
    sim.create_order(SHOP, ORDER)
    assert sim.deliver().delivered == 0  # nothing subscribed any more


def test_sink_exception_counts_as_failure_and_recovers() -> None:
    sink = RecordingSink(status=ConnectionError("refused"))
    sim = make_sim(sink)
    sim.create_order(SHOP, ORDER)
    assert sim.deliver().failed == 1
    sink.status = 200
    report = sim.deliver()
    assert (report.delivered, report.retried, report.pending) == (1, 1, 0)


# ---- GraphQL -----------------------------------------------------------------------------------------------------

ORDER_QUERY = """
query Order($id: ID!) {
  order(id: $id) {
    id
    number: name            # alias
    displayFinancialStatus
    taxesIncluded
    totalPriceSet { shopMoney { amount currencyCode } }
    customer { email }
    shippingAddress { countryCodeV2 }
    lineItems(first: 5) {
      nodes {
        sku
        quantity
        originalUnitPriceSet { shopMoney { amount } }
        totalDiscountSet { shopMoney { amount } }
        taxLines { rate priceSet { shopMoney { amount } } }
        variant { id }
      }
    }
    shippingLines(first: 1) { edges { node { title discountedPriceSet { shopMoney { amount } } } } }
  }
}
"""


def test_graphql_order_returns_only_selected_fields_and_correct_money() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER, paid=True)

    body = graphql(sim, ORDER_QUERY, id=order["admin_graphql_api_id"])

    assert "errors" not in body
    got = body["data"]["order"]
    assert set(got) == {
        "id",
        "number",
        "displayFinancialStatus",
        "taxesIncluded",
        "totalPriceSet",
        "customer",
        "shippingAddress",
        "lineItems",
        "shippingLines",
    }
    assert got["id"] == order["admin_graphql_api_id"]
    assert (got["number"], got["displayFinancialStatus"], got["taxesIncluded"]) == ("#1001", "PAID", True)
    assert set(got["totalPriceSet"]["shopMoney"]) == {"amount", "currencyCode"}
    assert got["totalPriceSet"]["shopMoney"]["currencyCode"] == "DKK"
    assert Decimal(got["totalPriceSet"]["shopMoney"]["amount"]) == Decimal("417.20")
    assert got["customer"] == {"email": ORDER["email"]}
    assert got["shippingAddress"] == {"countryCodeV2": "DK"}
    mug, gift_card = got["lineItems"]["nodes"]
    assert set(mug) == {"sku", "quantity", "originalUnitPriceSet", "totalDiscountSet", "taxLines", "variant"}
    assert Decimal(mug["originalUnitPriceSet"]["shopMoney"]["amount"]) == Decimal("149.00")
    assert Decimal(mug["totalDiscountSet"]["shopMoney"]["amount"]) == Decimal("29.80")
    assert Decimal(mug["taxLines"][0]["priceSet"]["shopMoney"]["amount"]) == Decimal("53.64")
    assert mug["variant"] == {"id": "gid://shopify/ProductVariant/42300000000001"}
    assert (gift_card["sku"], gift_card["variant"]) == ("", None)
    shipping = got["shippingLines"]["edges"][0]["node"]
    assert shipping["title"] == "GLS Pakkeshop"
    assert Decimal(shipping["discountedPriceSet"]["shopMoney"]["amount"]) == Decimal("49.00")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] >= cost["actualQueryCost"] > 0
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


def test_graphql_unknown_order_is_null_and_unknown_root_field_is_an_error() -> None:
    sim = make_sim()
    missing = graphql(sim, '{ order(id: "gid://shopify/Order/1") { id } }')
    assert missing["data"] == {"order": None}

    unknown = graphql(sim, "{ shopp { name } }")
    assert "data" not in unknown
    assert unknown["errors"][0]["message"] == "Field 'shopp' doesn't exist on type 'QueryRoot'"
    assert unknown["errors"][0]["extensions"]["code"] == "undefinedField"

    nested = graphql(sim, '{ order(id: "gid://shopify/Order/1") { id colour } }')
    assert nested["errors"][0]["message"] == "Field 'colour' doesn't exist on type 'Order'"


def test_graphql_bad_or_missing_token_is_401() -> None:
    sim = make_sim()
    for token in ("shpat_wrong", None):
        with client(sim, token) as http:
            response = http.post(GRAPHQL, json={"query": '{ order(id: "gid://shopify/Order/1") { id } }'})
        assert response.status_code == 401
        assert response.json() == {
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
        }


def test_graphql_webhook_subscription_create_and_list() -> None:
    sink = RecordingSink()
    sim = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=1)
    sim.add_shop(SHOP, SECRET, TOKEN)
    mutation = """
      mutation Subscribe($uri: String!) {
        webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $uri}) {
          webhookSubscription { id topic uri }
          userErrors { field message }
        }
      }"""
    created = graphql(sim, mutation, uri=HOOK)["data"]["webhookSubscriptionCreate"]
    assert created["userErrors"] == []
    assert created["webhookSubscription"]["topic"] == "ORDERS_CREATE"
    assert created["webhookSubscription"]["uri"] == HOOK
    again = graphql(sim, mutation, uri=HOOK)["data"]["webhookSubscriptionCreate"]
    assert again["webhookSubscription"] is None and again["userErrors"]

    listed = graphql(sim, "{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [created["webhookSubscription"]]

    sim.create_order(SHOP, ORDER)
    sim.deliver()
    assert [url for url, _, _ in sink.calls] == [HOOK]


def test_throttled_when_bucket_is_empty_and_restored_by_the_clock() -> None:
    clock = FakeClock()
    sim = make_sim(clock=clock, maximum_available=100.0, restore_rate=10.0)
    order = sim.create_order(SHOP, ORDER)
    query = "query($id: ID!) { order(id: $id) { id lineItems(first: 40) { nodes { id } } } }"  # 1 + 2 + 40

    first = graphql(sim, query, id=order["admin_graphql_api_id"])
    assert first["extensions"]["cost"]["requestedQueryCost"] == 43
    assert first["extensions"]["cost"]["actualQueryCost"] == 5  # two line items returned: refunded
    mutation = (
        "mutation { webhookSubscriptionCreate(topic: ORDERS_PAID, "
        'webhookSubscription: {uri: "https://b.example.com/x"}) { userErrors { message } } }'
    )
    for _ in range(20):
        last = graphql(sim, mutation)
        if "errors" in last:
            break
    assert last["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in last
    cost = last["extensions"]["cost"]
    assert cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < cost["requestedQueryCost"]
    assert cost["throttleStatus"]["maximumAvailable"] == 100.0
    subscriptions = len(sim.shop(SHOP).subscriptions)

    throttled_query = graphql(sim, query, id=order["admin_graphql_api_id"])
    assert throttled_query["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert len(sim.shop(SHOP).subscriptions) == subscriptions  # nothing executed while throttled

    clock.now += 5  # 10 points/s
    restored = graphql(sim, query, id=order["admin_graphql_api_id"])
    assert "errors" not in restored
    assert restored["data"]["order"]["id"] == order["admin_graphql_api_id"]


def test_server_error_fault_answers_5xx_before_executing() -> None:
    sim = make_sim()
    sim.faults.server_error_rate = 1.0
    with client(sim) as http:
        response = http.post(GRAPHQL, json={"query": '{ order(id: "gid://shopify/Order/1") { id } }'})
    assert response.status_code in (502, 503)
    assert sim.shop(SHOP).bucket.updated_at is None  # the bucket was never touched


def test_control_endpoints_create_pay_and_deliver() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    with client(sim) as http:
        created = http.post(f"/_control/shops/{SHOP}/orders", params={"paid": "true"}, json={"order": ORDER})
        assert created.status_code == 201
        order_id = created.json()["order"]["id"]
        assert created.json()["order"]["financial_status"] == "paid"
        assert http.post(f"/_control/shops/{SHOP}/orders/{order_id}/fulfilled").status_code == 200
        assert http.post(f"/_control/shops/{SHOP}/orders/999/paid").status_code == 404
        delivered = http.post("/_control/deliver")
    assert delivered.json()["delivered"] == 4
    with client(sim, "nope") as http:
        assert http.post(f"/_control/shops/{SHOP}/orders", json=ORDER).status_code == 401


# ---- order generator ---------------------------------------------------------------------------------------------


def _money(value: str) -> Decimal:
    return Decimal(value)


def test_varied_orders_totals_are_consistent_to_the_cent() -> None:
    plans = varied_orders(200, seed=42, skus=SKUS)

    assert len(plans) == 200
    for plan in plans:
        order = plan.order
        lines = order["line_items"]
        assert 1 <= len(lines) <= 5
        gross = sum(_money(item["price"]) * item["quantity"] for item in lines)
        discounts = sum(_money(a["amount"]) for item in lines for a in item["discount_allocations"])
        shipping = sum(_money(line["price"]) for line in order["shipping_lines"])
        line_tax = sum(_money(tax["price"]) for item in lines for tax in item["tax_lines"])
        shipping_tax = sum(_money(tax["price"]) for line in order["shipping_lines"] for tax in line["tax_lines"])
        tax = line_tax + shipping_tax
        expected_total = gross - discounts + shipping + (0 if order["taxes_included"] else tax)

        assert _money(order["total_line_items_price"]) == gross
        assert _money(order["total_discounts"]) == discounts
        assert _money(order["subtotal_price"]) == gross - discounts
        assert _money(order["total_tax"]) == tax
        assert _money(order["total_price"]) == expected_total
        assert _money(order["current_total_price"]) == expected_total
        assert _money(order["total_price_set"]["shop_money"]["amount"]) == expected_total
        assert sum(_money(code["amount"]) for code in order["discount_codes"]) in (discounts, 0)
        if discounts:
            assert order["discount_applications"]
        for item in lines:
            net = _money(item["price"]) * item["quantity"] - sum(
                _money(a["amount"]) for a in item["discount_allocations"]
            )
            expected_tax = net - net / Decimal("1.25") if order["taxes_included"] else net * Decimal("0.25")
            assert _money(item["tax_lines"][0]["price"]) == expected_tax.quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert item["sku"] in SKUS and 1 <= item["quantity"] <= 4
        assert order["currency"] == "DKK" and order["source_name"] == "web"
        assert not plan.paid_before_created or plan.paid_at_creation
        assert not (plan.paid_at_creation and plan.pay_later)


def test_varied_orders_vary_and_are_deterministic() -> None:
    plans = varied_orders(200, seed=42, skus=SKUS)
    assert [p.order for p in plans] == [p.order for p in varied_orders(200, seed=42, skus=SKUS)]
    assert [p.order for p in plans] != [p.order for p in varied_orders(200, seed=43, skus=SKUS)]

    orders = [p.order for p in plans]
    emails = [o["email"] for o in orders if o["customer"]]
    assert any(o["customer"] is None and o["email"] for o in orders)  # guest checkouts
    assert len(set(emails)) < len(emails)  # returning customers
    assert {o["taxes_included"] for o in orders} == {True, False}
    shipping = {tuple(line["price"] for line in o["shipping_lines"]) for o in orders}
    assert {(), ("0.00",), ("49.00",)} <= shipping
    assert any(item["discount_allocations"] for o in orders for item in o["line_items"])
    assert any(p.paid_at_creation for p in plans) and any(p.pay_later for p in plans)
    assert any(p.duplicate for p in plans) and any(p.paid_before_created for p in plans)


def test_varied_orders_run_through_the_simulator() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    plans = varied_orders(20, seed=3, skus=SKUS)
    for plan in plans:
        created = plan.create(sim, SHOP)
        plan.pay(sim, SHOP, created["id"])
    report = sim.deliver()
    assert report.delivered == len(sink.calls) and report.pending == 0
    for _, headers, body in sink.calls:
        expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        assert headers["X-Shopify-Hmac-Sha256"] == expected


def test_selection_parser_handles_aliases_comments_typename_and_validation_errors() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER)
    query = """# leading comment
      query One($id: ID!, $n: Int = 1) {
        __typename,
        mine: order(id: $id) {
          __typename legacyResourceId
          lineItems(first: $n) { edges { cursor node { sku } } pageInfo { hasNextPage } }
        }
        other: order(id: "gid://shopify/Order/1") { id }
      }"""
    body = graphql(sim, query, id=order["admin_graphql_api_id"])
    assert body["data"]["__typename"] == "QueryRoot"
    mine = body["data"]["mine"]
    assert (mine["__typename"], mine["legacyResourceId"]) == ("Order", str(order["id"]))
    assert [edge["node"] for edge in mine["lineItems"]["edges"]] == [{"sku": "MUG-BLU"}]
    assert mine["lineItems"]["pageInfo"] == {"hasNextPage": True}
    assert body["data"]["other"] is None

    no_page = graphql(sim, '{ order(id: "gid://shopify/Order/1") { lineItems { nodes { id } } } }')
    assert no_page["errors"][0]["message"] == "you must provide one of first or last"
    before = sim.shop(SHOP).bucket.currently_available
    bad_topic = graphql(
        sim,
        'mutation { webhookSubscriptionCreate(topic: NOPE, webhookSubscription: {uri: "https://x.example"}) '
        "{ userErrors { message } } }",
    )
    assert bad_topic["errors"][0]["extensions"]["code"] == "argumentLiteralsIncompatible"
    assert sim.shop(SHOP).bucket.currently_available >= before  # validation failures cost nothing
