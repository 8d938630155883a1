"""Stock from Rackbeat to the shop (SPEC §1.3 `stock_sync`), end to end on the embedded stack.

Rackbeat changes are made the way a warehouse makes them (a booked inventory adjustment, which sends Rackbeat's
stock webhook); the shop's quantities are read back from the Shopify simulator.
"""

from __future__ import annotations

import random
from typing import Any
from unittest import mock

from crossdock import services
from crossdock_local.stack import LocalStack

SKU = "SKU-001"


def stock_merchant(merchant_with: Any, **stock_sync: Any) -> Any:
    merchant = merchant_with(stock_sync={"enabled": True, **stock_sync})
    return merchant


def test_a_stock_change_in_rackbeat_sets_the_shop_quantity(merchant_with: Any) -> None:
    # GIVEN a shop selling SKU-001 with 3 available, and 10,000 of it in Rackbeat's location L1
    merchant = stock_merchant(merchant_with)
    merchant.shop_product(SKU, available=3)
    # WHEN the warehouse counts it to 42
    merchant.stack.rackbeat.set_stock(merchant.account, SKU, 42, "L1")
    merchant.stack.settle()
    # THEN the shop sells exactly 42, and the event log says so
    assert merchant.shop_quantities(SKU, "available") == [42]
    stock_events = [e for e in merchant.events() if e["topic"] == "product.stock_changed"]
    assert stock_events and all(e["status"] == "done" for e in stock_events)


def test_available_subtracts_open_orders_and_in_stock_sets_on_hand(merchant_with: Any) -> None:
    # GIVEN 10 in Rackbeat, of which 4 are reserved by a booked, unshipped order
    for quantity_setting, shopify_name, expected in (("available", "available", 6), ("in_stock", "on_hand", 10)):
        merchant = stock_merchant(merchant_with, quantity=quantity_setting)
        merchant.shop_product(SKU, available=0)
        merchant.stack.rackbeat.set_stock(merchant.account, SKU, 10, "L1")
        merchant.book_rackbeat_order(SKU, 4, location="L1")
        # WHEN the stock changes
        merchant.stack.rackbeat.adjust_stock(merchant.account, SKU, 0 + 1, "L1")
        merchant.stack.rackbeat.adjust_stock(merchant.account, SKU, -1, "L1")
        merchant.stack.settle()
        # THEN `available` shows on hand minus open orders, `in_stock` sets the shop's on-hand quantity
        assert merchant.shop_quantities(SKU, shopify_name) == [expected], quantity_setting


def test_all_locations_are_summed_unless_one_is_chosen(merchant_with: Any) -> None:
    merchant = merchant_with(
        stock_sync={"enabled": True, "quantity": "in_stock"}, fulfillment={"rackbeat_location": None}
    )
    merchant.stack.rackbeat.seed_location(merchant.account, "L2", "Lager Aarhus")
    merchant.shop_product(SKU, available=0)
    merchant.stack.rackbeat.set_stock(merchant.account, SKU, 5, "L1")
    merchant.stack.rackbeat.set_stock(merchant.account, SKU, 7, "L2")
    merchant.stack.settle()
    assert merchant.shop_quantities(SKU, "on_hand") == [12]


def test_late_and_repeated_webhooks_never_let_an_old_quantity_win(merchant_with: Any) -> None:
    # GIVEN ten items whose stock changes several times
    merchant = stock_merchant(merchant_with)
    skus = [f"SKU-{n:03d}" for n in range(1, 11)]
    for sku in skus:
        merchant.shop_product(sku, available=0)
    rng = random.Random(3)
    for _ in range(4):
        for sku in skus:
            merchant.stack.rackbeat.set_stock(merchant.account, sku, rng.randrange(0, 500), "L1")
    merchant.stack.settle()
    # WHEN every webhook arrives again, twice, in shuffled order, long after the last change
    replays = merchant.stock_webhooks(skus) * 2
    rng.shuffle(replays)
    for url, headers, body in replays:
        assert merchant.stack.deliver_webhook(url, headers, body) == 200
    merchant.stack.settle()
    # THEN the shop shows Rackbeat's current quantity of every item
    for sku in skus:
        assert merchant.shop_quantities(sku, "available") == [merchant.rackbeat_available(sku, "L1")], sku


def test_a_burst_coalesces_into_one_mutation_per_250_items(merchant_with: Any) -> None:
    # GIVEN 300 items in the shop
    merchant = stock_merchant(merchant_with)
    skus = [f"BURST-{n:04d}" for n in range(300)]
    merchant.stack.seed_items(merchant.account, skus, stock=50)
    for sku in skus:
        merchant.shop_product(sku, available=0)
    before = merchant.stack.shopify.mutation_count("inventorySetQuantities")
    # WHEN 900 stock changes arrive for them at once
    # (the push is held back until all 900 are dispatched: on a slow machine dispatching them can take longer than
    # the push's 60 s hold limit, which then rightly pushes what it has; the test is about the coalescing)
    merchant.stack.aws.set_mapping_enabled("ShopifyPushFunction", False)
    rng = random.Random(9)
    for _ in range(3):
        for sku in skus:
            merchant.stack.rackbeat.adjust_stock(merchant.account, sku, rng.randrange(1, 5), "L1")
    merchant.stack.settle()
    assert merchant.stack.shopify.mutation_count("inventorySetQuantities") == before
    merchant.stack.aws.set_mapping_enabled("ShopifyPushFunction", True)
    merchant.stack.settle()
    # THEN ⌈300 / 250⌉ = 2 mutations set them all, to Rackbeat's quantities
    assert merchant.stack.shopify.mutation_count("inventorySetQuantities") - before == 2
    for sku in skus[::37]:
        assert merchant.shop_quantities(sku, "available") == [merchant.rackbeat_available(sku, "L1")]


def test_duplicate_skus_follow_the_setting(merchant_with: Any) -> None:
    for all_duplicates, expected in ((False, [17, 0]), (True, [17, 17])):
        merchant = stock_merchant(merchant_with, all_duplicate_skus=all_duplicates)
        merchant.shop_product(SKU, available=0)
        merchant.shop_product(SKU, available=0)
        merchant.stack.rackbeat.set_stock(merchant.account, SKU, 17, "L1")
        merchant.stack.settle()
        assert merchant.shop_quantities(SKU, "available") == expected
        problems = [e for e in merchant.events() if e["topic"] == "stock/push"]
        if all_duplicates:
            assert not problems
        else:
            assert problems[0]["status"] == "needs_attention"
            assert "2 variants share this SKU" in problems[0]["reason"]


def test_items_the_shop_does_not_have_are_reported_not_crashed(merchant_with: Any) -> None:
    merchant = stock_merchant(merchant_with)
    merchant.shop_product("SKU-002", available=0)
    merchant.stack.rackbeat.set_stock(merchant.account, SKU, 8, "L1")  # no such variant in the shop
    merchant.stack.rackbeat.set_stock(merchant.account, "SKU-002", 9, "L1")
    merchant.stack.settle()
    assert merchant.shop_quantities("SKU-002", "available") == [9]
    problems = [e for e in merchant.events() if e["topic"] == "stock/push"]
    assert [p["status"] for p in problems] == ["needs_attention"]
    assert "SKU-001: no variant with this SKU in the shop" in problems[0]["reason"]


def test_stock_sync_off_moves_nothing(merchant_with: Any) -> None:
    merchant = merchant_with(stock_sync={"enabled": False})
    merchant.shop_product(SKU, available=3)
    merchant.stack.rackbeat.set_stock(merchant.account, SKU, 42, "L1")
    merchant.stack.settle()
    assert merchant.shop_quantities(SKU, "available") == [3]


def test_every_shop_on_the_rackbeat_account_gets_the_change(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN two shops connected to one Rackbeat account
    first = stock_merchant(merchant_with)
    second = first.second_shop()
    for merchant in (first, second):
        merchant.shop_product(SKU, available=1)
    # WHEN the stock changes once in Rackbeat
    stack.rackbeat.set_stock(first.account, SKU, 33, "L1")
    stack.settle()
    # THEN both shops show it
    assert first.shop_quantities(SKU, "available") == [33]
    assert second.shop_quantities(SKU, "available") == [33]


def test_a_push_waits_for_the_quiet_itself_instead_of_asking_for_itself_again(merchant_with: Any) -> None:
    # GIVEN a shop selling SKU-001, and the shop's outbound queue watched
    merchant = stock_merchant(merchant_with)
    merchant.shop_product(SKU, available=3)
    sent: list[str] = []
    real = services.send_to_fifo

    def watched(queue_url: str, message: dict[str, Any], group: str, deduplication_id: str) -> None:
        sent.append(deduplication_id)
        real(queue_url, message, group, deduplication_id)

    # WHEN one change arrives, and the push runs before the burst can be called settled
    with mock.patch.object(services, "send_to_fifo", watched):
        merchant.stack.rackbeat.set_stock(merchant.account, SKU, 42, "L1")
        merchant.stack.settle()
    # THEN the one push request did it all: it waited in its own invocation (a FIFO queue cannot delay a message,
    # and a request for itself in the same second would share the running message's deduplication id and vanish)
    assert merchant.shop_quantities(SKU, "available") == [42]
    assert len(sent) == 1


def test_a_stock_webhook_refused_once_is_redelivered_and_the_shop_gets_the_count(merchant_with: Any) -> None:
    # GIVEN a shop selling SKU-001 with 3 available, and Crossdock's webhook endpoint unreachable for Rackbeat once
    merchant = stock_merchant(merchant_with)
    merchant.shop_product(SKU, available=3)
    rackbeat = merchant.stack.rackbeat
    reach_crossdock = rackbeat.webhook_sink
    assert reach_crossdock is not None
    refusals = [503]

    def flaky(url: str, headers: dict[str, str], body: bytes) -> int:
        return refusals.pop() if refusals else reach_crossdock(url, headers, body)

    rackbeat.webhook_sink = flaky
    # WHEN the warehouse counts it to 42 and the stack settles
    try:
        rackbeat.set_stock(merchant.account, SKU, 42, "L1")
        merchant.stack.settle()
    finally:
        rackbeat.webhook_sink = reach_crossdock
    # THEN Rackbeat retried the refused delivery, the shop sells exactly 42, and nothing waits or was given up
    stock_attempts = [a.status for a in rackbeat.delivery_log if a.topic == "product.stock_changed"][-2:]
    assert stock_attempts == [503, 200]
    assert merchant.shop_quantities(SKU, "available") == [42]
    assert rackbeat.pending() == [] and rackbeat.given_up_deliveries == []
