"""A Shopify order reaches Webshipper on the rate its shipping line calls for, end to end on the embedded stack
(issue 15: a Rackbeat order made from a Shopify order carries no delivery term).

The demo's set-up (scenarios/demo_webshipper.py): a shop whose Rackbeat orders stop at `booked` and a Webshipper
warehouse connected to the same Rackbeat account through the operator's onboarding, with `shipping_method_rates`
(PostNord MyPack Collect → PostNord MyPack) and `default_shipping_rate` (GLS Privat). Paid Shopify orders go
Shopify → ingest → the shop's order workflow → a booked Rackbeat order → Rackbeat's `order.booked` → ingest →
dispatch → the Webshipper export, which finds the shop in the table and reads the shipping line off the Rackbeat
order (no call to Shopify).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from crossdock.store import events
from crossdock_local.scenarios import demo_catalog, demo_webshipper
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalStack

SKUS = [f"RATE-{n:02d}" for n in range(1, 9)]


def _shipping_kind(order: dict[str, Any]) -> str:
    lines = order.get("shipping_lines") or []
    if not lines or float(lines[0]["price"]) == 0:
        return "free"
    return str(lines[0]["title"])


def test_shopify_orders_go_to_webshipper_on_their_shipping_lines_rate_or_the_default(stack: LocalStack) -> None:
    # GIVEN the demo's shop and its Webshipper warehouse on one Rackbeat account
    shop = stack.create_connection(
        demo_webshipper.booked_settings(demo_settings()),
        shop_domain=demo_webshipper.SHOP_DOMAIN,
        rackbeat_seed=demo_catalog.seed_reference_data,
    )
    stack.seed_items(shop.rackbeat_account_id, SKUS)
    warehouse = demo_webshipper.connect(stack, shop, demo_catalog.PRODUCT_GROUP, account="ratelager")
    warehouse.shop_connection = shop.connection_id
    parcel, home = warehouse.rates[demo_webshipper.PARCEL_TERM], warehouse.rates[demo_webshipper.HOME_TERM]
    # WHEN paid orders shipped by PostNord MyPack Collect, by GLS Pakkeshop (no rate of its own) and for free are
    # placed at the shop, and the stack settles
    placed = demo_webshipper.create_shop_orders(stack, SKUS, 10, seed=4)
    kinds = Counter(_shipping_kind(order) for order in placed)
    assert {"PostNord MyPack Collect", "GLS Pakkeshop", "free"} <= set(kinds), kinds  # the seed's orders
    stack.settle()
    numbers = demo_webshipper.rackbeat_numbers(stack, shop.rackbeat_account_id, placed)
    # THEN every order is a booked Rackbeat order without a delivery term, sent by its own order.booked as one
    # Webshipper order in our channel: PostNord's on PostNord MyPack, the others on the default GLS Privat
    assert len(numbers) == len(placed)
    rackbeat = stack.rackbeat.state(shop.rackbeat_account_id).orders
    by_id = {int(order["id"]): order for order in placed}
    for number, shopify_id in numbers.items():
        assert rackbeat[number].get("delivery_terms") in (None, ""), rackbeat[number]
        (sent,) = [
            order
            for order in stack.webshipper.orders(warehouse.account)
            if order["attributes"]["ext_ref"] == f"rackbeat-{number}"
        ]
        wanted = parcel if _shipping_kind(by_id[shopify_id]) == "PostNord MyPack Collect" else home
        assert str(sent["attributes"]["shipping_rate_id"]) == wanted, (number, by_id[shopify_id]["shipping_lines"])
        assert wanted == demo_webshipper.expected_rate(warehouse, by_id[shopify_id])  # the demo audits the same
        assert sent["attributes"]["status"] == "pending"
    # AND nothing on either connection needs attention, and each order.booked ended done
    webshipper_events = events.list_events(stack.table, warehouse.connection_id)
    statuses = Counter((str(event["topic"]), str(event["status"])) for event in webshipper_events)
    assert statuses[("order.booked", "done")] == len(placed), statuses
    for connection in (warehouse.connection_id, shop.connection_id):
        assert [e for e in events.list_events(stack.table, connection) if e["status"] == "needs_attention"] == []
