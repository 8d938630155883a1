"""`--stack NAME` for the onboarding commands: the key, the initial-sync workflow, the poll schedule group and what
its schedules invoke, and the webhook address, found through CloudFormation (ListStackResources, DescribeStacks).

Against moto's CloudFormation, with the template's logical ids and real resource types, so the physical ids are
CloudFormation's own: the ARNs the target builds from names are compared with the ARNs the services report.
moto's CloudFormation has no AWS::Scheduler::ScheduleGroup; an SSM parameter stands in for it, whose physical id
is, like the group's, its name. Nothing here says anything about IAM permissions or a real account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from crossdock.operations.errors import OperatorError
from crossdock_local.operator_targets import aws_target

REGION = "eu-north-1"
STACK = "crossdock-prod"
API_URL = "https://abc123.execute-api.eu-north-1.amazonaws.com/prod"
QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {}}
ROLE = {"Fn::GetAtt": ["PollScheduleRole", "Arn"]}


def _template(public_base_url: str = "") -> str:
    resources: dict[str, Any] = {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        },
        "InboundQueue": QUEUE,
        "InboundDeadLetterQueue": QUEUE,
        "ShopifyOutboundQueue": QUEUE,
        "ShopifyOutboundDeadLetterQueue": QUEUE,
        "SelfCheckDeadLetterQueue": QUEUE,
        "PollDeadLetterQueue": QUEUE,
        "SecretsKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": "connection secrets",
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}],
                },
            },
        },
        "PollScheduleRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "PollFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Role": ROLE,
                "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
            },
        },
        "InitialSyncStateMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "RoleArn": ROLE,
                "DefinitionString": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
            },
        },
        "PollScheduleGroup": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "crossdock-prod-poll", "Type": "String", "Value": "-"},
        },
    }
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"PublicBaseUrl": {"Type": "String", "Default": public_base_url}},
            "Resources": resources,
            "Outputs": {"ApiUrl": {"Value": API_URL}},
        }
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATOR")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator-secret")
    with mock_aws():
        yield


def _resources(name: str, public_base_url: str = "") -> dict[str, str]:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=_template(public_base_url))
    found = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found}


def test_the_onboarding_resources_and_arns_are_found_through_cloudformation(aws: None) -> None:
    # GIVEN a deployed stack WHEN the CLI opens it for onboarding
    physical = _resources(STACK)
    target = aws_target(STACK, region=REGION, onboarding=True)
    onboarding = target.onboard()
    # THEN the key, the workflow and the group are the stack's
    assert onboarding.key_id == physical["SecretsKey"]
    assert onboarding.initial_sync_state_machine_arn == physical["InitialSyncStateMachine"]
    assert onboarding.poll_schedule_group == "crossdock-prod-poll"
    # AND the schedules' target ARNs are what Lambda, IAM and SQS call those resources
    function_arn = boto3.client("lambda", region_name=REGION).get_function(FunctionName=physical["PollFunction"])
    role = boto3.client("iam", region_name=REGION).get_role(RoleName=physical["PollScheduleRole"])["Role"]
    queue = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=physical["PollDeadLetterQueue"], AttributeNames=["QueueArn"]
    )["Attributes"]
    assert onboarding.poll_target.function_arn == function_arn["Configuration"]["FunctionArn"]
    assert onboarding.poll_target.role_arn == role["Arn"]
    assert onboarding.poll_target.dead_letter_arn == queue["QueueArn"]
    # AND webhooks go to the API's URL (PublicBaseUrl empty), with the platforms at their public addresses
    assert onboarding.webhook_base_url == API_URL and onboarding.api_bases == {}


def test_public_base_url_decides_the_webhook_address_and_looking_needs_no_onboarding(aws: None) -> None:
    _resources("with-domain", public_base_url="https://hub.example.com")
    assert aws_target("with-domain", region=REGION, onboarding=True).onboard().webhook_base_url == (
        "https://hub.example.com"
    )
    looking = aws_target("with-domain", region=REGION)
    with pytest.raises(OperatorError, match="opened for looking only"):
        looking.onboard()
