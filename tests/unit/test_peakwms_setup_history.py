"""Setup step 4, `stock_and_history`, against the Shopify and PeakWMS simulators (docs/peakwms.md "Stock and sales
history"): the sold quantities per variant and day since the start date into PeakWMS's sales history, then the
shop's available stock set to PeakWMS's unreserved stock."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from peakwms_catalog_fakes import MAIN, OTHER, Systems, run_to_end, started

from crossdock.connectors.peakwms import stock as peak_stock
from crossdock.connectors.shopify import inventory
from crossdock.errors import RetryableError
from crossdock.integrations.peakwms_shopify import setup_history, setup_products

CUSTOMER = "nordlager"


@pytest.fixture
def systems(monkeypatch: pytest.MonkeyPatch) -> Systems:
    return started(monkeypatch)


def place_order(
    systems: Systems, shop: str, order_fixture: dict[str, Any], lines: list[tuple[dict[str, Any], int]], **fields: Any
) -> dict[str, Any]:
    """Shopify's example order with its line items replaced by `lines` (variant, quantity) of the shop's catalogue."""
    order = copy.deepcopy(order_fixture)
    template = order["line_items"][0]
    order["line_items"] = []
    for n, (variant, quantity) in enumerate(lines):
        item = copy.deepcopy(template)
        item.update(
            id=7_000_000 + n,
            variant_id=variant["id"],
            product_id=variant["product_id"],
            sku=variant["sku"],
            quantity=quantity,
            current_quantity=quantity,
        )
        order["line_items"].append(item)
    order.update({"cancelled_at": None, "test": False, **fields})
    placed: dict[str, Any] = systems.shopify.create_order(shop, order)
    return placed


def available(systems: Systems, shop: str, sku: str) -> int | None:
    admin = systems.shopify_admin(systems.connection(shop))
    location = inventory.primary_location(admin)
    levels = inventory.levels_for_skus(admin, [sku], location)
    return levels[0].quantities.get("available") if levels else None


@pytest.fixture
def order_fixture(shopify_payload: Any) -> dict[str, Any]:
    found: dict[str, Any] = shopify_payload("2025-01/order_0.json")
    order: dict[str, Any] = found.get("order", found)
    return order


def test_sold_quantities_per_day_reach_peakwms_and_the_shop_gets_peakwms_stock(
    systems: Systems, table: Any, order_fixture: dict[str, Any]
) -> None:
    # GIVEN a main shop of 3 variants fetched into PeakWMS, stock 5 each in the shop
    systems.shopify.seed_catalog(MAIN, 3, variants_per_product=1, sku=lambda i: f"HI-{i}", stock=lambda i: 5)
    connection, deps = systems.connection(MAIN), systems.deps(table)
    run_to_end(setup_products.STEP, connection, deps)
    a, b, c = (p["variants"][0] for p in systems.shopify.products(MAIN))
    # AND orders: A twice (2 + 1) and B once, a cancelled order of C and a test order of C
    first = place_order(systems, MAIN, order_fixture, [(a, 2), (b, 1)])
    place_order(systems, MAIN, order_fixture, [(a, 1)])
    place_order(systems, MAIN, order_fixture, [(c, 4)], cancelled_at=first["created_at"])
    place_order(systems, MAIN, order_fixture, [(c, 9)], test=True)
    # AND the warehouse has 12 of A and 3 of C on its shelves
    systems.warehouse.sim.receive_stock(CUSTOMER, str(a["product_id"]), str(a["id"]), 12)
    systems.warehouse.sim.receive_stock(CUSTOMER, str(c["product_id"]), str(c["id"]), 3)
    # WHEN the step runs with the default start date (a year back)
    last, chunks = run_to_end(setup_history.STEP, connection, deps)
    # THEN PeakWMS has one row per variant and day sold (the UTC day), cancelled and test orders left out
    day = datetime.fromisoformat(first["created_at"]).astimezone(UTC).date().isoformat()
    rows = {
        (r["productId"], r["variantId"], r["date"]): r["quantity"]
        for r in systems.warehouse.sim.sales_history(CUSTOMER)
    }
    assert rows == {(str(a["product_id"]), str(a["id"]), day): 3, (str(b["product_id"]), str(b["id"]), day): 1}
    assert any("2 orders since" in chunk.note for chunk in chunks)
    # AND the shop's available stock is PeakWMS's (none of B in the warehouse: none to sell)
    assert [available(systems, MAIN, f"HI-{i}") for i in range(3)] == [12, 0, 3]
    assert last.finished and "3 set in Shopify" in last.note


def test_a_start_date_of_today_skips_the_history_but_not_the_stock(
    systems: Systems, table: Any, order_fixture: dict[str, Any]
) -> None:
    systems.shopify.seed_catalog(MAIN, 1, variants_per_product=1, sku=lambda i: "TODAY-1", stock=lambda i: 0)
    today = systems.shopify.now().date()
    connection, deps = systems.connection(MAIN, history={"start_date": today.isoformat()}), systems.deps(table)
    run_to_end(setup_products.STEP, connection, deps)
    variant = systems.shopify.products(MAIN)[0]["variants"][0]
    place_order(systems, MAIN, order_fixture, [(variant, 1)])
    systems.warehouse.sim.receive_stock(CUSTOMER, str(variant["product_id"]), str(variant["id"]), 7)
    last, chunks = run_to_end(setup_history.STEP, connection, deps)
    assert "no sales history" in chunks[0].note and systems.warehouse.sim.sales_history(CUSTOMER) == []
    assert available(systems, MAIN, "TODAY-1") == 7 and last.finished


def test_another_shops_sales_are_recorded_on_the_main_shops_products(
    systems: Systems, table: Any, order_fixture: dict[str, Any]
) -> None:
    # GIVEN the main shop fetched, and a second shop selling its SKU HS-1 and a SKU of its own
    systems.shopify.seed_catalog(MAIN, 2, variants_per_product=1, sku=lambda i: f"HS-{i}")
    run_to_end(setup_products.STEP, systems.connection(MAIN), systems.deps(table))
    systems.shopify.seed_catalog(OTHER, 2, variants_per_product=1, sku=lambda i: ["HS-1", "SE-9"][i])
    other, deps = systems.connection(OTHER), systems.deps(table)
    run_to_end(setup_products.STEP, other, deps)
    theirs, own = (p["variants"][0] for p in systems.shopify.products(OTHER))
    place_order(systems, OTHER, order_fixture, [(theirs, 2), (own, 5)])
    # WHEN its history is fetched
    _, chunks = run_to_end(setup_history.STEP, other, deps)
    # THEN the sale of HS-1 is recorded on the main shop's variant, the unmatched one counted
    main_variant = systems.shopify.products(MAIN)[1]["variants"][0]
    rows = systems.warehouse.sim.sales_history(CUSTOMER)
    assert [(r["productId"], r["variantId"], r["quantity"]) for r in rows] == [
        (str(main_variant["product_id"]), str(main_variant["id"]), 2)
    ]
    assert any("1 without a PeakWMS product" in chunk.note for chunk in chunks)


def test_a_crash_while_sending_resumes_from_the_saved_row_and_stock_positions(
    systems: Systems, table: Any, order_fixture: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 4 variants sold and stocked, chunks of 2 history rows and 1 stock row, and PeakWMS's third call dying
    monkeypatch.setattr(peak_stock, "HISTORY_BATCH", 2)
    monkeypatch.setattr(setup_history, "HISTORY_CALLS", 1)
    monkeypatch.setattr(setup_history, "BATCH", 1)
    monkeypatch.setattr(setup_history, "STOCK_BATCHES", 1)
    systems.shopify.seed_catalog(MAIN, 4, variants_per_product=1, sku=lambda i: f"RS-{i}", stock=lambda i: 0)
    connection, deps = systems.connection(MAIN), systems.deps(table)
    run_to_end(setup_products.STEP, connection, deps)
    variants = [p["variants"][0] for p in systems.shopify.products(MAIN)]
    place_order(systems, MAIN, order_fixture, [(v, n + 1) for n, v in enumerate(variants)])
    for n, variant in enumerate(variants):
        systems.warehouse.sim.receive_stock(CUSTOMER, str(variant["product_id"]), str(variant["id"]), 10 + n)
    real_post, posts = systems.peakwms_client.post, []

    def dying(path: str, body: Any) -> Any:
        posts.append(path)
        if len(posts) == 2:
            raise RetryableError("the container died here")
        return real_post(path, body)

    monkeypatch.setattr(systems.peakwms_client, "post", dying)
    state: dict[str, Any] = {}
    with pytest.raises(RetryableError):
        for _ in range(20):
            state = setup_history.STEP.run_chunk(connection, deps, state).state
    # WHEN the runner resumes from the last state it stored
    assert state["sent"] == 2
    last, _ = run_to_end(setup_history.STEP, connection, deps, state)
    # THEN every variant-day is in PeakWMS once with its quantity, and the shop has PeakWMS's stock
    rows = sorted((r["variantId"], r["quantity"]) for r in systems.warehouse.sim.sales_history(CUSTOMER))
    assert rows == sorted((str(v["id"]), n + 1) for n, v in enumerate(variants))
    assert [available(systems, MAIN, f"RS-{n}") for n in range(4)] == [10, 11, 12, 13]
    assert last.finished and last.state["stock"]["set"] == 4
