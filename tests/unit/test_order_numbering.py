"""Shopify's order numbers on a Rackbeat account shared by several shops (`orders.number_prefix`): the rules of
the setting, the Rackbeat number an order gets, and the clash a save is refused for."""

from __future__ import annotations

from typing import Any

import pytest
from test_order_mapping import danish
from test_settings_model import only_problem, with_tab

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.orders import OrderDefaults, draft_body
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.errors import PermanentError
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.numbering import number_offset, numbering_clashes
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, SettingProblem
from crossdock.store import connections


def _settings(**orders: Any) -> RackbeatShopifySettings:
    return RackbeatShopifySettings.model_validate({"shipping_product_number": "FRAGT", "orders": orders})


def _shop(number: int, account: int, state: ConnectionState = ConnectionState.ACTIVE, **orders: Any) -> Any:
    return RackbeatShopifyConnection(
        id=f"c-{number}",
        state=state,
        accounts=RackbeatShopifyAccounts(
            shopify=ShopifyAccount(shop_domain=f"shop-{number}.myshopify.com"),
            rackbeat=RackbeatAccount(account_id=account),
        ),
        settings=_settings(**orders),
    )


def test_the_prefix_goes_before_shopifys_number_in_the_shops_digits(fixture_order: dict[str, Any]) -> None:
    # GIVEN a shop with prefix 2 and six digits; WHEN its order #1001 is drafted for Rackbeat
    settings = _settings(numbering="shopify", number_prefix=2)
    order = to_canonical(parse_order({**danish(fixture_order), "order_number": 1001}), "FRAGT")
    defaults = OrderDefaults(
        employee=None,
        layout=None,
        payment_terms=None,
        location=None,
        rounding_product_number=None,
        use_shop_number=True,
        number_offset=number_offset(order, settings.orders),
    )
    # THEN its Rackbeat number is 2001001
    assert draft_body(order, 1, "FRAGT", defaults)["number"] == 2_001_001


def test_a_number_too_long_for_the_digits_is_refused_naming_the_setting(fixture_order: dict[str, Any]) -> None:
    settings = _settings(numbering="shopify", number_prefix=2, number_digits=4)
    order = to_canonical(parse_order({**fixture_order, "order_number": 10_000}), "FRAGT")
    with pytest.raises(PermanentError, match=r"orders\.number_digits"):
        number_offset(order, settings.orders)


@pytest.mark.parametrize(
    ("orders", "problem"),
    [
        (
            {"number_prefix": 2},
            SettingProblem("orders.number_prefix", "only applies when orders.numbering is 'shopify'"),
        ),
        (
            {"numbering": "shopify", "number_prefix": 2, "number_digits": 3},
            SettingProblem("orders.number_digits", "must be between 4 and 9, not 3"),
        ),
        (
            {"numbering": "shopify", "number_prefix": 3, "number_digits": 9},
            SettingProblem(
                "orders.number_prefix",
                "3 followed by 9 digits makes numbers up to 3999999999, over the largest Rackbeat order number "
                "(2147483647)",
            ),
        ),
    ],
)
def test_a_prefix_that_cannot_make_rackbeat_numbers_is_refused(orders: dict[str, Any], problem: Any) -> None:
    assert only_problem(with_tab("orders", **orders)) == problem


def test_two_shops_on_one_account_without_prefixes_clash(table: Any) -> None:
    # GIVEN a shop numbering as Shopify does on Rackbeat account 7, and shops on another account or uninstalled
    connections.save_connection(table, _shop(1, 7, numbering="shopify"))
    connections.save_connection(table, _shop(2, 8, numbering="shopify"))
    connections.save_connection(table, _shop(3, 7, ConnectionState.UNINSTALLED, numbering="shopify"))
    # WHEN a second shop on account 7 saves the same numbering without a prefix
    second = _shop(4, 7)
    problems = numbering_clashes(table, second, _settings(numbering="shopify"))
    # THEN the save is refused naming the prefix and the one shop it would meet
    assert [problem.field for problem in problems] == ["orders.number_prefix"]
    assert "shop-1.myshopify.com" in problems[0].message and "c-1" in problems[0].message


def test_prefixes_of_their_own_do_not_clash_but_overlapping_ranges_do(table: Any) -> None:
    connections.save_connection(table, _shop(1, 7, numbering="shopify", number_prefix=1))
    second = _shop(2, 7)
    # Prefix 2 (2000000–2999999) is free beside prefix 1 (1000000–1999999)
    assert numbering_clashes(table, second, _settings(numbering="shopify", number_prefix=2)) == []
    # Prefix 10 with five digits (1000000–1099999) lies inside prefix 1's range
    (clash,) = numbering_clashes(table, second, _settings(numbering="shopify", number_prefix=10, number_digits=5))
    assert "1000000–1099999 meet 1000000–1999999" in clash.message
    # Rackbeat's own series never clashes
    assert numbering_clashes(table, second, _settings(numbering="rackbeat_next")) == []
