"""Shopify simulator catalog: every document of `crossdock.systems.shopify.queries` answered as Shopify would.

Each test runs a real document through the simulator's HTTP handler (`SimRequest` in, JSON out) and asserts what
Crossdock's client relies on: shapes, search, the 2026-04 stock rules, productSet's list replacement, bulk exports
and REST-shaped, signed product webhooks (fact sheet `../shared/reference/shopify.md`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from typing import Any

import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import queries
from crossdock_local.sims.base import ResponseDropped, SimRequest, SimResponse
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordisk-hjem.myshopify.com"
SECRET = "shpss_catalog_secret"
TOKEN = "shpat_catalog"
HOOK = "https://hooks.example.com/shopify"
VERSION = "2026-04"


def make_sim(
    *topics: str, clock: FakeClock | None = None, sink: RecordingSink | None = None, **shop: Any
) -> ShopifySimulator:
    sim = ShopifySimulator(clock=clock or FakeClock(), webhook_sink=sink or RecordingSink(), seed=11)
    sim.add_shop(SHOP, SECRET, TOKEN, **shop)
    for topic in topics:
        sim.subscribe(SHOP, topic, HOOK)
    return sim


def call(sim: ShopifySimulator, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> SimResponse:
    headers = {"content-type": "application/json", **({"x-shopify-access-token": token} if token else {})}
    raw = b"" if body is None else json.dumps(body).encode()
    return sim.handle(SimRequest(method, path, {}, headers, raw))


def graphql(sim: ShopifySimulator, document: str, *, version: str = VERSION, **variables: Any) -> dict[str, Any]:
    response = call(sim, "POST", f"/admin/api/{version}/graphql.json", {"query": document, "variables": variables})
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


def data(sim: ShopifySimulator, document: str, **variables: Any) -> dict[str, Any]:
    body = graphql(sim, document, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def primary_location(sim: ShopifySimulator) -> str:
    location_id: str = data(sim, queries.PRIMARY_LOCATION)["location"]["id"]
    return location_id


def product_with_sizes(sim: ShopifySimulator, *sizes: str, sku: str = "PLAID", stock: int = 5) -> dict[str, Any]:
    return sim.create_product(
        SHOP,
        {
            "title": "Plaid i uld",
            "body_html": "<p>Varm</p>",
            "vendor": "Fanø Væveri",
            "options": [{"name": "Størrelse"}],
            "variants": [
                {"option1": size, "sku": f"{sku}-{size}", "price": "499.00", "inventory_quantity": stock}
                for size in sizes
            ],
        },
        emit=False,
    )


def item_gid(variant: dict[str, Any]) -> str:
    return f"gid://shopify/InventoryItem/{variant['inventory_item_id']}"


def stock_input(item: str, location: str, quantity: int, change_from: int | None, **extra: Any) -> dict[str, Any]:
    return {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "crossdock://stock/test",
        "quantities": [
            {"inventoryItemId": item, "locationId": location, "quantity": quantity, "changeFromQuantity": change_from}
        ],
        **extra,
    }


def page_end(page: dict[str, Any]) -> str:
    cursor: str = page["inventoryItems"]["pageInfo"]["endCursor"]
    return cursor


def available(sim: ShopifySimulator, sku: str) -> list[int]:
    return [level["available"] for level in sim.inventory(SHOP, sku)]


def verify(body: bytes, signature: str) -> bool:
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


# ---- locations ---------------------------------------------------------------------------------------------------


def test_primary_location_is_the_shops_first_location() -> None:
    # GIVEN a new shop, to which the merchant later adds a warehouse
    sim = make_sim()
    first = primary_location(sim)
    warehouse = sim.add_location(SHOP, "Lager Vejle")
    # WHEN Crossdock asks for the location without an id
    location = data(sim, queries.PRIMARY_LOCATION)["location"]
    # THEN it is the default one, still the primary
    assert location == {"id": first, "name": "Shop location"}
    assert warehouse["admin_graphql_api_id"] != first and warehouse["active"] is True
    listed = data(sim, "{ locations(first: 5) { nodes { name isActive legacyResourceId } } }")["locations"]["nodes"]
    assert [(n["name"], n["isActive"]) for n in listed] == [("Shop location", True), ("Lager Vejle", True)]


# ---- stock by SKU ------------------------------------------------------------------------------------------------


def test_inventory_by_sku_finds_every_item_sharing_a_sku_with_its_level() -> None:
    # GIVEN two products carrying the same SKU, and one other product
    sim = make_sim()
    location = primary_location(sim)
    twice = [sim.create_product(SHOP, {"title": f"Kop {n}", "variants": [{"sku": "MUG"}]}) for n in (1, 2)]
    sim.create_product(SHOP, {"title": "Skål", "variants": [{"sku": "BOWL", "inventory_quantity": 4}]})
    sim.set_committed(SHOP, twice[0]["variants"][0]["inventory_item_id"], 2)
    # WHEN Crossdock reads the stock of MUG and BOWL at the shop location
    page = data(sim, queries.INVENTORY_BY_SKU, query='sku:"MUG" OR sku:"BOWL"', first=250, locationId=location)
    # THEN every item with either SKU comes back, with quantities in the order asked for
    nodes = page["inventoryItems"]["nodes"]
    assert [n["sku"] for n in nodes] == ["MUG", "MUG", "BOWL"]
    assert nodes[0]["id"] == item_gid(twice[0]["variants"][0])
    assert set(nodes[0]) == {"id", "sku", "tracked", "inventoryLevel"}
    assert nodes[0]["tracked"] is True
    assert nodes[0]["inventoryLevel"]["quantities"] == [
        {"name": "available", "quantity": 0},
        {"name": "on_hand", "quantity": 2},  # on_hand = available + committed
    ]
    assert nodes[2]["inventoryLevel"]["quantities"][0] == {"name": "available", "quantity": 4}
    assert nodes[2]["inventoryLevel"]["id"].startswith("gid://shopify/InventoryLevel/")
    assert page["inventoryItems"]["pageInfo"] == {"hasNextPage": False, "endCursor": page_end(page)}


def test_inventory_by_sku_level_is_null_where_the_item_is_not_stocked() -> None:
    sim = make_sim()
    sim.create_product(SHOP, {"title": "Kop", "variants": [{"sku": "MUG"}]})
    warehouse = sim.add_location(SHOP, "Lager Vejle")["admin_graphql_api_id"]
    page = data(sim, queries.INVENTORY_BY_SKU, query='sku:"MUG"', first=250, locationId=warehouse)
    assert page["inventoryItems"]["nodes"][0]["inventoryLevel"] is None


def test_inventory_by_sku_pages_by_cursor_and_survives_a_deletion_between_pages() -> None:
    # GIVEN five products with the same SKU
    sim = make_sim()
    location = primary_location(sim)
    products = [sim.create_product(SHOP, {"title": f"Lys {n}", "variants": [{"sku": "CANDLE"}]}) for n in range(5)]
    ids = [item_gid(p["variants"][0]) for p in products]
    # WHEN Crossdock pages two at a time and a product of a later page is deleted meanwhile
    first = data(sim, queries.INVENTORY_BY_SKU, query="sku:CANDLE", first=2, locationId=location)
    sim.delete_product(SHOP, products[2]["id"])
    second = data(
        sim, queries.INVENTORY_BY_SKU, query="sku:CANDLE", first=2, after=page_end(first), locationId=location
    )
    third = data(
        sim, queries.INVENTORY_BY_SKU, query="sku:CANDLE", first=2, after=page_end(second), locationId=location
    )
    # THEN no remaining item is skipped or repeated
    seen = [n["id"] for page in (first, second, third) for n in page["inventoryItems"]["nodes"]]
    assert seen == [ids[0], ids[1], ids[3], ids[4]]
    assert first["inventoryItems"]["pageInfo"]["hasNextPage"] is True
    assert third["inventoryItems"]["pageInfo"]["hasNextPage"] is False


def test_sku_search_takes_quoted_values_with_spaces_quotes_and_backslashes() -> None:
    # GIVEN SKUs that need quoting in Shopify's search syntax
    sim = make_sim()
    location = primary_location(sim)
    awkward = 'KOP "BLÅ" 40\\CL'
    for sku in (awkward, "KOP", "BLÅ", "KOP-2"):
        sim.create_product(SHOP, {"title": f"Kaffekop {sku}", "variants": [{"sku": sku}]})
    escaped = awkward.replace("\\", "\\\\").replace('"', '\\"')
    # WHEN searching for the awkward SKU, quoted and escaped as Crossdock's sku_query does
    page = data(sim, queries.INVENTORY_BY_SKU, query=f'sku:"{escaped}"', first=250, locationId=location)
    # THEN exactly that item matches, not the ones sharing a word with it
    assert [n["sku"] for n in page["inventoryItems"]["nodes"]] == [awkward]

    def skus(query: str) -> list[str]:
        nodes = data(sim, queries.INVENTORY_BY_SKU, query=query, first=250, locationId=location)
        return [n["sku"] for n in nodes["inventoryItems"]["nodes"]]

    assert skus("sku:kop") == ["KOP"]  # case-insensitive, exact
    assert skus("sku:KOP*") == [awkward, "KOP", "KOP-2"]  # a trailing * is a prefix
    assert skus("sku:KOP OR sku:'BLÅ'") == ["KOP", "BLÅ"]
    assert skus("colour:blue sku:KOP") == ["KOP"]  # an unknown filter is ignored, as Shopify does
    assert skus("-sku:KOP sku:KOP*") == [awkward, "KOP-2"]


def test_variants_by_sku_returns_the_variant_its_product_and_inventory_item() -> None:
    # GIVEN a three-size product and another product reusing one of its SKUs
    sim = make_sim()
    product = product_with_sizes(sim, "S", "M", "L")
    sim.create_product(SHOP, {"title": "Plaid (gammel)", "status": "draft", "variants": [{"sku": "PLAID-M"}]})
    # WHEN Crossdock looks the SKU up before writing
    nodes = data(sim, queries.VARIANTS_BY_SKU, query='sku:"PLAID-M"')["productVariants"]["nodes"]
    # THEN both variants come back with what the client needs to decide how to write
    first, second = nodes
    variant = product["variants"][1]
    assert first == {
        "id": variant["admin_graphql_api_id"],
        "sku": "PLAID-M",
        "product": {
            "id": product["admin_graphql_api_id"],
            "title": "Plaid i uld",
            "status": "ACTIVE",
            "variantsCount": {"count": 3},
        },
        "inventoryItem": {"id": item_gid(variant)},
    }
    assert second["product"]["status"] == "DRAFT" and second["product"]["variantsCount"] == {"count": 1}


# ---- inventorySetQuantities (2026-04 rules) ----------------------------------------------------------------------


def test_set_quantities_applies_and_reports_the_adjustment() -> None:
    # GIVEN an item with 5 available, 2 of them committed to an order, and a stock webhook subscription
    sink = RecordingSink()
    sim = make_sim("inventory_levels/update", sink=sink)
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    sim.set_committed(SHOP, variant["inventory_item_id"], 2)
    # WHEN Crossdock sets available to 8, comparing with the 5 it read
    answer = data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 8, 5), key="cmd-1")
    # THEN it is applied: an adjustment group, available 8, on_hand 10
    result = answer["inventorySetQuantities"]
    assert result["userErrors"] == []
    assert result["inventoryAdjustmentGroup"]["id"].startswith("gid://shopify/InventoryAdjustmentGroup/")
    level = sim.inventory(SHOP, "PLAID-S")[0]
    assert (level["available"], level["on_hand"]) == (8, 10)
    assert sim.products(SHOP)[0]["variants"][0]["inventory_quantity"] == 8
    sim.deliver()
    (payload,) = sink.payloads("inventory_levels/update")
    assert set(payload) == {"inventory_item_id", "location_id", "available", "updated_at", "admin_graphql_api_id"}
    assert (payload["inventory_item_id"], payload["available"]) == (variant["inventory_item_id"], 8)


def test_set_on_hand_keeps_committed_units() -> None:
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S", stock=5)["variants"][0]
    sim.set_committed(SHOP, variant["inventory_item_id"], 3)
    on_hand = {**stock_input(item_gid(variant), location, 10, 8), "name": "on_hand"}
    assert data(sim, queries.SET_QUANTITIES, input=on_hand, key="k")["inventorySetQuantities"]["userErrors"] == []
    assert (sim.inventory(SHOP, "PLAID-S")[0]["available"], sim.inventory(SHOP, "PLAID-S")[0]["on_hand"]) == (7, 10)


def test_set_quantities_without_change_from_quantity_is_refused_and_nothing_applies() -> None:
    # GIVEN a quantity without the changeFromQuantity key (mandatory from 2026-04)
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    request = stock_input(item_gid(variant), location, 9, None)
    del request["quantities"][0]["changeFromQuantity"]
    # WHEN it is sent
    body = graphql(sim, queries.SET_QUANTITIES, input=request, key="no-compare")
    # THEN an error names the field, and the stock is untouched
    assert body["data"] is None
    assert "changeFromQuantity" in body["errors"][0]["message"]
    assert available(sim, "PLAID-S") == [5]


def test_a_stale_change_from_quantity_applies_nothing_at_all() -> None:
    # GIVEN two items; a sale changed the second one after Crossdock read it
    sim = make_sim()
    location = primary_location(sim)
    small, large = product_with_sizes(sim, "S", "L")["variants"]
    sim.set_available(SHOP, large["inventory_item_id"], 4)
    request = stock_input(item_gid(small), location, 20, 5)
    request["quantities"].append(
        {"inventoryItemId": item_gid(large), "locationId": location, "quantity": 30, "changeFromQuantity": 5}
    )
    # WHEN both are set in one call
    result = data(sim, queries.SET_QUANTITIES, input=request, key="stale")["inventorySetQuantities"]
    # THEN the stale one is reported by index, and neither is applied
    assert result["inventoryAdjustmentGroup"] is None
    assert result["userErrors"] == [
        {
            "field": ["input", "quantities", "1", "changeFromQuantity"],
            "message": "The changeFromQuantity value does not match persisted value.",
            "code": "CHANGE_FROM_QUANTITY_STALE",
        }
    ]
    assert available(sim, "PLAID-S") == [5] and available(sim, "PLAID-L") == [4]


def test_null_change_from_quantity_skips_the_compare() -> None:
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    sim.set_available(SHOP, variant["inventory_item_id"], 13)  # whatever the shop holds now
    result = data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 2, None), key="null")
    assert result["inventorySetQuantities"]["userErrors"] == []
    assert available(sim, "PLAID-S") == [2]


def test_idempotent_directive_is_mandatory_from_2026_04_only() -> None:
    # GIVEN the stock mutation without @idempotent
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    # (without its $key too: Shopify refuses a declared variable that is not used)
    bare = queries.SET_QUANTITIES.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    request = stock_input(item_gid(variant), location, 7, 5)
    # WHEN sent on 2026-04 THEN it is refused before anything is applied
    refused = graphql(sim, bare, input=request, key="unused")
    assert refused["data"] is None and "@idempotent" in refused["errors"][0]["message"]
    assert available(sim, "PLAID-S") == [5]
    # WHEN sent on 2026-01, where the key was optional, THEN it is applied
    accepted = graphql(sim, bare, version="2026-01", input=request, key="unused")
    assert accepted["data"]["inventorySetQuantities"]["userErrors"] == []
    assert available(sim, "PLAID-S") == [7]


def test_a_retry_with_the_same_key_replays_the_first_result_without_applying_again() -> None:
    # GIVEN a stock write whose response was lost after Shopify committed it
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    request = stock_input(item_gid(variant), location, 9, 5)
    sim.faults.drop_response_rate = 1.0
    with pytest.raises(ResponseDropped):
        graphql(sim, queries.SET_QUANTITIES, input=request, key="cmd-42")
    sim.faults.drop_response_rate = 0.0
    assert available(sim, "PLAID-S") == [9]
    sim.set_available(SHOP, variant["inventory_item_id"], 8)  # a sale in the shop meanwhile
    # WHEN the client retries the same command with the same key
    first = data(sim, queries.SET_QUANTITIES, input=request, key="cmd-42")["inventorySetQuantities"]
    again = data(sim, queries.SET_QUANTITIES, input=request, key="cmd-42")["inventorySetQuantities"]
    # THEN it gets the original answer (not a stale error), and the sale is not overwritten
    assert first["userErrors"] == [] and first == again
    assert available(sim, "PLAID-S") == [8]


def test_a_key_reused_for_other_input_is_refused() -> None:
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 6, 5), key="shared")
    body = graphql(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 1, 6), key="shared")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert available(sim, "PLAID-S") == [6]


def test_idempotency_keys_are_kept_24_hours_of_simulator_clock() -> None:
    clock = FakeClock()
    sim = make_sim(clock=clock)
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 6, None), key="daily")
    sim.set_available(SHOP, variant["inventory_item_id"], 1)
    clock.now += 24 * 3600 - 1
    data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 6, None), key="daily")
    assert available(sim, "PLAID-S") == [1]  # still a replay
    clock.now += 1
    data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, 6, None), key="daily")
    assert available(sim, "PLAID-S") == [6]  # the key expired: a new request


def test_more_than_250_quantities_are_refused() -> None:
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    request = stock_input(item_gid(variant), location, 1, None)
    request["quantities"] = request["quantities"] * 251
    body = graphql(sim, queries.SET_QUANTITIES, input=request, key="too-many")
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert available(sim, "PLAID-S") == [5]


def test_an_item_not_stocked_at_the_location_is_a_user_error() -> None:
    sim = make_sim()
    variant = product_with_sizes(sim, "S")["variants"][0]
    warehouse = sim.add_location(SHOP, "Lager Vejle")["admin_graphql_api_id"]
    result = data(sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), warehouse, 3, None), key="k")
    (error,) = result["inventorySetQuantities"]["userErrors"]
    assert (error["code"], error["field"]) == (
        "ITEM_NOT_STOCKED_AT_LOCATION",
        ["input", "quantities", "0", "locationId"],
    )
    assert available(sim, "PLAID-S") == [5]  # still only stocked at the shop location, unchanged


def test_set_quantities_validates_name_and_reason() -> None:
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    request = {**stock_input(item_gid(variant), location, 3, None), "name": "committed", "reason": "because"}
    errors = data(sim, queries.SET_QUANTITIES, input=request, key="k")["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == ["INVALID_NAME", "INVALID_REASON"]


# ---- products ----------------------------------------------------------------------------------------------------


def test_create_product_makes_a_single_variant_product_with_stock_cost_and_webhook() -> None:
    # GIVEN a shop subscribed to products/create
    sink = RecordingSink()
    sim = make_sim("products/create", sink=sink)
    location = primary_location(sim)
    product_input = {
        "title": "Regnjakke",
        "descriptionHtml": "<p>Vandtæt &amp; let</p>",
        "status": "DRAFT",
        "productType": "Sommerjakker",
        "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                "sku": "JAKKE-1",
                "price": "400.00",
                "barcode": "5701234567890",
                "inventoryItem": {
                    "tracked": True,
                    "cost": "180.00",
                    "measurement": {"weight": {"unit": "GRAMS", "value": 850}},
                },
                "inventoryQuantities": [{"locationId": location, "name": "available", "quantity": 3}],
            }
        ],
    }
    # WHEN Crossdock creates it with productSet
    result = data(sim, queries.CREATE_PRODUCT, input=product_input)["productSet"]
    # THEN the product and its variant come back, stock and cost are in place, and the webhook is REST-shaped
    assert result["userErrors"] == []
    (node,) = result["product"]["variants"]["nodes"]
    assert node["sku"] == "JAKKE-1" and node["inventoryItem"]["id"].startswith("gid://shopify/InventoryItem/")
    (product,) = sim.products(SHOP)
    assert (product["title"], product["status"], product["product_type"]) == ("Regnjakke", "draft", "Sommerjakker")
    variant = product["variants"][0]
    assert (variant["price"], variant["grams"], variant["weight_unit"], variant["title"]) == (
        "400.00",
        850,
        "g",
        "Default Title",
    )
    assert sim.inventory(SHOP, "JAKKE-1")[0]["available"] == 3
    assert sim.inventory_item(SHOP, variant["inventory_item_id"])["cost"] == "180.00"
    item = data(
        sim,
        "query($id: ID!) { inventoryItem(id: $id) { unitCost { amount currencyCode } } }",
        id=node["inventoryItem"]["id"],
    )
    assert item["inventoryItem"]["unitCost"] == {"amount": "180.0", "currencyCode": "DKK"}
    sim.deliver()
    (created,) = sink.payloads("products/create")
    assert created["id"] == product["id"] and created["variants"][0]["sku"] == "JAKKE-1"


def test_product_set_replaces_the_variant_list_it_is_sent() -> None:
    # GIVEN a product with sizes S, M, L and a products/update subscription
    sink = RecordingSink()
    sim = make_sim("products/update", sink=sink)
    product = product_with_sizes(sim, "S", "M", "L")
    medium = product["variants"][1]
    # WHEN productSet sends only M (by id, new price) and a new XL
    mutation = """
      mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
        productSet(input: $input, identifier: $identifier, synchronous: true) {
          product { variants(first: 10) { nodes { id sku price selectedOptions { name value } } } }
          userErrors { field message code }
        }
      }"""
    product_input = {
        "productOptions": [{"name": "Størrelse", "values": [{"name": "M"}, {"name": "XL"}]}],
        "variants": [
            {
                "id": medium["admin_graphql_api_id"],
                "optionValues": [{"optionName": "Størrelse", "name": "M"}],
                "price": "449.00",
            },
            {"optionValues": [{"optionName": "Størrelse", "name": "XL"}], "sku": "PLAID-XL", "price": "549.00"},
        ],
    }
    result = data(sim, mutation, input=product_input, identifier={"id": product["admin_graphql_api_id"]})["productSet"]
    # THEN the list is exactly M (same id, SKU kept) and XL; S and L are gone with their stock
    assert result["userErrors"] == []
    nodes = result["product"]["variants"]["nodes"]
    assert [(n["sku"], n["price"]) for n in nodes] == [("PLAID-M", "449.00"), ("PLAID-XL", "549.00")]
    assert nodes[0]["id"] == medium["admin_graphql_api_id"]
    assert nodes[1]["selectedOptions"] == [{"name": "Størrelse", "value": "XL"}]
    (stored,) = sim.products(SHOP)
    assert [v["title"] for v in stored["variants"]] == ["M", "XL"]
    assert stored["options"][0]["values"] == ["M", "XL"]
    assert sim.inventory(SHOP, "PLAID-S") == [] and sim.inventory(SHOP, "PLAID-L") == []
    sim.deliver()
    assert [v["sku"] for v in sink.payloads("products/update")[0]["variants"]] == ["PLAID-M", "PLAID-XL"]


def test_product_set_refuses_duplicate_variants_and_foreign_variant_ids() -> None:
    sim = make_sim()
    other = product_with_sizes(sim, "S", sku="OTHER")
    default = [{"optionName": "Title", "name": "Default Title"}]
    duplicate = {
        "title": "Hue",
        "variants": [{"sku": "A", "optionValues": default}, {"sku": "B", "optionValues": default}],
    }
    errors = data(sim, queries.CREATE_PRODUCT, input=duplicate)["productSet"]["userErrors"]
    assert [e["code"] for e in errors] == ["VARIANT_ALREADY_EXISTS"]
    foreign = {
        "title": "Hue",
        "variants": [{"id": other["variants"][0]["admin_graphql_api_id"], "optionValues": default}],
    }
    errors = data(sim, queries.CREATE_PRODUCT, input=foreign)["productSet"]["userErrors"]
    assert errors[0]["field"] == ["input", "variants", "0", "id"]
    assert len(sim.products(SHOP)) == 1  # nothing created


def test_update_product_changes_only_the_fields_given() -> None:
    # GIVEN a product with a description, vendor and three variants
    sink = RecordingSink()
    sim = make_sim("products/update", sink=sink)
    product = product_with_sizes(sim, "S", "M", "L")
    # WHEN Crossdock renames it
    update = {"id": product["admin_graphql_api_id"], "title": "Plaid i lammeuld", "status": "ARCHIVED"}
    result = data(sim, queries.UPDATE_PRODUCT, product=update)["productUpdate"]
    # THEN only title and status change
    assert result == {"product": {"id": product["admin_graphql_api_id"]}, "userErrors": []}
    (stored,) = sim.products(SHOP)
    assert (stored["title"], stored["status"]) == ("Plaid i lammeuld", "archived")
    assert (stored["body_html"], stored["vendor"]) == ("<p>Varm</p>", "Fanø Væveri")
    assert stored["variants"] == product["variants"]
    sim.deliver()
    assert sink.payloads("products/update")[0]["title"] == "Plaid i lammeuld"
    unknown = data(sim, queries.UPDATE_PRODUCT, product={"id": "gid://shopify/Product/1", "title": "x"})
    assert unknown["productUpdate"]["userErrors"] == [{"field": ["id"], "message": "Product does not exist"}]


def test_update_variants_changes_only_the_fields_given_and_deletes_nothing() -> None:
    # GIVEN a three-size product
    sim = make_sim()
    product = product_with_sizes(sim, "S", "M", "L")
    small = product["variants"][0]
    # WHEN Crossdock updates the price and cost of S only
    variants = [{"id": small["admin_graphql_api_id"], "price": "459.00", "inventoryItem": {"cost": "210.50"}}]
    result = data(sim, queries.UPDATE_VARIANTS, productId=product["admin_graphql_api_id"], variants=variants)
    # THEN S has the new price and cost; its SKU, barcode and the other variants are untouched
    assert result["productVariantsBulkUpdate"] == {
        "productVariants": [{"id": small["admin_graphql_api_id"]}],
        "userErrors": [],
    }
    (stored,) = sim.products(SHOP)
    assert [v["price"] for v in stored["variants"]] == ["459.00", "499.00", "499.00"]
    assert [v["sku"] for v in stored["variants"]] == ["PLAID-S", "PLAID-M", "PLAID-L"]
    assert sim.inventory_item(SHOP, small["inventory_item_id"])["cost"] == "210.50"
    assert stored["variants"][1:] == product["variants"][1:]


def test_update_variants_with_an_unknown_variant_applies_nothing() -> None:
    sim = make_sim()
    product = product_with_sizes(sim, "S")
    variants = [
        {"id": "gid://shopify/ProductVariant/1", "price": "1.00"},
        {"id": product["variants"][0]["admin_graphql_api_id"], "price": "2.00"},
    ]
    result = data(sim, queries.UPDATE_VARIANTS, productId=product["admin_graphql_api_id"], variants=variants)
    payload = result["productVariantsBulkUpdate"]
    assert payload["productVariants"] is None
    assert payload["userErrors"] == [
        {
            "field": ["variants", "0", "id"],
            "message": "Product variant does not exist",
            "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
        }
    ]
    assert sim.products(SHOP)[0]["variants"][0]["price"] == "499.00"


# ---- product webhooks (REST shape) -------------------------------------------------------------------------------


def test_product_webhooks_are_rest_shaped_like_the_fixtures_and_signed(fixture_product: dict[str, Any]) -> None:
    # GIVEN Shopify's own example product (`2025-01/product_1.json`), created, edited and deleted in the shop
    sink = RecordingSink()
    sim = make_sim("products/create", "products/update", "products/delete", sink=sink)
    expected = copy.deepcopy(fixture_product)
    created = sim.create_product(SHOP, fixture_product)
    pink = created["variants"][0]
    sim.update_product(SHOP, created["id"], {"title": "iPod Nano"}, variant_changes={pink["id"]: {"price": "179"}})
    sim.delete_product(SHOP, created["id"])
    # WHEN the webhooks are delivered
    sim.deliver()
    # THEN each is signed over its raw body, and create/update carry the fixture's whole REST shape
    assert [headers["X-Shopify-Topic"] for _, headers, _ in sink.calls] == [
        "products/create",
        "products/update",
        "products/delete",
    ]
    for _, headers, body in sink.calls:
        assert verify(body, headers["X-Shopify-Hmac-Sha256"])
    payload = sink.payloads("products/create")[0]
    assert set(expected) <= set(payload)
    assert set(expected["variants"][0]) <= set(payload["variants"][0])
    assert set(expected["options"][0]) <= set(payload["options"][0])
    assert payload["id"] != expected["id"]  # the simulator assigns identity
    assert payload["admin_graphql_api_id"] == f"gid://shopify/Product/{payload['id']}"
    assert [v["sku"] for v in payload["variants"]] == [v["sku"] for v in expected["variants"]]
    assert [v["inventory_quantity"] for v in payload["variants"]] == [10, 20, 30, 40]
    assert all(v["product_id"] == payload["id"] for v in payload["variants"])
    assert payload["options"][0]["values"] == ["Pink", "Red", "Green", "Black"]
    update = sink.payloads("products/update")[0]
    assert (update["title"], update["variants"][0]["price"]) == ("iPod Nano", "179.00")
    assert sink.payloads("products/delete") == [{"id": created["id"]}]
    assert sim.products(SHOP) == []


def test_rest_variants_given_only_a_title_keep_it_as_their_option_value() -> None:
    # GIVEN a product created the way a merchant describes it: variant titles, no options
    sim = make_sim()
    product = sim.create_product(
        SHOP, {"title": "Hue", "variants": [{"title": "Rød", "grams": 120}, {"title": "Blå"}, {"title": "Grøn"}]}
    )
    # THEN the titles are the option values, as Shopify derives a variant's title from its options
    assert [(v["title"], v["option1"]) for v in product["variants"]] == [
        ("Rød", "Rød"),
        ("Blå", "Blå"),
        ("Grøn", "Grøn"),
    ]
    assert [(o["name"], o["values"]) for o in product["options"]] == [("Title", ["Rød", "Blå", "Grøn"])]
    assert (product["variants"][0]["weight"], product["variants"][0]["weight_unit"]) == (0.12, "kg")
    # WHEN one is renamed THEN the option values follow
    changed = sim.update_product(
        SHOP, product["id"], {}, variant_changes={product["variants"][1]["id"]: {"title": "Sort"}}
    )
    assert changed["options"][0]["values"] == ["Rød", "Sort", "Grøn"]


def test_graphql_writes_emit_product_webhooks_and_cost_only_changes_do_not() -> None:
    sink = RecordingSink()
    sim = make_sim("products/update", sink=sink)
    variant = product_with_sizes(sim, "S")["variants"][0]
    mutation = """
      mutation Item($id: ID!, $input: InventoryItemInput!) {
        inventoryItemUpdate(id: $id, input: $input) { inventoryItem { sku unitCost { amount } } userErrors { message } }
      }"""
    cost_only = data(sim, mutation, id=item_gid(variant), input={"cost": "99.5"})["inventoryItemUpdate"]
    assert cost_only["inventoryItem"] == {"sku": "PLAID-S", "unitCost": {"amount": "99.5"}}
    data(sim, mutation, id=item_gid(variant), input={"sku": "PLAID-SMALL"})
    sim.deliver()
    assert [p["variants"][0]["sku"] for p in sink.payloads("products/update")] == ["PLAID-SMALL"]


def test_control_endpoints_create_update_and_delete_products() -> None:
    sink = RecordingSink()
    sim = make_sim("products/create", "products/update", "products/delete", sink=sink)
    base = f"/_control/shops/{SHOP}/products"
    created = call(sim, "POST", base, {"product": {"title": "Hue", "variants": [{"sku": "HUE", "price": "99.95"}]}})
    assert created.status == 201
    product = created.json()["product"]
    variant_id = product["variants"][0]["id"]
    changed = call(
        sim,
        "PUT",
        f"{base}/{product['id']}",
        {"product": {"tags": "vinter", "variants": [{"id": variant_id, "price": "89.95"}]}},
    )
    assert changed.status == 200 and changed.json()["product"]["variants"][0]["price"] == "89.95"
    assert call(sim, "DELETE", f"{base}/{product['id']}").status == 200
    assert call(sim, "DELETE", f"{base}/{product['id']}").status == 404
    assert call(sim, "POST", base, {"title": "x"}, token="shpat_wrong").status == 401
    sim.deliver()
    assert [headers["X-Shopify-Topic"] for _, headers, _ in sink.calls] == [
        "products/create",
        "products/update",
        "products/delete",
    ]


# ---- bulk export -------------------------------------------------------------------------------------------------


def run_export(sim: ShopifySimulator) -> str:
    result = data(sim, queries.RUN_BULK_QUERY, query=queries.CATALOG_EXPORT)["bulkOperationRunQuery"]
    assert result["userErrors"] == [] and result["bulkOperation"]["status"] == "CREATED"
    operation_id: str = result["bulkOperation"]["id"]
    return operation_id


def poll(sim: ShopifySimulator, operation_id: str) -> dict[str, Any]:
    operation: dict[str, Any] = data(sim, queries.BULK_OPERATION, id=operation_id)["bulkOperation"]
    return operation


def download(sim: ShopifySimulator, url: str) -> list[dict[str, Any]]:
    response = sim.handle(SimRequest("GET", url.removeprefix(sim.public_url), {}, {}))  # no token: a signed URL
    assert response.status == 200 and response.headers["content-type"] == "application/jsonl"
    return [json.loads(line) for line in response.body.decode().splitlines()]


def test_catalog_export_writes_variants_with_their_levels_as_child_lines() -> None:
    # GIVEN a seeded catalog of 12 variants (one without SKU), one also stocked at a warehouse
    clock = FakeClock()
    sim = make_sim(clock=clock)
    sim.public_url = "http://127.0.0.1:3000/_sim/shopify"
    sim.seed_catalog(SHOP, 12, sku=lambda i: None if i == 4 else f"CAT-{i:03d}", stock=lambda i: i)
    warehouse = sim.add_location(SHOP, "Lager Vejle")
    first = sim.products(SHOP)[0]["variants"][0]
    sim.set_available(SHOP, first["inventory_item_id"], 7, warehouse["id"])
    # WHEN the export runs to completion
    operation_id = run_export(sim)
    clock.now += sim.bulk_duration
    operation = poll(sim, operation_id)
    # THEN counts and URL are reported, and the file has a line per variant followed by its levels
    assert operation["status"] == "COMPLETED" and operation["errorCode"] is None
    assert (operation["rootObjectCount"], operation["objectCount"]) == ("12", "25")  # UnsignedInt64: strings
    assert operation["url"].startswith("http://127.0.0.1:3000/_sim/shopify/_bulk/") and operation["url"].endswith(
        ".jsonl"
    )
    assert operation["partialDataUrl"] is None
    lines = download(sim, operation["url"])
    assert len(lines) == 25
    roots = [line for line in lines if "__parentId" not in line]
    assert len(roots) == 12
    root = lines[0]
    assert set(root) == {"id", "sku", "title", "price", "barcode", "product", "inventoryItem"}
    assert "inventoryLevels" not in root["inventoryItem"]  # nested connections are never embedded
    assert root["inventoryItem"]["measurement"]["weight"]["unit"] == "KILOGRAMS"
    assert set(root["product"]) == {"id", "title", "descriptionHtml", "productType", "status"}
    assert [line["sku"] for line in roots][4] is None
    children = [line for line in lines if line.get("__parentId") == root["id"]]
    assert [c["quantities"] for c in children] == [
        [{"name": "on_hand", "quantity": 0}],
        [{"name": "on_hand", "quantity": 7}],
    ]
    assert children[1]["location"] == {"id": warehouse["admin_graphql_api_id"]}
    parent = None
    for line in lines:  # every child line directly follows its variant (or a sibling)
        if "__parentId" in line:
            assert line["__parentId"] == parent
        else:
            parent = line["id"]


def test_bulk_operation_completes_on_the_injected_clock_and_sends_its_webhook() -> None:
    # GIVEN a shop subscribed to bulk_operations/finish, with a 30-second export time
    clock, sink = FakeClock(), RecordingSink()
    sim = make_sim("bulk_operations/finish", clock=clock, sink=sink)
    sim.bulk_duration = 30.0
    sim.seed_catalog(SHOP, 6)
    operation_id = run_export(sim)
    # WHEN time passes THEN CREATED → RUNNING → COMPLETED exactly at 30 s
    clock.now += 29.5
    assert poll(sim, operation_id)["status"] == "RUNNING"
    assert poll(sim, operation_id)["url"] is None
    sim.deliver()
    assert sink.calls == []
    clock.now += 0.5
    current = data(sim, "{ currentBulkOperation { id status completedAt rootObjectCount } }")
    assert current["currentBulkOperation"]["status"] == "COMPLETED"
    assert current["currentBulkOperation"]["id"] == operation_id
    sim.deliver()
    ((_, headers, body),) = sink.calls
    assert headers["X-Shopify-Topic"] == "bulk_operations/finish" and verify(body, headers["X-Shopify-Hmac-Sha256"])
    payload = json.loads(body)
    assert set(payload) == {"admin_graphql_api_id", "completed_at", "created_at", "error_code", "status", "type"}
    assert (payload["admin_graphql_api_id"], payload["status"], payload["type"]) == (operation_id, "completed", "query")
    assert payload["error_code"] is None
    # AND the result URL works for 7 days, then is gone
    url = poll(sim, operation_id)["url"]
    assert len(download(sim, url)) == 12  # 6 variants and their levels
    clock.now += 7 * 24 * 3600
    assert sim.handle(SimRequest("GET", url, {}, {})).status == 403


def test_at_most_five_bulk_operations_run_per_shop() -> None:
    clock = FakeClock()
    sim = make_sim(clock=clock)
    sim.seed_catalog(SHOP, 3)
    for _ in range(5):
        run_export(sim)
    refused = data(sim, queries.RUN_BULK_QUERY, query=queries.CATALOG_EXPORT)["bulkOperationRunQuery"]
    assert refused["bulkOperation"] is None and refused["userErrors"][0]["code"] == "LIMIT_REACHED"
    clock.now += sim.bulk_duration
    run_export(sim)  # the first five finished


def test_an_invalid_bulk_query_is_a_user_error() -> None:
    sim = make_sim()
    for query in ("{ productVariants { edges { node { colour } } } }", "{ location { id } }", "{ nope"):
        result = data(sim, queries.RUN_BULK_QUERY, query=query)["bulkOperationRunQuery"]
        assert result["bulkOperation"] is None
        assert result["userErrors"][0]["field"] == ["query"] and result["userErrors"][0]["code"] == "INVALID"


@pytest.mark.slow
def test_a_30000_variant_catalog_seeds_and_exports_every_variant() -> None:
    # GIVEN a shop seeded with 30,000 products of one variant each (the size issue 16 benchmarks; its speed is
    # bench/peakwms_products.py's to print, not a unit test's to time)
    clock = FakeClock()
    sim = make_sim(clock=clock)
    sim.seed_catalog(SHOP, 30_000)
    # WHEN a bulk export runs to completion
    operation_id = run_export(sim)
    clock.now += sim.bulk_duration
    operation = poll(sim, operation_id)
    # THEN it counts every product and every variant
    assert (operation["rootObjectCount"], operation["objectCount"]) == ("30000", "60000")


# ---- generator, cost, throttling ---------------------------------------------------------------------------------


def test_seed_catalog_is_deterministic_without_webhooks_and_allows_missing_and_repeated_skus() -> None:
    def sku(index: int) -> str | None:
        return None if index == 3 else "" if index == 4 else "TWICE" if index in (5, 6) else f"CAT-{index}"

    sims = [make_sim("products/create") for _ in range(2)]
    for sim in sims:
        sim.seed_catalog(SHOP, 7, variants_per_product=3, sku=sku, stock=lambda i: 10 + i, seed=3)
    first, second = (sim.products(SHOP) for sim in sims)
    assert first == second
    assert [len(p["variants"]) for p in first] == [3, 3, 1]
    assert [v["sku"] for p in first for v in p["variants"]] == ["CAT-0", "CAT-1", "CAT-2", None, "", "TWICE", "TWICE"]
    assert [lvl["available"] for lvl in sims[0].inventory(SHOP, "TWICE")] == [15, 16]
    assert sims[0].pending(SHOP) == []
    location = primary_location(sims[0])
    found = data(sims[0], queries.INVENTORY_BY_SKU, query='sku:"TWICE"', first=250, locationId=location)
    assert len(found["inventoryItems"]["nodes"]) == 2


def test_queries_documents_at_page_size_250_stay_within_the_single_query_cost_limit() -> None:
    sim = make_sim()
    location = primary_location(sim)
    requested = {
        "PRIMARY_LOCATION": graphql(sim, queries.PRIMARY_LOCATION),
        "INVENTORY_BY_SKU": graphql(
            sim, queries.INVENTORY_BY_SKU, query="sku:X", first=queries.PAGE_SIZE, locationId=location
        ),
        "VARIANTS_BY_SKU": graphql(sim, queries.VARIANTS_BY_SKU, query="sku:X"),
        "BULK_OPERATION": graphql(sim, queries.BULK_OPERATION, id="gid://shopify/BulkOperation/1"),
        "WEBHOOK_SUBSCRIPTIONS": graphql(sim, queries.WEBHOOK_SUBSCRIPTIONS),
    }
    costs = {name: body["extensions"]["cost"]["requestedQueryCost"] for name, body in requested.items()}
    assert all("errors" not in body for body in requested.values())
    assert all(cost <= 1000 for cost in costs.values()), costs
    assert costs["INVENTORY_BY_SKU"] == 2 + 250 * 3  # the client waits for this budget before sending


def test_catalog_queries_and_mutations_are_throttled_before_anything_runs() -> None:
    # GIVEN a bucket of 100 points
    sim = make_sim(maximum_available=100.0, restore_rate=10.0)
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S")["variants"][0]
    # WHEN a 752-point stock read is sent THEN it is throttled
    body = graphql(sim, queries.INVENTORY_BY_SKU, query="sku:X", first=250, locationId=location)
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 752
    # WHEN the bucket is drained by mutations THEN a throttled stock write applies nothing
    for n in range(12):
        last = graphql(
            sim, queries.SET_QUANTITIES, input=stock_input(item_gid(variant), location, n, None), key=f"k{n}"
        )
    assert last["errors"][0]["extensions"]["code"] == "THROTTLED"
    # 99 points were left after the location read: nine 10-point writes fitted, the last one setting 8
    assert available(sim, "PLAID-S") == [8]
    assert sim.mutation_count("inventorySetQuantities") == 9


def test_field_arguments_and_directives_are_honoured() -> None:
    sim = make_sim()
    location = primary_location(sim)
    variant = product_with_sizes(sim, "S", stock=4)["variants"][0]
    sim.set_committed(SHOP, variant["inventory_item_id"], 1)
    query = """
      query($id: ID!, $loc: ID!, $withSku: Boolean!) {
        inventoryItem(id: $id) {
          sku @include(if: $withSku)
          inventoryLevel(locationId: $loc) { quantities(names: ["committed", "incoming"]) { name quantity } }
        }
      }"""
    item = data(sim, query, id=item_gid(variant), loc=location, withSku=False)["inventoryItem"]
    assert item == {
        "inventoryLevel": {"quantities": [{"name": "committed", "quantity": 1}, {"name": "incoming", "quantity": 0}]}
    }
    bad = graphql(sim, query.replace('"incoming"', '"sold"'), id=item_gid(variant), loc=location, withSku=True)
    assert "sold" in bad["errors"][0]["message"]
    missing = graphql(sim, "{ inventoryItems(first: 1) { nodes { inventoryLevel { id } } } }")
    assert missing["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
