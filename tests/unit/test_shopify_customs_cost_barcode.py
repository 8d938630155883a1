"""Customs facts, cost and barcode of Shopify variants: the simulator's `InventoryItem` customs fields and
`inventoryItemUpdate`, `productVariantsBulkUpdate` barcodes, and the connector's `connectors.shopify.inventory_items`
and `barcodes` (reference/shopify_wms.md "Customs and cost", "EAN").

The catalog is Shopify's example product (`product.json`, four iPod variants), read in place.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import barcodes, inventory_items
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
TOKEN = "shpat_customs"
HOOK = "https://crossdock.example.com/webhooks/peakwms_shopify/shopify"


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=16)
    simulator.add_shop(SHOP, "shpss_customs", TOKEN)
    simulator.subscribe(SHOP, "products/update", HOOK)
    return simulator


@pytest.fixture
def product(sim: ShopifySimulator, shopify_payload: Callable[[str], Any]) -> dict[str, Any]:
    return sim.create_product(SHOP, shopify_payload("product.json")["product"], emit=False)


def admin(sim: ShopifySimulator) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(sim))


def graphql(sim: ShopifySimulator, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}") as http:
        answer: dict[str, Any] = http.post(
            "/admin/api/2026-04/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
        ).json()
    return answer


def test_customs_facts_and_cost_are_read_per_item(sim: ShopifySimulator, product: dict[str, Any]) -> None:
    # GIVEN two variants, one with customs facts filled in by the merchant and a cost, one with none
    pink, red = product["variants"][0], product["variants"][1]
    sim.set_customs(SHOP, pink["inventory_item_id"], harmonized_system_code="851830", country_code_of_origin="CN")
    inventory_items.set_cost(admin(sim), pink["inventory_item_id"], Decimal("120.50"))
    # WHEN the connector reads both (and one id the shop does not have)
    facts = inventory_items.inventory_items(admin(sim), [pink["inventory_item_id"], red["inventory_item_id"], 1])
    # THEN it gets both in the order asked, the unknown one left out, empty facts as None
    assert facts == [
        inventory_items.InventoryItemFacts(
            f"gid://shopify/InventoryItem/{pink['inventory_item_id']}",
            "IPOD2008PINK",
            "851830",
            "CN",
            Decimal("120.5"),
            "DKK",
        ),
        inventory_items.InventoryItemFacts(
            f"gid://shopify/InventoryItem/{red['inventory_item_id']}", "IPOD2008RED", None, None, None, None
        ),
    ]


def test_more_items_than_one_batch_are_read_in_several_calls(sim: ShopifySimulator) -> None:
    # GIVEN 120 variants WHEN the connector reads all their items
    sim.seed_catalog(SHOP, 120)
    ids = list(sim.shops[SHOP].catalog.items)
    shopify = admin(sim)
    facts = inventory_items.inventory_items(shopify, ids)
    # THEN every one is answered, in three calls of at most 50
    assert [fact.id.rsplit("/", 1)[1] for fact in facts] == [str(item_id) for item_id in ids]
    assert shopify.calls == 3


def test_customs_written_through_inventory_item_update_and_a_bad_hs_code_refused(
    sim: ShopifySimulator, product: dict[str, Any]
) -> None:
    # GIVEN a variant without customs facts
    item_id = product["variants"][2]["inventory_item_id"]
    # WHEN the connector sets an HS code and a country of origin
    written = inventory_items.set_customs(
        admin(sim), item_id, harmonized_system_code="8518300090", country_code_of_origin="vn"
    )
    # THEN Shopify has them, in GraphQL and on the REST inventory item
    assert (written.harmonized_system_code, written.country_code_of_origin) == ("8518300090", "VN")
    rest = sim.inventory_item(SHOP, item_id)
    assert (rest["harmonized_system_code"], rest["country_code_of_origin"]) == ("8518300090", "VN")
    # WHEN an HS code of five digits is sent THEN it is refused naming the field, and nothing changes
    with pytest.raises(PermanentError, match=r"input\.harmonizedSystemCode"):
        inventory_items.set_customs(admin(sim), item_id, harmonized_system_code="85183")
    assert sim.inventory_item(SHOP, item_id)["harmonized_system_code"] == "8518300090"


def test_an_unknown_origin_country_is_refused_by_the_schema(sim: ShopifySimulator, product: dict[str, Any]) -> None:
    # GIVEN a variant WHEN a country code that is not Shopify's is written
    item = f"gid://shopify/InventoryItem/{product['variants'][0]['inventory_item_id']}"
    answer = graphql(
        sim,
        "mutation($id: ID!, $input: InventoryItemInput!) { inventoryItemUpdate(id: $id, input: $input) "
        "{ inventoryItem { id } userErrors { field message } } }",
        {"id": item, "input": {"countryCodeOfOrigin": "XX"}},
    )
    # THEN the variables are refused before anything runs
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_cost_writes_are_idempotent_and_a_negative_cost_never_leaves(
    sim: ShopifySimulator, product: dict[str, Any]
) -> None:
    # GIVEN a variant WHEN the same average cost is written twice
    item_id = product["variants"][3]["inventory_item_id"]
    inventory_items.set_cost(admin(sim), item_id, Decimal("99.95"))
    again = inventory_items.set_cost(admin(sim), item_id, Decimal("99.95"))
    # THEN the cost is that one
    assert again.cost == Decimal("99.95") and sim.inventory_item(SHOP, item_id)["cost"] == "99.95"
    with pytest.raises(ValueError, match="negative"):
        inventory_items.set_cost(admin(sim), item_id, Decimal("-1"))


def test_a_barcode_from_the_wms_reaches_the_variant_and_is_echoed(
    sim: ShopifySimulator, product: dict[str, Any], sink: RecordingSink
) -> None:
    # GIVEN a variant WHEN the connector sets its EAN
    variant = product["variants"][1]
    barcodes.set_barcode(admin(sim), product["id"], variant["id"], "5701234567899")
    # THEN the variant carries it and Shopify echoes products/update
    (stored,) = [v for v in sim.products(SHOP)[0]["variants"] if v["id"] == variant["id"]]
    assert stored["barcode"] == "5701234567899"
    sim.deliver()
    assert [topic for _, topic in sink.topics()] == ["products/update"]


def test_a_barcode_for_a_variant_of_another_product_is_refused(sim: ShopifySimulator, product: dict[str, Any]) -> None:
    # GIVEN a product WHEN a barcode is set on a variant id it does not have
    with pytest.raises(PermanentError, match="variant"):
        barcodes.set_barcode(admin(sim), product["id"], 1, "5701234567899")
