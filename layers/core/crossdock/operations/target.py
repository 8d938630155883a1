"""Where the operator's commands act: the table, queues, key, workflows and schedules of one Crossdock stack.

A deployed stack is found by its CloudFormation name: the logical ids of template.yaml lead to the physical names
(a queue's physical id is its URL, a table's its name), so nothing about a deployment is configured twice. The
onboarding commands need more than the looking ones: the KMS key that encrypts secrets, the initial-sync workflow,
the poll schedule group with what its schedules invoke, and the address the platforms send webhooks to. Those are
optional here, so a target for looking needs no more clients than it uses; an onboarding command on a target
without them is refused, naming what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crossdock.aws.schedules import ScheduleGroup, ScheduleTarget
from crossdock.operations.errors import NotFound, OperatorError

TABLE = "Table"
INBOUND_QUEUE = "InboundQueue"
SECRETS_KEY = "SecretsKey"
INITIAL_SYNC_STATE_MACHINE = "InitialSyncStateMachine"
# Optional: a stack of a template before the guided setup onboards every kind but runs no setup.
GUIDED_SETUP_STATE_MACHINE = "GuidedSetupStateMachine"
POLL_SCHEDULE_GROUP = "PollScheduleGroup"
POLL_FUNCTION = "PollFunction"
POLL_SCHEDULE_ROLE = "PollScheduleRole"
POLL_DEAD_LETTER_QUEUE = "PollDeadLetterQueue"
# What onboarding needs besides the table and queues; a stack of an older template may lack some of them.
ONBOARDING_LOGICAL_IDS = (
    SECRETS_KEY,
    INITIAL_SYNC_STATE_MACHINE,
    POLL_SCHEDULE_GROUP,
    POLL_FUNCTION,
    POLL_SCHEDULE_ROLE,
    POLL_DEAD_LETTER_QUEUE,
)

# A stack's dead-letter queues are found in its resources (`dead_letter_queues_in`): template.yaml names each
# `<Source>DeadLetterQueue`, so one added to the template shows in `dlq` and `status` without a change here. These
# are the names of this release's template (what `crossdock dlq --queue` offers, and the order they are shown in);
# tests/component/test_dead_letter_queues.py holds them to template.yaml.
DEAD_LETTER_SUFFIX = "DeadLetterQueue"
DEAD_LETTER_QUEUE_NAMES = ("inbound", "shopify-outbound", "shopbox-outbound", "self-check", "poll")
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
class Onboarding:
    """The stack's resources that creating and configuring connections use, with their boto3 clients."""

    kms: Any  # boto3 KMS client
    key_id: str  # the SecretsKey: every connection secret is encrypted with it
    stepfunctions: Any  # boto3 Step Functions client
    initial_sync_state_machine_arn: str
    scheduler: Any  # boto3 EventBridge Scheduler client
    poll_schedule_group: str
    # What a connection's poll schedules invoke, as the install function makes them (template.yaml's
    # ShopifyAppFunction environment: POLL_FUNCTION_ARN, POLL_SCHEDULE_ROLE_ARN, POLL_DEAD_LETTER_ARN).
    poll_target: ScheduleTarget
    # Where Shopify and Rackbeat deliver webhooks: the stack's PublicBaseUrl, else its API's URL (ApiUrl).
    webhook_base_url: str
    # Where each platform's API answers for connections created here, when not at its public address (the
    # embedded stack's simulators); empty for a deployed stack.
    api_bases: Mapping[str, str] = field(default_factory=dict)
    # The guided-setup workflow (statemachines/guided_setup.asl.json); None on a stack deployed before it.
    guided_setup_state_machine_arn: str | None = None

    def poll_schedules(self) -> ScheduleGroup:
        return ScheduleGroup(self.scheduler, self.poll_schedule_group, self.poll_target)


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
    onboarding: Onboarding | None = None

    def onboard(self) -> Onboarding:
        """What the onboarding commands act on; refused when this target was made without it."""
        if self.onboarding is None:
            raise OperatorError(
                f"{self.description} was opened for looking only: it has no KMS, Step Functions "
                "and Scheduler clients for onboarding"
            )
        return self.onboarding

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
    resources: Mapping[str, str],
    table: Any,
    sqs: Any,
    description: str,
    *,
    poll_seconds: int = 1,
    onboarding: Onboarding | None = None,
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
        onboarding=onboarding,
    )


def onboarding_from_resources(
    resources: Mapping[str, str],
    clients: Mapping[str, Any],
    webhook_base_url: str,
    description: str,
    api_bases: Mapping[str, str] | None = None,
) -> Onboarding:
    """The onboarding half of a target whose physical names `resources` gives. `clients` holds boto3 clients by
    service name (`kms`, `stepfunctions`, `scheduler`).

    CloudFormation's physical ids of a function and a role are names, and the scheduler wants ARNs: they are built
    from the partition, region and account of the state machine's ARN (the template gives the role no path), as
    CloudFormation's own `GetAtt … Arn` would give them."""
    missing = [logical_id for logical_id in ONBOARDING_LOGICAL_IDS if logical_id not in resources]
    if missing:
        raise OperatorError(
            f"{description} has no {', '.join(missing)}: deploy the current template.yaml to onboard connections"
        )
    state_machine_arn = resources[INITIAL_SYNC_STATE_MACHINE]
    try:
        _, partition, _, region, account = state_machine_arn.split(":", 5)[:5]
    except ValueError:
        raise OperatorError(f"{description}: {state_machine_arn!r} is not a state machine ARN") from None
    dead_letter_queue = resources[POLL_DEAD_LETTER_QUEUE].rstrip("/").rsplit("/", 1)[-1]
    target = ScheduleTarget(
        function_arn=f"arn:{partition}:lambda:{region}:{account}:function:{resources[POLL_FUNCTION]}",
        role_arn=f"arn:{partition}:iam::{account}:role/{resources[POLL_SCHEDULE_ROLE]}",
        dead_letter_arn=f"arn:{partition}:sqs:{region}:{account}:{dead_letter_queue}",
    )
    if not webhook_base_url.startswith(("https://", "http://")):
        raise OperatorError(f"{description}: the webhook address {webhook_base_url!r} is not a URL")
    return Onboarding(
        kms=clients["kms"],
        key_id=resources[SECRETS_KEY],
        stepfunctions=clients["stepfunctions"],
        initial_sync_state_machine_arn=state_machine_arn,
        scheduler=clients["scheduler"],
        poll_schedule_group=resources[POLL_SCHEDULE_GROUP],
        poll_target=target,
        webhook_base_url=webhook_base_url.rstrip("/"),
        api_bases=dict(api_bases or {}),
        guided_setup_state_machine_arn=resources.get(GUIDED_SETUP_STATE_MACHINE),
    )
