"""One Rackbeat webhook per account and event, fanned out to every connection on the account (issue 18), end to end
on the embedded stack with the Rackbeat, Shopify and Shopbox simulators: two shops and a Shopbox café on one
Rackbeat account hear a stock change from one webhook request and read the item from Rackbeat once; the webhook
goes with the last follower's uninstall; a webhook registered per connection by a release before still delivers
until the self-check moves the connection to the account's; another account's change never reaches them.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations import rackbeat_webhook_upkeep
from crossdock.integrations.rackbeat_shopbox import rackbeat_webhooks
from crossdock.operations import stack_access
from crossdock.store import events
from crossdock_local import operator_cli
from crossdock_local.scenarios.shopbox_on_rackbeat import store_shopbox
from crossdock_local.stack import LocalStack

SKU = "SKU-001"
STOCK_EVENT = "product.stock_changed"
LOCATIONS_READ = ("GET", "/products/{number}/locations")
_cafes = itertools.count(1)


@dataclass
class Cafe:
    """A Shopbox client whose one branch shows Rackbeat's L1, selling the item as its product `product`."""

    stack: LocalStack
    connection_id: str
    client: int
    branch: int
    product: int

    def shown(self) -> int:
        return int(self.stack.shopbox.stock(self.client, self.branch, self.product))


def cafe_on(stack: LocalStack, account: int, api_key: str) -> Cafe:
    """A Shopbox connection on the Rackbeat account, stored active with its secrets, following the account's
    webhooks as its activation does."""
    stored = store_shopbox(
        stack,
        account,
        api_key,
        name=f"Kaffebaren {next(_cafes)} ApS",
        branches={"Strøget": ["Kasse 1"]},
        locations=["L1"],
        items={SKU: "Jakke"},
    )
    connection, secrets, rackbeat = stored.connection, stored.secrets, stored.rackbeat
    client, branch, product = stored.client, stored.branches[0], stored.products[SKU]
    assert rackbeat_webhooks.register(connection, rackbeat, secrets, stack.base_url, stack.table) == [STOCK_EVENT]
    return Cafe(stack, connection.id, client, branch, product)


def cli(stack: LocalStack, *argv: str) -> tuple[int, str]:
    report = io.StringIO()
    return operator_cli.run(list(argv), stack.operator, report), report.getvalue()


def stock_hooks(stack: LocalStack, account: int) -> list[str]:
    """The URLs of the account's stock webhooks."""
    return sorted(h["url"] for h in stack.rackbeat.state(account).webhooks.values() if h["event"] == STOCK_EVENT)


def stock_events(stack: LocalStack, connection_id: str) -> list[dict[str, Any]]:
    return [e for e in events.list_events(stack.table, connection_id) if e["topic"] == STOCK_EVENT]


def followers_of_one_account(merchant_with: Any) -> tuple[Any, Any, Cafe]:
    """Two shops (stock at Rackbeat's L1) and a Shopbox café on one Rackbeat account, each selling SKU-001."""
    first = merchant_with(stock_sync={"enabled": True})
    second = first.second_shop()
    for shop in (first, second):
        shop.shop_product(SKU, available=0)
    cafe = cafe_on(first.stack, first.account, first.connection.rackbeat_api_key)
    first.stack.settle()
    return first, second, cafe


def test_one_stock_change_is_one_webhook_and_one_read_for_every_follower_of_the_account(merchant_with: Any) -> None:
    # GIVEN two shops and a Shopbox café on one Rackbeat account, all following its stock changes
    first, second, cafe = followers_of_one_account(merchant_with)
    stack = first.stack
    assert stock_hooks(stack, first.account) == [stack.rackbeat_webhook_url(first.connection.connection_id)]
    requests_before = stack.aws.usage()["api_requests"]
    reads_before = stack.rackbeat.calls_by_route[LOCATIONS_READ]
    # WHEN the warehouse counts the item to 42 at L1 (Rackbeat sends its webhook)
    stack.rackbeat.set_stock(first.account, SKU, 42, "L1")
    stack.settle()
    # THEN Rackbeat made one webhook request, the item was read from Rackbeat once, and every follower shows 42
    assert stack.aws.usage()["api_requests"] - requests_before == 1
    assert stack.rackbeat.calls_by_route[LOCATIONS_READ] - reads_before == 1
    assert first.shop_quantities(SKU, "available") == [42] and second.shop_quantities(SKU, "available") == [42]
    assert cafe.shown() == 42
    # AND each follower's log has the change, done
    for connection_id in (first.connection.connection_id, second.connection.connection_id, cafe.connection_id):
        assert [e["status"] for e in stock_events(stack, connection_id)] == ["done"], connection_id


def test_the_account_webhook_goes_with_its_last_follower_and_an_uninstalled_one_hears_nothing(
    merchant_with: Any,
) -> None:
    # GIVEN two shops and a café on one account
    first, second, cafe = followers_of_one_account(merchant_with)
    stack = first.stack
    account_url = stack.rackbeat_webhook_url(first.connection.connection_id)
    # WHEN the first shop is uninstalled by the operator
    code, text = cli(stack, "connections", "uninstall", first.connection.connection_id)
    assert code == 0, text
    # THEN the account's webhook stays for the others, and the next change reaches them and not the uninstalled shop
    assert stock_hooks(stack, first.account) == [account_url]
    stack.rackbeat.set_stock(first.account, SKU, 7, "L1")
    stack.settle()
    assert second.shop_quantities(SKU, "available") == [7] and cafe.shown() == 7
    assert stock_events(stack, first.connection.connection_id) == []
    # WHEN the second shop and then the café are uninstalled too
    for connection_id in (second.connection.connection_id, cafe.connection_id):
        code, text = cli(stack, "connections", "uninstall", connection_id)
        assert code == 0, text
    # THEN the last one took the account's stock webhook with it
    assert stock_hooks(stack, first.account) == []


def test_a_webhook_registered_per_connection_before_still_delivers_until_the_self_check_moves_it(
    merchant_with: Any,
) -> None:
    # GIVEN a shop whose stock webhook a release before registered to its own address (no account webhook yet)
    shop = merchant_with(stock_sync={"enabled": True})
    shop.shop_product(SKU, available=0)
    stack, connection_id = shop.stack, shop.connection.connection_id
    rackbeat = RackbeatClient(f"{stack.base_url}/_sim/rackbeat/api/", shop.connection.rackbeat_api_key)
    rackbeat_webhook_upkeep.unfollow(stack.connection(shop.connection), rackbeat, stack.table, stack.base_url)
    secrets = stack_access.secret_store(stack.operator)
    registered = rackbeat_webhook_upkeep.register_per_connection(
        connection_id, rackbeat, secrets, stack.base_url, [STOCK_EVENT]
    )
    assert registered == [STOCK_EVENT]
    own_url = f"{stack.base_url}/webhooks/rackbeat/{connection_id}"
    assert stock_hooks(stack, shop.account) == [own_url]
    # WHEN the stock changes
    stack.rackbeat.set_stock(shop.account, SKU, 11, "L1")
    stack.settle()
    # THEN the old address still delivers it
    assert shop.shop_quantities(SKU, "available") == [11]
    # WHEN the hourly self-check runs
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()
    # THEN the account's webhook replaced the connection's own, and the next change arrives through it, once
    assert stock_hooks(stack, shop.account) == [stack.rackbeat_webhook_url(connection_id)]
    requests_before = stack.aws.usage()["api_requests"]
    stack.rackbeat.set_stock(shop.account, SKU, 12, "L1")
    stack.settle()
    assert shop.shop_quantities(SKU, "available") == [12]
    assert stack.aws.usage()["api_requests"] - requests_before == 1


def test_a_change_on_another_rackbeat_account_never_reaches_these_followers(merchant_with: Any) -> None:
    # GIVEN two shops and a café on one account, and another merchant's shop on an account of its own
    first, second, cafe = followers_of_one_account(merchant_with)
    stranger = merchant_with(stock_sync={"enabled": True})
    stranger.shop_product(SKU, available=0)
    stack = first.stack
    stack.settle()
    seen = {c: len(stock_events(stack, c)) for c in (first.connection.connection_id, cafe.connection_id)}
    # WHEN the stranger's warehouse counts the same item number to 99
    stack.rackbeat.set_stock(stranger.account, SKU, 99, "L1")
    stack.settle()
    # THEN only the stranger's shop shows it; the followers of the first account heard nothing
    assert stranger.shop_quantities(SKU, "available") == [99]
    assert first.shop_quantities(SKU, "available") == [0] and second.shop_quantities(SKU, "available") == [0]
    assert cafe.shown() == 0
    assert {c: len(stock_events(stack, c)) for c in seen} == seen
