"""Custom apps in the Shopify simulator (a merchant-made app: one token with exactly the ticked scopes, webhooks
signed with its API secret), the `shop` and `currentAppInstallation` queries, and the connector's
`connectors.shopify.access_scopes` that reads them for "test connection" (reference/shopify_wms.md "Access scopes").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import access_scopes
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.webhooks import signature_is_valid
from crossdock.errors import FailureClass, PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
OWN_TOKEN = "shpat_merchant_own"
OWN_SECRET = "shpss_oauth_app_secret"
HOOK = "https://crossdock.example.com/webhooks/peakwms_shopify/shopify"


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=16)
    simulator.add_shop(SHOP, OWN_SECRET, OWN_TOKEN)
    return simulator


def post(sim: ShopifySimulator, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    with httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}") as http:
        answer: dict[str, Any] = http.post(
            "/admin/api/2026-04/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
        ).json()
    return answer


def admin(sim: ShopifySimulator, token: str) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, token, transport=transport(sim))


def test_a_custom_app_token_lists_exactly_the_scopes_the_merchant_ticked(sim: ShopifySimulator) -> None:
    # GIVEN a custom app made with two scopes
    app = sim.new_custom_app(SHOP, ["read_orders", "write_products"])
    # WHEN the connector asks which scopes its token has
    granted = access_scopes.granted_scopes(admin(sim, app.access_token))
    # THEN it gets exactly those handles, and the link's needs name what is missing (write_products covers read)
    assert granted == frozenset({"read_orders", "write_products"})
    missing = access_scopes.missing_scopes(granted)
    assert "read_products" not in missing and "write_orders" in missing and "read_inventory" in missing


def test_a_field_outside_the_token_scopes_answers_access_denied(sim: ShopifySimulator) -> None:
    # GIVEN a custom app that may read products but not orders
    app = sim.new_custom_app(SHOP, ["read_products"])
    # WHEN it reads orders
    answer = post(sim, app.access_token, "{ orders(first: 1) { nodes { id } } }")
    # THEN Shopify's ACCESS_DENIED error names the field and the scope, and no data is answered
    (error,) = answer["errors"]
    assert error["message"] == "Access denied for orders field. Required access: `read_orders` access scope."
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["extensions"]["requiredAccess"] == "`read_orders` access scope."
    assert error["path"] == ["orders"]
    # AND the products it may read are answered
    assert "errors" not in post(sim, app.access_token, "{ products(first: 1) { nodes { id } } }")


def test_a_mutation_outside_the_scopes_is_refused_and_not_run(sim: ShopifySimulator) -> None:
    # GIVEN a custom app with read access to inventory only
    app = sim.new_custom_app(SHOP, ["read_inventory"])
    item = sim.create_product(SHOP, {"title": "Lampe", "variants": [{"sku": "L-1"}]}, emit=False)["variants"][0]
    mutation = """mutation($id: ID!, $input: InventoryItemInput!) { inventoryItemUpdate(id: $id, input: $input) {
      inventoryItem { id } userErrors { field message } } }"""
    cost = {"id": f"gid://shopify/InventoryItem/{item['inventory_item_id']}", "input": {"cost": "12.50"}}
    # WHEN it sets a cost
    answer = post(sim, app.access_token, mutation, cost)
    # THEN the answer is ACCESS_DENIED naming write_inventory, and the cost is unchanged
    assert answer["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "`write_inventory`" in answer["errors"][0]["message"]
    assert sim.inventory_item(SHOP, item["inventory_item_id"])["cost"] is None
    # AND through the connector the refusal is the merchant's to fix (credentials), not a bug
    with pytest.raises(PermanentError) as refused:
        admin(sim, app.access_token).run(mutation, cost)
    assert refused.value.failure_class is FailureClass.AUTH


def test_webhooks_a_custom_app_registers_are_signed_with_its_api_secret(
    sim: ShopifySimulator, sink: RecordingSink, shopify_payload: Callable[[str], Any]
) -> None:
    # GIVEN a custom app that registered orders/create, and the shop's other app subscribed to the same topic
    app = sim.new_custom_app(SHOP, ["read_orders"])
    create = """mutation($uri: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE,
      webhookSubscription: {uri: $uri}) { webhookSubscription { id } userErrors { message } } }"""
    created = post(sim, app.access_token, create, {"uri": HOOK})
    assert created["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    sim.subscribe(SHOP, "orders/create", "https://other-app.example.com/hooks")
    # WHEN an order is placed and the webhooks are delivered
    sim.create_order(SHOP, shopify_payload("order.json")["order"])
    sim.deliver()
    # THEN the custom app's delivery verifies with its API secret only; the other app's with the shop's secret
    by_url = {url: (headers, body) for url, headers, body in sink.calls}
    headers, body = by_url[HOOK]
    assert signature_is_valid(body, headers["X-Shopify-Hmac-Sha256"], [app.api_secret])
    assert not signature_is_valid(body, headers["X-Shopify-Hmac-Sha256"], [OWN_SECRET])
    other_headers, other_body = by_url["https://other-app.example.com/hooks"]
    assert signature_is_valid(other_body, other_headers["X-Shopify-Hmac-Sha256"], [OWN_SECRET])
    # AND each app lists only its own subscriptions
    listing = "{ webhookSubscriptions(first: 10) { nodes { uri } } }"
    assert post(sim, app.access_token, listing)["data"]["webhookSubscriptions"]["nodes"] == [{"uri": HOOK}]
    own = post(sim, OWN_TOKEN, listing)["data"]["webhookSubscriptions"]["nodes"]
    assert own == [{"uri": "https://other-app.example.com/hooks"}]


def test_shop_facts_name_the_shop_its_domain_and_currency(sim: ShopifySimulator) -> None:
    # GIVEN a shop named by the merchant, trading in EUR, and a custom app with no scopes at all
    sim.shops[SHOP].name, sim.shops[SHOP].currency = "Nordlys Design", "EUR"
    app = sim.new_custom_app(SHOP, [])
    # WHEN the connector reads the shop facts THEN they are the shop's (the shop query needs no scope)
    facts = access_scopes.shop_facts(admin(sim, app.access_token))
    assert facts == access_scopes.ShopFacts("Nordlys Design", SHOP, "EUR")


def test_an_uninstalled_custom_app_token_is_refused(sim: ShopifySimulator) -> None:
    # GIVEN a custom app the merchant uninstalled
    app = sim.new_custom_app(SHOP, ["read_orders"])
    sim.custom_app_installs.uninstall(app.id)
    # WHEN its token is used THEN Shopify refuses it as an invalid token
    with pytest.raises(PermanentError) as refused:
        access_scopes.granted_scopes(admin(sim, app.access_token))
    assert refused.value.failure_class is FailureClass.AUTH


def test_an_unrestricted_token_still_reads_everything(sim: ShopifySimulator) -> None:
    # GIVEN the shop's own token (not a custom app) WHEN it reads orders and its scopes
    assert "errors" not in post(sim, OWN_TOKEN, "{ orders(first: 1) { nodes { id } } }")
    granted = access_scopes.granted_scopes(admin(sim, OWN_TOKEN))
    # THEN nothing is denied and every scope the link needs is listed
    assert access_scopes.missing_scopes(granted) == ()


def test_a_bulk_export_of_what_the_token_may_not_read_is_refused(sim: ShopifySimulator) -> None:
    # GIVEN a custom app that may read orders but not products
    app = sim.new_custom_app(SHOP, ["read_orders"])
    run = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
      bulkOperation { id } userErrors { field message } } }"""
    # WHEN it starts a bulk export of products, and one of orders
    products = post(sim, app.access_token, run, {"q": "{ products { edges { node { id } } } }"})
    orders = post(sim, app.access_token, run, {"q": "{ orders { edges { node { id } } } }"})
    # THEN the products export is refused naming read_products, and the orders export starts
    (error,) = products["data"]["bulkOperationRunQuery"]["userErrors"]
    assert error["field"] == ["query"] and "`read_products`" in error["message"]
    assert orders["data"]["bulkOperationRunQuery"]["userErrors"] == []
