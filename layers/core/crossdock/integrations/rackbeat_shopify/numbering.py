"""Shopify's order numbers in Rackbeat (`orders.numbering = shopify`), when several shops share one Rackbeat account.

Every shop counts from #1001, so the second shop's first order would meet the first shop's in Rackbeat. Each shop
may take a range of its own instead: `orders.number_prefix` followed by Shopify's number in `orders.number_digits`
digits. A save is refused when its range meets another connection's on the same account (an unprefixed shop's
range is every number), so the clash is found when the settings are saved, not when an order arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import Orders, RackbeatShopifySettings, SettingProblem
from crossdock.model.order import Order
from crossdock.store import connections


def number_offset(order: Order, orders: Orders) -> int:
    """What is added to the Shopify number to make the Rackbeat number: 0 without a prefix. An order whose number
    no longer fits the shop's digits cannot be given a number of its range."""
    if orders.number_prefix is None or order.number is None:
        return 0
    if order.number >= 10**orders.number_digits:
        raise PermanentError(
            f"order {order.name}: Shopify's number {order.number} has more than orders.number_digits "
            f"({orders.number_digits}) digits, so it cannot follow orders.number_prefix {orders.number_prefix}; "
            "nothing was created — give the shop more digits (and a prefix whose range is free)",
            FailureClass.VALIDATION,
        )
    return int(orders.number_prefix * 10**orders.number_digits)


def numbering_clashes(
    table: Any, connection: RackbeatShopifyConnection, settings: RackbeatShopifySettings
) -> list[SettingProblem]:
    """A problem for each other connection on the same Rackbeat account whose Shopify numbers could take the same
    Rackbeat numbers as these settings'."""
    account = connection.accounts.rackbeat.account_id
    if settings.orders.numbering != "shopify" or account is None:
        return []
    mine = settings.orders.number_range()
    problems = []
    for other in _shop_numbered_neighbours(table, connection.id, account):
        theirs = other.settings.orders.number_range()
        if _overlap(mine, theirs):
            problems.append(
                SettingProblem(
                    "orders.number_prefix",
                    f"Rackbeat order numbers {_shown(mine)} meet {_shown(theirs)} of shop {other.shop_domain} "
                    f"(connection {other.id}) on the same Rackbeat account; give each shop its own prefix",
                )
            )
    return problems


def _shop_numbered_neighbours(table: Any, connection_id: str, account: int) -> Iterator[RackbeatShopifyConnection]:
    for candidate in connections.list_connections(table):
        if not isinstance(candidate, RackbeatShopifyConnection) or candidate.id == connection_id:
            continue
        if candidate.state is ConnectionState.UNINSTALLED or candidate.accounts.rackbeat.account_id != account:
            continue
        if candidate.settings.orders.numbering == "shopify":
            yield candidate


def _overlap(first: tuple[int, int | None], second: tuple[int, int | None]) -> bool:
    (low_a, high_a), (low_b, high_b) = first, second
    return (high_a is None or low_b <= high_a) and (high_b is None or low_a <= high_b)


def _shown(numbers: tuple[int, int | None]) -> str:
    low, high = numbers
    return f"{low}–{high}" if high is not None else "(every number, no prefix)"
