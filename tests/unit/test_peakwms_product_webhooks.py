"""Shopify's product webhooks on a peakwms_shopify connection (`product_webhooks.ROUTES`), against the PeakWMS
simulator: the main shop's products upserted and deleted in PeakWMS, an older update never over a newer one, and
another shop's variants bound by SKU (docs/peakwms.md "Products")."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pytest
from peakwms_catalog_fakes import MAIN, OTHER, Clients, Systems, started

from crossdock.integrations.peakwms_shopify import product_map, product_webhooks
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.product_map import PeakKey
from crossdock.ports import InboundEvent
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome


@pytest.fixture
def systems(monkeypatch: pytest.MonkeyPatch) -> Systems:
    return started(monkeypatch)


@dataclass
class Ports:
    table: Any
    clients: Any


def deliver(
    systems: Systems,
    table: Any,
    connection: PeakwmsShopifyConnection,
    topic: str,
    body: dict[str, Any],
    received_at: str = "2026-12-07T12:00:00Z",
) -> Outcome:
    event = InboundEvent(connection, "shopify", topic, json.dumps(body), f"EVT#{received_at}#1", received_at)
    route = next(r for r in product_webhooks.ROUTES if r.source == "shopify" and topic in r.topics)
    return route.handle(event, Ports(table, Clients(systems)))  # type: ignore[arg-type]


def test_a_created_product_becomes_one_peakwms_product_per_variant(
    systems: Systems, table: Any, fixture_product: dict[str, Any]
) -> None:
    # GIVEN Shopify's example product (several variants with SKUs, vendor Apple)
    outcome = deliver(systems, table, systems.connection(MAIN), "products/create", fixture_product)
    # THEN each variant is in PeakWMS under the Shopify ids, with its SKU, barcode and the vendor as brand
    assert outcome.status is EventStatus.DONE, outcome.reason
    in_peakwms = systems.peak_products()
    variants = [v for v in fixture_product["variants"] if v.get("sku")]
    assert len(in_peakwms) == len(variants) and f"{len(variants)} created" in outcome.reason
    for variant in variants:
        record = in_peakwms[(str(fixture_product["id"]), str(variant["id"]))]
        assert (record["itemNumber"], record["ean"], record["brand"]) == (variant["sku"], variant["barcode"], "Apple")


def test_an_update_changes_the_products_and_deletes_the_variant_shopify_no_longer_has(
    systems: Systems, table: Any, fixture_product: dict[str, Any]
) -> None:
    connection = systems.connection(MAIN)
    deliver(systems, table, connection, "products/create", fixture_product)
    # GIVEN a later update: one variant removed, the title changed
    update = copy.deepcopy(fixture_product)
    removed = update["variants"].pop()
    update["title"], update["updated_at"] = "IPod Nano - 16GB", "2025-01-03T09:00:00-05:00"
    outcome = deliver(systems, table, connection, "products/update", update)
    # THEN PeakWMS follows: the removed variant is gone, the others renamed
    in_peakwms = systems.peak_products()
    assert (str(update["id"]), str(removed["id"])) not in in_peakwms and "1 deleted" in outcome.reason
    assert all(p["description"].startswith("IPod Nano - 16GB") for p in in_peakwms.values())
    assert product_map.sku_targets(table, connection.peakwms_account, [removed["sku"]]) == {}


def test_an_older_update_delivered_after_a_newer_one_is_skipped(
    systems: Systems, table: Any, fixture_product: dict[str, Any]
) -> None:
    connection = systems.connection(MAIN)
    newer = copy.deepcopy(fixture_product)
    newer["title"], newer["updated_at"] = "Newer title", "2025-01-05T10:00:00-05:00"
    older = copy.deepcopy(fixture_product)
    older["title"], older["updated_at"] = "Older title", "2025-01-04T10:00:00-05:00"
    # WHEN Shopify delivers the newer update first and the older one after it (and the newer one twice)
    assert deliver(systems, table, connection, "products/update", newer).status is EventStatus.DONE
    late = deliver(systems, table, connection, "products/update", older)
    repeat = deliver(systems, table, connection, "products/update", newer)
    # THEN the older one is skipped, and PeakWMS keeps the newer title
    assert late.status is EventStatus.SKIPPED and "older than what PeakWMS has" in late.reason
    assert repeat.status is EventStatus.DONE
    assert {p["description"].split(" - ")[0] for p in systems.peak_products().values()} == {"Newer title"}


def test_a_deleted_product_leaves_peakwms_and_an_update_sent_before_it_stays_out(
    systems: Systems, table: Any, fixture_product: dict[str, Any]
) -> None:
    connection = systems.connection(MAIN)
    deliver(systems, table, connection, "products/create", fixture_product)
    deleted = deliver(
        systems, table, connection, "products/delete", {"id": fixture_product["id"]}, "2025-02-01T00:00:00Z"
    )
    assert deleted.status is EventStatus.DONE and systems.peak_products() == {}
    # a products/update Shopify sent before the deletion, delivered after it
    late = deliver(systems, table, connection, "products/update", fixture_product, "2025-02-01T00:05:00Z")
    assert late.status is EventStatus.SKIPPED and systems.peak_products() == {}
    again = deliver(systems, table, connection, "products/delete", {"id": fixture_product["id"]})
    assert again.status is EventStatus.SKIPPED


def test_another_shops_product_is_bound_by_sku_and_an_unknown_sku_needs_attention(
    systems: Systems, table: Any, fixture_product: dict[str, Any]
) -> None:
    # GIVEN the main shop's product in PeakWMS
    main, other = systems.connection(MAIN), systems.connection(OTHER)
    deliver(systems, table, main, "products/create", fixture_product)
    before = systems.peak_products()
    # WHEN the other shop sells the same SKUs under its own ids, one variant with a SKU the main shop lacks
    theirs = copy.deepcopy(fixture_product)
    theirs["id"] = 9_100_000_001
    for n, variant in enumerate(theirs["variants"]):
        variant["id"], variant["product_id"] = 9_200_000_000 + n, theirs["id"]
    theirs["variants"][-1]["sku"] = "SE-ONLY-1"
    outcome = deliver(systems, table, other, "products/create", theirs)
    # THEN PeakWMS is unchanged, the known SKUs are bound to the main shop's variants, the unknown one named
    assert systems.peak_products() == before
    first = theirs["variants"][0]
    expected = PeakKey(str(fixture_product["id"]), str(fixture_product["variants"][0]["id"]))
    assert product_map.peak_product_for(table, other, str(theirs["id"]), str(first["id"])) == expected
    assert outcome.status is EventStatus.NEEDS_ATTENTION and "sku" in outcome.reason and "SE-ONLY-1" in outcome.reason
    # AND its deletion removes the bindings
    gone = deliver(systems, table, other, "products/delete", {"id": theirs["id"]})
    assert gone.status is EventStatus.DONE
    assert product_map.peak_product_for(table, other, str(theirs["id"]), str(first["id"])) is None
    assert product_map.bound_variants(table, other.id, str(theirs["id"])) == []


def test_a_payload_without_a_product_id_needs_attention_naming_it(systems: Systems, table: Any) -> None:
    outcome = deliver(systems, table, systems.connection(MAIN), "products/update", {"title": "no id"})
    assert outcome.status is EventStatus.NEEDS_ATTENTION and "id" in outcome.reason
