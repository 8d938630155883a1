"""Which Webshipper shipping rate a Rackbeat order goes with (docs/webshipper.md "The shipping rate"): its delivery
term's (`delivery_term_rates`), else — for an order made from a Shopify order — its Shopify shipping line's title
(`shipping_method_rates`), else `default_shipping_rate`. Through `order.booked`'s route handler with the real
clients, both simulators and the table in moto (the `world` of test_rackbeat_webshipper_outbound). A Shopify-born
order is the Rackbeat order `rackbeat_shopify` writes: `other_reference` `Shopify #<n> (<id>)`, the shipping line
on the shop's `shipping_product_number` named by its title, and the shop's order mapping in the table."""

from __future__ import annotations

from typing import Any

import pytest
from test_rackbeat_webshipper_outbound import HOME_TERM, PICKUP_TERM, World, world  # noqa: F401

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.order_events import ORDER_BOOKED
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.errors import FailureClass
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.store import connections, mappings
from crossdock.store.events import EventStatus

SHIPPING_ITEM = "FRAGT"
SHOPIFY_ORDER = 5_550_001


@pytest.fixture
def shop_world(world: World) -> World:  # noqa: F811 (the fixture imported above)
    """`world` with a shop (`rackbeat_shopify`, shipping booked on FRAGT) on the same Rackbeat account."""
    world.rackbeat_sim.seed_product(world.account, SHIPPING_ITEM, "Fragt", "0")
    shop = RackbeatShopifyConnection(
        id="c-shop",
        accounts=RackbeatShopifyAccounts(
            shopify=ShopifyAccount(shop_domain="acme-lager.myshopify.com"),
            rackbeat=RackbeatAccount(account_id=world.account),
        ),
        settings=RackbeatShopifySettings(shipping_product_number=SHIPPING_ITEM),
    )
    connections.save_connection(world.ports.table, shop)
    return world


def shopify_born(shop_world: World, shipping_title: str | None, order_id: int = SHOPIFY_ORDER, **fields: Any) -> int:
    """A booked Rackbeat order as `rackbeat_shopify` makes it from a Shopify order: no delivery term, the shipping
    line (when the order paid for shipping) on the shop's shipping item, and the shop's mapping of it."""
    lines = [{"item_id": "MUG-1", "name": "Krus blå", "quantity": 2, "line_price": "64", "vat_percentage": "25"}]
    if shipping_title is not None:
        lines.append(
            {"item_id": SHIPPING_ITEM, "name": shipping_title, "quantity": 1, "line_price": "39.2",
             "vat_percentage": "25"}
        )  # fmt: skip
    order = {"delivery_terms": None, "other_reference": f"Shopify #{order_id % 10_000} ({order_id})", "lines": lines}
    number = shop_world.book(**{**order, **fields})
    mappings.put_mapping(
        shop_world.ports.table, "c-shop", "order", "shopify", str(order_id), str(number), status="done"
    )
    return number


def sent_rate(shop_world: World, number: int) -> str:
    (sent,) = shop_world.webshipper_orders(f"rackbeat-{number}")
    return str(sent["attributes"]["shipping_rate_id"])


def test_the_delivery_term_rate_comes_first(shop_world: World) -> None:
    """GIVEN an order made from a Shopify order that a Rackbeat user gave a mapped delivery term, and a shipping
    method map and a default that would choose otherwise WHEN `order.booked` arrives THEN the term's rate is used."""
    connection = shop_world.connection(
        shipping_method_rates={"GLS Pakkeshop": shop_world.rates["GLS Standard"]},
        default_shipping_rate=shop_world.rates["GLS Standard"],
    )
    number = shopify_born(shop_world, "GLS Pakkeshop", delivery_terms=HOME_TERM)

    outcome = shop_world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert sent_rate(shop_world, number) == shop_world.rates["Privat"]


def test_a_shopify_order_takes_the_rate_of_its_shipping_line_at_no_extra_call(shop_world: World) -> None:
    """GIVEN a Shopify-born order without a delivery term, whose shipping line is "GLS Pakkeshop", and a map that
    names it in other letters WHEN `order.booked` arrives THEN its Webshipper order has the mapped rate, for the
    same 1 Rackbeat and 2 Webshipper calls as an order with a delivery term (the shop is found in the table)."""
    connection = shop_world.connection(
        shipping_method_rates={"gls pakkeshop": shop_world.rates["GLS Pakkeshop"]},
        default_shipping_rate=shop_world.rates["GLS Standard"],
    )
    number = shopify_born(shop_world, "GLS Pakkeshop")

    before = shop_world.calls()
    outcome = shop_world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert sent_rate(shop_world, number) == shop_world.rates["GLS Pakkeshop"]
    assert (shop_world.calls()[0] - before[0], shop_world.calls()[1] - before[1]) == (1, 2)


def test_a_shipping_line_not_in_the_map_or_free_shipping_takes_the_default_read_once(shop_world: World) -> None:
    """GIVEN a default rate and two Shopify-born orders without a delivery term, one shipped by a method the map
    does not name and one with free shipping (its shipping line is not booked in Rackbeat), and a Rackbeat-born
    order with a delivery term the map lacks WHEN each `order.booked` arrives THEN each goes with the default rate;
    Webshipper is asked about the default's drop point once, not once per order."""
    connection = shop_world.connection(
        delivery_term_rates={str(HOME_TERM): shop_world.rates["Privat"]},
        shipping_method_rates={"GLS Pakkeshop": shop_world.rates["GLS Pakkeshop"]},
        default_shipping_rate=shop_world.rates["GLS Standard"],
    )
    express = shopify_born(shop_world, "PostNord Express")
    free = shopify_born(shop_world, None, order_id=SHOPIFY_ORDER + 1)
    rackbeat_born = shop_world.book(delivery_terms=PICKUP_TERM)

    webshipper_calls = []
    for number in (express, free, rackbeat_born):
        before = shop_world.calls()[1]
        outcome = shop_world.deliver(connection, ORDER_BOOKED, number)
        webshipper_calls.append(shop_world.calls()[1] - before)
        assert outcome.status is EventStatus.DONE, outcome.reason
        assert sent_rate(shop_world, number) == shop_world.rates["GLS Standard"]

    assert webshipper_calls == [3, 2, 2]  # the rate read, then the look-up and the create each


def test_without_a_default_the_order_needs_attention_naming_every_key_to_set(shop_world: World) -> None:
    """GIVEN no default rate WHEN a Shopify-born order whose shipping line the map lacks is booked THEN it needs
    attention (unmapped), naming the missing delivery term, the shipping line and the three keys; nothing is sent."""
    connection = shop_world.connection(shipping_method_rates={"GLS Pakkeshop": shop_world.rates["GLS Pakkeshop"]})
    number = shopify_born(shop_world, "PostNord Express")

    outcome = shop_world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert outcome.failure_class == FailureClass.UNMAPPED.value
    assert f"Rackbeat order {number} has no delivery term" in outcome.reason
    assert "its Shopify shipping line 'PostNord Express' is not in shipping_method_rates" in outcome.reason
    assert "set one in delivery_term_rates, shipping_method_rates or default_shipping_rate" in outcome.reason
    assert shop_world.webshipper_orders(f"rackbeat-{number}") == []


def test_a_default_rate_that_requires_a_drop_point_needs_attention_naming_the_field(shop_world: World) -> None:
    """GIVEN a default rate Webshipper says requires a drop point (a save refuses one, but a rate can change in
    Webshipper after it) WHEN an order left to the default is booked THEN it needs attention naming `drop_point`
    and the setting, and nothing is sent; an order whose delivery term maps to that drop-point rate still goes, as
    before (the point is picked in Webshipper)."""
    pickup = shop_world.rates["PostNord Pakkeshop"]
    connection = shop_world.connection(delivery_term_rates={str(PICKUP_TERM): pickup}, default_shipping_rate=pickup)
    left_to_default = shopify_born(shop_world, "GLS Pakkeshop")
    chosen = shop_world.book(delivery_terms=PICKUP_TERM)

    refused = shop_world.deliver(connection, ORDER_BOOKED, left_to_default)
    sent = shop_world.deliver(connection, ORDER_BOOKED, chosen)

    assert refused.status is EventStatus.NEEDS_ATTENTION
    assert f"default_shipping_rate {pickup} requires a drop point (drop_point)" in refused.reason
    assert shop_world.webshipper_orders(f"rackbeat-{left_to_default}") == []
    assert sent.status is EventStatus.DONE, sent.reason
    assert sent_rate(shop_world, chosen) == pickup


def test_a_shopify_order_no_shop_on_the_account_made_takes_the_default(shop_world: World) -> None:
    """GIVEN an order whose reference names a Shopify order no shop of this Rackbeat account mapped WHEN booked
    THEN its shipping line is not trusted as a shop's, and the default rate is used."""
    connection = shop_world.connection(
        shipping_method_rates={"GLS Pakkeshop": shop_world.rates["GLS Pakkeshop"]},
        default_shipping_rate=shop_world.rates["GLS Standard"],
    )
    number = shopify_born(shop_world, "GLS Pakkeshop")
    mappings.put_mapping(shop_world.ports.table, "c-shop", "order", "shopify", str(SHOPIFY_ORDER), "99999")

    outcome = shop_world.deliver(connection, ORDER_BOOKED, number)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert sent_rate(shop_world, number) == shop_world.rates["GLS Standard"]
