"""Commands for a shop's outbound queue (FIFO, one message group per connection).

Deduplication ids are chosen so that repeats collapse: a connection's stock pushes requested within the same
second are one message, and so are repeated pushes of one item within the same second. They carry the connection
id because SQS deduplicates across the whole queue.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

SendFifo = Callable[[dict[str, Any], str, str], None]  # (message, group id, deduplication id)


def _stock_push(send: SendFifo, deduplication_id: Callable[[str], str]) -> Callable[[str], None]:
    def request(connection_id: str) -> None:
        send({"command": "stock.push", "connection_id": connection_id}, connection_id, deduplication_id(connection_id))

    return request


def stock_push_request(send: SendFifo, now: Callable[[], float]) -> Callable[[str], None]:
    """Stock changes asking for a push: one message per connection and second, however many changes."""
    return _stock_push(send, lambda connection_id: f"stock-{connection_id}-{int(now())}")


def stock_push_continuation(send: SendFifo) -> Callable[[str], None]:
    """A stock push's request to go on later: its own deduplication id, never the running message's."""
    return _stock_push(send, lambda connection_id: f"stock-{connection_id}-continued-{uuid.uuid4().hex}")


def item_push_request(send: SendFifo, now: Callable[[], float]) -> Callable[[dict[str, Any]], None]:
    def request(command: dict[str, Any]) -> None:
        scope = f"{command['connection_id']}:{command['kind']}:{command['number']}"
        item = hashlib.sha256(scope.encode()).hexdigest()[:40]
        send(command, str(command["connection_id"]), f"item-{item}-{int(now())}")

    return request
