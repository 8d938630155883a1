"""template.yaml and the order workflow's ASL keep the properties the app's code relies on (no `sam build`, no AWS)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crossdock.store import events
from crossdock_local.aws.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
LAMBDA_DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor Globals set one


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = load_template(TEMPLATE_PATH)  # the embedded runtime's own reader: short-form tags to long form
    return loaded


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def _props(resources: dict[str, Any], name: str) -> dict[str, Any]:
    assert name in resources, f"template.yaml has no resource {name}"
    props: dict[str, Any] = resources[name].get("Properties", {})
    return props


def _timeout(template: dict[str, Any], function: str) -> int:
    props = _props(template["Resources"], function)
    globals_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", LAMBDA_DEFAULT_TIMEOUT)
    return int(props.get("Timeout", globals_timeout))


def _functions(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            yield name, resource.get("Properties", {})


def _inbound_consumers(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(function, SQS event properties) for every SQS event source on the inbound queue."""
    return [
        (name, event["Properties"])
        for name, props in _functions(resources)
        for event in props.get("Events", {}).values()
        if event["Type"] == "SQS" and event["Properties"]["Queue"] == {"Fn::GetAtt": ["InboundQueue", "Arn"]}
    ]


# -- Inbound queue and dispatch --------------------------------------------------------------------------------------


def test_inbound_queue_redrives_to_the_dead_letter_queue(resources: dict[str, Any]) -> None:
    assert resources["InboundDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"
    redrive = _props(resources, "InboundQueue")["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["InboundDeadLetterQueue", "Arn"]}
    assert isinstance(redrive["maxReceiveCount"], int)
    assert 1 <= redrive["maxReceiveCount"] <= 1000


def test_dispatch_is_the_only_consumer_of_the_inbound_queue(resources: dict[str, Any]) -> None:
    assert [name for name, _ in _inbound_consumers(resources)] == ["DispatchFunction"]


def test_inbound_visibility_timeout_is_at_least_six_dispatch_timeouts(template: dict[str, Any]) -> None:
    # AWS's guidance for SQS event sources: a message must not become visible again while a (throttled, retried)
    # batch is still working on it.
    visibility = int(_props(template["Resources"], "InboundQueue")["VisibilityTimeout"])
    dispatch_timeout = _timeout(template, "DispatchFunction")
    event = _props(template["Resources"], "DispatchFunction")["Events"]["Inbound"]["Properties"]
    window = int(event.get("MaximumBatchingWindowInSeconds", 0))
    assert visibility >= 6 * dispatch_timeout + window, (
        f"VisibilityTimeout {visibility}s < 6 x {dispatch_timeout}s + {window}s"
    )


def test_dispatch_reports_batch_item_failures(resources: dict[str, Any]) -> None:
    # The handler returns batchItemFailures (Powertools' process_partial_response); without this setting Lambda
    # ignores them and a single bad record makes the whole batch come back.
    for _, event in _inbound_consumers(resources):
        assert "ReportBatchItemFailures" in event.get("FunctionResponseTypes", [])


# -- Table -----------------------------------------------------------------------------------------------------------


def test_table_expires_items_on_expires_at(resources: dict[str, Any]) -> None:
    ttl = _props(resources, "Table")["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_open_events_index_is_keyed_as_the_event_log_writes_it(resources: dict[str, Any]) -> None:
    # Operators list failures and backlog from this sparse index (store/events.py sets and removes its keys); a
    # projection of ALL would copy every payload into it.
    props = _props(resources, "Table")
    (index,) = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == events.OPEN_EVENTS_INDEX]
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        (events.OPEN_STATUS, "HASH"),
        (events.OPEN_KEY, "RANGE"),
    ]
    defined = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    assert defined[events.OPEN_STATUS] == defined[events.OPEN_KEY] == "S"
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert "payload" not in index["Projection"]["NonKeyAttributes"]


# -- API -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/shopify",
        "/webhooks/rackbeat/{connection_id}",
        "/webhooks/rackbeat/account/{account_key}",
        "/webhooks/webshipper/{connection_id}",
        "/webhooks/{kind}/{source}",
    ],
)
def test_webhook_route_goes_to_ingest(resources: dict[str, Any], path: str) -> None:
    routes = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"]): (name, event["Properties"])
        for name, props in _functions(resources)
        for event in props.get("Events", {}).values()
        if event["Type"] == "Api"
    }
    assert ("POST", path) in routes, f"no POST {path} route"
    function, event = routes[("POST", path)]
    assert function == "IngestFunction"
    assert event.get("RestApiId") == {"Ref": "Api"}


# -- Order workflow --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def state_machine(resources: dict[str, Any]) -> dict[str, Any]:
    assert resources["OrderStateMachine"]["Type"] == "AWS::Serverless::StateMachine"
    return _props(resources, "OrderStateMachine")


@pytest.fixture(scope="module")
def asl_text(state_machine: dict[str, Any]) -> str:
    definition_uri: str = state_machine["DefinitionUri"]
    return (ROOT / definition_uri).read_text()


@pytest.fixture(scope="module")
def asl_states(asl_text: str) -> list[tuple[str, dict[str, Any]]]:
    return list(_states(json.loads(asl_text)))


def _states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those inside Parallel branches and Map iterators."""
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _states(state[key])


def test_order_workflow_is_standard(state_machine: dict[str, Any]) -> None:
    assert state_machine["Type"] == "STANDARD"


def test_definition_substitutions_cover_every_placeholder(state_machine: dict[str, Any], asl_text: str) -> None:
    placeholders = set(re.findall(r"\$\{([^}]+)\}", asl_text))
    assert placeholders, "the ASL has no ${...} placeholder: is DefinitionUri the right file?"
    missing = placeholders - set(state_machine.get("DefinitionSubstitutions", {}))
    assert not missing, f"DefinitionSubstitutions lack {sorted(missing)}"


def test_every_retryable_error_retry_is_bounded(asl_states: list[tuple[str, dict[str, Any]]]) -> None:
    retriers = [
        (name, retrier)
        for name, state in asl_states
        for retrier in state.get("Retry", [])
        if "RetryableError" in retrier["ErrorEquals"]
    ]
    assert retriers, "no state retries RetryableError"
    for name, retrier in retriers:
        assert isinstance(retrier.get("MaxAttempts"), int), f"{name}: RetryableError retry has no MaxAttempts"
        assert retrier["MaxAttempts"] >= 1, f"{name}: MaxAttempts 0 never retries"


def _catches_all(state: dict[str, Any]) -> bool:
    return any("States.ALL" in catcher["ErrorEquals"] for catcher in state.get("Catch", []))


def test_every_task_catches_states_all(asl_states: list[tuple[str, dict[str, Any]]]) -> None:
    tasks = [(name, state) for name, state in asl_states if state["Type"] == "Task"]
    assert tasks
    uncaught = [name for name, state in tasks if not _catches_all(state)]
    assert not uncaught, f"Tasks without a Catch on States.ALL: {uncaught}"


def test_error_handler_tasks_retry_everything_then_fail(asl_states: list[tuple[str, dict[str, Any]]]) -> None:
    states = dict(asl_states)
    catch_targets = {catcher["Next"] for _, state in asl_states for catcher in state.get("Catch", [])}
    for name in catch_targets:
        state = states[name]
        if state["Type"] != "Task" or _catches_all(state):
            continue
        retry_all = [r for r in state.get("Retry", []) if "States.ALL" in r["ErrorEquals"]]
        assert retry_all, f"{name} neither catches nor retries States.ALL"
        assert all(isinstance(r.get("MaxAttempts"), int) and r["MaxAttempts"] >= 1 for r in retry_all), name
        assert states[state["Next"]]["Type"] == "Fail", f"{name} must lead to a Fail state"


# -- Poll (reconciliation sweeps) --------------------------------------------------------------------------------------

_POLL_SCHEDULES = {
    "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${PollScheduleGroup}/*"
}


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in props.get("Policies", []) if "Statement" in policy for s in policy["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_poll_function_may_queue_only_on_the_inbound_queue_and_delete_only_its_schedules(
    resources: dict[str, Any],
) -> None:
    props = _props(resources, "PollFunction")
    policies = props["Policies"]
    inbound = {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["InboundQueue", "QueueName"]}}}
    assert [policy for policy in policies if "SQSSendMessagePolicy" in policy] == [inbound]
    scheduler = [s for s in _statements(props) if any(a.startswith("scheduler:") for a in _actions(s))]
    assert [(_actions(s), s["Resource"]) for s in scheduler] == [(["scheduler:DeleteSchedule"], _POLL_SCHEDULES)]
    table = [s for s in _statements(props) if any(a.startswith("dynamodb:") for a in _actions(s))]
    # Never a Scan; a Query only of the table itself, not of its indexes (the PeakWMS sweep lists one connection's
    # open order bindings in its own partition: test_iam_template's run makes that request)
    assert all("dynamodb:Scan" not in _actions(s) for s in table)
    assert all(s["Resource"] == {"Fn::GetAtt": ["Table", "Arn"]} for s in table if "dynamodb:Query" in _actions(s))
    env = props["Environment"]["Variables"]
    assert env["INBOUND_QUEUE_URL"] == {"Ref": "InboundQueue"}
    assert env["POLL_SCHEDULE_GROUP"] == {"Ref": "PollScheduleGroup"}
    failure = props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert failure["Destination"] == {"Fn::GetAtt": ["PollDeadLetterQueue", "Arn"]}


def test_only_the_scheduler_may_invoke_the_poll_through_its_role(resources: dict[str, Any]) -> None:
    props = _props(resources, "PollScheduleRole")
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = [s for policy in props["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert {(s["Action"], json.dumps(s["Resource"])) for s in statements} == {
        ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": ["PollFunction", "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["PollDeadLetterQueue", "Arn"]})),
    }
    assert resources["PollScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"


def test_functions_that_make_schedules_may_pass_only_the_schedule_role_to_the_scheduler(
    resources: dict[str, Any],
) -> None:
    makers = [
        name
        for name, props in _functions(resources)
        if "POLL_SCHEDULE_ROLE_ARN" in props.get("Environment", {}).get("Variables", {})
    ]
    assert makers == ["ShopifyAppFunction"]
    for name in makers:
        statements = _statements(_props(resources, name))
        (passing,) = [s for s in statements if "iam:PassRole" in _actions(s)]
        assert passing["Resource"] == {"Fn::GetAtt": ["PollScheduleRole", "Arn"]}
        assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
        scheduler = [s for s in statements if any(a.startswith("scheduler:") for a in _actions(s))]
        assert {a for s in scheduler for a in _actions(s)} == {
            "scheduler:GetSchedule",
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
        }
        assert all(s["Resource"] == _POLL_SCHEDULES for s in scheduler)
