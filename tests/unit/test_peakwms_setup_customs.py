"""Setup step 2, `customs_and_cost` (optional), against the Shopify and PeakWMS simulators (docs/peakwms.md
"Customs and cost"): each inventory item's HS code, country of origin and cost onto the PeakWMS product step 1
made, nothing else of the product changed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from peakwms_catalog_fakes import MAIN, OTHER, Systems, run_to_end, started

from crossdock.errors import RetryableError
from crossdock.integrations.peakwms_shopify import setup_customs, setup_products

SET_ITEM = """
mutation SetItem($id: ID!, $input: InventoryItemInput!) {
  inventoryItemUpdate(id: $id, input: $input) { inventoryItem { id } userErrors { field message } }
}
"""


@pytest.fixture
def systems(monkeypatch: pytest.MonkeyPatch) -> Systems:
    return started(monkeypatch)


def set_item(systems: Systems, variant: dict[str, Any], **fields: Any) -> None:
    admin = systems.shopify_admin(systems.connection(MAIN))
    item = f"gid://shopify/InventoryItem/{variant['inventory_item_id']}"
    answer = admin.run(SET_ITEM, {"id": item, "input": fields})["inventoryItemUpdate"]
    assert answer["userErrors"] == [], answer


COST = """
query Cost($id: ID!) { inventoryItem(id: $id) { unitCost { amount } } }
"""


def unit_cost(systems: Systems, variant: dict[str, Any]) -> Decimal:
    admin = systems.shopify_admin(systems.connection(MAIN))
    item = admin.run(COST, {"id": f"gid://shopify/InventoryItem/{variant['inventory_item_id']}"})["inventoryItem"]
    return Decimal(str(item["unitCost"]["amount"]))


def test_customs_and_cost_reach_the_peakwms_products_and_nothing_else_changes(systems: Systems, table: Any) -> None:
    # GIVEN the main shop fetched into PeakWMS (its seeded items have a cost), one item also with customs facts
    systems.shopify.seed_catalog(MAIN, 2, variants_per_product=1, sku=lambda i: f"CU-{i}")
    connection, deps = systems.connection(MAIN), systems.deps(table)
    run_to_end(setup_products.STEP, connection, deps)
    coded, plain = (p["variants"][0] for p in systems.shopify.products(MAIN))
    set_item(systems, coded, harmonizedSystemCode="691200", countryCodeOfOrigin="PT", cost="31.50")
    before = systems.peak_products()
    # WHEN the step runs
    last, _ = run_to_end(setup_customs.STEP, connection, deps)
    # THEN each product has its cost, the coded one its tariff and origin, and what step 1 wrote is kept
    after = systems.peak_products()
    first = after[(str(coded["product_id"]), str(coded["id"]))]
    assert first["customsTariffs"] == [{"code": "691200"}] and first["countryOfOrigin"] == "PT"
    assert Decimal(str(first["costPricePiece"])) == Decimal("31.50")
    second = after[(str(plain["product_id"]), str(plain["id"]))]
    assert Decimal(str(second["costPricePiece"])) == unit_cost(systems, plain)
    assert second.get("countryOfOrigin") in (None, "") and not second.get("customsTariffs")
    for key, record in after.items():
        kept = ("itemNumber", "description", "ean", "brand")
        assert {k: record.get(k) for k in kept} == {k: before[key].get(k) for k in kept}
    assert last.finished and (last.done, last.total) == (2, 2) and "2 updated" in last.note


def test_a_shop_that_is_not_the_main_shop_has_nothing_to_send(systems: Systems, table: Any) -> None:
    last, chunks = run_to_end(setup_customs.STEP, systems.connection(OTHER), systems.deps(table))
    assert len(chunks) == 1 and last.finished and "not the main shop" in last.note
    assert systems.shopify_admin(systems.connection(OTHER)).calls == 0


def test_a_crash_in_the_middle_of_the_step_resumes_from_the_saved_offset(
    systems: Systems, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 4 fetched variants, chunks of 2, and PeakWMS's third customs write dying
    monkeypatch.setattr(setup_customs, "CHUNK", 2)
    systems.shopify.seed_catalog(MAIN, 4, variants_per_product=1, sku=lambda i: f"CR-{i}")
    connection, deps = systems.connection(MAIN), systems.deps(table)
    run_to_end(setup_products.STEP, connection, deps)
    variants = [p["variants"][0] for p in systems.shopify.products(MAIN)]
    for n, variant in enumerate(variants):
        set_item(systems, variant, harmonizedSystemCode=f"69120{n}", cost=f"1{n}.00")
    real_put, puts = systems.peakwms_client.put, []

    def dying(path: str, body: Any = None) -> Any:
        puts.append(path)
        if len(puts) == 3:
            raise RetryableError("the container died here")
        return real_put(path, body)

    monkeypatch.setattr(systems.peakwms_client, "put", dying)
    state: dict[str, Any] = {}
    with pytest.raises(RetryableError):
        for _ in range(20):
            state = setup_customs.STEP.run_chunk(connection, deps, state).state
    # WHEN the runner resumes from the last state stored (after the first chunk)
    assert state["done"] == 2
    last, _ = run_to_end(setup_customs.STEP, connection, deps, state)
    # THEN every product has its code and cost, and the progress counts each variant once
    after = systems.peak_products()
    for n, variant in enumerate(variants):
        record = after[(str(variant["product_id"]), str(variant["id"]))]
        assert record["customsTariffs"] == [{"code": f"69120{n}"}]
        assert Decimal(str(record["costPricePiece"])) == Decimal(f"1{n}.00")
    assert (last.done, last.total) == (4, 4) and last.state["tally"]["counts"]["updated"] == 4
