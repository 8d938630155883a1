"""The followers index (issue 18): every connection on a Rackbeat account, of any kind, is found by the account with
one Query, with the state and the events its settings want — written with the connection item itself (save,
settings save, state change), so the index never shows a half-written follower."""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.ports import Follower
from crossdock.store import connection_lookup, connections

STOCK = "product.stock_changed"


def _shop(number: int, account: int, *, stock: bool = True) -> RackbeatShopifyConnection:
    return RackbeatShopifyConnection(
        id=f"shop-{number}",
        accounts=RackbeatShopifyAccounts(
            shopify=ShopifyAccount(shop_domain=f"shop-{number}.myshopify.com"),
            rackbeat=RackbeatAccount(account_id=account),
        ),
        settings=RackbeatShopifySettings.model_validate(
            {"shipping_product_number": "FRAGT", "stock_sync": {"enabled": stock}}
        ),
    )


def _till(account: int) -> RackbeatShopboxConnection:
    return RackbeatShopboxConnection(
        id="till-1",
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=account), shopbox=ShopboxAccount(client_uid="77")
        ),
        settings=RackbeatShopboxSettings.model_validate({"locations": {"1": "L1"}, "sales": {"enabled": False}}),
    )


def _key(account: int) -> str:
    key = own_webhooks.account_key(RackbeatAccount(account_id=account))
    assert key is not None
    return key


def _followers(table: Any, account: int) -> dict[str, Follower]:
    return {f.connection_id: f for f in connection_lookup.followers(table, "rackbeat", _key(account))}


def test_the_connections_of_every_kind_on_one_rackbeat_account_are_its_followers(table: Any) -> None:
    # GIVEN two shops and a Shopbox till on Rackbeat account 4711 (one shop without stock sync), a shop on 4712
    for connection in (_shop(1, 4711), _shop(2, 4711, stock=False), _till(4711), _shop(3, 4712)):
        connections.save_connection(table, connection)
    # WHEN the followers of 4711's webhooks are looked up
    found = _followers(table, 4711)
    # THEN they are its three connections, with their kinds and the events their settings want; 4712's shop is not
    assert sorted(found) == ["shop-1", "shop-2", "till-1"]
    assert found["shop-1"] == Follower("shop-1", "rackbeat_shopify", "active", frozenset({STOCK}))
    assert found["shop-2"].events == frozenset()
    assert found["till-1"].kind == "rackbeat_shopbox" and found["till-1"].events == frozenset({STOCK})
    assert sorted(_followers(table, 4712)) == ["shop-3"]


def test_a_state_change_and_a_settings_save_show_in_the_index_at_once(table: Any) -> None:
    # GIVEN a shop following 4711's stock webhook
    shop = _shop(1, 4711)
    connections.save_connection(table, shop)
    # WHEN it is paused
    connections.set_state(table, shop.id, ConnectionState.PAUSED, "2026-12-07T23:00:00Z")
    # THEN the index says paused
    assert _followers(table, 4711)["shop-1"].state == "paused"
    # WHEN a new settings version switches stock sync off
    off = _shop(1, 4711, stock=False).model_copy(update={"settings_version": 2})
    assert connections.save_settings(table, off, expected_version=1, saved_at="2026-12-07T23:01:00Z")
    # THEN it follows no event any more (and keeps its state)
    assert _followers(table, 4711)["shop-1"].events == frozenset()
    assert _followers(table, 4711)["shop-1"].state == "paused"


def test_a_connection_stored_before_the_index_joins_it_when_marked(table: Any) -> None:
    # GIVEN a shop whose item a release before wrote (without the index's attributes)
    shop = _shop(1, 4711)
    connections.save_connection(table, shop)
    table.update_item(Key={"pk": "CONN#shop-1", "sk": "META"}, UpdateExpression="REMOVE hook_account, hook_events")
    assert _followers(table, 4711) == {}
    # WHEN it is marked as a follower (what following the account's webhooks does first)
    assert connections.mark_follower(table, shop)
    # THEN it is found
    assert sorted(_followers(table, 4711)) == ["shop-1"]
