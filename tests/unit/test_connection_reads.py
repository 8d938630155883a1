"""Loading a connection for every event and stage (store.connections.load_connection): a container keeps what it
loaded and reads only the connection's state, settings version and stored token again; whatever changed the
stored connection is seen at the next load."""

from __future__ import annotations

from typing import Any

import boto3

from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.store import connections


def _connection(shipping: str = "FRAGT", domain: str = "shop-1.myshopify.com") -> RackbeatShopifyConnection:
    settings = RackbeatShopifySettings.model_validate({"shipping_product_number": shipping})
    shop = ShopifyAccount(shop_domain=domain)
    return RackbeatShopifyConnection(id="c-1", accounts=RackbeatShopifyAccounts(shopify=shop), settings=settings)


class ReadingTable:
    """The table, recording what each GetItem asked for (None: the whole item)."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.meta = table.meta
        self.name = table.name
        self.reads: list[str | None] = []

    def get_item(self, **request: Any) -> Any:
        self.reads.append(request.get("ProjectionExpression"))
        return self._table.get_item(**request)


def test_a_connection_loaded_again_unchanged_reads_only_its_state_and_version(table: Any) -> None:
    # GIVEN a stored connection, loaded once by this container
    stored = _connection()
    connections.save_connection(table, stored)
    reading = ReadingTable(table)
    assert connections.load_connection(reading, "c-1") == stored
    # WHEN it is loaded three more times, nothing having changed
    loaded = [connections.load_connection(reading, "c-1") for _ in range(3)]
    # THEN each of those read three small attributes instead of the item with its settings, and got the same
    assert loaded == [stored] * 3
    assert reading.reads[0] is None
    assert reading.reads[1:] == ["#state, settings_version, stored_as"] * 3


def test_a_state_change_made_elsewhere_is_seen_at_the_next_load(table: Any) -> None:
    # GIVEN a connection this container loaded
    connections.save_connection(table, _connection())
    connections.load_connection(table, "c-1")
    # WHEN another container pauses it
    connections.set_state(table, "c-1", ConnectionState.PAUSED, "2026-12-07T06:00:00Z")
    # THEN the next load here says paused, settings unchanged
    loaded = connections.load_connection(table, "c-1")
    assert loaded is not None and loaded.state is ConnectionState.PAUSED
    assert loaded.settings == _connection().settings


def test_settings_saved_elsewhere_are_seen_at_the_next_load(table: Any) -> None:
    # GIVEN a connection this container loaded
    connections.save_connection(table, _connection())
    first = connections.load_connection(table, "c-1")
    assert first is not None
    # WHEN another container saves new settings (version 2)
    newer = first.model_copy(update={"settings": _connection("PORTO").settings, "settings_version": 2})
    assert connections.save_settings(table, newer, expected_version=1, saved_at="2026-12-07T06:00:00Z")
    # THEN the next load here has them
    loaded = connections.load_connection(table, "c-1")
    assert loaded is not None and loaded.settings_version == 2
    assert loaded.settings.shipping_product_number == "PORTO"


def test_a_connection_stored_again_under_its_id_or_erased_is_never_taken_for_the_kept_one(table: Any) -> None:
    # GIVEN a connection this container loaded
    connections.save_connection(table, _connection())
    connections.load_connection(table, "c-1")
    # WHEN it is stored again under the same id with another shop, same state and settings version
    connections.save_connection(table, _connection(domain="shop-2.myshopify.com"))
    # THEN the next load has the other shop
    loaded = connections.load_connection(table, "c-1")
    assert loaded is not None and loaded.accounts.shopify.shop_domain == "shop-2.myshopify.com"
    # AND once it is erased, a load finds nothing
    connections.replace_with_tombstone(table, loaded, "2026-12-07T06:00:00Z")
    assert connections.load_connection(table, "c-1") is None


def test_two_tables_with_one_connection_id_keep_their_own(table: Any) -> None:
    # GIVEN the same connection id stored with different settings in two tables (two stacks in one process)
    connections.save_connection(table, _connection("FRAGT"))
    other = boto3.resource("dynamodb", region_name="eu-west-1").create_table(
        TableName="other",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    connections.save_connection(other, _connection("PORTO"))
    # WHEN both are loaded, twice each
    for _ in range(2):
        here, there = connections.load_connection(table, "c-1"), connections.load_connection(other, "c-1")
        # THEN each table gives its own
        assert here is not None and here.settings.shipping_product_number == "FRAGT"
        assert there is not None and there.settings.shipping_product_number == "PORTO"
