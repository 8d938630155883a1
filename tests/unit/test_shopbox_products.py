"""Products of `rackbeat_shopbox` in the chosen direction (issue 14 item 4), on the Rackbeat simulator with the
table in moto and a Shopbox client answering from the café's catalogue: a Rackbeat product webhook queues the
item's push to Shopbox; a Shopbox product the poll found changed becomes (or updates) its Rackbeat items; a change
that equals what was last synced — our own write read back in `both` — is skipped; the products poll sends only
what changed since its cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from shopbox_catalog_fakes import UID_FIELD, VARIANT_FIELD, FakeShopbox, cafe_catalogue, connection

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations.rackbeat_shopbox import catalog_mapping, products
from crossdock.integrations.rackbeat_shopbox.product_stream import ProductStream
from crossdock.ports import InboundEvent
from crossdock.store.events import EventStatus
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY = "rb-key-products"


@dataclass
class Clients:
    rackbeat_client: RackbeatClient
    shopbox_client: FakeShopbox

    def rackbeat(self, connection: Any, *, paced: bool = True) -> RackbeatClient:
        return self.rackbeat_client

    def shopbox(self, connection: Any) -> FakeShopbox:
        return self.shopbox_client


@dataclass
class Ports:
    """What dispatch (and the poll) offer the handlers: table, clients, the outbound queue, the clock."""

    table: Any
    clients: Clients
    sent: list[tuple[str, dict[str, Any], str, str]] = field(default_factory=list)
    clock: float = 1_796_205_600.0

    def send_outbound(self, system: str, message: dict[str, Any], group: str, dedupe: str) -> None:
        self.sent.append((system, message, group, dedupe))

    def now(self) -> float:
        return self.clock

    def seconds_left(self) -> float:
        return 600.0


@dataclass
class Cafe:
    sim: RackbeatSimulator
    account: int
    ports: Ports

    @property
    def shopbox(self) -> FakeShopbox:
        return self.ports.clients.shopbox_client

    def item(self, number: str) -> dict[str, Any]:
        found: dict[str, Any] = self.sim.state(self.account).products[number]
        return found


@pytest.fixture
def cafe(table: Any) -> Cafe:
    sim = RackbeatSimulator(rate_limit_per_minute=100_000)
    account = sim.add_account(KEY)
    sim.seed_location(account, "L1", "Butik")
    sim.seed_product_group(account, 1, "Varer m/lagerstrekk")
    sim.seed_product_group(account, 2, "Kaffe")
    sim.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    sim.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    client = RackbeatClient("https://app.rackbeat.com/api/", KEY, transport=transport(sim, root="/api"))
    shopbox = FakeShopbox(cafe_catalogue(), {})
    return Cafe(sim, account, Ports(table, Clients(client, shopbox)))


def event(source: str, topic: str, payload: dict[str, Any], **settings: Any) -> InboundEvent:
    return InboundEvent(connection(**settings), source, topic, json.dumps(payload), "EVT#1", "-", None)


def changed(cafe: Cafe, uid: int, **settings: Any) -> Any:
    found = event("shopbox", products.CHANGED_TOPIC, {"uid": uid, "tstamp": 1}, **settings)
    return products.shopbox_product_changed(found, cafe.ports)  # type: ignore[arg-type]


def test_a_rackbeat_product_webhook_queues_the_items_push_to_shopbox_when_rackbeat_is_master(cafe: Cafe) -> None:
    # GIVEN product_sync rackbeat
    # WHEN Rackbeat says product MUG-1 was updated
    hook = event("rackbeat", "product.updated", {"key_name": "number", "key": "MUG-1"}, product_sync="rackbeat")
    outcome = products.rackbeat_item_event(hook, cafe.ports)  # type: ignore[arg-type]
    # THEN the item's push is on the Shopbox outbound queue, in the connection's group, and the event waits for it
    assert outcome.status is EventStatus.RECEIVED
    ((system, message, group, dedupe),) = cafe.ports.sent
    assert (system, group) == ("shopbox", "c-shopbox-catalog")
    assert message == {
        "command": "product.push",
        "connection_id": "c-shopbox-catalog",
        "number": "MUG-1",
        "kind": "product",
        "event_sk": "EVT#1",
    }
    assert dedupe.startswith("item-")


@pytest.mark.parametrize(
    ("topic", "settings", "reason"),
    [
        ("product.created", {"product_sync": "off"}, "product_sync is off"),
        ("product.created", {"product_sync": "shopbox"}, "product_sync is shopbox"),
        ("lot.created", {"product_sync": "rackbeat"}, "create_boms_in_shopbox is off: BOMs stay in Rackbeat"),
    ],
)
def test_a_rackbeat_product_webhook_in_another_direction_is_skipped(
    cafe: Cafe, topic: str, settings: dict[str, Any], reason: str
) -> None:
    # GIVEN products that do not flow from Rackbeat (or a BOM without create_boms_in_shopbox)
    hook = event("rackbeat", topic, {"key_name": "number", "key": "MUG-1"}, **settings)
    # WHEN the webhook arrives
    outcome = products.rackbeat_item_event(hook, cafe.ports)  # type: ignore[arg-type]
    # THEN it is skipped with the reason and nothing is queued
    assert (outcome.status, outcome.reason) == (EventStatus.SKIPPED, reason)
    assert cafe.ports.sent == []


def test_a_bom_webhook_is_pushed_when_boms_are_created_in_shopbox(cafe: Cafe) -> None:
    hook = event("rackbeat", "lot.updated", {"key": "GAVE-1"}, product_sync="both", create_boms_in_shopbox=True)
    outcome = products.rackbeat_item_event(hook, cafe.ports)  # type: ignore[arg-type]
    assert outcome.status is EventStatus.RECEIVED and cafe.ports.sent[0][1]["kind"] == "lot"


def test_a_changed_shopbox_product_becomes_its_rackbeat_items_with_their_uids(cafe: Cafe) -> None:
    # GIVEN product_sync shopbox, and the coffee in two sizes in Shopbox
    # WHEN the poll reports the coffee changed
    outcome = changed(cafe, 802, product_sync="shopbox")
    # THEN both sizes are Rackbeat items in the coffee group at the price without VAT, bound by their UIDs
    assert (outcome.status, outcome.reason) == (EventStatus.DONE, "Shopbox product 802: 2 created")
    small = cafe.item("COF-S")
    assert (small["name"], small["sales_price"], small["group"]["number"]) == ("Kaffe - Lille", Decimal("28"), 2)
    assert small["_field_values"] == {UID_FIELD: "802", VARIANT_FIELD: "8021"}
    binding = catalog_mapping.item_of(cafe.ports.table, "c-shopbox-catalog", "802", "8022") or {}
    assert binding["target_id"] == "COF-L"


def test_the_same_product_read_again_is_skipped_and_a_new_price_updates_the_item(cafe: Cafe) -> None:
    # GIVEN the coffee synced once
    changed(cafe, 802, product_sync="both")
    calls = cafe.sim.calls
    # WHEN the poll's overlap reports it again, unchanged
    again = changed(cafe, 802, product_sync="both")
    # THEN nothing is written (not even read) in Rackbeat
    assert again.status is EventStatus.SKIPPED and cafe.sim.calls == calls
    # WHEN the large coffee's price goes up to 49.00 at the till
    cafe.shopbox.catalogue[1].product_variances[1].selling_price = 4900
    updated = changed(cafe, 802, product_sync="both")
    # THEN only that item is updated, to 39.20 without VAT
    assert updated.reason == "Shopbox product 802: 1 updated, 1 unchanged"
    assert cafe.item("COF-L")["sales_price"] == Decimal("39.2")


def test_in_both_directions_our_own_push_read_back_from_shopbox_is_not_written_to_rackbeat(cafe: Cafe) -> None:
    # GIVEN the mug pushed Rackbeat → Shopbox: the mapping keeps the fingerprint Shopbox now shows
    mug = cafe.shopbox.catalogue[0]
    unit = catalog_mapping.units(mug)[0]
    catalog_mapping.bind_item(cafe.ports.table, "c-shopbox-catalog", "MUG-1", "801", None, unit.fingerprint())
    # WHEN the products poll reads the mug back (its tstamp moved because we wrote it)
    outcome = changed(cafe, 801, product_sync="both")
    # THEN it is skipped as our own write, and Rackbeat is not asked anything
    assert outcome.status is EventStatus.SKIPPED and "our own write" in outcome.reason
    assert cafe.sim.calls == 0 and "MUG-1" not in cafe.sim.state(cafe.account).products


def test_a_shopbox_product_without_sku_needs_attention_with_the_reason(cafe: Cafe) -> None:
    outcome = changed(cafe, 803, product_sync="shopbox")
    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "product 803 (Kage): no SKU (sku_code), so no Rackbeat item number" in outcome.reason


def test_the_products_poll_sends_what_changed_since_its_cursor_and_starts_at_the_newest_change(cafe: Cafe) -> None:
    stream, conn = ProductStream(), connection(product_sync="shopbox")
    for index, product in enumerate(cafe.shopbox.catalogue):
        product.tstamp = 1_796_200_000 + index * 1000  # 2026-12-02 08:26:40 and every 1000 s after
    # GIVEN a first run (no cursor): nothing is sent, the position is the newest change
    first = stream.poll(conn, None, "2026-12-07T06:00:00Z", cafe.ports)
    assert first.messages == [] and first.position == "2026-12-02T09:16:40Z"
    # WHEN the coffee changes after it and the next run reads from that position less its overlap
    cafe.shopbox.catalogue[1].tstamp = 1_796_210_000
    since = "2026-12-02T09:06:40Z"  # the position less the 600 s overlap
    second = stream.poll(conn, since, "2026-12-07T06:15:00Z", cafe.ports)
    # THEN the coffee is sent, and the old mug of the overlap window too (dispatch skips it as unchanged)
    assert [json.loads(m["payload"])["uid"] for m in second.messages] == ["802", "804"]
    assert second.messages[0]["topic"] == "products/changed" and second.position == "2026-12-02T11:13:20Z"
    # AND a run that finds nothing newer keeps the cursor where it was
    quiet = stream.poll(conn, "2026-12-02T11:03:20Z", "2026-12-07T06:30:00Z", cafe.ports)
    assert [json.loads(m["payload"])["uid"] for m in quiet.messages] == ["802"]
    assert quiet.position == "2026-12-02T11:13:20Z"


def test_the_products_poll_runs_only_when_products_flow_from_shopbox() -> None:
    stream = ProductStream()
    assert stream.schedule(connection(product_sync="rackbeat")) is None
    assert stream.schedule(connection(product_sync="off")) is None
    schedule = stream.schedule(connection(product_sync="both"))
    assert schedule is not None and schedule.expression == "rate(15 minutes)"


def test_the_rackbeat_webhooks_products_need_follow_the_direction() -> None:
    # GIVEN each direction
    # THEN product events only when products flow from Rackbeat, BOM events too when BOMs become Shopbox products
    assert products.rackbeat_webhooks(connection(product_sync="shopbox").settings) == frozenset()
    assert products.rackbeat_webhooks(connection(product_sync="rackbeat").settings) == {
        "product.created",
        "product.updated",
    }
    both = connection(product_sync="both", create_boms_in_shopbox=True).settings
    assert products.rackbeat_webhooks(both) == {"product.created", "product.updated", "lot.created", "lot.updated"}
