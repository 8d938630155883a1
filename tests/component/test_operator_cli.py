"""The operator CLI against the embedded stack (issue #5): every command, with events made by real webhooks.

Webhooks are signed by the simulators and go through API Gateway → ingest → SQS → dispatch → the workflow, as in
tests/e2e. The commands run through the CLI's own parser against a target built from the stack's resources (the
same `target_from_resources` a deployed stack's CloudFormation names go through); `test_over_http…` runs the
installed `crossdock` in another process against `crossdock serve`'s exposed AWS endpoint.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from crossdock.operations.target import OperatorTarget, target_from_resources
from crossdock.store import events
from crossdock_local import operator_cli
from crossdock_local.aws.endpoint import AwsEndpoint, endpoint_state
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalConnection, LocalStack

_shops = itertools.count(1)
INBOUND_MAX_RECEIVES = 5  # template.yaml, InboundQueue's RedrivePolicy
OUTBOUND_MAX_RECEIVES = 30  # template.yaml, ShopifyOutboundQueue's RedrivePolicy


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=23) as running:
        yield running


@pytest.fixture(scope="module")
def target(stack: LocalStack) -> OperatorTarget:
    resources = {logical_id: physical.ref for logical_id, physical in stack.aws.resources.items()}
    return target_from_resources(
        resources,
        boto3.resource("dynamodb", region_name=stack.aws.region).Table,
        boto3.client("sqs", region_name=stack.aws.region),
        "the test stack",
        poll_seconds=0,
    )


@pytest.fixture(autouse=True)
def _consumers_on(stack: LocalStack) -> Iterator[None]:
    yield
    for function in ("DispatchFunction", "ShopifyPushFunction"):
        stack.aws.set_mapping_enabled(function, True)
    stack.settle()


@dataclass
class Shop:
    stack: LocalStack
    connection: LocalConnection

    @property
    def id(self) -> str:
        return self.connection.connection_id

    def order(self, index: int = 0, **changes: Any) -> dict[str, Any]:
        plan = varied_orders(index + 1, seed=9, skus=DEMO_SKUS)[index]
        return {**plan.order, **changes}

    def place(self, order: dict[str, Any]) -> dict[str, Any]:
        placed: dict[str, Any] = self.stack.shopify.create_order(self.connection.shop_domain, order, paid=True)
        return placed

    def events(self) -> list[dict[str, Any]]:
        return events.list_events(self.stack.table, self.id)

    def event(self, event_id: str) -> dict[str, Any]:
        (found,) = [e for e in self.events() if e["event_id"] == event_id]
        return found

    def with_status(self, status: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["status"] == status]

    def rackbeat_orders(self, placed: dict[str, Any]) -> list[dict[str, Any]]:
        reference = f"Shopify {placed['name']} ({placed['id']})"
        state = self.stack.rackbeat.state(self.connection.rackbeat_account_id)
        return [o for o in state.orders.values() if o.get("other_reference") == reference]


def new_shop(
    stack: LocalStack, rackbeat_seed: Callable[[RackbeatSimulator, int], object] | None = None, **groups: dict[str, Any]
) -> Shop:
    settings = demo_settings()
    for group, values in groups.items():
        settings[group] = {**settings.get(group, {}), **values}
    connection = stack.create_connection(
        settings, shop_domain=f"operator-{next(_shops)}.myshopify.com", rackbeat_seed=rackbeat_seed
    )
    stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
    return Shop(stack, connection)


def failed_order(shop: Shop, sku: str = "NOT-IN-RACKBEAT") -> tuple[dict[str, Any], dict[str, Any]]:
    """A paid order whose first line's SKU Rackbeat does not know: it ends needs_attention (unmapped)."""
    order = shop.order(0)
    order["line_items"][0]["sku"] = sku
    placed = shop.place(order)
    shop.stack.settle()
    (failed,) = shop.with_status("needs_attention")
    return placed, failed


def cli(capsys: pytest.CaptureFixture[str], target: OperatorTarget, *argv: str) -> tuple[int, str, str]:
    """(exit code, report, errors); the report apart from stdout, where the functions' metrics go too."""
    capsys.readouterr()
    report = io.StringIO()
    code = operator_cli.run(list(argv), target, report)
    return code, report.getvalue(), capsys.readouterr().err


def cli_json(capsys: pytest.CaptureFixture[str], target: OperatorTarget, *argv: str) -> Any:
    code, out, err = cli(capsys, target, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def inbound_messages(stack: LocalStack) -> list[dict[str, Any]]:
    """The inbound queue's messages (received and made visible again at once, as a peek)."""
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    url = stack.aws.queue_url("InboundQueue")
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def keep_failing(stack: LocalStack, queue: str, max_receives: int) -> None:
    """What a consumer that fails every time does to a queue's messages: each receive counts, nothing is deleted,
    and SQS moves a message to the dead-letter queue on the receive after its maxReceiveCount-th."""
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    url = stack.aws.queue_url(queue)
    for _ in range(max_receives + 1):
        stack.aws.clock.advance(5)  # past the FIFO queue's delivery delay
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")


# -- events ----------------------------------------------------------------------------------------------------------


def test_failures_are_listed_across_connections_with_class_and_reason(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one shop whose order failed (unknown SKU) and one whose order went through
    failing = new_shop(stack)
    _, failed = failed_order(failing)
    fine = new_shop(stack)
    fine.place(fine.order(0))
    stack.settle()
    # WHEN the operator lists what needs attention
    listed = cli_json(capsys, target, "events", "list", "--status", "needs_attention")
    # THEN the failure is there, classified, and nothing of the healthy shop is
    mine = [e for e in listed if e["connection_id"] == failing.id]
    assert [(e["event_id"], e["topic"], e["failure_class"]) for e in mine] == [
        (failed["event_id"], failed["topic"], "unmapped")
    ]
    assert "NOT-IN-RACKBEAT" in mine[0]["reason"]
    assert not [e for e in listed if e["connection_id"] == fine.id]
    # AND the table shows time, connection, topic, class, reason and id
    code, table, _ = cli(capsys, target, "events", "list", "--status", "needs_attention", "--connection", failing.id)
    assert code == 0
    header, _, row = table.splitlines()[:3]
    assert header.split() == ["RECEIVED", "CONNECTION", "TOPIC", "STATUS", "CLASS", "REASON", "EVENT", "ID"]
    assert failing.id in row and failed["topic"] in row and "unmapped" in row and failed["event_id"] in row
    # AND --since after the failure finds nothing
    later = cli_json(capsys, target, "events", "list", "--status", "needs_attention", "--since", "2999-01-01")
    assert later == []


def test_a_connections_log_is_listed_newest_first(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    shop.place(shop.order(0))
    stack.settle()
    logged = sorted(shop.events(), key=lambda e: e["sk"], reverse=True)
    webhooks = sorted(e["status"] for e in logged if e["source"] == "shopify")
    assert webhooks == ["done", "skipped"]  # orders/create and orders/paid
    listed = cli_json(capsys, target, "events", "list", "--connection", shop.id)
    assert [e["event_id"] for e in listed] == [e["event_id"] for e in logged]
    assert [
        e["status"] for e in cli_json(capsys, target, "events", "list", "--connection", shop.id, "--limit", "1")
    ] == [logged[0]["status"]]
    done = cli_json(capsys, target, "events", "list", "--connection", shop.id, "--status", "done")
    assert [e["event_id"] for e in done] == [e["event_id"] for e in logged if e["status"] == "done"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["events", "list"], "--status needs_attention"),
        (["events", "list", "--status", "needs_attention", "--since", "last tuesday"], "--since"),
    ],
)
def test_event_listing_usage_errors_exit_2(
    target: OperatorTarget, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = cli(capsys, target, *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_the_log_keeps_failures_and_expires_what_ended_well(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    _, failed = failed_order(shop)
    fine = new_shop(stack)
    fine.place(fine.order(0))
    stack.settle()
    now = time.time()
    month = events.DONE_RETENTION_DAYS * 86400
    # Failures: no TTL, and in the open-events index
    assert "expires_at" not in failed
    assert failed[events.OPEN_STATUS] == events.open_status(events.EventStatus.NEEDS_ATTENTION, shop.id)
    # Done and skipped: expire after the retention period, and out of the index
    finished = fine.events()
    assert {e["status"] for e in finished} == {"done", "skipped"}
    for event in finished:
        assert now + month - 60 <= int(event["expires_at"]) <= now + month + 60
        assert events.OPEN_STATUS not in event and events.OPEN_KEY not in event


def test_retry_sends_the_original_message_again_and_the_order_arrives_once(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an order that failed because Rackbeat did not know one of its items
    shop = new_shop(stack)
    placed, failed = failed_order(shop, sku="LATE-ITEM")
    # WHEN the merchant creates the item and the operator retries the event (dispatch paused to look at the queue)
    stack.seed_items(shop.connection.rackbeat_account_id, ["LATE-ITEM"])
    stack.aws.set_mapping_enabled("DispatchFunction", False)
    code, out, err = cli(capsys, target, "events", "retry", failed["event_id"])
    assert code == 0, err
    # THEN the original message is queued again as a new event, marked as an operator's redrive
    (message,) = inbound_messages(stack)
    assert (message["source"], message["topic"], message["payload"]) == ("shopify", failed["topic"], failed["payload"])
    assert message["connection_id"] == shop.id and message["redrive"] == "operator"
    assert message["event_id"].startswith("retry-") and message["event_id"] in out
    # AND the old event is skipped, naming the new one, and no longer open
    old = shop.event(failed["event_id"])
    assert old["status"] == "skipped" and old["retried_as"] == message["event_id"]
    assert old["reason"] == f"retried as event {message['event_id']} by an operator"
    assert events.OPEN_STATUS not in old and "expires_at" in old
    # AND once dispatch runs, the order reaches Rackbeat exactly once
    stack.aws.set_mapping_enabled("DispatchFunction", True)
    stack.settle()
    assert len(shop.rackbeat_orders(placed)) == 1
    assert shop.event(message["event_id"])["status"] == "done"
    # AND a second retry of the old event is refused: it is no longer needs_attention
    code, out, err = cli(capsys, target, "events", "retry", failed["event_id"], "--connection", shop.id)
    assert (code, out) == (1, "")
    assert "is skipped, not needs_attention" in err and "--force" in err


def test_retry_refuses_unknown_and_finished_events(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    shop.place(shop.order(0))
    stack.settle()
    (done,) = shop.with_status("done")
    code, _, err = cli(capsys, target, "events", "retry", "no-such-event")
    assert code == 1 and "no open event no-such-event" in err
    code, _, err = cli(capsys, target, "events", "retry", done["event_id"])
    assert code == 1 and "give --connection" in err
    code, _, err = cli(capsys, target, "events", "retry", done["event_id"], "--connection", shop.id)
    assert code == 1 and f"event {done['event_id']} is done, not needs_attention" in err
    code, _, err = cli(capsys, target, "events", "retry", "no-such-event", "--connection", shop.id)
    assert code == 1 and f"connection {shop.id} has no event no-such-event" in err
    # Nothing was queued by any of them
    assert inbound_messages(stack) == []
    assert shop.event(done["event_id"])["status"] == "done"


def test_a_forced_retry_of_a_done_order_is_skipped_by_dispatch(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    placed = shop.place(shop.order(0))
    stack.settle()
    (done,) = shop.with_status("done")
    code, _, err = cli(capsys, target, "events", "retry", done["event_id"], "--connection", shop.id, "--force")
    assert code == 0, err
    stack.settle()
    old = shop.event(done["event_id"])
    assert old["status"] == "skipped" and f"(it was done: {done['reason']})" in old["reason"]
    again = shop.event(old["retried_as"])
    assert again["status"] == "skipped" and "already Rackbeat order" in again["reason"]
    assert len(shop.rackbeat_orders(placed)) == 1


# -- dead letters ----------------------------------------------------------------------------------------------------


def test_inbound_dead_letters_are_shown_and_redriven_without_loss(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN three paid orders whose webhooks dispatch failed on five times each (dispatch paused, receives counted)
    shop = new_shop(stack)
    stack.aws.set_mapping_enabled("DispatchFunction", False)
    placed = [shop.place(shop.order(index)) for index in range(3)]
    stack.settle()
    keep_failing(stack, "InboundQueue", INBOUND_MAX_RECEIVES)
    # WHEN the operator looks at the inbound dead-letter queue
    (report,) = cli_json(capsys, target, "dlq", "show", "--queue", "inbound")
    # THEN each webhook is described by connection, topic and event id, without its payload
    assert report["waiting"] == 6  # orders/create and orders/paid of each order
    assert {(m["connection_id"], m["what"]) for m in report["messages"]} == {
        (shop.id, "shopify orders/create"),
        (shop.id, "shopify orders/paid"),
    }
    assert all(m["receive_count"] == INBOUND_MAX_RECEIVES for m in report["messages"])
    assert all(m["payload"] is None and m["first_received_at"] for m in report["messages"])
    assert len({m["event_id"] for m in report["messages"]}) == 6
    # AND looking changed nothing; the payloads are shown when asked for
    (again,) = cli_json(capsys, target, "dlq", "show", "--queue", "inbound", "--payload")
    assert again["waiting"] == 6
    assert {json.loads(m["payload"])["id"] for m in again["messages"]} == {o["id"] for o in placed}
    code, table, _ = cli(capsys, target, "dlq", "show")
    assert code == 0 and "inbound dead-letter queue: 6 waiting" in table and "shopify orders/paid" in table
    # WHEN the operator redrives them and dispatch runs again
    (moved,) = cli_json(capsys, target, "dlq", "redrive", "--queue", "inbound")
    assert (moved["moved"], moved["failed"], moved["remaining"]) == (6, {}, 0)
    stack.aws.set_mapping_enabled("DispatchFunction", True)
    stack.settle()
    # THEN every order reached Rackbeat exactly once, and the dead-letter queue is empty
    assert [len(shop.rackbeat_orders(order)) for order in placed] == [1, 1, 1]
    (after,) = cli_json(capsys, target, "dlq", "show", "--queue", "inbound")
    assert (after["waiting"], after["messages"]) == (0, [])


def test_shop_command_dead_letters_keep_their_group_and_status_shows_the_backlog(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a shop that takes its products from Rackbeat, whose shop pushes keep failing (push paused)
    shop = new_shop(
        stack,
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 10, "Sommerjakker"),
        product_sync={"master": "rackbeat", "default_product_group": 10},
    )
    stack.aws.set_mapping_enabled("ShopifyPushFunction", False)
    _create_item_through_rackbeats_api(stack, shop, "JAKKE-2")
    stack.settle()
    (waiting,) = [e for e in shop.events() if e["topic"] == "product.created"]
    assert waiting["status"] == "received"
    # THEN status shows the event as backlog of the connection
    report = cli_json(capsys, target, "status")
    (mine,) = [c for c in report["connections"] if c["connection_id"] == shop.id]
    assert (mine["backlog"], mine["failures"]) == (1, {})
    assert mine["last_event"]["event_id"] == waiting["event_id"]
    # WHEN the push fails as many times as the queue allows, the command lands in the FIFO dead-letter queue
    keep_failing(stack, "ShopifyOutboundQueue", OUTBOUND_MAX_RECEIVES)
    (report_dlq,) = cli_json(capsys, target, "dlq", "show", "--queue", "shopify-outbound")
    (letter,) = report_dlq["messages"]
    assert (letter["connection_id"], letter["what"], letter["event_id"], letter["group_id"]) == (
        shop.id,
        "product.push JAKKE-2",
        waiting["event_id"],
        shop.id,
    )
    status_now = cli_json(capsys, target, "status")
    assert {q["name"]: q["waiting"] for q in status_now["dead_letters"]}["shopify-outbound"] == 1
    # WHEN the operator redrives it (the push works again)
    stack.aws.set_mapping_enabled("ShopifyPushFunction", True)
    code, out, err = cli(capsys, target, "dlq", "redrive", "--queue", "shopify-outbound")
    assert code == 0, err
    assert "shopify-outbound: moved 1 back to the source queue, 0 failed, 0 left" in out
    stack.settle()
    # THEN the product reaches the shop and the event is done
    assert shop.event(waiting["event_id"])["status"] == "done"
    skus = [v["sku"] for p in stack.shopify.products(shop.connection.shop_domain) for v in p["variants"]]
    assert skus.count("JAKKE-2") == 1


def _create_item_through_rackbeats_api(stack: LocalStack, shop: Shop, number: str) -> None:
    import httpx

    body = {"number": number, "name": "Regnjakke", "sales_price": "400.00", "group": {"number": 10}}
    answer = httpx.post(
        f"{stack.base_url}/_sim/rackbeat/api/products",
        headers={"Authorization": f"Bearer {shop.connection.rackbeat_api_key}"},
        json=body,
        timeout=10,
    )
    assert answer.status_code < 300, answer.text


def test_the_self_check_dead_letter_queue_is_redriven_to_its_checks(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a connection's check that failed its last receive, and a failed run's record (Lambda's), in the DLQ
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    dead_letters = stack.aws.queue_url("SelfCheckDeadLetterQueue")
    sqs.send_message(QueueUrl=dead_letters, MessageBody=json.dumps({"connection_id": "c-checked-again"}))
    sqs.send_message(QueueUrl=dead_letters, MessageBody=json.dumps({"requestPayload": {}, "version": "1.0"}))
    stack.aws.set_mapping_enabled("SelfCheckFunction", False)
    # WHEN the operator redrives them
    (moved,) = cli_json(capsys, target, "dlq", "redrive", "--queue", "self-check")
    # THEN both go back to the self-check's queue (a check to do again; a record that queues every check again)
    assert (moved["moved"], moved["failed"], moved["remaining"]) == (2, {}, 0)
    assert stack.aws.queue_depth("SelfCheckQueue") == 2
    stack.aws.set_mapping_enabled("SelfCheckFunction", True)
    stack.settle()
    assert stack.aws.queue_depth("SelfCheckQueue") == stack.aws.queue_depth("SelfCheckDeadLetterQueue") == 0


# -- orders, connections, status -------------------------------------------------------------------------------------


def test_resync_queues_the_contract_message(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    stack.aws.set_mapping_enabled("DispatchFunction", False)
    request = cli_json(capsys, target, "orders", "resync", shop.id, "gid://shopify/Order/820982911946154508")
    (message,) = inbound_messages(stack)
    assert message == request["message"]
    assert (message["source"], message["topic"], message["redrive"]) == ("crossdock", "orders/resync", "operator")
    assert json.loads(message["payload"]) == {"order_id": "820982911946154508"}
    assert message["event_id"].startswith("resync-") and message["connection_id"] == shop.id


def test_resync_of_an_order_that_arrived_creates_no_duplicate(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    placed = shop.place(shop.order(0))
    stack.settle()
    request = cli_json(capsys, target, "orders", "resync", shop.id, str(placed["id"]))
    stack.settle()
    resynced = shop.event(request["event_id"])
    assert resynced["status"] == "skipped" and "already Rackbeat order" in resynced["reason"]
    assert len(shop.rackbeat_orders(placed)) == 1


@pytest.mark.parametrize(
    ("order_id", "code", "message"),
    [("#1001", 2, "order id: '#1001' is not a Shopify order id"), ("12", 1, "no connection")],
)
def test_resync_refusals(
    target: OperatorTarget, capsys: pytest.CaptureFixture[str], order_id: str, code: int, message: str
) -> None:
    exit_code, out, err = cli(capsys, target, "orders", "resync", "no-such-connection", order_id)
    assert (exit_code, out) == (code, "")
    assert message in err


def test_connections_are_listed_and_shown_without_secrets(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    failed_order(shop)
    listed = cli_json(capsys, target, "connections", "list")
    (mine,) = [c for c in listed if c["connection_id"] == shop.id]
    assert (mine["shop_domain"], mine["state"], mine["settings_version"]) == (
        shop.connection.shop_domain,
        "active",
        1,
    )
    assert mine["rackbeat_account_id"] == shop.connection.rackbeat_account_id
    newest = max(shop.events(), key=lambda e: e["sk"])
    assert mine["last_event"]["event_id"] == newest["event_id"]
    code, table, _ = cli(capsys, target, "connections", "list")
    assert code == 0 and shop.connection.shop_domain in table
    code, shown, _ = cli(capsys, target, "connections", "show", shop.id)
    assert code == 0
    assert "1 needs_attention, 0 in progress" in shown
    assert "shopify_access_token" in shown and "rackbeat_api_key" in shown  # names only
    assert '"shipping_product_number": "FRAGT"' in shown
    detail = cli_json(capsys, target, "connections", "show", shop.id)
    for secret in (shop.connection.app_secret, shop.connection.shopify_access_token, shop.connection.rackbeat_api_key):
        assert secret not in shown and secret not in json.dumps(detail)
    code, out, err = cli(capsys, target, "connections", "show", "no-such-connection")
    assert (code, out) == (1, "")
    assert "no connection no-such-connection" in err


def test_status_counts_failures_by_class_per_connection(
    stack: LocalStack, target: OperatorTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = new_shop(stack)
    failed_order(shop)
    stack.aws.set_mapping_enabled("DispatchFunction", False)
    shop.place(shop.order(1))
    stack.settle()  # the second order's webhooks wait in the inbound queue
    report = cli_json(capsys, target, "status")
    (mine,) = [c for c in report["connections"] if c["connection_id"] == shop.id]
    assert (mine["state"], mine["backlog"], mine["failures"]) == ("active", 0, {"unmapped": 1})
    assert report["inbound"]["waiting"] == 2
    assert [q["name"] for q in report["dead_letters"]] == [
        "inbound",
        "shopify-outbound",
        "shopbox-outbound",
        "self-check",
        "poll",
    ]
    code, table, _ = cli(capsys, target, "status")
    assert code == 0 and "1 (unmapped 1)" in table and "inbound queue: 2 waiting" in table


def test_a_command_without_a_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from crossdock_local import cli as crossdock

    assert crossdock.main(["status"]) == 2
    assert "give --local [STATE_FILE] or --stack NAME" in capsys.readouterr().err
    assert crossdock.main(["status", "--local", "/nonexistent/state.json"]) == 1
    assert "no state file /nonexistent/state.json" in capsys.readouterr().err


# -- over HTTP -------------------------------------------------------------------------------------------------------


def test_over_http_the_cli_in_another_process_operates_the_served_stack(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the stack's AWS APIs exposed as `crossdock serve` does, with its state file
    shop = new_shop(stack)
    _, failed = failed_order(shop)
    state_file = tmp_path / "state.json"
    with AwsEndpoint() as endpoint:
        url = endpoint.start()
        state_file.write_text(json.dumps({"aws": endpoint_state(stack.aws, url)}))
        # WHEN the installed CLI runs in a process of its own, with no AWS credentials of any kind
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_CONFIG_FILE": "/dev/null"}

        def crossdock(*argv: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "crossdock_local.cli", *argv, "--local", str(state_file)]
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)

        listed = crossdock("events", "list", "--status", "needs_attention", "--json")
        status = crossdock("status")
        stack.aws.set_mapping_enabled("DispatchFunction", False)
        resynced = crossdock("orders", "resync", shop.id, "4242", "--json")
    # THEN it read the failure, the status, and its message reached the stack's queue
    assert listed.returncode == 0, listed.stderr
    assert failed["event_id"] in [e["event_id"] for e in json.loads(listed.stdout)]
    assert status.returncode == 0, status.stderr
    assert shop.connection.shop_domain in status.stdout and "1 (unmapped 1)" in status.stdout
    assert resynced.returncode == 0, resynced.stderr
    (message,) = inbound_messages(stack)
    assert message["event_id"] == json.loads(resynced.stdout)["event_id"]
    assert json.loads(message["payload"]) == {"order_id": "4242"}
