"""The scheduled self-check re-creates the Shopify webhook subscriptions Shopify removed, run by the embedded
EventBridge Scheduler like the deployed schedule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crossdock.connectors.shopify.secret_names import SHOPIFY_ACCESS_TOKEN
from crossdock.integrations.rackbeat_shopify.self_check import SELF_CHECK_TOPIC
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

    order = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()

    assert merchant.only_rackbeat_order(order)


def test_one_failing_connection_does_not_stop_the_others(stack: LocalStack, merchant_with: Any) -> None:
    locked_out = merchant_with()
    stack.secrets.put(locked_out.connection.connection_id, SHOPIFY_ACCESS_TOKEN, "shpat_revoked")
    broken = merchant_with()
    stack.shopify.drop_subscriptions(broken.domain, "orders/create")
    stack.shopify.drop_subscriptions(broken.domain, "app/uninstalled")

    result = stack.aws.invoke("SelfCheckFunction", {})

    assert result.error is None
    report = result.payload
    assert report["repaired"] == {broken.connection.connection_id: ["app/uninstalled", "orders/create"]}
    (failure,) = report["failed"]
    assert failure["connection_id"] == locked_out.connection.connection_id
    assert failure["failure_class"] == "auth"
    assert "shpat_" not in failure["reason"]
    assert _self_checks(locked_out) == []


def test_only_active_connections_are_checked(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    stack.shopify.uninstall(merchant.domain)
    stack.settle()

    result = stack.aws.invoke("SelfCheckFunction", {})

    assert result.error is None
    assert merchant.connection.connection_id not in result.payload["repaired"]
    assert stack.shopify.shop(merchant.domain).subscriptions == []
    assert _self_checks(merchant) == []
