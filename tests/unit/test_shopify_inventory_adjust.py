"""`inventoryAdjustQuantities` in the Shopify simulator and `connectors.shopify.inventory_adjust` (reference/
shopify_wms.md "Writes" → Stock, "Idempotency keys", "Behaviours a simulator must model" 4): the delta form with
compare-and-swap, the ledger document rules and the mandatory idempotency key.

The catalog is Shopify's example product (`product.json`), ten of each variant at the primary location.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import inventory_adjust
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
TOKEN = "shpat_adjust"
HOOK = "https://crossdock.example.com/webhooks/peakwms_shopify/shopify"
REFERENCE = "gid://crossdock/PeakStockAdjust/812"


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sim(sink: RecordingSink) -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=16)
    simulator.add_shop(SHOP, "shpss_adjust", TOKEN)
    simulator.subscribe(SHOP, "inventory_levels/update", HOOK)
    return simulator


@pytest.fixture
def pink(sim: ShopifySimulator, shopify_payload: Callable[[str], Any]) -> inventory_adjust.StockDelta:
    product = sim.create_product(SHOP, shopify_payload("product.json")["product"], emit=False)
    variant = product["variants"][0]
    sim.set_available(SHOP, variant["inventory_item_id"], 10)
    sim.deliver()
    location = sim.shops[SHOP].catalog.primary_location.gid
    return inventory_adjust.StockDelta(f"gid://shopify/InventoryItem/{variant['inventory_item_id']}", location, 0, 10)


def admin(sim: ShopifySimulator) -> ShopifyAdmin:
    return ShopifyAdmin(f"https://{SHOP}", SHOP, TOKEN, transport=transport(sim))


def available(sim: ShopifySimulator) -> int:
    return sum(level["available"] for level in sim.inventory(SHOP, "IPOD2008PINK"))


def test_a_return_adds_its_units_once_per_key(
    sim: ShopifySimulator, sink: RecordingSink, pink: inventory_adjust.StockDelta
) -> None:
    # GIVEN ten pink iPods WHEN two come back, and the same command is sent again
    change = pink._replace(delta=2)
    for _ in range(2):
        changes = inventory_adjust.adjust_quantities(
            admin(sim), [change], reason="restock", reference_document_uri=REFERENCE, idempotency_key="peak:100:812"
        )
    # THEN twelve are available, the group reports available and on_hand, and one stock webhook went out
    assert available(sim) == 12
    assert [(c["name"], c["delta"], c["quantityAfterChange"]) for c in changes] == [
        ("available", 2, 12),
        ("on_hand", 2, 12),
    ]
    sim.deliver()
    assert [payload["available"] for payload in sink.payloads("inventory_levels/update")] == [12]


def test_a_stale_compare_and_swap_changes_nothing(sim: ShopifySimulator, pink: inventory_adjust.StockDelta) -> None:
    # GIVEN a sale since the quantity was read (9 now, 10 read)
    sim.set_available(SHOP, int(pink.inventory_item_id.rsplit("/", 1)[1]), 9)
    # WHEN the delta is applied against the old reading THEN it is refused as stale and nothing changes
    with pytest.raises(inventory_adjust.StaleQuantity, match="changeFromQuantity"):
        inventory_adjust.adjust_quantities(
            admin(sim),
            [pink._replace(delta=1)],
            reason="restock",
            reference_document_uri=REFERENCE,
            idempotency_key="peak:100:stale",
        )
    assert available(sim) == 9


def test_the_ledger_document_rules(sim: ShopifySimulator, pink: inventory_adjust.StockDelta) -> None:
    # GIVEN ten pink iPods
    shopify = admin(sim)

    def adjust(name: str, ledger: str | None, key: str) -> None:
        inventory_adjust.adjust_quantities(
            shopify,
            [pink._replace(delta=1, change_from=None, ledger_document_uri=ledger)],
            reason="damaged",
            reference_document_uri=REFERENCE,
            idempotency_key=key,
            name=name,
        )

    # WHEN available is adjusted with a ledger document, damaged without one or with Shopify's own
    # THEN each is refused with its rule
    with pytest.raises(PermanentError, match="not allowed when adjusting available"):
        adjust("available", "crossdock://ledger/1", "k1")
    with pytest.raises(PermanentError, match="required except when adjusting available"):
        adjust("damaged", None, "k2")
    with pytest.raises(PermanentError, match="Internal"):
        adjust("damaged", "gid://shopify/Ledger/1", "k3")
    # AND a damaged unit with our own ledger document counts in on_hand, not in available
    adjust("damaged", "crossdock://ledger/damaged/1", "k4")
    (level,) = sim.inventory(SHOP, "IPOD2008PINK")
    assert (level["available"], level["on_hand"]) == (10, 11)


def test_without_a_key_or_a_change_from_quantity_the_call_fails_before_anything_runs(
    sim: ShopifySimulator, pink: inventory_adjust.StockDelta
) -> None:
    # GIVEN ten pink iPods WHEN a delta is sent without @idempotent, and one without changeFromQuantity
    row = {"inventoryItemId": pink.inventory_item_id, "locationId": pink.location_id, "delta": 1}
    payload = {"name": "available", "reason": "restock", "changes": [row]}
    unkeyed = """mutation($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) { userErrors { field message } } }"""
    keyed = """mutation($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: "k") { userErrors { field message } } }"""
    with httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}") as http:
        url, headers = "/admin/api/2026-04/graphql.json", {"X-Shopify-Access-Token": TOKEN}
        no_key = http.post(
            url,
            json={
                "query": unkeyed,
                "variables": {"input": {**payload, "changes": [{**row, "changeFromQuantity": None}]}},
            },
            headers=headers,
        ).json()
        no_cas = http.post(url, json={"query": keyed, "variables": {"input": payload}}, headers=headers).json()
    # THEN both fail at runtime, and the stock is as it was
    assert no_key["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert "changeFromQuantity" in no_cas["errors"][0]["message"]
    assert available(sim) == 10
