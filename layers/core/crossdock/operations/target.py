"""Where the operator's commands act: the table and queues of one Crossdock stack.

A deployed stack is found by its CloudFormation name: the logical ids of template.yaml lead to the physical names
(a queue's physical id is its URL, a table's its name), so nothing about a deployment is configured twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossdock.operations.errors import NotFound, OperatorError

TABLE = "Table"
INBOUND_QUEUE = "InboundQueue"

# (name an operator types, the dead-letter queue's logical id, the logical id of the queue it takes messages from;
# None where the messages come from Lambda and the Scheduler, which have no queue to go back to).
DEAD_LETTER_QUEUES: tuple[tuple[str, str, str | None], ...] = (
    ("inbound", "InboundDeadLetterQueue", INBOUND_QUEUE),
    ("shopify-outbound", "ShopifyOutboundDeadLetterQueue", "ShopifyOutboundQueue"),
    ("self-check", "SelfCheckDeadLetterQueue", None),
)
DEAD_LETTER_QUEUE_NAMES = tuple(name for name, _, _ in DEAD_LETTER_QUEUES)


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
        raise NotFound(f"no dead-letter queue {name!r}; the queues are {', '.join(DEAD_LETTER_QUEUE_NAMES)}")


def required_logical_ids() -> list[str]:
    ids = [TABLE, INBOUND_QUEUE]
    for _, queue, source in DEAD_LETTER_QUEUES:
        ids += [queue] + ([source] if source else [])
    return list(dict.fromkeys(ids))


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
        dead_letter_queues=tuple(
            DeadLetterQueue(name, resources[queue], resources[source] if source else None)
            for name, queue, source in DEAD_LETTER_QUEUES
        ),
        description=description,
        poll_seconds=poll_seconds,
    )
