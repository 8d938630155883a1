"""`connectors.shopify.webhook_subscriptions`: a kind's topics subscribed to its address, against the Shopify
simulator in process — once, however often it runs, and only the missing ones."""

from __future__ import annotations

import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.shopify import webhook_subscriptions
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "lagerhuset.myshopify.com"
URI = "https://hooks.crossdock.test/webhooks/peakwms_shopify/shopify"
TOPICS = ("orders/create", "orders/updated", "orders/cancelled")


@pytest.fixture
def shopify() -> ShopifyAdmin:
    sim = ShopifySimulator(clock=FakeClock(), webhook_sink=RecordingSink(), seed=16)
    sim.add_shop(SHOP, "shpss_subscriptions", "shpat_subscriptions")
    return ShopifyAdmin(f"https://{SHOP}", SHOP, "shpat_subscriptions", transport=transport(sim))


def test_missing_topics_are_subscribed_once_and_a_repeat_only_lists(shopify: ShopifyAdmin) -> None:
    """GIVEN a shop with no subscriptions WHEN the topics are subscribed, and then again (a resumed setup step)
    THEN each topic is subscribed to the address once, the first run names them all, the second none."""
    first = webhook_subscriptions.subscribe_missing(shopify, URI, TOPICS)
    again = webhook_subscriptions.subscribe_missing(shopify, URI, TOPICS)

    assert first == list(TOPICS)
    assert again == []
    found = webhook_subscriptions.subscriptions(shopify)
    assert sorted((s.topic, s.uri) for s in found) == sorted((topic, URI) for topic in TOPICS)


def test_a_topic_subscribed_elsewhere_is_still_subscribed_here(shopify: ShopifyAdmin) -> None:
    """GIVEN orders/create subscribed to another address WHEN the topics are subscribed to ours THEN ours gets all
    three: another address does not count."""
    webhook_subscriptions.subscribe_missing(shopify, "https://elsewhere.test/hooks", ("orders/create",))

    created = webhook_subscriptions.subscribe_missing(shopify, URI, TOPICS)

    assert created == list(TOPICS)


def test_rest_topics_read_back_from_the_enum() -> None:
    """GIVEN Shopify's topic enums WHEN read back THEN the REST topic, two-word resources included."""
    assert webhook_subscriptions.rest_topic("ORDERS_CREATE") == "orders/create"
    assert webhook_subscriptions.rest_topic("INVENTORY_LEVELS_UPDATE") == "inventory_levels/update"
    assert webhook_subscriptions.rest_topic("APP_UNINSTALLED") == "app/uninstalled"
    assert webhook_subscriptions.topic_enum("orders/delete") == "ORDERS_DELETE"
