"""The pure parts of the operator commands: input parsing, dead-letter descriptions, event rows, tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crossdock import topics
from crossdock.flows import dispatch
from crossdock.integrations.rackbeat_shopify import reconciliation
from crossdock.operations import dead_letters, events, inbound, resync
from crossdock.store import events as event_log
from crossdock.store import keys
from crossdock_local import operator_output as out


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        ("2026-05-01", "2026-05-01T00:00:00.000000Z"),
        ("2026-05-01T12:30", "2026-05-01T12:30:00.000000Z"),
        ("2026-05-01T12:30:00Z", "2026-05-01T12:30:00.000000Z"),
        ("2026-05-01T14:30:00+02:00", "2026-05-01T12:30:00.000000Z"),
    ],
)
def test_since_takes_iso_times_as_utc_event_stamps(text: str, stamp: str) -> None:
    assert events.stamp_since(text) == stamp


@pytest.mark.parametrize("text", ["yesterday", "01-05-2026", ""])
def test_since_refuses_what_is_not_iso_8601_naming_the_option(text: str) -> None:
    with pytest.raises(ValueError, match="--since"):
        events.stamp_since(text)


@pytest.mark.parametrize(
    ("text", "order_id"), [("820982911946154508", "820982911946154508"), (" gid://shopify/Order/450789 ", "450789")]
)
def test_order_ids_are_shopifys_numeric_ids(text: str, order_id: str) -> None:
    assert resync.parse_order_id(text) == order_id


@pytest.mark.parametrize("text", ["#1001", "1001a", "", "0123", "gid://shopify/Product/1", "１２３"])
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValueError, match=r"order id: .* is not a Shopify order id"):
        resync.parse_order_id(text)


def test_the_resync_message_follows_dispatchs_contract() -> None:
    assert resync.RESYNC_TOPIC == topics.RESYNC_TOPIC == reconciliation.RESYNC_TOPIC == "orders/resync"
    assert inbound.OPERATOR in dispatch.REDRIVE_ORIGINS
    message = inbound.operator_message("c-1", "crossdock", resync.RESYNC_TOPIC, '{"order_id": "1"}', "resync-1")
    assert set(message) == {"source", "connection_id", "event_id", "topic", "received_at", "payload", "redrive"}
    assert message["received_at"].endswith("Z") and len(message["received_at"]) == len("2026-05-01T12:00:00.000000Z")


def test_event_rows_read_connection_time_and_id_from_the_keys() -> None:
    sk = keys.event_sk("2026-05-01T12:00:00.000000Z", "id#with#hashes")
    row = events.row({"pk": keys.connection_pk("c-1"), "sk": sk, "status": "needs_attention", "attempts": 2})
    assert (row.connection_id, row.received_at, row.event_id, row.attempts) == (
        "c-1",
        "2026-05-01T12:00:00.000000Z",
        "id#with#hashes",
        2,
    )
    assert event_log.open_key("c-1", sk) == "c-1#2026-05-01T12:00:00.000000Z#id#with#hashes"


def _message(body: Any, **attributes: str) -> dict[str, Any]:
    system = {"ApproximateReceiveCount": "6", "ApproximateFirstReceiveTimestamp": "1777636800000", **attributes}
    return {"MessageId": "m-1", "Body": body if isinstance(body, str) else json.dumps(body), "Attributes": system}


def test_an_inbound_dead_letter_is_described_by_its_event_and_hides_the_payload() -> None:
    body = {
        "source": "shopify",
        "connection_id": "c-1",
        "event_id": "w-1",
        "topic": "orders/paid",
        "received_at": "2026-05-01T12:00:00.000000Z",
        "payload": '{"email": "kunde@example.dk"}',
    }
    letter = dead_letters.describe(_message(body))
    assert (letter.connection_id, letter.what, letter.event_id) == ("c-1", "shopify orders/paid", "w-1")
    assert letter.receive_count == 5  # the look itself was the sixth receive
    assert letter.first_received_at == "2026-05-01T12:00:00Z"
    assert letter.payload is None
    assert dead_letters.describe(_message(body), with_payload=True).payload == body["payload"]


def test_a_shop_command_dead_letter_names_its_event_and_group() -> None:
    sk = keys.event_sk("2026-05-01T12:00:00.000000Z", "w-2")
    body = {"command": "product.push", "connection_id": "c-1", "number": "JAKKE-1", "event_sk": sk}
    letter = dead_letters.describe(_message(body, MessageGroupId="c-1"))
    assert (letter.what, letter.event_id, letter.group_id) == ("product.push JAKKE-1", "w-2", "c-1")


def test_failed_invocation_records_say_what_failed() -> None:
    record = {
        "requestContext": {
            "functionArn": "arn:aws:lambda:eu-west-1:1:function:crossdock-SelfCheckFunction-AB12:$LATEST",
            "condition": "RetriesExhausted",
        },
        "responsePayload": {"errorType": "RetryableError", "errorMessage": "[target_down] Shopify 503"},
    }
    letter = dead_letters.describe(_message(record))
    assert letter.what == "crossdock-SelfCheckFunction-AB12:$LATEST RetriesExhausted: RetryableError"
    assert letter.connection_id is None
    scheduled = _message('{"check": "shopify_webhook_subscriptions"}')
    scheduled["MessageAttributes"] = {
        "ERROR_CODE": {"DataType": "String", "StringValue": "AWS.Scheduler.InternalServerError"},
        "SCHEDULE_ARN": {"DataType": "String", "StringValue": "arn:aws:scheduler:eu-west-1:1:schedule/default/check"},
    }
    assert dead_letters.describe(scheduled).what == "schedule check not delivered: AWS.Scheduler.InternalServerError"
    assert dead_letters.describe(_message("not json")).what == "message of unknown shape"


def test_tables_align_columns_and_say_when_empty() -> None:
    rendered = out.table(["A", "LONGER"], [["x", None], ["wide value", "multi\nline"]])
    assert rendered.splitlines() == [
        "A           LONGER",
        "----------  ----------",
        "x           -",
        "wide value  multi line",
    ]
    assert out.table(["A"], []) == "(none)"
    assert out.shorten("a" * 200, 10) == "a" * 9 + "…"
    assert out.failures({"unmapped": 2, "validation": 1}) == "3 (unmapped 2, validation 1)"
    assert out.failures({}) == "0"
