"""Property-based tests of what reads a webhook before anything trusts it: the body reader (crossdock.bodies), each
system's delivery reader and signature check (ports.WebhookSource), and the ingest flow as a whole. Whatever bytes
and headers arrive, each either reads them or refuses them in its own terms (`UnreadableBody`, `Refused`, a 4xx),
never with another exception, which would be a 5xx or a bug (issue 13, item 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flow_fakes import KIND, SECRET_NAMES, SYSTEM, FakeClaims, FakeDeliveries, FakeSecrets, MadeUpKind, registered, sign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock import registry
from crossdock.bodies import UnreadableBody, json_object
from crossdock.connectors.peakwms.webhook_events import EVENTS as PEAKWMS_EVENTS
from crossdock.connectors.shopify import oauth
from crossdock.flows.ingest import IngestDeps, receive_webhook
from crossdock.ports import IdentifiedByBody, ReadFromAddress, Refused

QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
RAW = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda value: json.dumps(value).encode()),
    JSON.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-16")),
    st.integers(min_value=1, max_value=5_000).map(lambda depth: b"[" * depth + b"]" * depth),
)
HEADER_NAMES = [
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "Rackbeat-Webhook-Event",
    "Rackbeat-Webhook-Token",
    "Rackbeat-Account-Id",
    "X-Webshipper-Topic",
    "X-Webshipper-Hmac-Sha256",
    "x-shopify-topic",
    "Content-Type",
]
# A connection's secret as the product stores it: Shopify's app secret, Rackbeat's list of webhook tokens,
# Webshipper's webhook secret, PeakWMS's webhook key.
STORED_SECRETS = {
    "shopify": "a-secret-of-the-connection",
    "rackbeat": json.dumps(["t" * 32]),
    "webshipper": "a-webhook-secret",
    "peakwms": "p" * 32,
}
HEADERS = st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=40), max_size=8)
# What an address may carry beside the connection (PeakWMS's event in the path, its key in the query).
ADDRESSES = st.dictionaries(
    st.sampled_from(["event", "key", "other"]),
    st.one_of(st.sampled_from([*PEAKWMS_EVENTS, "p" * 32]), st.text(max_size=40)),
    max_size=3,
)


@QUICK
@given(raw=RAW)
def test_a_body_is_a_json_object_or_unreadable_with_a_reason(raw: bytes) -> None:
    # GIVEN any bytes WHEN they are read as a body
    try:
        value = json_object(raw)
    except UnreadableBody as refused:
        # THEN either they are refused with a reason that starts with what is wrong ...
        assert str(refused).startswith("body ")
        return
    # ... or they were a UTF-8 JSON object, read as Python's parser reads it
    assert isinstance(value, dict) and value == json.loads(raw.decode("utf-8"))


@QUICK
@given(source_name=st.sampled_from(sorted(registry.WEBHOOK_SOURCES)), headers=HEADERS, raw=RAW, address=ADDRESSES)
def test_a_sources_reader_and_signature_check_accept_or_refuse_any_delivery(
    source_name: str, headers: dict[str, str], raw: bytes, address: dict[str, str]
) -> None:
    # GIVEN a system's webhook source and any headers, address and body
    source = registry.webhook_source(source_name)
    assert source is not None
    # WHEN it reads the headers (or the address, for a source that reads it), checks the signature and the delivery
    try:
        if isinstance(source, ReadFromAddress):
            delivery = source.read_address(headers, address)
        else:
            delivery = source.read(headers)
    except Refused as refused:
        # THEN it refuses in its own terms (ingest answers 400 with this) ...
        assert str(refused)
        return
    # ... or it has a delivery whose signature is checked without failing, and whose check refuses or passes
    assert source.authentic(raw, delivery, [STORED_SECRETS[source_name]]) in (True, False)
    try:
        source.check(delivery)
    except Refused as incomplete:
        assert str(incomplete)
    # AND a source that names its deliveries by their body names any JSON object's delivery or refuses it
    if isinstance(source, IdentifiedByBody):
        try:
            body = json_object(raw)
        except UnreadableBody:
            return
        try:
            named = source.identify(body, delivery, "c-1")
        except Refused as unnamed:
            assert str(unnamed)
            return
        assert named.topic == delivery.topic and named.credential == delivery.credential


@QUICK
@given(params=st.dictionaries(st.sampled_from(["shop", "hmac", "timestamp", "state", "code", "host"]), st.text()))
def test_an_install_querys_signature_check_answers_any_query(params: dict[str, str]) -> None:
    # GIVEN any query an install link or callback could carry (an `hmac` of any text, `é` once a TypeError)
    # WHEN its signature is checked THEN the answer is a plain yes or no
    assert oauth.query_is_signed(params, ["the-app-secret"]) in (True, False)


@pytest.fixture
def ingest() -> Any:
    with registered(MadeUpKind()):
        claims, secrets = FakeClaims(), FakeSecrets()
        queued: list[dict[str, Any]] = []
        claims.claim("c-1", "acme")
        secrets.put("c-1", SECRET_NAMES[0], "s3cret")
        deps = IngestDeps(
            table=None,
            secrets=secrets,
            enqueue=queued.append,
            account_claims=claims,
            delivery_log=FakeDeliveries(),
            check_in=lambda connection_id, body: f"inbound/{connection_id}/k.json",
        )
        yield deps, queued


@QUICK
@given(raw=RAW, headers=HEADERS, signed=st.booleans())
def test_ingest_answers_any_delivery_with_2xx_or_4xx_and_queues_only_objects(
    ingest: Any, raw: bytes, headers: dict[str, str], signed: bool
) -> None:
    # GIVEN any body, signed with the connection's secret or not, and any extra headers
    deps, queued = ingest
    before = len(queued)
    sent = {"X-Account": "acme", "X-Topic": "orders/created", **headers}
    if signed:
        sent["X-Signature"] = sign(raw, "s3cret")
    # WHEN it arrives
    answer = receive_webhook(SYSTEM, sent, raw, deps, kind=KIND)
    # THEN the answer is a 2xx or a 4xx with a message, and only a JSON object is ever queued
    assert 200 <= answer.status < 500
    if answer.status >= 400:
        assert answer.body["message"] and len(queued) == before
    else:
        assert answer.body["status"] in ("queued", "duplicate")
        for message in queued[before:]:
            assert isinstance(json.loads(message["payload"]), dict)
