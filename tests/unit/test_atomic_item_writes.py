"""The embedded runtime's item writes are atomic as DynamoDB's, their answers included (aws_dynamodb_tables)."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any
from unittest import mock

from moto.dynamodb.models.dynamo_type import Item

from crossdock_local.aws.dynamodb_tables import atomic_item_writes

THREADS = 8
ADDS = 60


def _count_concurrently(table: Any) -> list[int]:
    table.put_item(Item={"pk": "COUNTER", "sk": "-", "n": 0})
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def add() -> None:
        start.wait()
        for _ in range(ADDS):
            answer = table.update_item(
                Key={"pk": "COUNTER", "sk": "-"},
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": 1},
                ReturnValues="UPDATED_NEW",
            )
            with lock:
                seen.append(int(answer["Attributes"]["n"]))

    threads = [threading.Thread(target=add) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def test_every_concurrent_update_is_answered_with_the_value_it_wrote(table: Any) -> None:
    # GIVEN eight threads adding one to the same counter at once, on the embedded runtime's item writes
    with ExitStack() as patches:
        atomic_item_writes(patches)
        # (moto turns the item into its answer after writing it: another thread is let in right there, every time,
        # so a write whose answer is not part of it shows here rather than once in a thousand runs)
        to_json = Item.to_json

        def handing_over(item: Item) -> Any:
            time.sleep(0.0002)
            return to_json(item)

        patches.enter_context(mock.patch.object(Item, "to_json", handing_over))
        # WHEN each reads its new value from the update's own answer (ReturnValues UPDATED_NEW)
        seen = _count_concurrently(table)
    # THEN every answer is a different value, 1 … n, as DynamoDB answers (none saw another thread's write)
    assert sorted(seen) == list(range(1, THREADS * ADDS + 1))
