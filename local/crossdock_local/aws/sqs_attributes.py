"""A queue's attributes, each worked out when it is read.

moto builds a queue's whole attribute dict, the approximate message counts included (each a walk over every
message), whenever one attribute is wanted: three times for every `SendMessage` (content-based deduplication,
retention period) and once per message received. With a backlog of thousands of messages, as a long chaos run
builds during the Rackbeat outage, every send and receive grew with the backlog and the run with its square. SQS
itself answers these from the queue's configuration. Here the attributes are the same names and values as moto's,
but a count is only walked for when it is asked for. `tests/component/test_sqs_attributes.py` compares the two.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import Any
from unittest import mock

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue


class QueueAttributes(Mapping[str, Any]):
    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:  # type: ignore[attr-defined]  # set from the queue's attributes
            names += queue.KMS_ATTRIBUTES
        self._names = dict.fromkeys(names)  # ordered, without repeats, as moto's dict

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name == "RedrivePolicy":  # a dict on the queue, JSON in the answer; None when there is none
            return json.dumps(self._queue.redrive_policy) if self._queue.redrive_policy else None
        value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def read_queue_attributes_lazily(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(Queue, "attributes", property(QueueAttributes)))
