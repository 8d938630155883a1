"""Guided setup step 3, `receive_orders` (issue 16, item 2): the Shopify order webhooks subscribed at the kind's
address, against the Shopify simulator in process — resumable, and naming what it subscribed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim_fakes import FakeClock, RecordingSink

from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.shopify import webhook_subscriptions
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.integration import SetupDeps
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.integrations.peakwms_shopify.setup_orders import ORDER_TOPICS, STEP
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "lagerhuset.myshopify.com"
BASE = "https://hooks.crossdock.test"
ADDRESS = f"{BASE}/webhooks/peakwms_shopify/shopify"


@dataclass
class Clients:
    admin: ShopifyAdmin

    def shopify(self, connection: Any) -> ShopifyAdmin:
        return self.admin


def _world() -> tuple[PeakwmsShopifyConnection, SetupDeps, ShopifyAdmin]:
    sim = ShopifySimulator(clock=FakeClock(), webhook_sink=RecordingSink(), seed=16)
    sim.add_shop(SHOP, "shpss_setup", "shpat_setup")
    admin = ShopifyAdmin(f"https://{SHOP}", SHOP, "shpat_setup", transport=transport(sim))
    connection = PeakwmsShopifyConnection(
        id="c-setup",
        accounts=PeakwmsShopifyAccounts(
            peakwms=PeakwmsAccount(account="nordlager"), shopify=ShopifyAccount(shop_domain=SHOP)
        ),
        settings=PeakwmsShopifySettings(shop_name="Lagerhuset", country="DK"),
    )
    deps = SetupDeps(table=None, clients=Clients(admin), secrets=None, now_text=lambda: "", webhook_base_url=BASE)
    return connection, deps, admin


def test_the_step_subscribes_the_order_topics_at_the_kinds_address_in_one_chunk() -> None:
    """GIVEN a shop without subscriptions WHEN the step runs THEN one chunk finishes it: orders/create, updated,
    cancelled and delete are subscribed at /webhooks/peakwms_shopify/shopify, and the note lists them."""
    connection, deps, admin = _world()

    chunk = STEP.run_chunk(connection, deps, {})

    assert chunk.finished and (chunk.done, chunk.total) == (4, 4)
    for topic in ORDER_TOPICS:
        assert topic in chunk.note
    there = {(s.topic, s.uri) for s in webhook_subscriptions.subscriptions(admin)}
    assert there == {(topic, ADDRESS) for topic in ORDER_TOPICS}


def test_a_step_run_again_after_a_crash_creates_only_what_is_missing() -> None:
    """GIVEN a run that subscribed orders/create before it crashed WHEN the step runs again from the stored state
    THEN the other three are subscribed, orders/create is not made twice, and the note says it was there."""
    connection, deps, admin = _world()
    webhook_subscriptions.subscribe_missing(admin, ADDRESS, ("orders/create",))

    chunk = STEP.run_chunk(connection, deps, {})
    again = STEP.run_chunk(connection, deps, chunk.state)

    assert "already there: orders/create" in chunk.note
    assert chunk.state["created"] == sorted(set(ORDER_TOPICS) - {"orders/create"})
    assert again.finished and again.state["created"] == chunk.state["created"]
    topics = [s.topic for s in webhook_subscriptions.subscriptions(admin)]
    assert sorted(topics) == sorted(ORDER_TOPICS)
