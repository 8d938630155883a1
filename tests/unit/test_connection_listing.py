"""Connections are listed from their sparse index, not by scanning the table (store.connections.list_connections)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.store import connections, events


def _connection(number: int, state: ConnectionState = ConnectionState.ACTIVE) -> RackbeatShopifyConnection:
    settings = RackbeatShopifySettings.model_validate({"shipping_product_number": "FRAGT"})
    shop = ShopifyAccount(shop_domain=f"shop-{number}.myshopify.com")
    return RackbeatShopifyConnection(
        id=f"c-{number}", state=state, accounts=RackbeatShopifyAccounts(shopify=shop), settings=settings
    )


def test_every_connection_is_listed_whatever_its_state_without_a_scan(table: Any) -> None:
    # GIVEN three connections, one uninstalled, and an event log around them
    saved = [_connection(1), _connection(2, ConnectionState.UNINSTALLED), _connection(3, ConnectionState.PAUSED)]
    for connection in saved:
        connections.save_connection(table, connection)
        for n in range(5):
            events.record_received(table, connection.id, f"e{n}", "shopify", "orders/create", "{}", f"2026-11-2{n}")
    connections.set_state(table, "c-3", ConnectionState.ACTIVE, "2026-11-23T00:00:00Z")
    # WHEN they are listed, with the table's Scan out of reach
    with mock.patch.object(type(table), "scan", side_effect=AssertionError("listed by a Scan")):
        listed = connections.list_connections(table)
    # THEN each comes back once, as stored (a state change keeps it in the index)
    assert sorted((c.id, c.state) for c in listed) == [
        ("c-1", ConnectionState.ACTIVE),
        ("c-2", ConnectionState.UNINSTALLED),
        ("c-3", ConnectionState.ACTIVE),
    ]
    assert connections.load_connection(table, "c-1") == saved[0]


def test_an_erased_connection_leaves_the_listing(table: Any) -> None:
    connection = _connection(4)
    connections.save_connection(table, connection)
    connections.replace_with_tombstone(table, connection, "2026-11-23T00:00:00Z")
    assert connections.list_connections(table) == []
