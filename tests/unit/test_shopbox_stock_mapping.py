"""Rackbeat → Shopbox stock (`rackbeat_shopbox.stock`) through the generic push (`flows.stock_push`), on the
Rackbeat simulator (items with stock per location) with the table in moto, and a Shopbox side that writes into the
Shopbox simulator's stock: which branch shows which location (the `locations` map and the two main-location
fallbacks), how an item finds its Shopbox product and variant (the mapping, else the item's custom fields), what is
reported instead of written, and one Rackbeat read per item serving every branch and every connection on the
account — but never a read older than the connection's latest change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from shopbox_catalog_fakes import AARHUS, ODENSE, STROGET, UID_FIELD, VARIANT_FIELD, connection

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.flows import stock_push
from crossdock.integrations.rackbeat_shopbox import catalog_mapping, rackbeat_webhooks, stock
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.ports import StockPushReport
from crossdock.store import stock as stock_marks
from crossdock.store.stock import TableStockMarks
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator

KEY = "rb-key-stock"
LOCATIONS_ROUTE = ("GET", "/products/{number}/locations")


@dataclass
class SimShopbox:
    """`ShopboxClient.set_inventory` as an absolute count in the Shopbox simulator, each call recorded."""

    sim: ShopboxSimulator
    client: int
    writes: list[tuple[str, str, str | None, int]] = field(default_factory=list)

    def set_inventory(self, branch: str, product: str, variance: str | None, quantity: int, note: str) -> None:
        self.writes.append((branch, product, variance, quantity))
        self.sim.set_stock(
            self.client, int(branch), int(product), quantity, None if variance is None else int(variance)
        )


@dataclass
class Clients:
    rackbeat_client: RackbeatClient
    shopbox_client: SimShopbox

    def rackbeat(self, connection: Any, *, paced: bool = True) -> RackbeatClient:
        return self.rackbeat_client

    def shopbox(self, connection: Any) -> SimShopbox:
        return self.shopbox_client


@dataclass
class Ports:
    """`ports.CommandPorts` of a push: the table in moto, a clock moved by hand, no queue."""

    table: Any
    clients: Clients
    clock: list[float] = field(default_factory=lambda: [1000.0])
    requested: list[str] = field(default_factory=list)

    @property
    def now(self) -> Callable[[], float]:
        return lambda: self.clock[0]

    @property
    def sleep(self) -> Callable[[float], None]:
        def moved(seconds: float) -> None:
            self.clock[0] += seconds

        return moved

    @property
    def seconds_left(self) -> Callable[[], float]:
        return lambda: 900.0

    @property
    def request_stock_push(self) -> Callable[[str], None]:
        return self.requested.append

    @property
    def continue_stock_push(self) -> Callable[[str], None]:
        return self.requested.append

    @property
    def marks(self) -> TableStockMarks:
        return TableStockMarks(self.table)


@dataclass
class World:
    rackbeat: RackbeatSimulator
    account: int
    shopbox: SimShopbox
    ports: Ports
    mug: int
    coffee: dict[str, Any]
    stroget: str
    aarhus: str
    odense: str

    def connection(self, connection_id: str, **changes: Any) -> RackbeatShopboxConnection:
        """A connection of the kind whose branches are the simulator's: Strøget at L1 and Aarhus at L2."""
        changes.setdefault("locations", {self.stroget: "L1", self.aarhus: "L2"})
        made: RackbeatShopboxConnection = connection(connection_id, **changes)
        return made

    def rackbeat_reads(self) -> int:
        return self.rackbeat.calls_by_route[LOCATIONS_ROUTE]

    def change(self, connection_id: str, number: str) -> None:
        """A `product.stock_changed` webhook of `number` received by the connection now."""
        stock_marks.mark_dirty(self.ports.table, connection_id, number, self.ports.clock[0])

    def push(self, chosen: RackbeatShopboxConnection) -> StockPushReport:
        self.ports.clock[0] += stock_push.QUIET_SECONDS  # the burst has settled
        return stock_push.push_stock(chosen, stock.STOCK, self.ports)

    def shown(self, branch: str, product: int, variance: int | None = None) -> int:
        return self.shopbox.sim.stock(self.shopbox.client, int(branch), product, variance)


@pytest.fixture
def world(table: Any) -> World:
    rackbeat = RackbeatSimulator(rate_limit_per_minute=100_000)
    account = rackbeat.add_account(KEY)
    for number in ("L1", "L2", "L9"):
        rackbeat.seed_location(account, number, f"Lager {number}")
    rackbeat.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    rackbeat.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    rackbeat.seed_product(account, "MUG-1", "Krus", "63.20")
    rackbeat.seed_product(account, "COF-L", "Kaffe stor", "36.00")
    rackbeat.set_stock(account, "MUG-1", 12, "L1")
    rackbeat.set_stock(account, "MUG-1", 3, "L2")
    rackbeat.set_stock(account, "MUG-1", 40, "L9")
    rackbeat.set_stock(account, "COF-L", 25, "L1")
    shopbox = ShopboxSimulator()
    seeded = shopbox.seed_client("Kaffebaren ApS", branches={"Strøget": ["Kasse 1"], "Aarhus": [], "Odense": []})
    client = int(seeded["uid"])
    branch = {b["name"]: str(b["uid"]) for b in seeded["branches"]}
    mug = shopbox.upsert_product(client, {"uid": None, "name": "Krus", "sku_code": "MUG-1", "selling_price": 7900})
    coffee = shopbox.upsert_product(
        client,
        {
            "uid": None,
            "name": "Kaffe",
            "inventory_on_variants": True,
            "variants": [
                {"name": "Lille", "sku_code": "COF-S", "selling_price": 3500},
                {"name": "Stor", "sku_code": "COF-L", "selling_price": 4500},
            ],
        },
    )
    rackbeat_client = RackbeatClient("https://app.rackbeat.com/api/", KEY, transport=transport(rackbeat, root="/api"))
    ports = Ports(table, Clients(rackbeat_client, SimShopbox(shopbox, client)))
    shop = ports.clients.shopbox_client
    return World(
        rackbeat, account, shop, ports, int(mug["uid"]), coffee, branch["Strøget"], branch["Aarhus"], branch["Odense"]
    )


def _bind_mug(world: World, connection_id: str) -> None:
    catalog_mapping.bind_item(world.ports.table, connection_id, "MUG-1", str(world.mug), None, "agreed")


def test_the_plan_maps_each_branch_to_its_location_and_the_main_shopbox_branch_to_the_main_rackbeat_location() -> None:
    # GIVEN two mapped branches, and Odense as the main Shopbox branch with L9 as the main Rackbeat location
    chosen = connection(main_location_shopbox=ODENSE, main_location_rackbeat="L9")
    # THEN each mapped branch shows its location and the main branch the main location
    assert stock.branch_plan(chosen.settings) == {STROGET: "L1", AARHUS: "L2", ODENSE: "L9"}
    # AND a main branch that is also mapped keeps its own location
    assert stock.branch_plan(connection(main_location_shopbox=AARHUS, main_location_rackbeat="L9").settings) == {
        STROGET: "L1",
        AARHUS: "L2",
    }
    # AND a main Rackbeat location without a main Shopbox branch adds no branch (it serves unmapped branches' sales)
    assert stock.branch_plan(connection(main_location_rackbeat="L9").settings) == {STROGET: "L1", AARHUS: "L2"}
    # AND without any branch mapped, stock is off for the connection
    assert not stock.STOCK.enabled(connection(locations={}, main_location_rackbeat="L9"))
    assert stock.STOCK.enabled(connection(locations={}, main_location_rackbeat="L9", main_location_shopbox=ODENSE))


def test_a_stock_change_sets_each_branch_to_its_locations_quantity_from_one_rackbeat_read(world: World) -> None:
    # GIVEN the mug bound to its Shopbox product, 12 at L1 (Strøget), 3 at L2 (Aarhus), 40 at L9 (main)
    chosen = world.connection("c-stock-1", main_location_shopbox=world.odense, main_location_rackbeat="L9")
    _bind_mug(world, chosen.id)
    world.change(chosen.id, "MUG-1")
    # WHEN the push runs
    report = world.push(chosen)
    # THEN every branch shows its location's absolute quantity
    assert (
        world.shown(world.stroget, world.mug),
        world.shown(world.aarhus, world.mug),
        world.shown(world.odense, world.mug),
    ) == (
        12,
        3,
        40,
    )
    assert (report.pushed, report.problems) == (3, [])
    # AND Rackbeat was read once for the three branches, and the mark is gone
    assert world.rackbeat_reads() == 1
    assert stock_marks.dirty_items(world.ports.table, chosen.id) == []


def test_a_location_the_item_never_had_stock_at_shows_zero(world: World) -> None:
    # GIVEN Aarhus mapped to L3, where the mug never had any stock
    world.rackbeat.seed_location(world.account, "L3", "Lager L3")
    chosen = world.connection("c-stock-2", locations={world.stroget: "L1", world.aarhus: "L3"})
    _bind_mug(world, chosen.id)
    world.shopbox.sim.set_stock(world.shopbox.client, int(world.aarhus), world.mug, 5)
    world.change(chosen.id, "MUG-1")
    # WHEN the push runs
    world.push(chosen)
    # THEN Aarhus shows none (Rackbeat has none there), Strøget its 12
    assert (world.shown(world.stroget, world.mug), world.shown(world.aarhus, world.mug)) == (12, 0)


def test_an_item_without_a_mapping_row_finds_its_variant_by_the_custom_fields(world: World) -> None:
    # GIVEN COF-L with the coffee's uid and its large variant's uid in the item's custom fields, no mapping row
    large = world.coffee["product_variances"][1]
    world.rackbeat.set_field_value(world.account, "COF-L", UID_FIELD, str(world.coffee["uid"]), emit=False)
    world.rackbeat.set_field_value(world.account, "COF-L", VARIANT_FIELD, str(large["uid"]), emit=False)
    chosen = world.connection("c-stock-3")
    world.change(chosen.id, "COF-L")
    # WHEN the push runs
    report = world.push(chosen)
    # THEN the large variant shows 25 at Strøget and 0 at Aarhus; the product itself is not written
    assert world.shown(world.stroget, int(world.coffee["uid"]), int(large["uid"])) == 25
    assert {(w[1], w[2]) for w in world.shopbox.writes} == {(str(world.coffee["uid"]), str(large["uid"]))}
    assert report.problems == []


def test_an_item_with_no_shopbox_product_is_reported_and_nothing_is_written(world: World) -> None:
    # GIVEN the mug neither in the mapping nor carrying a UID in its custom field
    chosen = world.connection("c-stock-4")
    world.change(chosen.id, "MUG-1")
    # WHEN the push runs
    report = world.push(chosen)
    # THEN nothing is written and the report names the item and why
    assert world.shopbox.writes == []
    assert report.problems == [
        "MUG-1: no Shopbox product for this item (not in the mapping, and no UID in the item's custom field)"
    ]


def test_an_item_rackbeat_no_longer_has_is_reported(world: World) -> None:
    chosen = world.connection("c-stock-5")
    world.change(chosen.id, "GONE-1")
    report = world.push(chosen)
    assert world.shopbox.writes == [] and report.problems == ["GONE-1: not an item in Rackbeat (deleted?)"]


def test_connections_on_one_rackbeat_account_share_a_read_made_after_their_change(world: World) -> None:
    # GIVEN two Shopbox connections on the same Rackbeat account, both told of one change of the mug
    first, second = world.connection("c-share-1"), world.connection("c-share-2")
    for chosen in (first, second):
        _bind_mug(world, chosen.id)
        world.change(chosen.id, "MUG-1")
    # WHEN both push
    world.push(first)
    world.push(second)
    # THEN Rackbeat was read once, and both clients' branches show the quantities
    assert world.rackbeat_reads() == 1
    assert len(world.shopbox.writes) == 4 and {w[3] for w in world.shopbox.writes} == {12, 3}


def test_a_read_older_than_the_connections_latest_change_is_never_used(world: World) -> None:
    # GIVEN the first connection pushed the mug (12 at L1), and then the mug was counted to 7 at L1
    first, second = world.connection("c-fresh-1"), world.connection("c-fresh-2")
    for chosen in (first, second):
        _bind_mug(world, chosen.id)
    world.change(first.id, "MUG-1")
    world.push(first)
    world.ports.clock[0] += 1
    world.rackbeat.set_stock(world.account, "MUG-1", 7, "L1")
    world.change(second.id, "MUG-1")  # the second connection hears of the later change
    # WHEN the second connection pushes
    world.push(second)
    # THEN it read Rackbeat again and Strøget shows 7, not the kept 12
    assert world.rackbeat_reads() == 2
    assert world.shown(world.stroget, world.mug) == 7
    # AND the first connection, told of that same change (received before the second's read started), is served by
    # the second's read without calling Rackbeat
    stock_marks.mark_dirty(world.ports.table, first.id, "MUG-1", world.ports.clock[0] - 1)
    world.push(first)
    assert world.rackbeat_reads() == 2
    assert [w[3] for w in world.shopbox.writes[-2:]] == [7, 3] or [w[3] for w in world.shopbox.writes[-2:]] == [3, 7]


def test_the_rackbeat_webhooks_follow_the_branch_plan_and_the_product_direction() -> None:
    # GIVEN settings with mapped branches and products staying in Shopbox: only the stock event
    assert rackbeat_webhooks.rackbeat_events(connection(product_sync="off").settings) == ["product.stock_changed"]
    # AND with no branch showing Rackbeat's stock, no stock event
    assert "product.stock_changed" not in rackbeat_webhooks.rackbeat_events(
        connection(locations={}, product_sync="off").settings
    )
    # AND products from Rackbeat add the product events (beside stock's)
    both = rackbeat_webhooks.rackbeat_events(connection(product_sync="rackbeat").settings)
    assert "product.stock_changed" in both and "product.updated" in both
