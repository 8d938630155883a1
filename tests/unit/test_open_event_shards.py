"""The open-events index, sharded (store/events.py `open_status`, issue 18): an open event is written under
`<status>#<shard of its connection>`; the operator's readers (operations/events.py) Query every shard and the bare
status of items written before the shards, and merge newest first in the page cursor's order. On moto's table as
template.yaml defines it."""

from __future__ import annotations

from typing import Any

from crossdock.operations.events import connection_events, find_event, open_events
from crossdock.operations.target import OperatorTarget
from crossdock.store import events, keys
from crossdock.store.events import EventStatus


def _target(table: Any) -> OperatorTarget:
    return OperatorTarget(table=table, sqs=None, inbound_queue_url="", dead_letter_queues=(), description="unit")


def _connections_in_different_shards(count: int) -> list[str]:
    found: dict[int, str] = {}
    number = 0
    while len(found) < count:
        name = f"c-{number}"
        found.setdefault(events.open_shard(name), name)
        number += 1
    return list(found.values())


def _legacy(table: Any, connection_id: str, event_id: str, received_at: str, status: EventStatus) -> None:
    """An open event as releases before the shards wrote it: the bare status as the index partition."""
    sk = events.record_received(table, connection_id, event_id, "shopify", "orders/create", "{}", received_at)
    table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": sk},
        UpdateExpression="SET #o = :bare, #s = :bare",
        ExpressionAttributeNames={"#o": events.OPEN_STATUS, "#s": "status"},
        ExpressionAttributeValues={":bare": status.value},
    )


def test_an_open_event_is_written_under_its_connections_shard_and_leaves_the_index_when_done(table: Any) -> None:
    sk = events.record_received(table, "c-1", "e-1", "shopify", "orders/create", "{}", "2026-12-07T10:00:00.000Z")
    stored = events.load_event(table, "c-1", sk)
    assert stored is not None
    assert stored[events.OPEN_STATUS] == f"received#{events.open_shard('c-1')}"
    events.finish_event(table, "c-1", sk, EventStatus.NEEDS_ATTENTION, "refused", failure_class="validation")
    failed = events.load_event(table, "c-1", sk)
    assert failed is not None and failed[events.OPEN_STATUS] == f"needs_attention#{events.open_shard('c-1')}"
    events.finish_event(table, "c-1", sk, EventStatus.DONE, "retried")
    done = events.load_event(table, "c-1", sk)
    assert done is not None and events.OPEN_STATUS not in done


def test_every_shard_and_the_bare_key_are_read_and_merged_newest_first(table: Any) -> None:
    # GIVEN open events of three connections in three shards, received interleaved, and one of a release before
    a, b, c = _connections_in_different_shards(3)
    for minute, connection_id in enumerate([a, b, c, a, b, c]):
        stamp = f"2026-12-07T10:0{minute}:00.000Z"
        events.record_received(table, connection_id, f"e-{minute}", "shopify", "orders/create", "{}", stamp)
    _legacy(table, b, "e-old", "2026-12-07T10:03:30.000Z", EventStatus.RECEIVED)
    # WHEN the operator lists what is running
    listed = open_events(_target(table), EventStatus.RECEIVED)
    # THEN every one is there once, newest first across shards, the legacy item in its place
    assert [row.event_id for row in listed] == ["e-5", "e-4", "e-old", "e-3", "e-2", "e-1", "e-0"]
    # AND one connection's listing reads its shard and the bare key only, and finds its own
    assert [row.event_id for row in open_events(_target(table), EventStatus.RECEIVED, b)] == ["e-4", "e-old", "e-1"]
    # AND an open event is found by its id alone, in a shard or under the bare key
    assert find_event(_target(table), "e-old")["event_id"] == "e-old"
    assert find_event(_target(table), "e-2")["event_id"] == "e-2"


def test_the_page_cursor_walks_a_connections_open_events_across_the_shard_and_the_bare_key(table: Any) -> None:
    # GIVEN five failed events of one connection, two of them from before the shards, two sharing a moment
    moments = ["10:00", "10:01", "10:02", "10:02", "10:04"]
    for number, moment in enumerate(moments):
        stamp = f"2026-12-07T{moment}:00.000Z"
        if number in (1, 3):
            _legacy(table, "c-1", f"e-{number}", stamp, EventStatus.NEEDS_ATTENTION)
            continue
        sk = events.record_received(table, "c-1", f"e-{number}", "shopify", "orders/create", "{}", stamp)
        events.finish_event(table, "c-1", sk, EventStatus.NEEDS_ATTENTION, "refused", failure_class="validation")
    # WHEN the console pages through them two at a time, each page's cursor its last row's
    pages, before = [], None
    while True:
        page = connection_events(_target(table), "c-1", status=EventStatus.NEEDS_ATTENTION, limit=2, before=before)
        if not page:
            break
        pages.append([row.event_id for row in page])
        before = f"{page[-1].received_at}#{page[-1].event_id}"
    # THEN every event comes once, newest first, the two of one moment in the cursor's order
    assert pages == [["e-4", "e-3"], ["e-2", "e-1"], ["e-0"]]
