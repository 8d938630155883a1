"""PeakWMS's webhooks at ingest (connectors/peakwms/inbound.py through flows/ingest.py, in-memory fakes): the
simulator's own unsigned deliveries, sent to the address we registered for each event
(`/webhooks/peakwms/<connection>/<event>?key=<key>`), are queued with topic `peakwms/<event>`; a wrong or missing
key is 401 and queues nothing; an unknown event or connection is 404; a body that is not a JSON object is 400; a
repeat (same event, subject and body, however serialised) is queued once, while a new total of the same item is
queued."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flow_fakes import FakeClaims, FakeDeliveries, FakeSecrets
from peakwms_fakes import CUSTOMER, Warehouse, order, variant

from crossdock import registry
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.inbound import SOURCE, subject
from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.sales_orders import create_sales_order
from crossdock.connectors.peakwms.secret_names import WEBHOOK_KEY
from crossdock.connectors.peakwms.shapes import EVENTS
from crossdock.connectors.peakwms.webhooks import register_webhook
from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_webhook
from crossdock.ports import IdentifiedByBody, ReadFromAddress

CONNECTION = "c-pw"
KEY = "webhook-key-Æ9f3_only-for-this-connection"
BASE = f"https://hooks.example/webhooks/peakwms/{CONNECTION}"


@dataclass
class Ingest:
    claims: FakeClaims = field(default_factory=FakeClaims)
    deliveries: FakeDeliveries = field(default_factory=FakeDeliveries)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    queued: list[dict[str, Any]] = field(default_factory=list)

    def receive(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> IngestAnswer:
        """What ingest answers a POST of `body` to `url` (the route's path parameters and query, as API Gateway
        hands them to the function)."""
        parts = urlsplit(url)
        _, _, connection_id, event = parts.path.rstrip("/").rsplit("/", 3)
        address = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        address["event"] = event
        deps = IngestDeps(
            table=None,
            secrets=self.secrets,
            enqueue=self.queued.append,
            account_claims=self.claims,
            delivery_log=self.deliveries,
        )
        return receive_webhook("peakwms", headers or {}, body, deps, connection_id=connection_id, address=address)


@pytest.fixture
def ingest() -> Ingest:
    found = Ingest()
    found.claims.existing.add(CONNECTION)
    found.secrets.put(CONNECTION, WEBHOOK_KEY, KEY)
    return found


@pytest.fixture
def warehouse() -> Warehouse:
    """The PeakWMS customer with our twelve webhooks registered, each on its own address with the key."""
    found = Warehouse()
    client = found.client()
    for name, number in EVENTS.items():
        register_webhook(client, number, f"{BASE}/{name}?key={KEY}")
    return found


def sent(warehouse: Warehouse) -> list[tuple[str, bytes]]:
    warehouse.sim.deliver()
    return [(url, body) for url, _, body in warehouse.sink]


def stock_received(warehouse: Warehouse, quantity: int = 5) -> tuple[PeakwmsClient, list[tuple[str, bytes]]]:
    client = warehouse.client()
    mug = variant(1)
    upsert_product(client, mug)
    warehouse.sim.receive_stock(CUSTOMER, mug.product_id, mug.variant_id, quantity)
    return client, sent(warehouse)


def test_the_registry_finds_the_source_and_it_reads_its_address_and_names_deliveries_by_body() -> None:
    assert registry.webhook_source("peakwms") is SOURCE
    assert isinstance(SOURCE, ReadFromAddress) and isinstance(SOURCE, IdentifiedByBody)


def test_a_stock_adjustment_is_queued_with_its_event_as_topic(ingest: Ingest, warehouse: Warehouse) -> None:
    # GIVEN PeakWMS's 100 after goods arrived, sent to the stock_adjust address
    _, ((url, body),) = stock_received(warehouse)
    assert url.startswith(f"{BASE}/stock_adjust?")
    # WHEN ingest receives it THEN it is queued for the connection as peakwms/stock_adjust with the body as sent
    assert ingest.receive(url, body) == IngestAnswer(200, {"status": "queued"})
    (message,) = ingest.queued
    assert message["connection_id"] == CONNECTION and message["source"] == "peakwms"
    assert message["topic"] == "peakwms/stock_adjust"
    assert json.loads(message["payload"])["quantity"] == 5
    assert message["event_id"].startswith("stock_adjust:8000:44001:")


def test_a_packed_order_is_queued_as_pick_order_packed(ingest: Ingest, warehouse: Warehouse) -> None:
    client, _ = stock_received(warehouse)
    create_sales_order(client, order("6100", (variant(1), 2)))
    warehouse.sink.clear()
    warehouse.sim.pack(CUSTOMER, "6100", tracking_number="00370712345", tracking_url="https://t.example/1")
    packed = [(url, body) for url, body in sent(warehouse) if "/pick_order_packed?" in url]
    assert len(packed) == 1
    assert ingest.receive(*packed[0]).status == 200
    assert [m["topic"] for m in ingest.queued] == ["peakwms/pick_order_packed"]
    assert ingest.queued[0]["event_id"].startswith("pick_order_packed:6100:")


@pytest.mark.parametrize("key", ["wrong-key", "", None, KEY + "x", KEY[:-1]])
def test_a_wrong_or_missing_key_is_401_and_nothing_is_queued(ingest: Ingest, key: str | None) -> None:
    url = f"{BASE}/stock_adjust" + ("" if key is None else f"?key={key}")
    answer = ingest.receive(url, b'{"productId": "1", "variantId": "2", "quantity": 3}')
    assert answer == IngestAnswer(401, {"message": "invalid or missing webhook key"})
    assert ingest.queued == [] and ingest.deliveries.claimed == {}


def test_another_connections_key_is_401(ingest: Ingest) -> None:
    ingest.claims.existing.add("c-other")
    ingest.secrets.put("c-other", WEBHOOK_KEY, "the-other-key")
    url = f"https://hooks.example/webhooks/peakwms/c-other/stock_adjust?key={KEY}"
    assert ingest.receive(url, b'{"productId": "1"}').status == 401
    assert ingest.queued == []


def test_an_unknown_event_is_404(ingest: Ingest) -> None:
    answer = ingest.receive(f"{BASE}/stock_adjusted?key={KEY}", b'{"productId": "1"}')
    assert answer.status == 404 and "stock_adjusted" in answer.body["message"]
    assert ingest.queued == []


def test_an_unknown_connection_is_404(ingest: Ingest) -> None:
    answer = ingest.receive(f"https://hooks.example/webhooks/peakwms/c-gone/stock_adjust?key={KEY}", b"{}")
    assert answer == IngestAnswer(404, {"message": "no connection c-gone"})


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"text"', b""])
def test_a_body_that_is_not_a_json_object_is_400(ingest: Ingest, body: bytes) -> None:
    answer = ingest.receive(f"{BASE}/stock_adjust?key={KEY}", body)
    assert answer.status == 400 and answer.body["message"]
    assert ingest.queued == []


def test_a_body_with_a_lone_surrogate_escape_is_queued_not_a_5xx(ingest: Ingest) -> None:
    # GIVEN a JSON object whose strings hold a lone surrogate (`\ud800`: valid JSON, not encodable UTF-8), also as
    # the order's id
    body = b'{"orderId": "\\ud800", "note": ["\\ud800"]}'
    # WHEN it is posted twice to a PeakWMS address
    answers = [ingest.receive(f"{BASE}/pick_order_packed?key={KEY}", body) for _ in range(2)]
    # THEN it is queued once (named by its body's hash, no subject), and the repeat is a duplicate
    assert [answer.status for answer in answers] == [200, 200]
    assert [answer.body["status"] for answer in answers] == ["queued", "duplicate"]
    assert len(ingest.queued) == 1


def test_a_repeat_is_queued_once_however_it_is_serialised(ingest: Ingest, warehouse: Warehouse) -> None:
    _, ((url, body),) = stock_received(warehouse)
    reordered = json.dumps(dict(reversed(list(json.loads(body).items()))), indent=2).encode()
    assert reordered != body
    answers = [ingest.receive(url, copy).body["status"] for copy in (body, body, reordered)]
    assert answers == ["queued", "duplicate", "duplicate"]
    assert len(ingest.queued) == 1


def test_a_new_total_of_the_same_item_and_the_same_body_on_another_event_are_queued(
    ingest: Ingest, warehouse: Warehouse
) -> None:
    # GIVEN two stock adjustments of the same variant (totals 5, then 8)
    _, ((url, first),) = stock_received(warehouse)
    warehouse.sink.clear()
    warehouse.sim.receive_stock(CUSTOMER, "8000", "44001", 3)
    ((_, second),) = sent(warehouse)
    # WHEN both arrive, and the first body once more at another event's address
    assert ingest.receive(url, first).body["status"] == "queued"
    assert ingest.receive(url, second).body["status"] == "queued"
    other = url.replace("/stock_adjust?", "/product_create_update?")
    assert ingest.receive(other, first).body["status"] == "queued"
    # THEN each is its own delivery
    assert [m["topic"] for m in ingest.queued] == ["peakwms/stock_adjust"] * 2 + ["peakwms/product_create_update"]
    assert len({m["event_id"] for m in ingest.queued}) == 3


def test_the_subject_of_each_kind_of_payload() -> None:
    assert subject({"orderId": "61", "productId": "8"}) == "61"
    assert subject({"productId": 8011, "variantId": 44201}) == "8011:44201"
    assert subject({"productId": "8011"}) == "8011"
    assert subject({"stockItemId": 55}) == "55"
    assert subject({"purchaseOrderId": 4}) == "4"
    assert subject({"unrelated": True}) == ""
