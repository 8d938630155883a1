"""IAM on the embedded stack as on AWS, against template.yaml itself (issue 13, item 2): a statement taken out of
the template makes the work that needs it fail as it would in AWS, and no statement is there for nothing.

The least-privilege check replays, against each role with one statement removed, every distinct request the role
made during a representative run (orders, a large one, stock, a redrive, the initial sync, the schedules, privacy
webhooks, an uninstall; a PeakWMS ⇄ Shopify connection onboarded, its guided setup run through its workflow, an order
to PeakWMS, a pack and a stock count from PeakWMS, the connection uninstalled): a statement whose removal denies none
of them is a finding.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from crossdock.integrations.rackbeat_shopbox import rackbeat_webhooks
from crossdock.operations import guided_setup, lifecycle
from crossdock.operations.target import target_from_resources
from crossdock.store import connections, events
from crossdock_local import operator_cli
from crossdock_local.aws.iam_evaluation import Statement
from crossdock_local.aws.template import load_template, write_copy
from crossdock_local.scenarios import demo_peakwms
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.scenarios.shopbox_on_rackbeat import store_shopbox
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import PROJECT_ROOT, LocalConnection, LocalStack

TEMPLATE = PROJECT_ROOT / "template.yaml"

LOG_DELIVERY = tuple(
    f"logs:{action}"
    for action in (
        "createlogdelivery",
        "getlogdelivery",
        "updatelogdelivery",
        "deletelogdelivery",
        "listlogdeliveries",
        "putresourcepolicy",
        "describeresourcepolicies",
        "describeloggroups",
    )
)
# Statements the representative run does not need, each for a reason that holds in AWS too; any other unused
# statement fails the check. (role logical id, the statement's actions) → why it stays.
NOT_EXERCISED = {
    ("DispatchFunctionRole", ("kms:encrypt",)): "stores a refreshed Shopify token pair (expiring offline tokens)",
    ("ShopifyPushFunctionRole", ("kms:encrypt",)): "stores a refreshed Shopify token pair (expiring offline tokens)",
    ("InitialSyncFunctionRole", ("kms:encrypt",)): "stores a refreshed Shopify token pair (expiring offline tokens)",
    ("SelfCheckFunctionRole", ("kms:encrypt",)): "stores a refreshed Shopify token pair (expiring offline tokens)",
    ("PollFunctionRole", ("kms:encrypt",)): "stores a refreshed Shopify token pair (expiring offline tokens)",
    ("SelfCheckScheduleRole", ("sqs:sendmessage",)): "the scheduler's dead letters (not sent by the embedded one)",
    ("PollScheduleRole", ("sqs:sendmessage",)): "the scheduler's dead letters (not sent by the embedded one)",
    ("SelfCheckFunctionRole", ("sqs:sendmessage",)): "EventInvokeConfig's OnFailure destination (async invokes)",
    ("PollFunctionRole", ("sqs:sendmessage",)): "EventInvokeConfig's OnFailure destination (async invokes)",
    ("ShopifyPushFunctionRole", ("sqs:sendmessage*",)): "a push continued in a new message (out of time, a burst)",
    ("ShopifyPushFunctionRole", ("sqs:changemessagevisibility",)): "a push Shopify still throttles after its retries",
    ("PollFunctionRole", ("scheduler:deleteschedule",)): "a run finding its connection gone before dispatch's cleanup",
    (
        "ShopboxPushFunctionRole",
        ("kms:encrypt",),
    ): "stores a new Shopbox login token (the run's client has an API token)",
    ("ShopboxPushFunctionRole", ("sqs:sendmessage*",)): "a push continued in a new message (out of time, a burst)",
    ("ShopboxPushFunctionRole", ("sqs:changemessagevisibility",)): "a push Shopbox throttled (after its Retry-After)",
    (
        "AdminApiFunctionRole",
        ("states:startexecution",),
    ): "the guided-setup workflow of a step confirmed in the console (the run confirms PeakWMS's steps through "
    "operations.guided_setup, the code behind POST /admin/connections/{id}/setup/{step}/run)",
    (
        "AdminApiFunctionRole",
        ("states:describeexecution",),
    ): "a second start while the sync's or the step's workflow has not reported yet asks whether it started (a "
    "double click: tests/e2e/test_admin_progress_endpoint.py)",
    ("OrderStateMachineRole", LOG_DELIVERY): "Step Functions sets up log delivery at deploy, not in executions",
    ("InitialSyncStateMachineRole", LOG_DELIVERY): "Step Functions sets up log delivery at deploy, not in executions",
    ("GuidedSetupStateMachineRole", LOG_DELIVERY): "Step Functions sets up log delivery at deploy, not in executions",
}


def without_statement(template: dict[str, Any], function: str, action: str) -> dict[str, Any]:
    """The template with the inline statement of `function` that allows `action` taken out."""
    policies = template["Resources"][function]["Properties"]["Policies"]
    for policy in policies:
        statements = policy.get("Statement") if isinstance(policy, dict) else None
        if statements and any(action in _actions(statement) for statement in statements):
            kept = [statement for statement in statements if action not in _actions(statement)]
            policies.remove(policy)
            if kept:
                policies.append({"Statement": kept})
            return template
    raise AssertionError(f"{function} has no inline statement allowing {action}")


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def new_connection(stack: LocalStack, name: str, **settings: Any) -> LocalConnection:
    domain = f"{name}-{uuid.uuid4().hex[:6]}.myshopify.com"
    connection = stack.create_connection({**demo_settings(), **settings}, shop_domain=domain)
    stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
    return connection


def an_order(index: int, **changes: Any) -> dict[str, Any]:
    return {**varied_orders(index + 1, seed=5, skus=DEMO_SKUS)[index].order, **changes}


def failed_order(stack: LocalStack, connection: LocalConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    """A paid order whose first line's SKU Rackbeat does not know yet: it ends needs_attention."""
    order = an_order(0)
    order["line_items"][0]["sku"] = "LATE-ITEM"
    placed: dict[str, Any] = stack.shopify.create_order(connection.shop_domain, order, paid=True)
    stack.settle()
    attention = [
        e for e in events.list_events(stack.table, connection.connection_id) if e["status"] == "needs_attention"
    ]
    failed = [e for e in attention if "LATE-ITEM" in str(e.get("reason"))]
    assert len(failed) == 1, [(e["topic"], e["reason"]) for e in attention]
    return placed, failed[0]


def operator_retry(stack: LocalStack, event_id: str) -> int:
    return operator(stack, "events", "retry", event_id)


def operator(stack: LocalStack, *command: str) -> int:
    """An operator's command against the test stack, as `crossdock … --stack` would run it; its exit code."""
    resources = {logical_id: physical.ref for logical_id, physical in stack.aws.resources.items()}
    target = target_from_resources(
        resources,
        boto3.resource("dynamodb", region_name=stack.aws.region).Table,
        boto3.client("sqs", region_name=stack.aws.region),
        "the test stack",
        poll_seconds=0,
    )
    return operator_cli.run(list(command), target, io.StringIO())


def rackbeat_orders(stack: LocalStack, connection: LocalConnection, placed: dict[str, Any]) -> list[Any]:
    reference = f"Shopify {placed['name']} ({placed['id']})"
    state = stack.rackbeat.state(connection.rackbeat_account_id)
    return [o for o in state.orders.values() if o.get("other_reference") == reference]


@pytest.fixture
def stack_without_describe_execution(tmp_path: Path) -> Iterator[LocalStack]:
    # Its own stack, gone before the next one starts: moto's backends are one per process.
    reduced = without_statement(load_template(TEMPLATE), "DispatchFunction", "states:DescribeExecution")
    path = write_copy(reduced, TEMPLATE, tmp_path)
    with LocalStack(seed=31, template=path) as running:
        yield running


def test_without_describe_execution_an_operators_retry_fails_with_access_denied(
    stack_without_describe_execution: LocalStack,
) -> None:
    # GIVEN template.yaml without DispatchFunction's states:DescribeExecution, and an order that failed because
    # Rackbeat did not know one of its items
    stack = stack_without_describe_execution
    lines: list[tuple[str, str]] = []
    stack.aws.lambdas.log_listeners.append(lambda function, text: lines.append((function, text)))
    connection = new_connection(stack, "no-describe")
    placed, failed = failed_order(stack, connection)
    # WHEN the merchant creates the item and the operator retries the event (`crossdock events retry`)
    stack.seed_items(connection.rackbeat_account_id, ["LATE-ITEM"])
    assert operator_retry(stack, str(failed["event_id"])) == 0
    stack.settle()
    # THEN dispatch is refused looking at the order's earlier execution, in AWS's words
    denied = [
        text
        for function, text in lines
        if function == "DispatchFunction" and "AccessDeniedException" in text and "DescribeExecution" in text
    ]
    assert denied, "dispatch was not refused"
    assert (
        "User: arn:aws:sts::123456789012:assumed-role/crossdock-DispatchFunctionRole/crossdock-dispatch is not "
        "authorized to perform: states:DescribeExecution on resource: arn:aws:states:eu-west-1:123456789012:"
        "execution:crossdock-OrderStateMachine:"
    ) in denied[0]
    # AND the order never reached Rackbeat: the retried message ended in the inbound dead-letter queue
    assert rackbeat_orders(stack, connection, placed) == []
    assert stack.aws.queue_depth("InboundDeadLetterQueue") == 1


@pytest.fixture
def stack_without_dead_letter_reads(tmp_path: Path) -> Iterator[LocalStack]:
    reduced = without_statement(load_template(TEMPLATE), "AdminApiFunction", "sqs:ReceiveMessage")
    with LocalStack(seed=33, template=write_copy(reduced, TEMPLATE, tmp_path)) as running:
        yield running


def test_without_its_dead_letter_statement_the_admin_api_cannot_read_dead_letters(
    stack_without_dead_letter_reads: LocalStack,
) -> None:
    # GIVEN template.yaml without AdminApiFunction's statement on the dead-letter queues, and a signed-in operator
    stack = stack_without_dead_letter_reads
    lines: list[tuple[str, str]] = []
    stack.aws.lambdas.log_listeners.append(lambda function, text: lines.append((function, text)))
    stack.create_user("operator@iam.example", ADMIN_PASSWORD, operator=True)
    token = stack.sign_in("operator@iam.example", ADMIN_PASSWORD)
    # WHEN the operator lists the dead letters through the admin API
    answer = httpx.get(f"{stack.admin_api_url}/admin/dead-letters", headers={"Authorization": token}, timeout=30)
    # THEN the function is refused by IAM as AWS refuses it (the queue's depth is read first, under the same
    # statement), and the caller gets a 500 with no detail
    assert answer.status_code == 500 and set(answer.json()) <= {"message", "request_id"}, answer.text
    denied = [text for function, text in lines if function == "AdminApiFunction" and "not authorized" in text]
    assert denied, "the admin API was not refused"
    assert (
        "assumed-role/crossdock-AdminApiFunctionRole/crossdock-admin-api is not authorized to perform: "
        "sqs:GetQueueAttributes on resource: arn:aws:sqs:eu-west-1:123456789012:crossdock-InboundDeadLetterQueue"
    ) in denied[0]


# -- least privilege ----------------------------------------------------------------------------------------------


@pytest.fixture
def representative_run() -> Iterator[LocalStack]:
    """A stack of its own through what Crossdock does for a merchant, once each."""
    with LocalStack(seed=37) as stack:
        connection = new_connection(stack, "representative", initial_sync="enabled", stock_sync={"enabled": True})
        domain, connection_id = connection.shop_domain, connection.connection_id
        webhooks = f"{stack.base_url}/webhooks/shopify"
        # Orders, one of them too large for a queue message (checked in to S3)
        note = "Kunden ønsker levering på bagtrappen. "
        placed = [stack.shopify.create_order(domain, an_order(i), paid=True) for i in (1, 2)]
        placed.append(stack.shopify.create_order(domain, an_order(3, note=note * 12_000), paid=True))
        stack.settle()
        # A cancellation
        stack.shopify.cancel(domain, placed[1]["id"])
        stack.settle()
        # A stock change in Rackbeat, pushed to the shop
        variant = {"title": "Default Title", "sku": DEMO_SKUS[0], "price": "100.00", "inventory_quantity": 3}
        stack.shopify.create_product(domain, {"title": "Product", "variants": [variant]}, emit=False)
        stack.rackbeat.set_stock(connection.rackbeat_account_id, DEMO_SKUS[0], 42, "L1")
        stack.settle()
        # A stock count in Rackbeat pushed to a Shopbox client's branch (the Shopbox queue and its push function)
        shopbox_stock_change(stack)
        # A failed order retried by the operator once its item exists
        _, failed = failed_order(stack, connection)
        stack.seed_items(connection.rackbeat_account_id, ["LATE-ITEM"])
        assert operator_retry(stack, str(failed["event_id"])) == 0
        stack.settle()
        # An order looked at again on the operator's request: Dispatch reads it from Shopify with the shop's token
        # (the one Dispatch path that always decrypts a secret; the product events that may also do so in Dispatch
        # depend on when Shopify's echo of a push arrives)
        assert operator(stack, "orders", "resync", connection_id, str(placed[0]["id"])) == 0
        stack.settle()
        # The initial sync
        stack.start_initial_sync(connection)
        stack.settle()
        # The self-check repairs a subscription Shopify dropped; the connection's sweeps find an order whose
        # webhooks were lost
        stack.shopify.drop_subscriptions(domain, "orders/paid")
        stack.shopify.create_order(domain, an_order(4), paid=True)
        assert stack.shopify.lose_pending(domain) >= 1
        stack.aws.fire_schedule("SelfCheckSchedule")
        group = stack.aws.resources["PollScheduleGroup"].ref
        for schedule_group, name in stack.aws.scheduler.scheduled(group):
            stack.aws.scheduler.fire(name, schedule_group)
        stack.settle()
        # Nothing failed but what the merchant must look at: the cancellation of an invoiced order, and stock of
        # items the shop does not sell (it sells one)
        left = {e["topic"] for e in events.list_events(stack.table, connection_id) if e["status"] == "needs_attention"}
        assert left <= {"orders/cancelled", "stock/push"}, left
        # Privacy: a customer's data is redacted; the app is uninstalled, the shop redacted, its sweeps end
        customer = placed[0]["customer"]["id"]
        stack.shopify.redact_customer(domain, customer, [placed[0]["id"]], uri=webhooks)
        stack.settle()
        stack.shopify.uninstall(domain)
        stack.settle()
        stack.shopify.redact_shop(domain, uri=webhooks)
        stack.settle()
        for schedule_group, name in stack.aws.scheduler.scheduled(group):
            stack.aws.scheduler.fire(name, schedule_group)
        stack.settle()
        peakwms_connection(stack)
        admin_api_run(stack)
        yield stack


ADMIN_PASSWORD = "Least-Privilege-2026"


def admin_api_run(stack: LocalStack) -> None:
    """A merchant user and an operator through the admin API, over HTTP behind its Cognito authorizer: the merchant
    reads their connection, its settings, events, choices and progress, saves a setting, pauses and resumes it,
    retries a failed order and starts the initial sync; the operator lists and redrives dead letters, creates a
    connection for the tenant and uninstalls the first one."""
    connection = new_connection(stack, "admin", initial_sync="enabled")
    connection_id = connection.connection_id
    assert connections.set_tenant(stack.table, connection_id, "iam-tenant")
    stack.create_user("merchant@iam.example", ADMIN_PASSWORD, tenant="iam-tenant")
    stack.create_user("operator@iam.example", ADMIN_PASSWORD, operator=True)
    merchant = stack.sign_in("merchant@iam.example", ADMIN_PASSWORD)
    operator = stack.sign_in("operator@iam.example", ADMIN_PASSWORD)

    def call(token: str, method: str, path: str, body: Any = None, query: Any = None) -> Any:
        answer = httpx.request(
            method, stack.admin_api_url + path, headers={"Authorization": token}, json=body, params=query, timeout=30
        )
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    base = f"/admin/connections/{connection_id}"
    for path in ("/admin/me", "/admin/status", "/admin/connections", base, f"{base}/events", f"{base}/choices"):
        call(merchant, "GET", path)
    current = call(merchant, "GET", f"{base}/settings")
    # A change of the sweep's interval moves the connection's poll schedule (UpdateSchedule passes its role).
    settings = current["settings"]
    wanted = {
        **settings,
        "employees": {**settings["employees"], "pos": 1},
        "reconciliation": {**settings.get("reconciliation", {}), "interval_minutes": 30},
    }
    call(merchant, "PUT", f"{base}/settings", {"version": current["version"], "settings": wanted})
    call(merchant, "POST", f"{base}/pause")
    call(merchant, "POST", f"{base}/resume")
    _, failed = failed_order(stack, connection)
    stack.seed_items(connection.rackbeat_account_id, ["LATE-ITEM"])
    call(merchant, "POST", f"{base}/events/{failed['event_id']}/retry")
    stack.settle()
    call(merchant, "POST", f"{base}/initial-sync")
    call(merchant, "GET", f"{base}/initial-sync")
    stack.settle()
    call(operator, "GET", "/admin/dead-letters")
    call(operator, "POST", "/admin/dead-letters/redrive", {"queue": "inbound"})
    domain = f"admin-new-{uuid.uuid4().hex[:6]}.myshopify.com"
    client_id, client_secret = stack.new_shop(domain, None, expiring_tokens=False)
    _, rackbeat_api_key = stack.new_rackbeat_account()
    created = {
        "kind": "rackbeat_shopify",
        "shop_domain": domain,
        "shopify_client_id": client_id,
        "secrets": {"rackbeat_api_key": rackbeat_api_key, "shopify_client_secret": client_secret},
        "settings": demo_settings(),
        "tenant": "iam-tenant",
    }
    call(operator, "POST", "/admin/connections", created)
    call(operator, "POST", f"{base}/uninstall")
    stack.settle()


def shopbox_stock_change(stack: LocalStack) -> None:
    """A Shopbox connection on a Rackbeat account of its own, its stock webhook registered as activation does, and a
    count of its one item in Rackbeat, settled; the branch shows the count."""
    account, api_key = stack.new_rackbeat_account()
    stack.rackbeat.seed_product(account, "MUG-1", "Krus", "63.20")
    stored = store_shopbox(
        stack,
        account,
        api_key,
        name="Kaffebaren ApS",
        branches={"Strøget": ["Kasse 1"]},
        locations=["L1"],
        items={"MUG-1": "Krus"},
    )
    client, branch, mug = stored.client, stored.branches[0], stored.products["MUG-1"]
    rackbeat_webhooks.register(stored.connection, stored.rackbeat, stored.secrets, stack.base_url, stack.table)
    stack.rackbeat.set_stock(account, "MUG-1", 12, "L1")
    stack.settle()
    assert stack.shopbox.stock(client, branch, mug) == 12


def peakwms_connection(stack: LocalStack) -> None:
    """A PeakWMS ⇄ Shopify connection as the demo makes it (a custom app's token, `crossdock connections create
    --kind peakwms_shopify`), every step of its guided setup confirmed and run by the guided-setup workflow (the
    warehouse counts goods in before the stock step), a Shopify order to PeakWMS, PeakWMS packing it and counting
    a shelf — each message arriving at `/webhooks/peakwms/<connection>/<event>?key=…`, through ingest and
    dispatch — its two sweeps run by their schedules, and the connection uninstalled by the operator."""
    shop = demo_peakwms.connect(stack, domain=f"iam-lager-{uuid.uuid4().hex[:6]}.myshopify.com", account="iam-lager")
    progress = demo_peakwms.PeakwmsAudit()

    def before(step: str) -> None:
        if step == "stock_and_history":
            demo_peakwms.first_stock(stack, shop, demo_peakwms.SKUS)

    demo_peakwms.run_setup(stack, shop, progress, before, show=False)
    steps = guided_setup.show_setup(stack.operator, shop.connection_id).steps
    assert [(step.name, step.status) for step in steps] == [
        (name, "done")
        for name in ("fetch_products", "customs_and_cost", "receive_orders", "stock_and_history", "messages")
    ], progress.setup
    (placed,) = demo_peakwms.place_orders(stack, shop, 1, seed=37)
    stack.settle()
    demo_peakwms.pack_all(stack, shop, [placed])
    stack.settle()
    demo_peakwms.count_stock(stack, shop, {demo_peakwms.SKUS[0]: -1})
    stack.settle()
    # Its sweeps (Shopify's orders, PeakWMS's open orders), scheduled by the setup, run as their schedules fire
    stack.aws.clock.advance(15 * 60)
    group = stack.aws.resources["PollScheduleGroup"].ref
    sweeps = [(g, name) for g, name in stack.aws.scheduler.scheduled(group) if shop.connection_id in name]
    assert len(sweeps) == 2, sweeps
    for schedule_group, name in sweeps:
        stack.aws.scheduler.fire(name, schedule_group)
    stack.settle()
    shown = stack.shopify.get_order(shop.domain, placed["id"]) or {}
    outcomes = [(e["topic"], e["status"], e.get("reason")) for e in events.list_events(stack.table, shop.connection_id)]
    assert shown.get("fulfillment_status") == "fulfilled", outcomes
    assert {status for _, status, _ in outcomes} <= {"done", "skipped"}, outcomes
    assert {"peakwms/pick_order_packed", "peakwms/stock_adjust"} <= {topic for topic, _, _ in outcomes}, outcomes
    assert lifecycle.uninstall(stack.operator, shop.connection_id).state == "uninstalled"
    stack.settle()


def unneeded_statements(stack: LocalStack) -> dict[tuple[str, tuple[str, ...]], Statement]:
    """Each role's statements (the template's, not AWS's managed ones) that allowed none of its requests alone."""
    iam = stack.aws.iam
    found = {}
    for role, policies in iam.policies.items():
        requests = iam.observed[role]
        for statement in policies.statements:
            if statement.managed or statement.effect != "Allow":
                continue
            reduced = policies.without(statement)
            needed = any(
                policies.decide(r.action, r.resource, r.context_map).allowed
                and not reduced.decide(r.action, r.resource, r.context_map).allowed
                for r in requests
            )
            if not needed:
                found[(role, statement.actions)] = statement
    return found


def test_every_call_of_a_representative_run_is_allowed_and_every_statement_needed(
    representative_run: LocalStack,
) -> None:
    # GIVEN every distinct request each role made in the representative run
    iam = representative_run.aws.iam
    # THEN every function, both workflows and both schedule roles called AWS, each as its own role
    assert {role for role, requests in iam.observed.items() if requests} == set(iam.policies)
    # AND each request was allowed by the caller's own role
    denied = [
        (role, request.action, request.resource)
        for role, requests in iam.observed.items()
        for request in requests
        if not iam.decide(role, request).allowed
    ]
    assert denied == []
    # WHEN each statement of the template is taken out of its role in turn
    unneeded = unneeded_statements(representative_run)
    # THEN each one denies at least one of those requests, except those that only serve what the run cannot do
    findings = {key: statement.describe() for key, statement in unneeded.items() if key not in NOT_EXERCISED}
    assert findings == {}, json.dumps(list(findings.values()), indent=1)
    # AND every listed exception is still an unneeded statement of the template (the list cannot outlive its reasons)
    assert set(NOT_EXERCISED) <= set(unneeded), set(NOT_EXERCISED) - set(unneeded)
