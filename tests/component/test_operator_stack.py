"""`--stack NAME --profile P`: the operator CLI finds a deployed stack's table and queues through CloudFormation.

Against moto's CloudFormation: a small stack with template.yaml's logical ids, created by CloudFormation, so the
physical names are CloudFormation's own. This shows the name resolution and a read-only command on what it found;
it says nothing about IAM permissions or a real account.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from crossdock.operations.errors import NotFound, OperatorError
from crossdock_local import cli as crossdock
from crossdock_local import operator_cli
from crossdock_local.aws.template import load_template
from crossdock_local.operator_targets import aws_target

REGION = "eu-north-1"
STACK = "crossdock-prod"
QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {}}
TABLE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")["Resources"]["Table"]


def _fifo(name: str) -> dict[str, Any]:
    # CloudFormation itself names a FIFO queue `<stack>-<logical id>-<random>.fifo`; moto's needs the name given.
    return {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True, "QueueName": f"{name}-X1Y2Z3.fifo"}}


def _template(without: str | None = None) -> str:
    resources: dict[str, Any] = {
        "Table": TABLE,  # as deployed: its indexes are what the operator's queries use
        "InboundDeadLetterQueue": QUEUE,
        "InboundQueue": QUEUE,
        "ShopifyOutboundDeadLetterQueue": _fifo("ShopifyOutboundDeadLetterQueue"),
        "ShopifyOutboundQueue": _fifo("ShopifyOutboundQueue"),
        "SelfCheckDeadLetterQueue": QUEUE,
        "Unrelated": QUEUE,
    }
    resources.pop(without or "", None)
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An operator's machine: a named profile (its own region and keys), and no other AWS settings."""
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(f"[profile ops]\nregion = {REGION}\n")
    credentials.write_text("[ops]\naws_access_key_id = AKIAOPERATOR\naws_secret_access_key = operator-secret\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    with mock_aws():
        yield


def _create_stack(name: str = STACK, without: str | None = None) -> dict[str, str]:
    cloudformation = boto3.Session(profile_name="ops").client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=_template(without))
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def test_the_stacks_physical_names_are_found_by_logical_id(aws: None) -> None:
    physical = _create_stack()
    target = aws_target(STACK, profile="ops")
    assert target.table.name == physical["Table"]
    assert target.inbound_queue_url == physical["InboundQueue"]
    queues = {queue.name: (queue.url, queue.source_url, queue.fifo) for queue in target.dead_letter_queues}
    assert queues == {
        "inbound": (physical["InboundDeadLetterQueue"], physical["InboundQueue"], False),
        "shopify-outbound": (physical["ShopifyOutboundDeadLetterQueue"], physical["ShopifyOutboundQueue"], True),
        "self-check": (physical["SelfCheckDeadLetterQueue"], None, False),
    }
    assert target.description == f"stack {STACK} in {REGION} (profile ops)"
    # and a read-only command works on what was found
    boto3.Session(profile_name="ops").client("sqs").send_message(
        QueueUrl=physical["InboundDeadLetterQueue"], MessageBody="{}"
    )
    report = io.StringIO()
    assert operator_cli.run(["status", "--json"], target, report) == 0
    status = json.loads(report.getvalue())
    assert status["connections"] == [] and status["target"] == target.description
    assert {q["name"]: q["waiting"] for q in status["dead_letters"]} == {
        "inbound": 1,
        "shopify-outbound": 0,
        "self-check": 0,
    }


def test_the_cli_takes_stack_profile_and_region(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    _create_stack()
    assert crossdock.main(["status", "--stack", STACK, "--profile", "ops", "--region", REGION]) == 0
    assert f"stack {STACK} in {REGION} (profile ops)" in capsys.readouterr().out
    assert crossdock.main(["status", "--stack", "no-such-stack", "--profile", "ops"]) == 1
    assert "no CloudFormation stack 'no-such-stack'" in capsys.readouterr().err
    assert crossdock.main(["status", "--stack", STACK, "--profile", "nobody"]) == 1
    assert "nobody" in capsys.readouterr().err
    assert crossdock.main(["status", "--stack", STACK, "--local"]) == 2


def test_a_stack_without_crossdocks_resources_is_refused(aws: None) -> None:
    _create_stack("half-stack", without="InboundQueue")
    with pytest.raises(OperatorError, match="has no InboundQueue: is it a Crossdock stack"):
        aws_target("half-stack", profile="ops")
    with pytest.raises(NotFound, match="no CloudFormation stack"):
        aws_target("never-created", profile="ops")
