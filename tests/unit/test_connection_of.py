"""`Connection.of`, the one narrowing every kind shares (connections/model.py): a connection loaded generically is
handed back as its kind's own subclass; a connection of another kind is refused as a bug, naming both kinds."""

from __future__ import annotations

import pytest
from shopbox_catalog_fakes import connection as shopbox_connection

from crossdock import registry
from crossdock.connections.model import Connection
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.webshipper.account import WebshipperAccount, api_base_for
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings


def _stored(made: Connection) -> Connection:
    """`made` as a flow sees it: stored, then loaded by the registry, typed only as `Connection`."""
    return registry.parse_connection(made.model_dump(mode="json"))


def _one_of_each_kind() -> dict[str, Connection]:
    made: list[Connection] = [
        RackbeatShopifyConnection(
            id="c-shopify",
            accounts=RackbeatShopifyAccounts(shopify=ShopifyAccount(shop_domain="shop-1.myshopify.com")),
            settings=RackbeatShopifySettings.model_validate({"shipping_product_number": "FRAGT"}),
        ),
        shopbox_connection("c-shopbox"),
        RackbeatWebshipperConnection(
            id="c-webshipper",
            accounts=RackbeatWebshipperAccounts(
                rackbeat=RackbeatAccount(account_id=42),
                webshipper=WebshipperAccount(account="acme", api_base=api_base_for("acme")),
            ),
            settings=RackbeatWebshipperSettings.model_validate({"order_channel": "3"}),
        ),
        PeakwmsShopifyConnection(
            id="c-peakwms",
            accounts=PeakwmsShopifyAccounts(
                peakwms=PeakwmsAccount(account="nordlager", api_base="https://api.peakwms.test"),
                shopify=ShopifyAccount(shop_domain="lagerhuset.myshopify.com"),
            ),
            settings=PeakwmsShopifySettings.model_validate({"shop_name": "Lagerhuset", "country": "DK"}),
        ),
    ]
    return {connection.kind: _stored(connection) for connection in made}


CONNECTIONS = _one_of_each_kind()


def test_every_registered_kind_is_covered() -> None:
    assert set(CONNECTIONS) == set(registry.kinds())


@pytest.mark.parametrize("kind", registry.kinds())
def test_a_connection_of_its_own_kind_is_handed_back_as_is(kind: str) -> None:
    # GIVEN a connection of the kind, loaded generically WHEN its kind's model narrows it THEN it is the same object
    model = registry.integration(kind).connection_model
    loaded = CONNECTIONS[kind]
    assert model.of(loaded) is loaded


@pytest.mark.parametrize("kind", registry.kinds())
def test_a_connection_of_another_kind_is_refused_as_a_bug_naming_both_kinds(kind: str) -> None:
    # GIVEN each connection of another kind WHEN this kind's model narrows it THEN a PermanentError of class BUG
    # says which connection it is, what kind it is and what kind was wanted
    model = registry.integration(kind).connection_model
    for other in (connection for other_kind, connection in CONNECTIONS.items() if other_kind != kind):
        with pytest.raises(PermanentError) as refused:
            model.of(other)
        assert refused.value.reason == f"connection {other.id} is {other.kind}, not {kind}"
        assert refused.value.failure_class is FailureClass.BUG


def test_the_generic_model_takes_every_kind() -> None:
    # WHEN the generic model itself narrows THEN every kind's connection is one: nothing to refuse
    assert all(Connection.of(loaded) is loaded for loaded in CONNECTIONS.values())
