"""Setup step 1, `fetch_products`, against the Shopify and PeakWMS simulators (docs/peakwms.md "Products"): the
main shop's catalogue into PeakWMS through one bulk export, the product webhooks subscribed, resumable after a
crash in the middle of a chunk; another shop's variants matched to the main shop's products by SKU."""

from __future__ import annotations

from typing import Any

import pytest
from peakwms_catalog_fakes import MAIN, OTHER, WEBHOOK_BASE, Systems, run_to_end, started

from crossdock.connectors.peakwms import products as peak_products
from crossdock.connectors.shopify import webhook_subscriptions
from crossdock.errors import RetryableError
from crossdock.integrations.peakwms_shopify import product_map, setup_products
from crossdock.integrations.peakwms_shopify.product_map import PeakKey


@pytest.fixture
def systems(monkeypatch: pytest.MonkeyPatch) -> Systems:
    return started(monkeypatch)


def skus(prefix: str, without: int | None = None) -> Any:
    return lambda i: None if i == without else f"{prefix}-{i:03d}"


def test_the_main_shop_fetch_puts_every_variant_into_peakwms_and_subscribes_the_product_webhooks(
    systems: Systems, table: Any
) -> None:
    # GIVEN a main shop of 12 variants in 4 products, variant 5 without SKU, and an empty PeakWMS
    systems.shopify.seed_catalog(MAIN, 12, variants_per_product=3, sku=skus("NH", without=5))
    connection = systems.connection(MAIN)
    # WHEN the step runs to its end
    last, chunks = run_to_end(setup_products.STEP, connection, systems.deps(table))
    # THEN every variant with a SKU is a PeakWMS product keyed by the Shopify ids, named and branded by the vendor
    in_peakwms = systems.peak_products()
    assert len(in_peakwms) == 11
    for product in systems.shopify.products(MAIN):
        for variant in product["variants"]:
            record = in_peakwms.get((str(product["id"]), str(variant["id"])))
            if variant["sku"] is None:
                assert record is None
                continue
            assert record is not None and record["itemNumber"] == variant["sku"]
            assert record["brand"] == product["vendor"] and record["ean"] == variant["barcode"]
            assert record["description"] == f"{product['title']} - {variant['title']}"
    # AND the progress says done/total, and names the variant PeakWMS cannot hold
    assert (last.finished, last.done, last.total) == (True, 12, 12)
    assert "11 created" in last.note and "1 without SKU" in last.note
    assert last.state["tally"]["named"]["no_sku"] == [str(systems.shopify.products(MAIN)[1]["variants"][2]["id"])]
    # AND the SKU map of the PeakWMS account names each product
    first = systems.shopify.products(MAIN)[0]["variants"][0]
    assert product_map.sku_targets(table, connection.peakwms_account, ["NH-000"]) == {
        "NH-000": PeakKey(str(first["product_id"]), str(first["id"]))
    }
    # AND the shop sends its product webhooks to this kind's address
    shopify = systems.shopify_admin(connection)
    subscribed = {s.topic for s in webhook_subscriptions.subscriptions(shopify) if s.uri.startswith(WEBHOOK_BASE)}
    assert subscribed == {"products/create", "products/update", "products/delete"}
    assert chunks[0].note.startswith("subscribed")
    # AND the catalogue cost a handful of Shopify calls, whatever its size
    assert shopify.calls <= 10


def test_with_suppliers_from_vendor_the_vendor_becomes_a_supplier_not_the_brand(systems: Systems, table: Any) -> None:
    systems.shopify.seed_catalog(MAIN, 2, variants_per_product=1, sku=skus("SUP"))
    connection = systems.connection(MAIN, create_suppliers_from_vendor=True)
    run_to_end(setup_products.STEP, connection, systems.deps(table))
    vendor = systems.shopify.products(MAIN)[0]["vendor"]
    record = next(iter(systems.peak_products().values()))
    assert record.get("brand") in (None, "") and record["vendors"] == [{"name": vendor, "vendorName": vendor}]


def test_a_crash_in_the_middle_of_a_chunk_resumes_from_the_saved_state_without_duplicates(
    systems: Systems, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN chunks of 4 variants over 10 variants, and PeakWMS's write failing on the 7th variant
    monkeypatch.setattr(setup_products, "CHUNK", 4)
    systems.shopify.seed_catalog(MAIN, 10, variants_per_product=2, sku=skus("CR"))
    connection, deps = systems.connection(MAIN), systems.deps(table)
    real_upsert, writes = peak_products.upsert_product, []

    def crashing(*args: Any, **kwargs: Any) -> Any:
        writes.append(1)
        if len(writes) == 7:
            raise RetryableError("the container died here")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(peak_products, "upsert_product", crashing)
    state: dict[str, Any] = {}
    with pytest.raises(RetryableError):
        for _ in range(20):
            state = setup_products.STEP.run_chunk(connection, deps, state).state
    # WHEN the runner resumes from the last state it stored (the first chunk's)
    assert state["done"] == 4 and len(systems.peak_products()) == 6  # two of the second chunk were written
    last, _ = run_to_end(setup_products.STEP, connection, deps, state)
    # THEN every variant is in PeakWMS once, and the progress counts each once
    assert len(systems.peak_products()) == 10 and len(systems.warehouse.sim.products("nordlager")) == 10
    assert (last.done, last.total) == (10, 10)
    counts = last.state["tally"]["counts"]
    assert counts["created"] + counts["updated"] == 10 and counts["created"] >= 8


def test_another_shop_matches_its_variants_to_the_main_shops_products_by_sku(systems: Systems, table: Any) -> None:
    # GIVEN the main shop fetched into PeakWMS, and a second shop selling 3 of its SKUs, one unknown SKU and one
    # variant without SKU
    systems.shopify.seed_catalog(MAIN, 6, variants_per_product=3, sku=skus("SH"))
    run_to_end(setup_products.STEP, systems.connection(MAIN), systems.deps(table))
    before = systems.peak_products()
    other_skus = ["SH-000", "SH-004", "SH-005", "SE-ONLY", None]
    systems.shopify.seed_catalog(OTHER, 5, variants_per_product=1, sku=lambda i: other_skus[i])
    other = systems.connection(OTHER)
    # WHEN its step runs
    last, _ = run_to_end(setup_products.STEP, other, systems.deps(table))
    # THEN nothing is written to PeakWMS, and each matched variant names the main shop's product
    assert systems.peak_products() == before
    main_by_sku = {p["itemNumber"]: PeakKey(p["productId"], p["variantId"]) for p in before.values()}
    for product in systems.shopify.products(OTHER):
        variant = product["variants"][0]
        found = product_map.peak_product_for(table, other, str(product["id"]), str(variant["id"]))
        assert found == main_by_sku.get(variant["sku"])
    # AND the variants without a match are reported
    assert "3 matched by SKU" in last.note and "1 without a main-shop product of their SKU" in last.note
    assert "1 without SKU" in last.note and "(SE-ONLY)" in last.note
