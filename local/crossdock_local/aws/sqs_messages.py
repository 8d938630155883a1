"""A queue's messages, found without walking the whole backlog.

moto keeps a queue's messages in one list. `DeleteMessage` walked it twice per receipt handle (is the handle known?
then a copy of the list without the message), and `ReceiveMessage` first built the list of every visible message
(two clock readings per message) to take the first ten. With the thousands of messages a long chaos run queues
during the Rackbeat outage, every delete and receive grew with the backlog, and the drain with its square. SQS
finds a message by its receipt handle and hands out the first visible ones without such a walk. Here:

- a receipt handle is remembered for the message it was issued for when moto issues it (`mark_received`), so a
  delete finds its message directly; it is then removed from the queue's list in one step, under the lock moto's
  `add_message` holds (moto's copy-and-reassign could drop a message sent meanwhile from another thread). Deleting a
  handle twice is still accepted, and a handle of no message in the queue is still `ReceiptHandleIsInvalid`.
- `Queue.messages` is the visible messages of a snapshot of the list, checked one at a time as the caller iterates,
  so a receive stops at the messages it takes; its length and truth are moto's.

`tests/component/test_sqs_messages.py` holds both to moto's answers without them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any, overload
from unittest import mock

from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue


class VisibleMessages(Sequence[Message]):
    """The visible, undelayed messages of a queue, in order, as moto's `Queue.messages` list holds them; each is
    checked when reached, on a snapshot of the queue's list taken when asked for (as moto's list is)."""

    def __init__(self, queue: Queue) -> None:
        self._snapshot = list(queue._messages)
        self._listed: list[Message] | None = None

    def __iter__(self) -> Iterator[Message]:
        if self._listed is not None:
            yield from self._listed
            return
        for message in self._snapshot:
            if message.visible and not message.delayed:
                yield message

    def _all(self) -> list[Message]:
        if self._listed is None:
            self._listed = list(iter(self))
        return self._listed

    def __len__(self) -> int:
        return len(self._all())

    def __bool__(self) -> bool:
        return any(True for _ in self)

    @overload
    def __getitem__(self, index: int) -> Message: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Message]: ...
    def __getitem__(self, index: int | slice) -> Message | Sequence[Message]:
        return self._all()[index]


def find_messages_directly(stack: ExitStack) -> None:
    # Receipt handle -> the message it was issued for (weakly: a deleted message can go).
    issued: weakref.WeakValueDictionary[str, Message] = weakref.WeakValueDictionary()
    original_mark_received = Message.mark_received

    def mark_received(message: Message, visibility_timeout: int | None = None) -> None:
        original_mark_received(message, visibility_timeout)
        if message.receipt_handle is not None:
            issued[message.receipt_handle] = message

    def delete_message(queue: Queue, receipt_handle: str) -> None:
        if receipt_handle in queue.deleted_messages:
            return  # already deleted: SQS accepts it again
        message = issued.get(receipt_handle)
        with queue._messages_lock:
            if message is None or message not in queue._messages:  # identity: no Message defines __eq__
                raise ReceiptHandleIsInvalid()
            queue._messages.remove(message)
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]

    def messages(queue: Queue) -> Any:
        return VisibleMessages(queue)

    stack.enter_context(mock.patch.object(Message, "mark_received", mark_received))
    stack.enter_context(mock.patch.object(Queue, "delete_message", delete_message))
    stack.enter_context(mock.patch.object(Queue, "messages", property(messages)))
