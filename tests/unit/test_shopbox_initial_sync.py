"""The `shopbox_to_rackbeat` initial sync's steps (`rackbeat_shopbox.initial_sync`) on the Rackbeat simulator, with
the table in moto and a Shopbox client answering from the café's catalogue: items with their UID fields, mapping
rows, stock per location as Shopbox counts it, what cannot be mapped listed — and a step that crashes half-way
run again without a second item or a second stock adjustment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from shopbox_catalog_fakes import UID_FIELD, VARIANT_FIELD, FakeShopbox, cafe_catalogue, cafe_stock, connection

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import PermanentError, RetryableError
from crossdock.integration import InitialSyncDeps
from crossdock.integrations.rackbeat_shopbox import catalog_mapping, initial_sync
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.store import sync_progress
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY = "rb-key-cafe"


class Crash(Exception):
    """The step's container stopped (after Rackbeat committed a write whose answer it never read)."""


@dataclass
class Clients:
    rackbeat_client: RackbeatClient
    shopbox_client: FakeShopbox

    def rackbeat(self, connection: Any, *, paced: bool = True) -> RackbeatClient:
        return self.rackbeat_client

    def shopbox(self, connection: Any) -> FakeShopbox:
        return self.shopbox_client


@dataclass
class Cafe:
    sim: RackbeatSimulator
    account: int
    connection: RackbeatShopboxConnection
    deps: InitialSyncDeps

    def run(self, step: str) -> dict[str, Any]:
        return initial_sync.run_step(step, self.connection, self.deps)

    def sync(self) -> dict[str, Any]:
        self.run("start_export")
        assert self.run("check_export") == {"export": "completed"}
        while not self.run("import_chunk")["finished"]:
            pass
        return sync_progress.load(self.deps.table, self.connection.id) or {}

    def item(self, number: str) -> dict[str, Any]:
        found: dict[str, Any] = self.sim.state(self.account).products[number]
        return found

    def fields(self, number: str) -> dict[int, Any]:
        return dict(self.item(number)["_field_values"])

    def stock(self, number: str) -> dict[str, Decimal]:
        return {k: v for k, v in self.item(number)["_locations"].items() if v}


@pytest.fixture
def cafe(table: Any) -> Cafe:
    sim = RackbeatSimulator(rate_limit_per_minute=100_000)
    account = sim.add_account(KEY)
    for number in ("L1", "L2"):
        sim.seed_location(account, number, f"Butik {number}")
    sim.seed_product_group(account, 1, "Varer m/lagerstrekk")
    sim.seed_product_group(account, 2, "Kaffe")
    sim.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    sim.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    # The merchant already keeps the large coffee in Rackbeat, with 30 counted at L1 and 4 at L2.
    sim.seed_product(account, "COF-L", "Kaffe stor", "36.00", location_stock={"L1": 30, "L2": 4})
    client = RackbeatClient("https://app.rackbeat.com/api/", KEY, transport=transport(sim, root="/api"))
    chosen = connection()
    sync_progress.claim(table, chosen.id, "2026-12-07T06:00:00Z")
    deps = InitialSyncDeps(table, Clients(client, FakeShopbox(cafe_catalogue(), cafe_stock())), lambda: "now")
    return Cafe(sim, account, chosen, deps)


def test_the_catalogue_becomes_rackbeat_items_bound_to_their_shopbox_uids_with_shopboxs_stock(cafe: Cafe) -> None:
    # GIVEN the café's Shopbox catalogue, the large coffee already in Rackbeat
    # WHEN the initial sync runs its steps
    progress = cafe.sync()
    # THEN the mug and the small coffee are new items in their groups, at Rackbeat's price without VAT
    mug, small = cafe.item("MUG-1"), cafe.item("COF-S")
    assert (mug["name"], mug["sales_price"], mug["group"]["number"]) == ("Krus", Decimal("63.2"), 1)
    assert (small["name"], small["group"]["number"]) == ("Kaffe - Lille", 2)
    # AND every item carries its product's UID, and a variant's its variant UID, in the two custom fields
    assert cafe.fields("MUG-1") == {UID_FIELD: "801"}
    assert cafe.fields("COF-S") == {UID_FIELD: "802", VARIANT_FIELD: "8021"}
    assert cafe.fields("COF-L") == {UID_FIELD: "802", VARIANT_FIELD: "8022"}
    # AND the stock at each mapped location is Shopbox's count there (the large coffee's 30 at L1 set to 25; its
    # -2 in Aarhus not a count, so L2 keeps its 4)
    assert cafe.stock("MUG-1") == {"L1": 12, "L2": 3}
    assert cafe.stock("COF-S") == {"L1": 40}
    assert cafe.stock("COF-L") == {"L1": 25, "L2": 4}
    # AND the mapping finds each item from its Shopbox uids, and each Shopbox product from its item
    table, connection_id = cafe.deps.table, cafe.connection.id
    assert (catalog_mapping.item_of(table, connection_id, "802", "8022") or {})["target_id"] == "COF-L"
    assert (catalog_mapping.shopbox_of(table, connection_id, "MUG-1") or {})["product_uid"] == "801"
    # AND the progress counts it all, and lists what was not synced with the reason
    assert (progress["status"], progress["done"], progress["total"]) == ("done", 5, 5)
    assert (progress["created"], progress["existing"], progress["skipped"]) == (2, 1, 2)
    assert progress["skipped_variants"] == [
        "product 803 (Kage): no SKU (sku_code), so no Rackbeat item number",
        "product 804 (Krus (gammel)): SKU MUG-1 is used by an earlier product or variant",
    ]
    assert len(progress["stock_not_synced"]) == 2 and progress["stock_lines"] == 4
    assert len(cafe.sim.state(cafe.account).adjustments) == 1


def test_a_step_that_crashed_after_rackbeat_committed_is_run_again_without_a_second_item_or_stock(
    cafe: Cafe,
) -> None:
    # GIVEN the catalogue read, and a chunk's step that stops after Rackbeat committed its third write
    cafe.run("start_export")
    cafe.run("check_export")
    writes = {"seen": 0}

    def crash_on_third_write() -> None:
        writes["seen"] += 1
        if writes["seen"] == 3:
            raise Crash("the container stopped")

    cafe.sim.faults.crash_after_write_rate = 1.0
    cafe.sim.faults.on_committed_write = crash_on_third_write
    with pytest.raises(Crash):
        cafe.run("import_chunk")
    cafe.sim.faults.crash_after_write_rate = 0.0
    # WHEN the workflow retries the step until the sync is finished
    while not cafe.run("import_chunk")["finished"]:
        pass
    # THEN every SKU is one item, and the stock was registered once, at Shopbox's counts
    products = cafe.sim.state(cafe.account).products
    assert sorted(products) == ["COF-L", "COF-S", "MUG-1"]
    assert cafe.stock("MUG-1") == {"L1": 12, "L2": 3} and cafe.stock("COF-L") == {"L1": 25, "L2": 4}
    assert [a["is_booked"] for a in cafe.sim.state(cafe.account).adjustments.values()] == [True]
    assert cafe.fields("COF-S") == {UID_FIELD: "802", VARIANT_FIELD: "8021"}
    progress = sync_progress.load(cafe.deps.table, cafe.connection.id) or {}
    assert (progress["status"], progress["done"], progress["created"] + progress["existing"]) == ("done", 5, 3)


def test_a_read_step_run_again_keeps_what_it_read(cafe: Cafe) -> None:
    # GIVEN the catalogue read once
    cafe.run("start_export")
    shopbox = cafe.deps.clients.shopbox_client
    calls = shopbox.calls
    # WHEN the step is run again (its answer to the workflow was lost)
    cafe.run("start_export")
    # THEN Shopbox is not read again, and the chunks are the ones first read
    assert shopbox.calls == calls
    assert len(sync_progress.load_chunk(cafe.deps.table, cafe.connection.id, 0) or []) == 5


def test_the_sync_starts_only_when_the_settings_chose_it(table: Any) -> None:
    # GIVEN a connection whose initial_sync is none
    chosen = connection("c-no-sync", initial_sync="none")
    started: list[str] = []

    def start_workflow(name: str, data: dict[str, Any]) -> str:
        started.append(name)
        return name

    # WHEN it is started
    # THEN it is refused, nothing claimed and no workflow started
    with pytest.raises(PermanentError, match="initial_sync is 'none'"):
        initial_sync.INITIAL_SYNC.start(chosen, table, start_workflow, "now")
    assert started == [] and sync_progress.load(table, chosen.id) is None


def test_stock_rackbeat_refuses_is_listed_and_the_rest_of_the_chunk_registered(cafe: Cafe) -> None:
    # GIVEN the merchant's large coffee in Rackbeat keeps no inventory
    cafe.item("COF-L")["inventory_enabled"] = False
    # WHEN the initial sync runs
    progress = cafe.sync()
    # THEN its stock is listed as refused, and every other item's stock is registered
    refused = [reason for reason in progress["stock_not_synced"] if "Rackbeat refused" in reason]
    assert len(refused) == 1 and refused[0].startswith("stock of item COF-L at location L1: Rackbeat refused it")
    assert cafe.stock("MUG-1") == {"L1": 12, "L2": 3} and cafe.stock("COF-S") == {"L1": 40}
    assert progress["stock_lines"] == 3 and progress["skipped"] == 2


def test_a_booking_whose_answer_was_lost_is_not_a_failure(cafe: Cafe, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN Rackbeat books the chunk's adjustment and the answer is lost on the way back
    client = cafe.deps.clients.rackbeat_client
    real_post = client.post
    lost: list[str] = []

    def post(path: str, body: Any = None, **params: Any) -> Any:
        answer = real_post(path, body, **params)
        if path.endswith("/book") and not lost:
            lost.append(path)
            raise RetryableError(f"Rackbeat connection failed on POST {path}: ReadError")
        return answer

    monkeypatch.setattr(client, "post", post)
    monkeypatch.setattr(initial_sync.pacing.clock, "sleep", lambda seconds: None)
    # WHEN the initial sync runs (the booking is tried again, and Rackbeat says it is booked already)
    progress = cafe.sync()
    # THEN the sync is done with the stock registered once
    assert lost and progress["status"] == "done"
    assert [a["is_booked"] for a in cafe.sim.state(cafe.account).adjustments.values()] == [True]
    assert cafe.stock("MUG-1") == {"L1": 12, "L2": 3}
