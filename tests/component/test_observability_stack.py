"""The embedded runtime provisions template.yaml's log groups, alarm topic, alarms and dashboard in moto, as
CloudFormation would create them; functions run with tracing off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from crossdock_local.aws.clock import VirtualClock
from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.lambda_runtime import FunctionSpec, InProcessLambda

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(template=TEMPLATE, parameters={"LogRetentionDays": "14"}) as embedded:
        yield embedded


def test_each_function_has_its_log_group_with_the_retention_asked(aws: EmbeddedAws) -> None:
    groups = {
        g["logGroupName"]: g.get("retentionInDays") for g in boto3.client("logs").describe_log_groups()["logGroups"]
    }
    for logical_id in ("IngestFunction", "DispatchFunction", "OrderStepsFunction", "ShopifyAppFunction"):
        assert groups[f"/aws/lambda/{aws.function_name(logical_id)}"] == 14
    assert groups["/aws/vendedlogs/states/crossdock-order"] == 14


def test_alarms_notify_the_topic_and_the_dashboard_is_stored(aws: EmbeddedAws) -> None:
    cloudwatch = boto3.client("cloudwatch")
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    topic = aws.resources["AlarmTopic"].ref
    assert len(alarms) >= 10 and all(alarm["AlarmActions"] == [topic] for alarm in alarms)
    inbound = next(alarm for alarm in alarms if alarm["AlarmName"] == "crossdock-inbound-dead-letters")
    assert inbound["Dimensions"] == [
        {"Name": "QueueName", "Value": aws.resources["InboundDeadLetterQueue"].attrs["QueueName"]}
    ]
    body = json.loads(cloudwatch.get_dashboard(DashboardName="crossdock")["DashboardBody"])
    assert body["widgets"][0]["properties"]["metrics"][0][:4] == ["Crossdock", "events_done", "service", "crossdock"]


def test_without_an_address_nobody_is_subscribed(aws: EmbeddedAws) -> None:
    topic = aws.resources["AlarmTopic"].ref
    assert boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_functions_run_with_tracing_off_and_their_output_and_errors_are_their_log(tmp_path: Path) -> None:
    # No X-Ray daemon listens locally; the runtime says so the way Powertools reads it, and the core decides alone.
    (tmp_path / "app.py").write_text(
        "import os\n"
        "from crossdock.aws.observability import tracing_is_off\n"
        "def handler(event, context):\n"
        "    print('working on', event['id'])\n"
        "    if event.get('fail'):\n"
        "        raise RuntimeError('Rackbeat answered 503')\n"
        "    return {'tracing_off': tracing_is_off(), 'flag': os.environ.get('POWERTOOLS_TRACE_DISABLED')}\n"
    )
    runtime = InProcessLambda(VirtualClock(), "eu-west-1")
    spec = FunctionSpec(
        logical_id="ProbeFunction",
        name="probe",
        arn="arn:aws:lambda:eu-west-1:123456789012:function:probe",
        code_dir=tmp_path,
        handler="app.handler",
        runtime="python3.11",
        timeout=3,
        memory_mb=128,
        environment={},
    )
    runtime.register(spec)
    lines: list[tuple[str, str]] = []
    runtime.log_listeners.append(lambda function, text: lines.append((function, text)))
    try:
        ok = runtime.invoke(spec, {"id": 1}, source="lambda")
        failed = runtime.invoke(spec, {"id": 2, "fail": True}, source="lambda")
    finally:
        runtime.unload()

    assert ok.payload == {"tracing_off": True, "flag": "true"}
    assert lines[:2] == [("ProbeFunction", "working on 1"), ("ProbeFunction", "working on 2")]
    # As the Python runtime prints an uncaught error (text log format): the error, then its traceback.
    assert failed.error is not None
    assert lines[2] == ("ProbeFunction", "[ERROR] RuntimeError: Rackbeat answered 503")
    assert lines[3] == ("ProbeFunction", "Traceback (most recent call last):")
    assert lines[-1] == ("ProbeFunction", "    raise RuntimeError('Rackbeat answered 503')")
