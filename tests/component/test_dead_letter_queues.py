"""Every dead-letter queue of template.yaml is one the operator sees (`crossdock dlq`, `crossdock status`): the
target finds them in the stack's resources, so a queue added to the template cannot be missing from the commands.

The template is read as CloudFormation holds it; which queues are dead-letter queues is decided from what points
at them (an SQS redrive policy, a Lambda on-failure destination, a schedule's dead-letter config), not by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crossdock.operations.target import DEAD_LETTER_QUEUE_NAMES, target_from_resources
from crossdock_local.aws.template import load_template

RESOURCES: dict[str, Any] = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]


def _arn_of(value: Any) -> str | None:
    """The logical id of a `!GetAtt X.Arn`, as the template loader hands it over."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        parts = target.split(".") if isinstance(target, str) else list(target)
        return str(parts[0]) if parts[-1] == "Arn" else None
    return None


def _dead_letter_targets() -> dict[str, str | None]:
    """Dead-letter queue → the queue whose failures it takes (None: Lambda's or the Scheduler's failed calls)."""
    found: dict[str, str | None] = {}
    for logical_id, resource in RESOURCES.items():
        properties = resource.get("Properties") or {}
        redriven = _arn_of((properties.get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
        if redriven:
            found[redriven] = logical_id
        on_failure = ((properties.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
        destination = _arn_of((on_failure or {}).get("Destination"))
        if destination:
            found.setdefault(destination, None)
        scheduled = _arn_of(((properties.get("Target") or {}).get("DeadLetterConfig") or {}).get("Arn"))
        if scheduled:
            found.setdefault(scheduled, None)
    return {queue: source for queue, source in found.items() if RESOURCES[queue]["Type"] == "AWS::SQS::Queue"}


def test_the_operator_sees_every_dead_letter_queue_of_the_template() -> None:
    # GIVEN the stack template.yaml makes (each resource's physical id named after its logical id)
    physical = {logical_id: f"https://sqs.example/{logical_id}" for logical_id in RESOURCES}
    # WHEN the operator's target is made from its resources
    target = target_from_resources(physical, lambda name: name, sqs=None, description="template.yaml")
    # THEN every queue anything sends its failures to is shown, with the queue a redrive sends its messages back to
    expected = _dead_letter_targets()
    assert {"InboundDeadLetterQueue", "ShopifyOutboundDeadLetterQueue", "PollDeadLetterQueue"} <= set(expected)
    shown = {queue.url: queue.source_url for queue in target.dead_letter_queues}
    assert shown == {physical[queue]: physical[source] if source else None for queue, source in expected.items()}, (
        "a dead-letter queue of template.yaml is not shown by crossdock dlq / status (or shown with the wrong source)"
    )
    # and the names the CLI offers are exactly the template's, in the order they are shown
    assert tuple(queue.name for queue in target.dead_letter_queues) == DEAD_LETTER_QUEUE_NAMES
