"""The event log keeps the raw webhook body compressed and gives it back as it came (store.events)."""

from __future__ import annotations

import json
from typing import Any

from crossdock.store import events
from crossdock.store.events import EventStatus

RECEIVED_AT = "2026-11-23T00:00:00.000000Z"


def _raw(table: Any, sk: str) -> dict[str, Any]:
    item: dict[str, Any] = table.get_item(Key={"pk": "CONN#c1", "sk": sk})["Item"]
    return item


def _payload(table: Any, sk: str) -> str:
    loaded = events.load_event(table, "c1", sk)
    assert loaded is not None
    return str(loaded["payload"])


def test_a_payload_is_stored_compressed_and_read_back_as_it_came(table: Any, shopify_payload: Any) -> None:
    body = json.dumps(shopify_payload("2025-01/order_0.json")["order"]) + " æøå"
    sk = events.record_received(table, "c1", "e1", "shopify", "orders/create", body, RECEIVED_AT)
    stored = _raw(table, sk)
    # An update of the event is billed by the item's size: the body takes a fraction of its length
    assert "payload" not in stored and len(bytes(stored[events.PACKED_PAYLOAD])) < len(body.encode()) / 3
    events.finish_event(table, "c1", sk, EventStatus.DONE, "ok")
    loaded = events.load_event(table, "c1", sk)
    assert loaded is not None and loaded["payload"] == body and events.PACKED_PAYLOAD not in loaded
    assert [e["payload"] for e in events.list_events(table, "c1")] == [body]
    assert [e["payload"] for e in events.iter_events(table, "c1")] == [body]


def test_a_replaced_payload_and_a_redacted_one_read_back(table: Any) -> None:
    sk = events.record_received(table, "c1", "e2", "crossdock", "orders/resync", '{"order_id": 1}', RECEIVED_AT)
    events.replace_payload(table, "c1", sk, '{"id": 1, "email": "mette@example.com"}')
    assert json.loads(_payload(table, sk))["email"] == "mette@example.com"
    events.redact_payload(table, "c1", sk, '{"redacted": true}', RECEIVED_AT)
    stored = _raw(table, sk)
    assert events.PACKED_PAYLOAD not in stored and "mette" not in json.dumps(stored, default=str)
    assert _payload(table, sk) == '{"redacted": true}'


def test_events_stored_before_compression_still_read(table: Any) -> None:
    table.put_item(Item={"pk": "CONN#c1", "sk": "EVT#old", "payload": '{"id": 7}', "status": "done"})
    assert _payload(table, "EVT#old") == '{"id": 7}'
