"""Webshipper's webhooks at ingest (connectors/webshipper/inbound.py through flows/ingest.py, in-memory fakes): the
simulator's own signed deliveries are accepted, a bad or missing signature is 401 and queues nothing, a repeat of
one change (same topic, data.id, updated_at) is queued once while the next change of the same order is queued,
an unknown connection is 404, and a body that names no resource is 400."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import FakeClaims, FakeDeliveries, FakeSecrets
from test_webshipper_sim import ACCOUNT, Account, open_account

from crossdock import registry
from crossdock.connectors.webshipper.inbound import SOURCE, signature
from crossdock.connectors.webshipper.secret_names import WEBHOOK_SECRET
from crossdock.flows.ingest import IngestAnswer, IngestDeps, receive_webhook
from crossdock.ports import IdentifiedByBody

CONNECTION = "c-ws"
SECRET = "hemmelig-webhook-nøgle"
URL = f"https://hooks.example/webhooks/webshipper/{CONNECTION}"


@dataclass
class Ingest:
    claims: FakeClaims = field(default_factory=FakeClaims)
    deliveries: FakeDeliveries = field(default_factory=FakeDeliveries)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    queued: list[dict[str, Any]] = field(default_factory=list)

    def receive(self, headers: dict[str, str], body: bytes, connection_id: str = CONNECTION) -> IngestAnswer:
        deps = IngestDeps(
            table=None,
            secrets=self.secrets,
            enqueue=self.queued.append,
            account_claims=self.claims,
            delivery_log=self.deliveries,
        )
        return receive_webhook("webshipper", headers, body, deps, connection_id=connection_id)


@pytest.fixture
def ingest() -> Ingest:
    found = Ingest()
    found.claims.existing.add(CONNECTION)
    found.secrets.put(CONNECTION, WEBHOOK_SECRET, SECRET)
    return found


def deliveries_of(account: Account, topic: str) -> list[tuple[dict[str, str], bytes]]:
    """What the simulator sent to the webhook address for `topic`, as (headers, raw body)."""
    return [(headers, body) for _, headers, body in account.sink.calls if headers["X-Webshipper-Topic"] == topic]


@pytest.fixture
def account() -> Account:
    """A Webshipper account with our three webhooks registered, signed with the connection's secret."""
    found = open_account()
    token = found.login()
    for topic in ("order/created", "order/updated", "shipment/created"):
        hook = {"data": {"type": "webhooks", "attributes": {"url": URL, "topic": topic, "secret": SECRET}}}
        assert found.call("POST", "webhooks", token, hook).status_code == 201
    return found


def test_the_registry_finds_the_source_and_it_names_deliveries_by_their_body() -> None:
    assert registry.webhook_source("webshipper") is SOURCE
    assert isinstance(SOURCE, IdentifiedByBody)


def test_webshippers_signed_delivery_is_queued_with_an_id_from_its_body(ingest: Ingest, account: Account) -> None:
    # GIVEN an order placed in Webshipper, delivered signed as order/created
    order = account.sim.place_order(ACCOUNT, account.order_document("SHOP-1", channel=account.webshop))
    account.sim.deliver()
    ((headers, body),) = deliveries_of(account, "order/created")
    # WHEN ingest receives it THEN it is queued for the connection with its topic and an id made of the change
    answer = ingest.receive(headers, body)
    assert (answer.status, answer.body) == (200, {"status": "queued"})
    (message,) = ingest.queued
    updated_at = order["data"]["attributes"]["updated_at"]
    assert (message["source"], message["connection_id"], message["topic"]) == (
        "webshipper",
        CONNECTION,
        "order/created",
    )
    assert message["event_id"] == f"order/created:{order['data']['id']}:{updated_at}"
    assert json.loads(message["payload"])["data"]["attributes"]["ext_ref"] == "SHOP-1"


def test_a_repeat_of_one_change_is_queued_once_and_the_next_change_again(ingest: Ingest, account: Account) -> None:
    # GIVEN an order created, then shipped (order/updated twice over: the ship changes it)
    order = account.sim.place_order(ACCOUNT, account.order_document("SHOP-2", channel=account.webshop))
    account.sim.deliver()
    ((created_headers, created),) = deliveries_of(account, "order/created")
    # WHEN the same delivery comes three times THEN it is queued once, the repeats answered "duplicate"
    answers = [ingest.receive(created_headers, created).body["status"] for _ in range(3)]
    assert answers == ["queued", "duplicate", "duplicate"] and len(ingest.queued) == 1
    # AND WHEN the order changes (a new updated_at) THEN that change is queued too, once
    account.clock.advance(5)
    account.sim.ship(ACCOUNT, int(order["data"]["id"]))
    account.sim.deliver()
    (shipped_headers, shipped) = deliveries_of(account, "shipment/created")[0]
    (updated_headers, updated) = deliveries_of(account, "order/updated")[-1]
    assert ingest.receive(shipped_headers, shipped).body["status"] == "queued"
    assert ingest.receive(updated_headers, updated).body["status"] == "queued"
    assert ingest.receive(updated_headers, updated).body["status"] == "duplicate"
    assert [m["topic"] for m in ingest.queued] == ["order/created", "shipment/created", "order/updated"]


def test_a_bad_or_missing_signature_is_401_and_queues_nothing(ingest: Ingest, account: Account) -> None:
    account.sim.place_order(ACCOUNT, account.order_document("SHOP-3", channel=account.webshop))
    account.sim.deliver()
    ((headers, body),) = deliveries_of(account, "order/created")
    forged = {**headers, "X-Webshipper-Hmac-Sha256": signature("another-secret", body)}
    unsigned = {k: v for k, v in headers.items() if k != "X-Webshipper-Hmac-Sha256"}
    tampered_body = body.replace(b"SHOP-3", b"SHOP-4")
    for sent, raw in ((forged, body), (unsigned, body), (headers, tampered_body)):
        answer = ingest.receive(sent, raw)
        assert (answer.status, answer.body) == (401, {"message": "invalid webhook signature"})
    assert ingest.queued == [] and ingest.deliveries.claimed == {}


def test_an_unknown_connection_is_404(ingest: Ingest) -> None:
    body = b'{"data": {"type": "orders", "id": "1"}}'
    answer = ingest.receive({"X-Webshipper-Hmac-Sha256": signature(SECRET, body)}, body, connection_id="c-nobody")
    assert (answer.status, answer.body) == (404, {"message": "no connection c-nobody"})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"meta": {}}, "body has no data: a Webshipper webhook carries the resource's JSON:API document"),
        ({"data": {"type": "orders", "attributes": {}}}, "body has no data.id"),
        ({"data": {"type": "orders", "id": True}}, "body has no data.id"),
    ],
)
def test_a_signed_body_naming_no_resource_is_400(ingest: Ingest, body: dict[str, Any], reason: str) -> None:
    raw = json.dumps(body).encode()
    headers = {"X-Webshipper-Topic": "order/created", "X-Webshipper-Hmac-Sha256": signature(SECRET, raw)}
    answer = ingest.receive(headers, raw)
    assert (answer.status, answer.body) == (400, {"message": reason}) and ingest.queued == []


def test_a_signed_delivery_without_a_topic_is_400(ingest: Ingest) -> None:
    raw = b'{"data": {"type": "orders", "id": "7", "attributes": {"updated_at": "2026-12-07T10:00:00.000Z"}}}'
    answer = ingest.receive({"X-Webshipper-Hmac-Sha256": signature(SECRET, raw)}, raw)
    assert (answer.status, answer.body) == (400, {"message": "missing header X-Webshipper-Topic"})


def test_a_body_without_updated_at_is_queued_each_time(ingest: Ingest) -> None:
    # GIVEN a signed delivery whose resource shows no updated_at (nothing tells its repeats apart)
    raw = b'{"data": {"type": "orders", "id": "7", "attributes": {}}}'
    headers = {"X-Webshipper-Topic": "order/deleted", "X-Webshipper-Hmac-Sha256": signature(SECRET, raw)}
    # WHEN it comes twice THEN both are queued (its handler re-reads the order), and nothing is claimed
    assert [ingest.receive(headers, raw).body["status"] for _ in range(2)] == ["queued", "queued"]
    assert ingest.deliveries.claimed == {}
