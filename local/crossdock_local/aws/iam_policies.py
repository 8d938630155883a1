"""The roles a deployed stack would get: the template's SAM transform, run offline, read for its IAM roles.

The embedded runtime reads template.yaml without the transform (template.py), so a function's `Policies` are SAM
shorthand: policy templates (SQSSendMessagePolicy, KMSDecryptPolicy, StepFunctionsExecutionPolicy, …), inline
statements, and the managed policies SAM attaches without being asked (AWSLambdaBasicExecutionRole, the SQS event
source's AWSLambdaSQSQueueExecutionRole, AWSXrayWriteOnlyAccess with tracing, an EventInvokeConfig destination's
SendMessage). samtranslator — the code CloudFormation's transform runs — turns them into the real roles'
documents; the managed policies' documents are moto's copy of AWS's. What comes out still holds intrinsics
(`!GetAtt Table.Arn`): the caller resolves them against the stack's physical resources.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from moto.iam.aws_managed_policies import aws_managed_policies_data
from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

# Local paths the transform would refuse (it wants the S3 locations `sam package` writes); they hold no IAM.
_CODE_LOCATIONS = ("CodeUri", "ContentUri", "DefinitionUri")
_PRINCIPALS = {"AWS::Lambda::Function": "Role", "AWS::StepFunctions::StateMachine": "RoleArn"}


@dataclass(frozen=True)
class PolicyDocument:
    name: str  # the inline policy's name, or the managed policy's ARN
    document: dict[str, Any]  # still with intrinsics when inline
    managed: bool


@dataclass(frozen=True)
class RoleTemplate:
    logical_id: str  # the role's logical id (SAM's `<Function>Role` or the template's own AWS::IAM::Role)
    assumed_by: str | None  # the function or state machine whose role it is; None for a role passed to a service
    assumed_by_type: str | None  # its CloudFormation type: AWS::Lambda::Function or AWS::StepFunctions::StateMachine
    documents: tuple[PolicyDocument, ...]


def expand_roles(
    template: dict[str, Any], parameters: dict[str, Any], region: str, account_id: str, stack_name: str
) -> dict[str, RoleTemplate]:
    """Every IAM role of the transformed template, by its logical id."""
    transformed = _transform(template, parameters, region, account_id, stack_name)
    resources: dict[str, Any] = transformed["Resources"]
    assumed_by: dict[str, tuple[str, str]] = {}
    for logical_id, resource in resources.items():
        role_property = _PRINCIPALS.get(resource["Type"])
        role = (resource.get("Properties") or {}).get(role_property) if role_property else None
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            assumed_by[role["Fn::GetAtt"][0]] = (logical_id, resource["Type"])
    roles = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        props = resource.get("Properties") or {}
        documents = [
            PolicyDocument(policy["PolicyName"], policy["PolicyDocument"], managed=False)
            for policy in props.get("Policies", [])
        ]
        documents += [
            PolicyDocument(arn, managed_policy(arn), managed=True) for arn in props.get("ManagedPolicyArns", [])
        ]
        principal, principal_type = assumed_by.get(logical_id, (None, None))
        roles[logical_id] = RoleTemplate(logical_id, principal, principal_type, tuple(documents))
    return roles


def managed_policy(arn: str) -> dict[str, Any]:
    """An AWS managed policy's document (moto's copy of AWS's); KeyError for one that is not AWS's."""
    prefix = "arn:aws:iam::aws:policy/"
    if not arn.startswith(prefix):
        raise KeyError(f"{arn} is not an AWS managed policy; only those are attached by SAM")
    document: dict[str, Any] = _managed_policies()[arn.rsplit("/", 1)[-1]]["Document"]
    return document


@cache
def _managed_policies() -> dict[str, Any]:
    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    return policies


def _transform(
    template: dict[str, Any], parameters: dict[str, Any], region: str, account_id: str, stack_name: str
) -> dict[str, Any]:
    sam_template = copy.deepcopy(template)  # the transform rewrites its input
    for logical_id, resource in sam_template["Resources"].items():
        props = resource.get("Properties") or {}
        for key in _CODE_LOCATIONS:
            if isinstance(props.get(key), str):
                props[key] = f"s3://embedded-code/{logical_id}"
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
    }
    # A session only to tell the transform its region; it makes no call (the managed-policy map is given).
    session = boto3.Session(region_name=region, aws_access_key_id="unused", aws_secret_access_key="unused")
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator({}, Parser(), boto_session=session, metrics=metrics)
    transformed: dict[str, Any] = translator.translate(
        sam_template, parameter_values={**parameters, **pseudo}, get_managed_policy_map=dict
    )
    metrics.publish()  # to nowhere; unpublished metrics make the transform complain on stdout when collected
    return transformed
