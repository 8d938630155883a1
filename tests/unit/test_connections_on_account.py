"""Connections that share an account (several shops on one Rackbeat account) are found with one Query, not a scan;
and the two store helpers the tracking step stands on: a mapping claimed once, an event's attempts counted."""

from __future__ import annotations

from typing import Any

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.orders import shopify_order_id
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.store import connection_lookup, connections, events, mappings


def _shop(number: int, account: int) -> RackbeatShopifyConnection:
    return RackbeatShopifyConnection(
        id=f"conn-{number}",
        accounts=RackbeatShopifyAccounts(
            shopify=ShopifyAccount(shop_domain=f"shop-{number}.myshopify.com"),
            rackbeat=RackbeatAccount(account_id=account),
        ),
        settings=RackbeatShopifySettings(shipping_product_number="FRAGT"),
    )


def test_the_shops_of_one_rackbeat_account_are_found_by_the_account(table: Any) -> None:
    # GIVEN two shops on Rackbeat account 4711 and one on 4712
    for number, account in ((1, 4711), (2, 4711), (3, 4712)):
        connections.save_connection(table, _shop(number, account))
    # WHEN the rackbeat_shopify connections of account 4711 are looked up
    found = connection_lookup.connections_on_account(table, "rackbeat_shopify", "rackbeat", "4711")
    # THEN exactly its two shops are found
    assert sorted(found) == ["conn-1", "conn-2"]
    # AND an erased connection leaves the account
    connections.release_accounts(table, _shop(1, 4711))
    assert connection_lookup.connections_on_account(table, "rackbeat_shopify", "rackbeat", "4711") == ["conn-2"]


def test_a_mapping_is_claimed_once_and_attempts_are_counted(table: Any) -> None:
    # GIVEN a claimed mapping WHEN it is claimed again THEN the first binding is answered and kept
    assert mappings.claim_mapping(table, "c", "tracking", "webshipper", "77", "5001", event_sk="EVT#1") is None
    again = mappings.claim_mapping(table, "c", "tracking", "webshipper", "77", "9999")
    assert again is not None and again["target_id"] == "5001" and again["event_sk"] == "EVT#1"
    # GIVEN a received event WHEN two more attempts are counted THEN it has had three
    sk = events.record_received(table, "c", "e1", "crossdock", "tracking/shopify", "{}", events.received_stamp())
    events.count_attempt(table, "c", sk)
    assert events.count_attempt(table, "c", sk) == 3


def test_the_shopify_order_id_is_read_back_from_the_rackbeat_order_reference() -> None:
    # GIVEN references as rackbeat_shopify writes them, and others THEN only Shopify's give an order id
    assert shopify_order_id("Shopify #1001 (5600224402849)") == "5600224402849"
    assert shopify_order_id("webshipper-123") is None
    assert shopify_order_id(None) is None
