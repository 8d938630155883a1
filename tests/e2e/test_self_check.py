"""The scheduled self-check re-creates the Shopify webhook subscriptions Shopify removed, run by the embedded
EventBridge Scheduler like the deployed schedule: its run queues one check per connection on SelfCheckQueue, and
the same function, fed by that queue, checks each one on its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from crossdock.connectors.shopify.secret_names import SHOPIFY_ACCESS_TOKEN
from crossdock.integrations.rackbeat_shopify.self_check import SELF_CHECK_TOPIC
from crossdock_local.aws.log_capture import FunctionLogs, capture_function_logs
from crossdock_local.sims.base.faults import Faults
from crossdock_local.stack import LocalStack


@pytest.fixture(autouse=True)
def _webhook_address_published(stack: LocalStack) -> Iterator[None]:
    stack.publish_webhook_address()
    yield


def _subscribed(stack: LocalStack, merchant: Any) -> list[tuple[str, str]]:
    return sorted((s.topic, s.uri) for s in stack.shopify.shop(merchant.domain).subscriptions)


def _self_checks(merchant: Any) -> list[dict[str, Any]]:
    return [event for event in merchant.events() if event["topic"] == SELF_CHECK_TOPIC]


def test_the_schedule_restores_a_removed_subscription_and_records_it_once(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    healthy = _subscribed(stack, merchant)
    assert stack.shopify.drop_subscriptions(merchant.domain, "orders/paid") == 1

    due = stack.aws.next_schedule_time("SelfCheckSchedule")
    assert due is not None
    stack.aws.clock.advance_to(due + 1)
    stack.settle()  # the schedule is due: settling runs it

    assert _subscribed(stack, merchant) == healthy
    (repaired,) = _self_checks(merchant)
    assert (repaired["status"], repaired["reason"]) == (
        "done",
        "re-created Shopify webhook subscriptions that Shopify had removed: orders/paid",
    )

    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()

    assert _subscribed(stack, merchant) == healthy
    assert len(_self_checks(merchant)) == 1  # nothing repaired, nothing recorded


def test_restored_subscription_delivers_again(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    stack.shopify.drop_subscriptions(merchant.domain, "orders/paid")
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()  # the queued check runs

    order = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()

    assert merchant.only_rackbeat_order(order)


def _failures(logs: FunctionLogs) -> list[dict[str, Any]]:
    lines = [line.text for line in logs.lines if line.function == "SelfCheckFunction" and line.text.startswith("{")]
    records = [json.loads(line) for line in lines]
    return [record for record in records if record.get("message") == "self-check failed for a connection"]


def test_one_failing_connection_does_not_stop_the_others(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN three connections: one whose Shopify refuses its token, two missing subscriptions
    locked_out = merchant_with()
    stack.secrets.put(locked_out.connection.connection_id, SHOPIFY_ACCESS_TOKEN, "shpat_revoked")
    broken = [merchant_with(), merchant_with()]
    healthy = [_subscribed(stack, merchant) for merchant in broken]
    stack.shopify.drop_subscriptions(broken[0].domain, "orders/create")
    stack.shopify.drop_subscriptions(broken[1].domain, "app/uninstalled")

    # WHEN the schedule fires: its run queues one check per connection, the queue's consumer runs them
    with capture_function_logs(stack.aws) as logs:
        run = stack.aws.fire_schedule("SelfCheckSchedule")
        queued_checks = stack.aws.queue_depth("SelfCheckQueue")
        stack.settle()

    # THEN the other two are checked and repaired, each recording what it re-created
    assert run is not None
    assert queued_checks >= 3
    assert [_subscribed(stack, merchant) for merchant in broken] == healthy
    assert [len(_self_checks(merchant)) for merchant in broken] == [1, 1]
    # AND the third is reported (a warning with its class; EMF `self_check_failed_auth`), never with its token,
    # and not retried: a revoked token needs a person, and the next run checks it again
    (failure,) = [line for line in _failures(logs) if line["connection_id"] == locked_out.connection.connection_id]
    assert failure["failure_class"] == "auth"
    assert "shpat_" not in failure["reason"]
    assert _self_checks(locked_out) == []
    assert stack.aws.queue_depth("SelfCheckQueue") == 0
    assert stack.aws.queue_depth("SelfCheckDeadLetterQueue") == 0


def test_only_active_connections_are_checked(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    stack.shopify.uninstall(merchant.domain)
    stack.settle()

    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()

    assert stack.shopify.shop(merchant.domain).subscriptions == []
    assert _self_checks(merchant) == []


def test_a_check_failing_transiently_is_received_again_then_lands_in_the_dlq(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop, and Shopify down (502/503 to every request) through the check's three receives (720 s apart)
    merchant = merchant_with()
    stack.shopify.faults = Faults(server_error_rate=1.0)
    try:
        # WHEN the schedule fires and the stack settles (the virtual clock jumps to each redelivery)
        with capture_function_logs(stack.aws) as logs:
            stack.aws.fire_schedule("SelfCheckSchedule")
            stack.settle()
    finally:
        stack.shopify.faults = Faults()
    # THEN its check was tried three times, each reported as the platform being down, and its message is in the DLQ
    mine = [line for line in _failures(logs) if line["connection_id"] == merchant.connection.connection_id]
    assert [line["failure_class"] for line in mine] == ["target_down"] * 3
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    dead_letters = stack.aws.queue_url("SelfCheckDeadLetterQueue")
    dead = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10)["Messages"]
    assert merchant.connection.connection_id in {json.loads(message["Body"])["connection_id"] for message in dead}
    boto3.client("sqs", region_name=stack.aws.region).purge_queue(
        QueueUrl=stack.aws.queue_url("SelfCheckDeadLetterQueue")
    )
