"""template.yaml's observability: every function and workflow logs to a group with a retention, every dead-letter
queue and workflow has an alarm, and the alarms and the dashboard name only metrics that exist.

CloudWatch accepts any metric name and dimension without complaint (an alarm on a metric nobody emits just stays
OK), so the names are checked here: AWS's against the metrics the services document, ours against what the code
emits (`crossdock.aws.observability` and every `add_metric` in the functions).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crossdock.aws.observability import FAILURE_CLASS_DIMENSION, OUTCOME_METRICS
from crossdock.errors import FailureClass
from crossdock.store.events import EventStatus
from crossdock_local.aws.template import load_template
from crossdock_local.aws.xray import xray_rule_problems

ROOT = Path(__file__).resolve().parents[2]

# What each AWS namespace publishes (the services' CloudWatch metric lists) and the dimension that names a resource
# of the template, with the resource type and the reference (`Ref` or an attribute) it takes.
AWS_METRICS: dict[str, tuple[frozenset[str], str, str, str]] = {
    "AWS/SQS": (
        frozenset(
            {
                "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesVisible",
                "NumberOfEmptyReceives",
                "NumberOfMessagesDeleted",
                "NumberOfMessagesReceived",
                "NumberOfMessagesSent",
                "SentMessageSize",
            }
        ),
        "QueueName",
        "AWS::SQS::Queue",
        "QueueName",
    ),
    "AWS/States": (
        frozenset(
            {
                "ExecutionTime",
                "ExecutionThrottled",
                "ExecutionsAborted",
                "ExecutionsFailed",
                "ExecutionsStarted",
                "ExecutionsSucceeded",
                "ExecutionsTimedOut",
            }
        ),
        "StateMachineArn",
        "AWS::Serverless::StateMachine",
        "Ref",
    ),
    "AWS/Lambda": (
        frozenset({"ConcurrentExecutions", "Duration", "Errors", "Invocations", "Throttles"}),
        "FunctionName",
        "AWS::Serverless::Function",
        "Ref",
    ),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = load_template(ROOT / "template.yaml")
    return loaded


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties", {}) for name, r in resources.items() if r["Type"] == kind}


def _get_att_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


# -- log groups ------------------------------------------------------------------------------------------------------


def _retained_group(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    group = resources[logical_id]
    assert group["Type"] == "AWS::Logs::LogGroup", f"{logical_id} is not a log group"
    props: dict[str, Any] = group["Properties"]
    assert props.get("RetentionInDays") == {"Ref": "LogRetentionDays"}, f"{logical_id} keeps its logs forever"
    return props


def test_every_function_logs_to_its_own_group_with_a_retention(resources: dict[str, Any]) -> None:
    functions = _of_type(resources, "AWS::Serverless::Function")
    assert len(functions) >= 7
    groups = []
    for name, props in functions.items():
        logging_config = props.get("LoggingConfig", {})
        assert "LogGroup" in logging_config and "Ref" in logging_config["LogGroup"], f"{name} has no LoggingConfig"
        group = logging_config["LogGroup"]["Ref"]
        groups.append(group)
        group_name = _retained_group(resources, group)["LogGroupName"]
        # Named as Lambda names a function's group, so operators and tools find it where they look.
        assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-" + _suffix(props["FunctionName"])}, name
        assert group_name == {"Fn::Sub": "/aws/lambda/" + props["FunctionName"]["Fn::Sub"]}, name
    assert len(set(groups)) == len(groups), "two functions share a log group"


def _suffix(function_name: dict[str, str]) -> str:
    return function_name["Fn::Sub"].removeprefix("${AWS::StackName}-")


def test_retention_is_a_parameter_cloudwatch_accepts(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30
    assert parameter["Default"] in parameter["AllowedValues"]
    assert set(parameter["AllowedValues"]) <= {
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    }  # fmt: skip


def test_workflows_log_their_errors_without_execution_data(resources: dict[str, Any]) -> None:
    machines = _of_type(resources, "AWS::Serverless::StateMachine")
    assert machines
    for name, props in machines.items():
        logging = props.get("Logging", {})
        assert logging.get("Level") == "ERROR", name
        assert logging.get("IncludeExecutionData") is False, f"{name}: order data would reach the log"
        (destination,) = logging["Destinations"]
        group = _get_att_target(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
        assert group is not None
        assert _retained_group(resources, group)["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")
        granted = {
            action
            for policy in props.get("Policies", [])
            for statement in policy.get("Statement", [])
            for action in statement.get("Action", [])
        }
        assert {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeLogGroups"} <= granted, name


# -- alarms ------------------------------------------------------------------------------------------------------------


def _dead_letter_queues(resources: dict[str, Any]) -> set[str]:
    """Queues anything sends its failures to: SQS redrive targets, Lambda on-failure destinations, schedule DLQs."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, child_key)
        elif isinstance(value, list):
            for child in value:
                walk(child, key)
        target = _get_att_target(value) if key in ("deadLetterTargetArn", "Destination", "Arn") else None
        if target is not None and resources.get(target, {}).get("Type") == "AWS::SQS::Queue":
            found.add(target)

    for resource in resources.values():
        properties = resource.get("Properties", {})
        walk(properties.get("RedrivePolicy", {}), "")
        walk(properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}), "")
        walk(properties.get("Target", {}).get("DeadLetterConfig", {}), "")
    return found


def _alarm_metrics(props: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of every metric the alarm reads, single-metric or metric math."""
    if "MetricName" in props:
        yield props["Namespace"], props["MetricName"], {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
    for query in props.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            yield metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def test_every_dead_letter_queue_has_an_alarm(resources: dict[str, Any]) -> None:
    dead_letter_queues = _dead_letter_queues(resources)
    assert {
        "InboundDeadLetterQueue",
        "ShopifyOutboundDeadLetterQueue",
        "SelfCheckDeadLetterQueue",
    } <= dead_letter_queues
    watched = {
        _get_att_target(dimensions.get("QueueName"))
        for props in _of_type(resources, "AWS::CloudWatch::Alarm").values()
        for namespace, metric, dimensions in _alarm_metrics(props)
        if (namespace, metric) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        and props["Threshold"] == 0
        and props["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert dead_letter_queues <= watched, f"dead-letter queues without an alarm: {dead_letter_queues - watched}"


def test_every_workflow_alarms_on_failed_and_timed_out_executions(resources: dict[str, Any]) -> None:
    for machine in _of_type(resources, "AWS::Serverless::StateMachine"):
        read = {
            metric
            for props in _of_type(resources, "AWS::CloudWatch::Alarm").values()
            for namespace, metric, dimensions in _alarm_metrics(props)
            if namespace == "AWS/States" and dimensions.get("StateMachineArn") == {"Ref": machine}
        }
        assert {"ExecutionsFailed", "ExecutionsTimedOut"} <= read, f"{machine}: {read}"


def test_the_needs_attention_rate_is_over_every_finished_event(resources: dict[str, Any]) -> None:
    alarm = resources["NeedsAttentionRateAlarm"]["Properties"]
    read = {metric for _, metric, _ in _alarm_metrics(alarm)}
    assert read == {
        OUTCOME_METRICS[status.value] for status in (EventStatus.DONE, EventStatus.SKIPPED, EventStatus.NEEDS_ATTENTION)
    }
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["Threshold"] == {"Ref": "NeedsAttentionRatePercent"}
    (returned,) = [query for query in alarm["Metrics"] if query.get("ReturnData")]
    assert "/ finished" in returned["Expression"]["Fn::Sub"]


def test_every_alarm_notifies_the_alarm_topic_and_stays_quiet_without_data(resources: dict[str, Any]) -> None:
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for name, props in alarms.items():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["TreatMissingData"] == "notBreaching", name
        assert props["AlarmDescription"].strip(), f"{name} does not say what to do"


def test_the_email_subscription_exists_only_with_an_address(
    resources: dict[str, Any], template: dict[str, Any]
) -> None:
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_alarms_read_only_metrics_that_exist(resources: dict[str, Any], template: dict[str, Any]) -> None:
    own = _own_metric_names()
    for name, props in _of_type(resources, "AWS::CloudWatch::Alarm").items():
        for namespace, metric, dimensions in _alarm_metrics(props):
            _check_metric(resources, template, own, namespace, metric, dimensions, f"alarm {name}")


# -- dashboard -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard(resources: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    parameters = set(template["Parameters"])

    def placeholder(match: re.Match[str]) -> str:
        reference = match.group(1)
        logical_id = reference.split(".")[0]
        assert reference.startswith("AWS::") or logical_id in resources or reference in parameters, reference
        return f"<{reference}>"  # kept recognisable: the metric check below resolves it to the resource

    parsed: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", placeholder, body))
    return parsed


def _dashboard_metrics(dashboard: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for widget in dashboard["widgets"]:
        title = widget["properties"]["title"]
        for row in widget["properties"]["metrics"]:
            fields = [item for item in row if not isinstance(item, dict)]
            assert len(fields) % 2 == 0, f"{title}: {row} does not pair dimension names with values"
            namespace, metric, *pairs = fields
            yield title, namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))


def test_the_dashboard_is_valid_json_with_the_widgets_operators_need(dashboard: dict[str, Any]) -> None:
    titles = [widget["properties"]["title"] for widget in dashboard["widgets"]]
    for needed in ("Events by outcome", "Needs attention by failure class", "Dead-letter queues", "Lambda errors"):
        assert needed in titles
    for widget in dashboard["widgets"]:
        assert widget["type"] == "metric" and widget["properties"]["region"] == "<AWS::Region>"
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24


def test_the_dashboard_shows_every_failure_class(dashboard: dict[str, Any]) -> None:
    shown = {
        dimensions[FAILURE_CLASS_DIMENSION]
        for _, _, metric, dimensions in _dashboard_metrics(dashboard)
        if metric == OUTCOME_METRICS["needs_attention"] and FAILURE_CLASS_DIMENSION in dimensions
    }
    assert shown == {failure_class.value for failure_class in FailureClass}


def test_the_dashboard_names_only_metrics_that_exist(
    dashboard: dict[str, Any], resources: dict[str, Any], template: dict[str, Any]
) -> None:
    own = _own_metric_names()
    for title, namespace, metric, dimensions in _dashboard_metrics(dashboard):
        resolved = {name: _from_placeholder(value) for name, value in dimensions.items()}
        _check_metric(resources, template, own, namespace, metric, resolved, f"widget {title!r}")


def test_the_dashboard_shows_every_dead_letter_queue_and_function(
    dashboard: dict[str, Any], resources: dict[str, Any]
) -> None:
    shown = {value for _, _, _, dimensions in _dashboard_metrics(dashboard) for value in dimensions.values()}
    for queue in _dead_letter_queues(resources):
        assert f"<{queue}.QueueName>" in shown, queue
    for function in _of_type(resources, "AWS::Serverless::Function"):
        assert f"<{function}>" in shown, function


# -- what a metric reference must be ---------------------------------------------------------------------------------


def _from_placeholder(value: str) -> Any:
    """`<Resource.Attr>` / `<Resource>` / `<AWS::StackName>` back to the intrinsic the template would write."""
    inner = value[1:-1] if value.startswith("<") and value.endswith(">") else None
    if inner is None:
        return value
    if "." in inner and not inner.startswith("AWS::"):
        return {"Fn::GetAtt": inner.split(".", 1)}
    return {"Ref": inner}


def _check_metric(
    resources: dict[str, Any],
    template: dict[str, Any],
    own: list[re.Pattern[str]],
    namespace: str,
    metric: str,
    dimensions: dict[str, Any],
    where: str,
) -> None:
    own_namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    if namespace == own_namespace:
        assert any(pattern.fullmatch(metric) for pattern in own), f"{where}: nothing emits {namespace}/{metric}"
        service = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        assert dimensions.get("service") == service, f"{where}: {metric} is emitted with service {service}"
        extra = set(dimensions) - {"service"}
        assert extra <= {FAILURE_CLASS_DIMENSION}, f"{where}: {metric} has no dimension {extra}"
        if extra:
            assert metric == OUTCOME_METRICS["needs_attention"], f"{where}: only needs_attention has a class"
            assert dimensions[FAILURE_CLASS_DIMENSION] in {c.value for c in FailureClass}, where
        return
    assert namespace in AWS_METRICS, f"{where}: unknown namespace {namespace}"
    names, dimension, resource_type, attribute = AWS_METRICS[namespace]
    assert metric in names, f"{where}: {namespace} publishes no {metric}"
    assert set(dimensions) == {dimension}, f"{where}: {namespace}/{metric} is published per {dimension}"
    reference = dimensions[dimension]
    target = reference.get("Ref") if attribute == "Ref" else _get_att_target(reference)
    assert target in resources and resources[target]["Type"] == resource_type, f"{where}: {reference}"
    if attribute != "Ref":
        assert reference == {"Fn::GetAtt": [target, attribute]}, f"{where}: {reference} is not the {attribute}"


def _own_metric_names() -> list[re.Pattern[str]]:
    """What the code emits: the outcome metrics, and every `add_metric(name=...)` of the functions and of the
    layer they share (the push consumer's), a formatted failure class standing for each class and any other
    formatted value for a name part."""
    classes = "|".join(re.escape(c.value) for c in FailureClass)
    patterns = [re.compile(re.escape(name)) for name in OUTCOME_METRICS.values()]
    sources = sorted((ROOT / "functions").glob("*/app.py")) + sorted((ROOT / "layers/core/crossdock").rglob("*.py"))
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "add_metric":
                continue
            name = next(keyword.value for keyword in node.keywords if keyword.arg == "name")
            if isinstance(name, ast.Constant):
                patterns.append(re.compile(re.escape(str(name.value))))
            elif isinstance(name, ast.JoinedStr):
                parts = [
                    re.escape(str(part.value))
                    if isinstance(part, ast.Constant)
                    else f"(?:{classes})"
                    if "failure_class" in ast.unparse(part)
                    else "[a-z0-9_]+"
                    for part in name.values
                ]
                patterns.append(re.compile("".join(parts)))
    assert len(patterns) > len(OUTCOME_METRICS), "no add_metric found in the functions or the layer"
    return patterns


# -- tracing ---------------------------------------------------------------------------------------------------------


def test_webhooks_are_sampled_at_the_parameters_rate_and_the_functions_follow(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    (rule,) = _of_type(resources, "AWS::XRay::SamplingRule").values()
    sampling = rule["SamplingRule"]
    resolved = {"RuleName": "crossdock-prod-webhooks", "ResourceARN": "arn", "FixedRate": 0.05}
    assert xray_rule_problems(sampling | resolved) == []
    assert sampling["FixedRate"] == {"Ref": "TraceSampleRate"} and sampling["ReservoirSize"] == 0
    assert sampling["Priority"] < 10000  # before X-Ray's default rule and its one-per-second reservoir
    assert sampling["ServiceType"] == "AWS::ApiGateway::Stage" and "${Api}" in sampling["ResourceARN"]["Fn::Sub"]
    rate = template["Parameters"]["TraceSampleRate"]
    assert (rate["MinValue"], rate["MaxValue"]) == (0, 1) and 0 < rate["Default"] <= 0.1
    assert _of_type(resources, "AWS::Serverless::Api")["Api"]["TracingEnabled"] is True
    # Functions trace what was sampled upstream; none starts traces of its own.
    assert template["Globals"]["Function"]["Tracing"] == "PassThrough"
    assert all("Tracing" not in p for p in _of_type(resources, "AWS::Serverless::Function").values())


def test_the_embedded_runtime_refuses_a_rule_xray_would_refuse() -> None:
    problems = xray_rule_problems(
        {"RuleName": "x" * 33, "FixedRate": 1.5, "Priority": 100, "ReservoirSize": 0, "Version": 1, "Host": "*"}
    )
    assert "SamplingRule.RuleName is longer than 32 characters" in problems
    assert "SamplingRule.FixedRate must be 0.0–1.0, not 1.5" in problems
    assert "SamplingRule.ServiceName is required" in problems
