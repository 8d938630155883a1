"""Where the operator's commands act: the table and queues of one Crossdock stack.

A deployed stack is found by its CloudFormation name: the logical ids of template.yaml lead to the physical names
(a queue's physical id is its URL, a table's its name), so nothing about a deployment is configured twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossdock.operations.errors import NotFound, OperatorError

TABLE = "Table"
INBOUND_QUEUE = "InboundQueue"

# A stack's dead-letter queues are found in its resources (`dead_letter_queues_in`): template.yaml names each
# `<Source>DeadLetterQueue`, so one added to the template shows in `dlq` and `status` without a change here. These
# are the names of this release's template (what `crossdock dlq --queue` offers, and the order they are shown in);
# tests/component/test_dead_letter_queues.py holds them to template.yaml.
DEAD_LETTER_SUFFIX = "DeadLetterQueue"
DEAD_LETTER_QUEUE_NAMES = ("inbound", "shopify-outbound", "self-check", "poll")
INBOUND_DEAD_LETTER_QUEUE = "InboundDeadLetterQueue"


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    url: str
    # The queue its messages came from, where a redrive sends them back; None when they did not come from a queue.
    source_url: str | None

    @property
    def fifo(self) -> bool:
        return self.url.endswith(".fifo")


@dataclass(frozen=True)
class OperatorTarget:
    table: Any  # boto3 DynamoDB Table resource
    sqs: Any  # boto3 SQS client
    inbound_queue_url: str
    dead_letter_queues: tuple[DeadLetterQueue, ...]
    description: str  # which stack, for the first line of a report
    # Long-poll wait when reading a dead-letter queue: SQS answers a short poll from a sample of its servers and may
    # miss messages. The embedded stack's SQS runs on a virtual clock that does not move while it waits: 0 there.
    poll_seconds: int = 1

    def dead_letter_queue(self, name: str) -> DeadLetterQueue:
        for queue in self.dead_letter_queues:
            if queue.name == name:
                return queue
        known = ", ".join(queue.name for queue in self.dead_letter_queues)
        raise NotFound(f"no dead-letter queue {name!r}; the queues are {known}")


def required_logical_ids() -> list[str]:
    return [TABLE, INBOUND_QUEUE, INBOUND_DEAD_LETTER_QUEUE]


def dead_letter_queues_in(resources: Mapping[str, str]) -> tuple[DeadLetterQueue, ...]:
    """Every dead-letter queue among a stack's resources (logical id → physical id, a queue's is its URL). Its
    messages came from `<Source>Queue` when the stack has one, where a redrive sends them back; a dead-letter queue
    of Lambda's or the Scheduler's failed invocations (self-check, poll) has none. Known names first, in their
    order, then any other by name."""
    found = []
    for logical_id, url in resources.items():
        stem = logical_id.removesuffix(DEAD_LETTER_SUFFIX)
        if stem and stem != logical_id:
            found.append(DeadLetterQueue(dead_letter_queue_name(stem), url, resources.get(f"{stem}Queue")))
    rank = {name: index for index, name in enumerate(DEAD_LETTER_QUEUE_NAMES)}
    return tuple(sorted(found, key=lambda queue: (rank.get(queue.name, len(rank)), queue.name)))


def dead_letter_queue_name(stem: str) -> str:
    """The name an operator types for `<Stem>DeadLetterQueue`: `ShopifyOutbound` → `shopify-outbound`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


def stack_resources(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Logical id → physical id of every resource the stack has now (ListStackResources, all pages)."""
    found: dict[str, str] = {}
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for resource in page["StackResourceSummaries"]:
                if resource.get("PhysicalResourceId") and resource.get("ResourceStatus") != "DELETE_COMPLETE":
                    found[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    except cloudformation.exceptions.ClientError as failed:
        if failed.response.get("Error", {}).get("Code") == "ValidationError":
            raise NotFound(f"no CloudFormation stack {stack_name!r} in this account and region") from failed
        raise
    return found


def target_from_resources(
    resources: Mapping[str, str], table: Any, sqs: Any, description: str, *, poll_seconds: int = 1
) -> OperatorTarget:
    """The target whose physical names `resources` gives (logical id → physical id): `table` is a boto3 DynamoDB
    resource's `Table` factory, called with the table's name."""
    missing = [logical_id for logical_id in required_logical_ids() if logical_id not in resources]
    if missing:
        raise OperatorError(f"{description} has no {', '.join(missing)}: is it a Crossdock stack?")
    return OperatorTarget(
        table=table(resources[TABLE]),
        sqs=sqs,
        inbound_queue_url=resources[INBOUND_QUEUE],
        dead_letter_queues=dead_letter_queues_in(resources),
        description=description,
        poll_seconds=poll_seconds,
    )
