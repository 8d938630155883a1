"""A `rackbeat_webshipper` connection: its two accounts, what it claims, and how it is loaded as its kind's own."""

from __future__ import annotations

import pytest

from crossdock import registry
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.webshipper.account import WEBSHIPPER_API, WebshipperAccount, api_base_for
from crossdock.errors import PermanentError
from crossdock.integrations.rackbeat_webshipper.connection import (
    KIND,
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings


def _connection() -> RackbeatWebshipperConnection:
    return RackbeatWebshipperConnection(
        id="c-1",
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=42),
            webshipper=WebshipperAccount(account="acme", api_base=api_base_for("acme")),
        ),
        settings=RackbeatWebshipperSettings.model_validate({"order_channel": "3"}),
    )


def test_the_api_base_is_the_account_subdomain() -> None:
    assert api_base_for("acme") == "https://acme.api.webshipper.io/v2"
    assert api_base_for("acme", "http://localhost:9/_sim/webshipper/{account}/v2/") == (
        "http://localhost:9/_sim/webshipper/acme/v2"
    )
    assert "{account}" in WEBSHIPPER_API


def test_a_webshipper_account_has_one_connection_and_the_rackbeat_account_is_shared() -> None:
    # GIVEN a connection WHEN asked what it claims THEN only the Webshipper account (its orders go to one Rackbeat)
    connection = _connection()
    assert connection.claims() == {"webshipper": "acme"}
    assert connection.shared_accounts() == {"rackbeat": "42"}


def test_a_stored_connection_is_loaded_as_this_kind() -> None:
    # GIVEN the fields as stored WHEN the registry parses them THEN it is this kind's model, settings and all
    stored = _connection().model_dump(mode="json")
    loaded = registry.parse_connection(stored)
    assert isinstance(loaded, RackbeatWebshipperConnection)
    assert loaded.kind == KIND
    assert loaded.accounts.webshipper.api_base == "https://acme.api.webshipper.io/v2"
    assert loaded.settings.order_channel == "3"
    assert registry.integration(KIND).settings_model is RackbeatWebshipperSettings
    assert RackbeatWebshipperConnection.of(loaded) is loaded


def test_another_kinds_connection_is_refused_as_a_bug() -> None:
    shopify_fields = {
        "id": "c-2",
        "kind": "rackbeat_shopify",
        "accounts": {"shopify": {"shop_domain": "a.myshopify.com"}, "rackbeat": {"account_id": 1}},
        "settings": {"shipping_product_number": "FRAGT"},
    }
    other = registry.parse_connection(shopify_fields)
    with pytest.raises(PermanentError, match="not rackbeat_webshipper"):
        RackbeatWebshipperConnection.of(other)
