"""Initial sync (SPEC §1.2): the shop's catalog and stock into Rackbeat once, through a bulk export.

Runs the real workflow (Step Functions on the embedded stack) against a seeded Shopify catalog. The chunk size is
lowered so a few hundred variants cross several chunks, and faults are injected to show resume without duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from crossdock.integrations.rackbeat_shopify import initial_sync
from crossdock.operations.errors import Refused
from crossdock_local.sims.base import Faults

VARIANTS = 240


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(initial_sync, "CHUNK", 50)
    yield


def sku_of(index: int) -> str | None:
    if index % 40 == 7:
        return None  # a variant without SKU
    if index % 60 == 11:
        return "CAT-00005"  # a SKU also used by variant 5
    return f"CAT-{index:05d}"


def stock_of(index: int) -> int:
    return 0 if index % 10 == 0 else index % 23


def syncing_merchant(merchant_with: Any) -> Any:
    merchant = merchant_with(
        initial_sync="enabled",
        product_sync={"master": "none", "default_product_group": 10},
        fulfillment={},
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 10, "Import"),
    )
    merchant.stack.shopify.seed_catalog(merchant.domain, VARIANTS, variants_per_product=3, stock=stock_of, sku=sku_of)
    return merchant


def expected_items() -> dict[str, int]:
    items: dict[str, int] = {}
    for index in range(VARIANTS):
        sku = sku_of(index)
        if sku and sku not in items:
            items[sku] = stock_of(index)
    return items


def test_the_catalog_and_its_stock_arrive_once(merchant_with: Any) -> None:
    merchant = syncing_merchant(merchant_with)
    merchant.stack.start_initial_sync(merchant.connection)
    merchant.stack.settle()
    progress = merchant.stack.initial_sync_progress(merchant.connection)
    assert progress is not None
    expected = expected_items()
    assert progress["status"] == "done"
    assert (progress["done"], progress["total"]) == (VARIANTS, VARIANTS)
    assert progress["created"] == len(expected)
    assert progress["skipped"] == VARIANTS - len(expected)
    state = merchant.stack.rackbeat.state(merchant.account)
    for sku, quantity in expected.items():
        assert state.products[sku]["group"]["number"] == 10
        assert merchant.stack.rackbeat.product_stock(merchant.account, sku, "L1") == Decimal(quantity), sku


def test_it_runs_once_and_only_when_enabled(merchant_with: Any) -> None:
    merchant = syncing_merchant(merchant_with)
    started = merchant.stack.start_initial_sync(merchant.connection)
    assert "can no longer be deleted or converted to BOMs" in started["warning"]
    with pytest.raises(Refused, match="the initial sync runs once"):
        merchant.stack.start_initial_sync(merchant.connection)
    disabled = merchant_with(initial_sync="disabled")
    with pytest.raises(Refused, match="initial_sync is disabled"):
        disabled.stack.start_initial_sync(disabled.connection)


def test_it_resumes_after_failures_without_duplicates(merchant_with: Any) -> None:
    # GIVEN Rackbeat fails 20 % of calls and loses 20 % of write responses after committing them
    merchant = syncing_merchant(merchant_with)
    merchant.stack.rackbeat.faults = Faults(server_error_rate=0.2, drop_response_rate=0.2, seed=4)
    merchant.stack.start_initial_sync(merchant.connection)
    merchant.stack.settle()
    merchant.stack.rackbeat.faults = Faults()
    # THEN it finished, every item exists once with its stock registered once
    progress = merchant.stack.initial_sync_progress(merchant.connection)
    assert progress is not None and progress["status"] == "done"
    state = merchant.stack.rackbeat.state(merchant.account)
    for sku, quantity in expected_items().items():
        assert merchant.stack.rackbeat.product_stock(merchant.account, sku, "L1") == Decimal(quantity), sku
    booked = [a for a in state.adjustments.values() if a["is_booked"]]
    assert len({a["reason"] for a in booked}) == len(booked)  # never a second adjustment for one chunk


def test_items_already_holding_stock_in_rackbeat_keep_it(merchant_with: Any) -> None:
    merchant = syncing_merchant(merchant_with)
    merchant.stack.rackbeat.seed_product(merchant.account, "CAT-00001", "Existing", "10", location_stock={"L1": 99})
    merchant.stack.start_initial_sync(merchant.connection)
    merchant.stack.settle()
    assert merchant.stack.rackbeat.product_stock(merchant.account, "CAT-00001", "L1") == Decimal(99)
    progress = merchant.stack.initial_sync_progress(merchant.connection)
    assert progress is not None and progress["existing"] == 1
