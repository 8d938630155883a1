"""Rackbeat's stock to the Shopbox branches end to end (issue 14 item 5), on the embedded stack with the Rackbeat and
Shopbox simulators: a warehouse count in Rackbeat (a booked adjustment, which sends `product.stock_changed` to the
Rackbeat webhooks the connection registered) goes through ingest, dispatch, the Shopbox outbound queue and the
shopbox-push function to an absolute quantity at each mapped branch; a burst is one push; two Shopbox clients on
one Rackbeat account read the item once; a Shopbox 429 puts the push back on the queue after its Retry-After.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any
from unittest import mock

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations.rackbeat_shopbox import rackbeat_webhooks
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.store import connections, events
from crossdock_local.scenarios.shopbox_on_rackbeat import store_shopbox
from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.stack import LocalStack

_clients = itertools.count(1)
INVENTORY_WRITE = ("POST", "/product-inventories")
LOCATIONS_READ = ("GET", "/products/{number}/locations")
SHOPBOX_RETRY_AFTER = 30


@dataclass
class Cafe:
    """A Shopbox client with two branches (Strøget at L1, Aarhus at L2) selling the mug, bound to item MUG-1."""

    stack: LocalStack
    connection_id: str
    client: int
    branches: list[int]
    mug: int

    def shown(self) -> tuple[int, int]:
        return tuple(self.stack.shopbox.stock(self.client, branch, self.mug) for branch in self.branches)  # type: ignore[return-value]

    def events(self) -> list[dict[str, Any]]:
        return events.list_events(self.stack.table, self.connection_id)


def inventory_writes(stack: LocalStack) -> int:
    return sum(n for (method, path), n in stack.shopbox.calls_by_route.items() if (method, path) == INVENTORY_WRITE)


def cafe(stack: LocalStack, account: int, api_key: str) -> Cafe:
    """The connection stored active with its secrets, and its Rackbeat webhooks registered as activation does."""
    number = next(_clients)
    stored = store_shopbox(
        stack,
        account,
        api_key,
        name=f"Kaffebaren {number} ApS",
        branches={"Strøget": ["Kasse 1"], "Aarhus": []},
        locations=["L1", "L2"],
        items={"MUG-1": "Krus"},
    )
    connection, secrets, rackbeat = stored.connection, stored.secrets, stored.rackbeat
    client, branches, mug = stored.client, stored.branches, stored.products["MUG-1"]
    registered = rackbeat_webhooks.register(connection, rackbeat, secrets, stack.base_url, stack.table)
    assert registered == ["product.stock_changed"]
    return Cafe(stack, connection.id, client, branches, mug)


def rackbeat_account(stack: LocalStack) -> tuple[int, str]:
    account, api_key = stack.new_rackbeat_account()
    stack.rackbeat.seed_location(account, "L2", "Butik Aarhus")
    stack.rackbeat.seed_product(account, "MUG-1", "Krus", "63.20")
    stack.rackbeat.set_stock(account, "MUG-1", 1, "L1")
    return account, api_key


def test_a_stock_count_in_rackbeat_sets_each_mapped_branch_to_its_location(stack: LocalStack) -> None:
    # GIVEN a café whose Strøget branch shows L1 and Aarhus L2, the mug at 1 and 0 there
    account, api_key = rackbeat_account(stack)
    shop = cafe(stack, account, api_key)
    stack.settle()
    # WHEN the warehouse counts the mug to 12 at L1 and 3 at L2
    stack.rackbeat.set_stock(account, "MUG-1", 12, "L1")
    stack.rackbeat.set_stock(account, "MUG-1", 3, "L2")
    stack.settle()
    # THEN Strøget shows 12 and Aarhus 3, and both webhooks ended done
    assert shop.shown() == (12, 3)
    stock_events = [e for e in shop.events() if e["topic"] == "product.stock_changed"]
    assert len(stock_events) >= 2 and all(e["status"] == "done" for e in stock_events), stock_events


def test_a_burst_of_changes_is_one_push_of_the_latest_quantities(stack: LocalStack) -> None:
    # GIVEN the café, settled
    account, api_key = rackbeat_account(stack)
    shop = cafe(stack, account, api_key)
    stack.settle()
    before = inventory_writes(stack)
    # WHEN the mug changes 20 times at L1 within a few seconds (sales picked, a count, returns)
    for delta in [5, -1, -1, 2, -1] * 4:
        stack.rackbeat.adjust_stock(account, "MUG-1", delta, "L1")
    stack.settle()
    # THEN Shopbox got one write per branch (2), not one per change, and shows the final 1 + 16 = 17
    assert inventory_writes(stack) - before == 2
    assert shop.shown() == (17, 0)


def test_two_shopbox_clients_on_one_rackbeat_account_read_the_item_once(stack: LocalStack) -> None:
    # GIVEN two cafés (two Shopbox clients) on the same Rackbeat account, both selling the mug
    account, api_key = rackbeat_account(stack)
    first, second = cafe(stack, account, api_key), cafe(stack, account, api_key)
    stack.settle()
    reads_before = stack.rackbeat.calls_by_route[LOCATIONS_READ]
    # WHEN the warehouse counts the mug to 9 at L1
    stack.rackbeat.set_stock(account, "MUG-1", 9, "L1")
    stack.settle()
    # THEN both clients' Strøget branches show 9, and Rackbeat was asked for the mug's stock once
    assert first.shown() == (9, 0) and second.shown() == (9, 0)
    assert stack.rackbeat.calls_by_route[LOCATIONS_READ] - reads_before == 1


def test_a_push_shopbox_throttled_returns_after_its_retry_after(stack: LocalStack) -> None:
    # GIVEN Shopbox answers the first stock write 429 with Retry-After 30 s
    account, api_key = rackbeat_account(stack)
    shop = cafe(stack, account, api_key)
    stack.settle()
    shopbox = stack.shopbox
    original = type(shopbox)._handle_locked
    answers: list[tuple[float, int]] = []

    def throttled_once(self: Any, request: SimRequest) -> SimResponse:
        if request.method == "POST" and request.path.endswith("/product-inventories"):
            if not answers:
                answers.append((self.clock(), 429))
                body = json.dumps({"error": {"name": "TooManyRequests", "message": "slow down", "status": 429}})
                return SimResponse(429, body.encode(), {"Retry-After": str(SHOPBOX_RETRY_AFTER)})
            answers.append((self.clock(), 201))
        return original(self, request)

    # WHEN the warehouse counts the mug to 8 at L1
    with mock.patch.object(type(shopbox), "_handle_locked", throttled_once):
        stack.rackbeat.set_stock(account, "MUG-1", 8, "L1")
        stack.settle()
    # THEN the push came back about 30 s after the 429 — far sooner than the queue's 720 s visibility timeout —
    # and set both branches
    (refused_at, _), (written_at, status) = answers[0], answers[1]
    assert status == 201 and SHOPBOX_RETRY_AFTER <= written_at - refused_at < SHOPBOX_RETRY_AFTER + 30
    assert shop.shown() == (8, 0)


def test_the_self_check_re_registers_a_stock_webhook_deleted_in_rackbeat(stack: LocalStack) -> None:
    # GIVEN the café, whose stock webhook a Rackbeat user deleted
    account, api_key = rackbeat_account(stack)
    shop = cafe(stack, account, api_key)
    rackbeat = RackbeatClient(f"{stack.base_url}/_sim/rackbeat/api/", api_key)
    stored = connections.load_connection(stack.table, shop.connection_id)
    assert stored is not None
    url = rackbeat_webhooks.webhook_url(stack.base_url, RackbeatShopboxConnection.of(stored))
    (hook,) = [h for h in rackbeat.iterate("webhooks", "webhooks") if h.get("url") == url]
    rackbeat.delete(f"webhooks/{hook['id']}")
    stack.rackbeat.set_stock(account, "MUG-1", 4, "L1")
    stack.settle()
    assert shop.shown() == (0, 0)  # nobody heard of that count
    # WHEN the scheduled self-check runs
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()
    # THEN it re-registered the webhook and recorded so, and the next count reaches Strøget
    repaired = [e for e in shop.events() if e["topic"] == rackbeat_webhooks.SELF_CHECK_TOPIC]
    assert len(repaired) == 1 and "product.stock_changed" in repaired[0]["reason"]
    stack.rackbeat.set_stock(account, "MUG-1", 6, "L1")
    stack.settle()
    assert shop.shown() == (6, 0)
