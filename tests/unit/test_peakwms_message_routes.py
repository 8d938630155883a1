"""PeakWMS's stock, EAN and purchase-order messages → Shopify writes through the route handlers (issue 16, item 2
step 5): each message as the PeakWMS simulator sends it to the address setup step 5 registered, Crossdock's real
clients, both simulators in process and the table in moto (`peakwms_message_fakes`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from peakwms_fakes import CUSTOMER
from peakwms_message_fakes import SHOP, World, make_world

from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.shapes import ProductDraft
from crossdock.connectors.shopify import inventory_items
from crossdock.store import events, keys
from crossdock.store.events import EventStatus


@pytest.fixture(autouse=True)
def metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    # Finished events are counted (Powertools metrics), which needs a namespace.
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    yield make_world(table, shopify_payload("2025-01/order_0.json")["order"])


def _key(variant: dict[str, Any]) -> tuple[str, str]:
    return str(variant["product_id"]), str(variant["id"])


def test_a_stock_adjustment_sets_the_shops_available_quantity_once(world: World) -> None:
    """GIVEN a variant the shop has 2 of and PeakWMS none WHEN PeakWMS receives 7 and its 100 arrives, and arrives
    again THEN the shop's available is 7 (PeakWMS's total, nothing reserved) and the repeat changes nothing."""
    variant = world.product("MUG-1", available=2)
    world.warehouse.sim.receive_stock(CUSTOMER, *_key(variant), 7)
    (adjusted,) = world.of("stock_adjust")

    first = world.handle("stock_adjust", adjusted)
    again = world.handle("stock_adjust", adjusted)

    assert first.status is EventStatus.DONE, first.reason
    assert "available at gid://shopify/Location/" in first.reason and "set to 7" in first.reason
    assert world.available("MUG-1") == 7
    assert again.status is EventStatus.SKIPPED and "is 7 already" in again.reason


def test_an_older_total_delivered_after_a_newer_one_never_wins(world: World) -> None:
    """GIVEN PeakWMS received 10 (a 100 of total 10) and then counted 4 away (a 100 of total 6) WHEN the newer
    message is handled first and the older one after it THEN the shop shows 6 and keeps 6: the late message reads
    PeakWMS's current stock and says its own total is no longer PeakWMS's."""
    variant = world.product("MUG-2")
    world.warehouse.sim.receive_stock(CUSTOMER, *_key(variant), 10)
    world.warehouse.sim.adjust_stock(CUSTOMER, *_key(variant), -4)
    older, newer = world.of("stock_adjust")
    assert (older["quantity"], newer["quantity"]) == (10, 6)

    first = world.handle("stock_adjust", newer)
    late = world.handle("stock_adjust", older)

    assert first.status is EventStatus.DONE and world.available("MUG-2") == 6
    assert late.status is EventStatus.SKIPPED
    assert "this message said 10, PeakWMS has 6 now" in late.reason
    assert world.available("MUG-2") == 6


def test_a_sale_between_the_reads_is_not_overwritten_blindly(world: World) -> None:
    """GIVEN the shop sells one unit after PeakWMS's 100 was sent WHEN the message is handled THEN the shop is set
    to PeakWMS's unreserved stock by compare-and-set against the level read just before: 5."""
    variant = world.product("MUG-3", available=9)
    world.warehouse.sim.receive_stock(CUSTOMER, *_key(variant), 5)
    (adjusted,) = world.of("stock_adjust")
    world.shopify_sim.set_available(SHOP, int(variant["inventory_item_id"]), 8)

    outcome = world.handle("stock_adjust", adjusted)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert world.available("MUG-3") == 5


def test_a_switched_off_stock_message_is_skipped_and_writes_nothing(world: World) -> None:
    """GIVEN `messages.stock_adjustments` off WHEN a 100 arrives THEN the event ends skipped "message switched off"
    and the shop's quantity stays."""
    variant = world.product("MUG-4", available=3)
    world.warehouse.sim.receive_stock(CUSTOMER, *_key(variant), 50)
    (adjusted,) = world.of("stock_adjust")

    outcome = world.handle("stock_adjust", adjusted, messages={"stock_adjustments": False})

    assert outcome.status is EventStatus.SKIPPED
    assert outcome.reason == "message switched off (messages.stock_adjustments)"
    assert world.available("MUG-4") == 3


def test_an_ean_update_sets_the_variants_barcode(world: World) -> None:
    """GIVEN a main-shop variant in PeakWMS WHEN its EAN is changed there and the 101 arrives THEN the Shopify
    variant's barcode is the new EAN."""
    variant = world.product("MUG-5")
    world.warehouse.sim.change_ean(CUSTOMER, *_key(variant), "5701234567892")
    (changed,) = world.of("ean_updates")

    outcome = world.handle("ean_updates", changed)

    assert outcome.status is EventStatus.DONE, outcome.reason
    (product,) = [p for p in world.shopify_sim.products(SHOP) if p["id"] == variant["product_id"]]
    assert product["variants"][0]["barcode"] == "5701234567892"


def test_a_closed_purchase_order_sets_the_cost_and_tells_the_erp_connection_of_the_shop(world: World) -> None:
    """GIVEN a rackbeat_shopify connection on the same shop and both purchase-order messages on WHEN PeakWMS
    closes a purchase order with an average cost of 12.40 and its 103 arrives THEN the inventory item's cost is
    12.40, and the ERP connection's event log has one done `peakwms/purchase_order_closed` event carrying the
    purchase order — once, however often the 103 is handled."""
    variant = world.product("MUG-6")
    world.ports.table.put_item(
        Item={"pk": keys.claim_pk("rackbeat_shopify", "shopify", SHOP), "sk": keys.META, "connection_id": "c-erp"}
    )
    key = _key(variant)
    world.warehouse.sim.close_purchase_order(
        CUSTOMER, [{"productId": key[0], "variantId": key[1], "quantity": 24}], {key: 12.40}
    )
    (closed,) = world.of("inbound_order_closed")

    outcome = world.handle("inbound_order_closed", closed)
    world.handled -= 1  # the same event again (a redelivery): same event id
    world.handle("inbound_order_closed", closed)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert "recorded on c-erp" in outcome.reason and "nothing written to Rackbeat" in outcome.reason
    (item,) = inventory_items.inventory_items(world.peakwms_shopify, [variant["inventory_item_id"]])
    assert item.cost == Decimal("12.40")
    (erp_event,) = events.list_events(world.ports.table, "c-erp")
    assert erp_event["topic"] == "peakwms/purchase_order_closed" and erp_event["status"] == "done"
    sent = json.loads(events.with_payload(erp_event)["payload"])
    assert sent["purchase_order_number"] == closed["purchaseOrderNumber"] and sent["purchase_order"] == closed


def test_a_purchase_order_with_both_its_messages_off_is_skipped(world: World) -> None:
    """GIVEN the default settings (average cost and purchase order closed off) WHEN a 103 arrives THEN it ends
    skipped "message switched off" and the cost stays unset."""
    variant = world.product("MUG-7")
    key = _key(variant)
    world.warehouse.sim.close_purchase_order(
        CUSTOMER, [{"productId": key[0], "variantId": key[1], "quantity": 1}], {key: 3.0}
    )
    (closed,) = world.of("inbound_order_closed")

    outcome = world.handle("inbound_order_closed", closed, messages={})

    assert outcome.status is EventStatus.SKIPPED and outcome.reason.startswith("message switched off")
    (item,) = inventory_items.inventory_items(world.peakwms_shopify, [variant["inventory_item_id"]])
    assert item.cost in (None, Decimal("0"), Decimal("0.00"))


def test_another_shop_of_the_account_sets_its_own_variant_found_by_sku(world: World) -> None:
    """GIVEN a shop that is not the main shop, selling SKU MUG-8 from a PeakWMS product keyed by the main shop's
    ids (which this shop does not have) WHEN PeakWMS's 100 and 101 of that product arrive THEN this shop's variant
    carrying MUG-8 gets PeakWMS's quantity and the new EAN."""
    made = world.shopify_sim.create_product(SHOP, {"title": "Mug", "variants": [{"sku": "MUG-8"}]}, emit=False)
    main_keys = ("9100000000001", "9100000000002")
    upsert_product(world.peakwms, ProductDraft(*main_keys, item_number="MUG-8"))
    world.warehouse.sim.receive_stock(CUSTOMER, *main_keys, 4)
    world.warehouse.sim.change_ean(CUSTOMER, *main_keys, "5701234567809")
    sent = world.delivered()
    (adjusted,) = [body for name, body in sent if name == "stock_adjust"]
    (changed,) = [body for name, body in sent if name == "ean_updates"]

    stock = world.handle("stock_adjust", adjusted, main_shop=False)
    ean = world.handle("ean_updates", changed, main_shop=False)

    assert stock.status is EventStatus.DONE and ean.status is EventStatus.DONE, (stock.reason, ean.reason)
    assert world.available("MUG-8") == 4
    (product,) = [p for p in world.shopify_sim.products(SHOP) if p["id"] == made["id"]]
    assert product["variants"][0]["barcode"] == "5701234567809"
