"""The ingest flow (flows/ingest.py) against in-memory fakes: a made-up system's webhooks for a made-up kind, no
AWS. What is answered, what is queued, and what is claimed for dedupe."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import (
    KIND,
    SECRET_NAMES,
    SYSTEM,
    FakeClaims,
    FakeDeliveries,
    FakeSecrets,
    MadeUpKind,
    registered,
    sign,
)

from crossdock.flows.ingest import MAX_BODY_BYTES, IngestAnswer, IngestDeps, receive_webhook
from crossdock.store.claim_checks import SQS_MESSAGE_LIMIT

SECRET = "s3cret"
BODY = json.dumps({"id": 1001, "total": "12.50"}).encode()


@dataclass
class Harness:
    claims: FakeClaims = field(default_factory=FakeClaims)
    deliveries: FakeDeliveries = field(default_factory=FakeDeliveries)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    queued: list[dict[str, Any]] = field(default_factory=list)
    queue_down: bool = False
    checked_in: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (connection id, body)
    bucket: bool = True

    def check_in(self, connection_id: str, body: str) -> str:
        key = f"inbound/{connection_id}/{len(self.checked_in)}.json"
        self.checked_in[key] = (connection_id, body)
        return key

    def enqueue(self, message: dict[str, Any]) -> None:
        if self.queue_down:
            raise ConnectionError("the queue did not answer")
        self.queued.append(message)

    def deps(self) -> IngestDeps:
        return IngestDeps(
            table=None,
            secrets=self.secrets,
            enqueue=self.enqueue,
            account_claims=self.claims,
            delivery_log=self.deliveries,
            check_in=self.check_in if self.bucket else None,
        )

    def receive(
        self,
        headers: dict[str, str] | None = None,
        body: bytes = BODY,
        *,
        source: str = SYSTEM,
        connection_id: str | None = None,
    ) -> IngestAnswer:
        sent = {"X-Topic": "orders/created", "X-Signature": sign(body, SECRET), **(headers or {})}
        return receive_webhook(
            source, sent, body, self.deps(), kind=None if connection_id else KIND, connection_id=connection_id
        )


@pytest.fixture
def harness() -> Iterator[Harness]:
    with registered(MadeUpKind()):
        made = Harness()
        made.claims.claim("c-1", "acme")
        made.secrets.put("c-1", SECRET_NAMES[0], SECRET)
        yield made


def test_an_authentic_delivery_for_a_claimed_account_is_queued_for_its_connection_and_claimed(
    harness: Harness,
) -> None:
    # GIVEN connection c-1 claims the account "acme", and a signed delivery with an id for that account
    # WHEN it arrives
    answer = harness.receive({"X-Account": "acme", "X-Delivery": "d-1"})
    # THEN it is answered queued, its message names the connection, the source, the topic and the raw body
    assert answer == IngestAnswer(200, {"status": "queued"})
    (message,) = harness.queued
    assert {k: message[k] for k in ("source", "connection_id", "event_id", "topic", "payload")} == {
        "source": SYSTEM,
        "connection_id": "c-1",
        "event_id": "d-1",
        "topic": "orders/created",
        "payload": BODY.decode(),
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", message["received_at"])
    # AND the delivery is claimed for the connection
    assert harness.deliveries.claimed == {(SYSTEM, "d-1"): "c-1"}


def test_a_repeated_delivery_is_answered_duplicate_and_queued_once(harness: Harness) -> None:
    # GIVEN a delivery that was queued
    harness.receive({"X-Account": "acme", "X-Delivery": "d-1"})
    # WHEN the sender repeats it
    answer = harness.receive({"X-Account": "acme", "X-Delivery": "d-1"})
    # THEN the repeat is answered duplicate, not queued again, and counted on the claim
    assert answer == IngestAnswer(200, {"status": "duplicate"})
    assert len(harness.queued) == 1
    assert harness.deliveries.repeats == {(SYSTEM, "d-1"): 1}


def test_a_delivery_the_queue_refuses_is_not_claimed_so_the_senders_retry_is_queued(harness: Harness) -> None:
    # GIVEN the queue is down when a delivery arrives
    harness.queue_down = True
    # WHEN it arrives, THEN the failure reaches the sender (a 5xx: it retries) and nothing is claimed
    with pytest.raises(ConnectionError):
        harness.receive({"X-Account": "acme", "X-Delivery": "d-1"})
    assert harness.deliveries.claimed == {} and harness.queued == []
    # AND the retry, once the queue is back, is queued rather than answered duplicate
    harness.queue_down = False
    assert harness.receive({"X-Account": "acme", "X-Delivery": "d-1"}).body == {"status": "queued"}
    assert len(harness.queued) == 1


def test_a_delivery_without_an_id_gets_an_event_id_and_is_never_deduplicated(harness: Harness) -> None:
    # GIVEN the same delivery twice, without a delivery id
    # WHEN both arrive
    first = harness.receive({"X-Account": "acme"})
    second = harness.receive({"X-Account": "acme"})
    # THEN both are queued, each with its own made-up event id, and nothing is claimed
    assert first.body == second.body == {"status": "queued"}
    assert len({message["event_id"] for message in harness.queued}) == 2
    assert harness.deliveries.claimed == {}


def test_a_delivery_signed_with_any_of_the_connections_secrets_is_authentic(harness: Harness) -> None:
    # GIVEN the connection's secret was rotated: the new one is under the second name
    harness.secrets.put("c-1", SECRET_NAMES[1], "rotated")
    # WHEN a delivery signed with the new secret arrives
    answer = harness.receive({"X-Account": "acme", "X-Signature": sign(BODY, "rotated")})
    # THEN it is queued
    assert answer.status == 200 and len(harness.queued) == 1


def test_a_bad_signature_is_refused_401_and_nothing_is_queued_or_claimed(harness: Harness) -> None:
    answer = harness.receive({"X-Account": "acme", "X-Delivery": "d-1", "X-Signature": sign(BODY, "guess")})

    assert answer == IngestAnswer(401, {"message": "invalid signature"})
    assert harness.queued == [] and harness.deliveries.claimed == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        # bytes that are not UTF-8, named by value and position
        (b'{"name": "K\xf8benhavn"}', "body is not UTF-8: byte 0xf8 at position 11"),
        # JSON is UTF-8 on the wire: another encoding Python's parser would guess is refused too
        ('{"id": 1}'.encode("utf-16"), "body is not UTF-8"),
        # deeper than the parser recurses: once a RecursionError and a 502
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "body is not valid JSON: it is nested too deeply"),
        (b"[" * 10_000 + b"]" * 10_000, "body is not valid JSON: it is nested too deeply"),
        (b'{"total": NaN}', "body is not valid JSON: NaN is not a JSON value"),
        (b'{"total": -Infinity}', "body is not valid JSON: -Infinity is not a JSON value"),
    ],
)
def test_an_authentic_body_that_is_no_json_object_is_refused_400(harness: Harness, body: bytes, message: str) -> None:
    answer = harness.receive({"X-Account": "acme"}, body)

    assert answer.status == 400 and answer.body["message"].startswith(message)
    assert harness.queued == []


def test_a_delivery_missing_a_header_the_source_needs_is_refused_400_naming_it(harness: Harness) -> None:
    answer = receive_webhook(SYSTEM, {"X-Topic": "orders/created"}, BODY, harness.deps(), kind=KIND)

    assert answer == IngestAnswer(400, {"message": "missing header X-Signature"})
    assert harness.queued == []


def test_an_authentic_delivery_the_source_finds_incomplete_is_refused_400_with_its_reason(harness: Harness) -> None:
    answer = harness.receive({"X-Account": "acme", "X-Topic": "nonsense"})

    assert answer == IngestAnswer(400, {"message": "X-Topic 'nonsense' is not a topic"})
    assert harness.queued == []


def test_an_account_no_connection_claims_is_refused_404_naming_it(harness: Harness) -> None:
    answer = harness.receive({"X-Account": "globex"})

    assert answer == IngestAnswer(404, {"message": "no connection for workspace globex"})
    assert harness.queued == []


def test_a_delivery_naming_no_account_needs_an_address_that_names_the_connection(harness: Harness) -> None:
    answer = harness.receive()

    assert answer.status == 404 and "need an address that names the connection" in answer.body["message"]


def test_an_address_naming_a_connection_queues_for_it_and_one_that_does_not_exist_is_404(harness: Harness) -> None:
    # GIVEN connection c-1 exists and c-9 does not
    # WHEN a delivery names each in its address
    queued = harness.receive(connection_id="c-1")
    missing = harness.receive(connection_id="c-9")
    # THEN c-1's is queued for it, c-9's is refused before anything else is looked at
    assert queued.body == {"status": "queued"} and harness.queued[0]["connection_id"] == "c-1"
    assert missing == IngestAnswer(404, {"message": "no connection c-9"})
    assert len(harness.queued) == 1


def test_a_source_no_connector_registers_is_404(harness: Harness) -> None:
    answer = harness.receive({"X-Account": "acme"}, source="unheard_of")

    assert answer == IngestAnswer(404, {"message": "no webhook source unheard_of"})
    assert harness.queued == []


def test_an_authentic_body_larger_than_ingest_takes_is_refused_413_naming_the_limit(harness: Harness) -> None:
    # GIVEN a signed body one byte over the limit
    body = b'{"note": "' + b"x" * (MAX_BODY_BYTES - 11) + b'"}'
    # WHEN it arrives
    answer = harness.receive({"X-Account": "acme"}, body)
    # THEN it is refused with its size and the limit; nothing is queued or checked in
    assert answer == IngestAnswer(
        413, {"message": f"body is {MAX_BODY_BYTES + 1} bytes; ingest takes at most {MAX_BODY_BYTES}"}
    )
    assert harness.queued == [] and harness.checked_in == {}


def test_a_body_too_large_for_a_queued_message_is_checked_in_and_the_message_carries_its_key(
    harness: Harness,
) -> None:
    # GIVEN a signed delivery whose body, JSON-escaped inside the message, exceeds what SQS takes (Danish text:
    # every `ø` of two bytes becomes six)
    note = "Levér pakken ved bagdøren, tak – hæng den på krogen. " * 4_000
    body = json.dumps({"id": 1001, "note": note}, ensure_ascii=False).encode()
    assert len(body) < SQS_MESSAGE_LIMIT < len(json.dumps(body.decode()))
    # WHEN it arrives
    answer = harness.receive({"X-Account": "acme", "X-Delivery": "d-big"}, body)
    # THEN it is queued with a claim check instead of the payload, the body kept byte for byte under that key
    assert answer == IngestAnswer(200, {"status": "queued"})
    (message,) = harness.queued
    assert "payload" not in message
    assert harness.checked_in == {message["payload_ref"]: ("c-1", body.decode())}
    assert len(json.dumps(message)) < 1_000
    # AND the delivery is claimed as any other
    assert harness.deliveries.claimed == {(SYSTEM, "d-big"): "c-1"}


def test_a_body_that_fits_a_message_is_queued_as_it_is_without_a_claim_check(harness: Harness) -> None:
    # GIVEN a signed delivery just small enough for one message once escaped
    body = json.dumps({"id": 1001, "note": "a" * (SQS_MESSAGE_LIMIT - 1_000)}).encode()
    # WHEN it arrives
    assert harness.receive({"X-Account": "acme"}, body).status == 200
    # THEN the payload travels in the message and nothing is checked in
    (message,) = harness.queued
    assert message["payload"] == body.decode() and "payload_ref" not in message
    assert harness.checked_in == {}


def test_a_body_too_large_for_the_queue_is_413_where_there_is_no_bucket(harness: Harness) -> None:
    # GIVEN ingest without a payload bucket, and a body too large for a message
    harness.bucket = False
    body = json.dumps({"id": 1001, "note": "ø" * 100_000}, ensure_ascii=False).encode()
    # WHEN it arrives THEN it is refused 413 and nothing is queued
    answer = harness.receive({"X-Account": "acme"}, body)
    assert answer.status == 413 and "does not fit a queued message" in answer.body["message"]
    assert harness.queued == []


@pytest.mark.parametrize("character", ["\x01", "ø", "🦆", '"'])
def test_a_message_queued_inline_never_exceeds_what_sqs_takes_whatever_the_text(
    harness: Harness, character: str
) -> None:
    # GIVEN bodies of the worst characters to escape (a control byte, Danish letters, an emoji, a quote), from just
    # below the size that is never measured to twice the SQS limit once escaped
    for repeat in (1_000, 6_000, 20_000, 60_000):
        body = json.dumps({"note": character * repeat}, ensure_ascii=False).encode()
        harness.queued.clear()
        # WHEN each arrives
        assert harness.receive({"X-Account": "acme"}, body).status == 200
        # THEN what is queued fits one SQS message: the payload inline when it fits, else its claim check
        (message,) = harness.queued
        assert len(json.dumps(message, separators=(",", ":")).encode()) <= SQS_MESSAGE_LIMIT
        assert ("payload" in message) != ("payload_ref" in message)
