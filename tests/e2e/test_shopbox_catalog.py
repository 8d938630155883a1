"""The Shopbox catalogue into Rackbeat end to end (issue 14 items 3 and 4), on the embedded stack with the Shopbox
and Rackbeat simulators: the `shopbox_to_rackbeat` initial sync started by the operator (`crossdock initial-sync
start|progress`) runs the initial-sync workflow to its end — items with their Shopbox UIDs in the two custom
fields, the stock of each branch at its Rackbeat location, the products that cannot be items listed — also when
Rackbeat fails calls and loses answers on the way; and the `products#shopbox` poll upserts what changed in Shopbox.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.secret_names import SHOPBOX_API_TOKEN
from crossdock.flows.poll_schedules import poll_event
from crossdock.integrations.rackbeat_shopbox import initial_sync, product_push, rackbeat_webhooks
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.product_stream import STREAM as PRODUCT_STREAM
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.operations import initial_sync as operations_initial_sync
from crossdock.operations import stack_access
from crossdock.operations.errors import Refused
from crossdock.store import connections, events
from crossdock.store.events import EventStatus
from crossdock_local import operator_cli
from crossdock_local.sims.base import Faults
from crossdock_local.stack import LocalStack

_shops = itertools.count(1)
UID_FIELD, VARIANT_FIELD = 81, 82
COFFEES = 30  # products of three sizes each: 90 variants, with the mug and the cake a few chunks of 25


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(initial_sync, "CHUNK", 25)
    yield


@dataclass
class Bakery:
    """A Shopbox client with two branches and a catalogue, on a Rackbeat account of its own."""

    stack: LocalStack
    connection_id: str
    account: int
    client: int
    branches: list[int]
    mug: int  # Shopbox uid of the mug (no variants, SKU MUG-1)
    coffees: list[dict[str, Any]]  # the coffee products as Shopbox shows them
    api_key: str  # the Rackbeat account's

    def rackbeat_api(self) -> RackbeatClient:
        return RackbeatClient(f"{self.stack.base_url}/_sim/rackbeat/api/", self.api_key)

    def item(self, number: str) -> dict[str, Any]:
        found: dict[str, Any] = self.stack.rackbeat.state(self.account).products[number]
        return found

    def stock(self, number: str, location: str) -> Decimal:
        return self.stack.rackbeat.product_stock(self.account, number, location)

    def sync(self) -> dict[str, Any]:
        operations_initial_sync.start_initial_sync(self.stack.operator, self.connection_id)
        self.stack.settle(execution_timeout=600)
        progress = operations_initial_sync.initial_sync_progress(self.stack.operator, self.connection_id)
        return progress.__dict__

    def poll_products(self) -> dict[str, Any]:
        self.stack.aws.clock.advance(15 * 60)
        result = self.stack.aws.invoke("PollFunction", poll_event(self.connection_id, PRODUCT_STREAM))
        assert result.error is None, result.error
        self.stack.settle()
        payload: dict[str, Any] = result.payload
        return payload


def connect(stack: LocalStack, account: int, api_key: str, client: int, settings: dict[str, Any]) -> str:
    """The connection stored active with its secrets encrypted, as onboarding leaves it (the install itself is
    tests/e2e/test_shopbox_onboarding.py's). It holds a Shopbox API token, which never expires, so the run does not
    depend on login refreshes (the connector's tests cover those)."""
    connection = RackbeatShopboxConnection(
        id=str(uuid.uuid4()),
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=account, api_base=f"{stack.base_url}/_sim/rackbeat/api/"),
            shopbox=ShopboxAccount(api_base=stack.shopbox_api, client_uid=str(client)),
        ),
        settings=RackbeatShopboxSettings.model_validate(settings),
    )
    connections.save_connection(stack.table, connection)
    secrets = stack_access.secret_store(stack.operator)
    secrets.put(connection.id, RACKBEAT_API_KEY, api_key)
    secrets.put(connection.id, SHOPBOX_API_TOKEN, stack.shopbox.add_api_token(client))
    return connection.id


def bakery(stack: LocalStack, **settings: Any) -> Bakery:
    number = next(_shops)
    account, api_key = stack.new_rackbeat_account()
    rackbeat = stack.rackbeat
    rackbeat.seed_location(account, "L2", "Butik Aarhus")
    rackbeat.seed_customer(account, 900, "Butikssalg")
    rackbeat.seed_product_group(account, 1, "Varer m/lagerstrekk")
    rackbeat.seed_product_group(account, 2, "Kaffe")
    rackbeat.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    rackbeat.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    seeded = stack.shopbox.seed_client(
        f"Bageriet {number} ApS",
        branches={"Strøget": ["Kasse 1"], "Aarhus C": ["Kasse 1"]},
        tags=["Kaffe", "Kager"],
    )
    client = int(seeded["uid"])
    branches = [int(b["uid"]) for b in seeded["branches"]]
    coffee_tag, cake_tag = (int(t["id"]) for t in seeded["tags"])
    shopbox = stack.shopbox
    mug = shopbox.upsert_product(
        client, {"uid": None, "name": "Krus", "selling_price": 7900, "sku_code": "MUG-1", "tag": cake_tag}
    )
    shopbox.set_stock(client, branches[0], int(mug["uid"]), 12)
    shopbox.set_stock(client, branches[1], int(mug["uid"]), 3)
    shopbox.upsert_product(client, {"uid": None, "name": "Kage", "selling_price": 2999, "tag": cake_tag})  # no SKU
    coffees = []
    for index in range(COFFEES):
        sizes = [
            {"name": size, "sku_code": f"COF-{index:03d}-{size[0]}", "selling_price": price}
            for size, price in (("Small", 3500), ("Medium", 4000), ("Large", 4500))
        ]
        coffee = shopbox.upsert_product(
            client,
            {
                "uid": None,
                "name": f"Kaffe {index}",
                "selling_price": 3500,
                "tag": coffee_tag,
                "inventory_on_variants": True,
                "variants": sizes,
            },
        )
        for position, variance in enumerate(coffee["product_variances"]):
            shopbox.set_stock(client, branches[0], int(coffee["uid"]), index + position, variance=int(variance["uid"]))
        coffees.append(coffee)
    connection_id = connect(
        stack,
        account,
        api_key,
        client,
        {
            "initial_sync": "shopbox_to_rackbeat",
            "uid_field_id": str(UID_FIELD),
            "variant_field_id": str(VARIANT_FIELD),
            "locations": {str(branches[0]): "L1", str(branches[1]): "L2"},
            "categories": {str(coffee_tag): 2},
            "default_category_group": 1,
            "sales": {"customer_number": 900},
            **settings,
        },
    )
    return Bakery(stack, connection_id, account, client, branches, int(mug["uid"]), coffees, api_key)


def expected_items(shop: Bakery) -> dict[str, tuple[str, str | None, int]]:
    """Item number → (product uid, variant uid, stock at L1) for every coffee size."""
    found = {}
    for index, coffee in enumerate(shop.coffees):
        for position, variance in enumerate(coffee["product_variances"]):
            found[str(variance["sku_code"])] = (str(coffee["uid"]), str(variance["uid"]), index + position)
    return found


def test_the_initial_sync_makes_every_product_and_variant_an_item_with_its_uids_and_branch_stock(
    stack: LocalStack,
) -> None:
    # GIVEN a bakery's Shopbox catalogue: a mug at both branches, a cake without SKU, 30 coffees in three sizes
    shop = bakery(stack)
    # WHEN the operator starts the initial sync and follows it with the CLI
    progress = shop.sync()
    output = io.StringIO()
    assert operator_cli.run(["initial-sync", "progress", shop.connection_id], stack.operator, output) == 0
    # THEN it is done: 92 units, 91 items created, the cake listed with the reason
    assert (progress["status"], progress["done"], progress["total"]) == ("done", 92, 92)
    assert (progress["created"], progress["existing"], progress["skipped"]) == (91, 0, 1)
    assert progress["not_synced"][0].endswith("(Kage): no SKU (sku_code), so no Rackbeat item number")
    assert "done: 92 of 92 variants (91 created, 0 already in Rackbeat, 1 skipped)" in output.getvalue()
    # AND the mug is in the default group at its price without VAT, bound to its product, stocked at both branches'
    # locations
    mug = shop.item("MUG-1")
    assert (mug["group"]["number"], mug["sales_price"]) == (1, Decimal("63.2"))
    assert mug["_field_values"] == {UID_FIELD: str(shop.mug)}
    assert (shop.stock("MUG-1", "L1"), shop.stock("MUG-1", "L2")) == (12, 3)
    # AND every coffee size is an item in the coffee group with both UIDs and Strøget's count at L1
    for number, (product_uid, variant_uid, quantity) in expected_items(shop).items():
        item = shop.item(number)
        assert item["group"]["number"] == 2, number
        assert item["_field_values"] == {UID_FIELD: product_uid, VARIANT_FIELD: variant_uid}, number
        assert shop.stock(number, "L1") == quantity, number
    # AND it runs once
    with pytest.raises(Refused, match="the initial sync runs once"):
        operations_initial_sync.start_initial_sync(stack.operator, shop.connection_id)


def test_an_initial_sync_through_failures_and_lost_answers_makes_each_item_once_with_its_stock_once(
    stack: LocalStack,
) -> None:
    # GIVEN Rackbeat failing 20 % of calls and losing 20 % of write answers after committing them
    shop = bakery(stack)
    stack.rackbeat.faults = Faults(server_error_rate=0.2, drop_response_rate=0.2, seed=5)
    # WHEN the initial sync runs (its steps retried by the workflow, chunks begun again)
    progress = shop.sync()
    stack.rackbeat.faults = Faults()
    # THEN it finished, every item exists once with Strøget's count at L1, and no chunk's stock was booked twice
    assert progress["status"] == "done", progress["error"]
    assert progress["created"] + progress["existing"] == 91
    products = stack.rackbeat.state(shop.account).products
    assert sum(1 for number in products if number.startswith(("COF-", "MUG-"))) == 91
    for number, (_, _, quantity) in expected_items(shop).items():
        assert shop.stock(number, "L1") == quantity, number
    assert (shop.stock("MUG-1", "L1"), shop.stock("MUG-1", "L2")) == (12, 3)
    booked = [a for a in stack.rackbeat.state(shop.account).adjustments.values() if a["is_booked"]]
    assert len({a["reason"] for a in booked}) == len(booked)


def test_a_product_changed_in_shopbox_reaches_its_rackbeat_item_at_the_next_products_poll(stack: LocalStack) -> None:
    # GIVEN products flowing from Shopbox, the catalogue copied by the initial sync, and the products poll's first run
    shop = bakery(stack, product_sync="shopbox")
    shop.sync()
    first = shop.poll_products()
    assert first["enqueued"] == 0
    # WHEN the mug's price is raised to 89.00 and a new tea is added at the till's back office
    stack.shopbox.upsert_product(shop.client, {"uid": shop.mug, "selling_price": 8900})
    stack.shopbox.upsert_product(shop.client, {"uid": None, "name": "Te", "selling_price": 2500, "sku_code": "TEA-1"})
    shop.poll_products()
    # THEN the mug's item costs 71.20 without VAT, and the tea is a new item in the default group with its UID
    assert shop.item("MUG-1")["sales_price"] == Decimal("71.2")
    tea = shop.item("TEA-1")
    assert tea["group"]["number"] == 1 and UID_FIELD in tea["_field_values"]
    # AND a poll that reads them again changes nothing (they are as last synced)
    calls = stack.rackbeat.calls
    shop.poll_products()
    assert stack.rackbeat.calls == calls
    # AND the cake without SKU, read by every poll whose window reaches it, was reported once
    changed = [e for e in events.list_events(stack.table, shop.connection_id) if e["topic"] == "products/changed"]
    attention = [e["reason"] for e in changed if e["status"] == "needs_attention"]
    assert len(attention) == 1 and "(Kage): no SKU (sku_code)" in attention[0]


@dataclass(frozen=True)
class PushPorts:
    """What the Shopbox push function hands a command: the table and the connection's clients (the stack's own)."""

    table: Any
    clients: Any


def test_in_both_directions_a_rackbeat_change_reaches_shopbox_and_is_not_written_back(stack: LocalStack) -> None:
    # GIVEN products both ways, the catalogue copied by the initial sync, the products poll started
    shop = bakery(stack, product_sync="both")
    shop.sync()
    shop.poll_products()
    ports = PushPorts(
        stack.table, stack_access.connection_clients(stack.operator, stack_access.secret_store(stack.operator))
    )
    connection = RackbeatShopboxConnection.of(connections.load_connection(stack.table, shop.connection_id))
    # WHEN the mug's price is raised to 72.00 in Rackbeat and its push runs (what the Shopbox outbound queue runs)
    stack.rackbeat.state(shop.account).products["MUG-1"]["sales_price"] = Decimal("72.00")
    pushed = product_push.push_item(connection, "MUG-1", "product", ports)  # type: ignore[arg-type]
    # THEN the mug costs 90.00 at the till
    assert pushed.status is EventStatus.DONE, pushed.reason
    mug = stack.shopbox.client(shop.client).products[shop.mug]
    assert mug["selling_price"] == 9000 and mug["integration_number"] == "MUG-1"
    # AND the next products poll reads the mug back (its tstamp moved) and writes nothing to Rackbeat
    calls = stack.rackbeat.calls
    run = shop.poll_products()
    assert str(shop.mug) in run["changed"]
    assert stack.rackbeat.calls == calls
    mug_events = [e for e in events.list_events(stack.table, shop.connection_id) if e["topic"] == "products/changed"]
    assert mug_events[-1]["status"] == "skipped" and "our own write" in mug_events[-1]["reason"]
    # AND a second push of the unchanged item does nothing either
    again = product_push.push_item(connection, "MUG-1", "product", ports)  # type: ignore[arg-type]
    assert again.status is EventStatus.SKIPPED


def test_a_new_rackbeat_item_becomes_a_shopbox_product_through_its_webhook_and_the_shopbox_queue(
    stack: LocalStack,
) -> None:
    # GIVEN products flowing from Rackbeat, the connection's Rackbeat webhooks registered (as activation does)
    shop = bakery(stack, product_sync="rackbeat", initial_sync="none")
    connection = RackbeatShopboxConnection.of(connections.load_connection(stack.table, shop.connection_id))
    secrets = stack_access.secret_store(stack.operator)
    registered = rackbeat_webhooks.register(
        connection, shop.rackbeat_api(), secrets, stack.operator.onboard().webhook_base_url, stack.table
    )
    assert {"product.created", "product.updated"} <= set(registered)
    # WHEN a tea is made in Rackbeat at 20.00 without VAT
    body = {"number": "TEA-9", "name": "Te", "sales_price": "20.00", "barcode": "5701234560009", "group": {"number": 1}}
    shop.rackbeat_api().post("products", body)
    stack.settle()
    # THEN its webhook went through ingest, dispatch and the Shopbox queue: Shopbox has it at 25.00 incl. VAT
    made = [p for p in stack.shopbox.client(shop.client).products.values() if p.get("integration_number") == "TEA-9"]
    assert len(made) == 1
    assert (made[0]["name"], made[0]["selling_price"], made[0]["sku_code"]) == ("Te", 2500, "TEA-9")
    # AND the item names its Shopbox product in the UID field, and the event ended done
    assert shop.item("TEA-9")["_field_values"] == {UID_FIELD: str(made[0]["uid"])}
    created = [e for e in events.list_events(stack.table, shop.connection_id) if e["topic"] == "product.created"]
    assert [e["status"] for e in created] == ["done"], [e["reason"] for e in created]
