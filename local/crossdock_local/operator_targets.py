"""Connecting the operator commands to a stack: a deployed one by its CloudFormation name, or the embedded one that
`crossdock serve` runs, through the endpoint it wrote to its state file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from crossdock.operations.errors import NotFound, OperatorError
from crossdock.operations.target import (
    Onboarding,
    OperatorTarget,
    onboarding_from_resources,
    stack_resources,
    target_from_resources,
)
from crossdock.operations.users import UserDirectory

DEFAULT_STATE_FILE = ".crossdock-state.json"
# An operator waits for a person; a few retries of a throttled call are better than a failed command.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


def aws_target(
    stack: str, profile: str | None = None, region: str | None = None, *, onboarding: bool = False
) -> OperatorTarget:
    """The deployed stack `stack`, with the credentials of `profile` (or the default chain); with `onboarding`, also
    its key, initial-sync workflow, poll schedules and webhook address (one DescribeStacks more)."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as missing:
        raise NotFound(str(missing)) from missing
    if not session.region_name:
        raise OperatorError("no AWS region: give --region, or set one for the profile")
    cloudformation: Any = session.client("cloudformation", config=_CONFIG)
    resources = stack_resources(cloudformation, stack)
    where = f"stack {stack} in {session.region_name}" + (f" (profile {profile})" if profile else "")
    onboard = None
    if onboarding:
        clients = {name: session.client(name, config=_CONFIG) for name in ("kms", "stepfunctions", "scheduler")}
        onboard = onboarding_from_resources(resources, clients, _webhook_base_url(cloudformation, stack), where)
    return target_from_resources(
        resources,
        session.resource("dynamodb", config=_CONFIG).Table,
        session.client("sqs", config=_CONFIG),
        where,
        onboarding=onboard,
    )


def _webhook_base_url(cloudformation: Any, stack: str) -> str:
    """What the install function gives Shopify and Rackbeat as the webhook address: the stack's PublicBaseUrl
    parameter, or, left empty, its API's URL (the ApiUrl output; template.yaml)."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    base = parameters.get("PublicBaseUrl") or outputs.get("ApiUrl")
    if not base:
        raise OperatorError(f"stack {stack} has neither a PublicBaseUrl parameter nor an ApiUrl output")
    return str(base)


def local_target(state_file: str = DEFAULT_STATE_FILE) -> OperatorTarget:
    """The embedded stack of a running `crossdock serve`, over HTTP."""
    path = Path(state_file)
    if not path.exists():
        raise NotFound(f"no state file {path}: start `crossdock serve` (it writes one) or give its path to --local")
    try:
        state = json.loads(path.read_text())
        aws = state["aws"]
        endpoint_url, region, resources = aws["endpoint_url"], aws["region"], aws["resources"]
        # `crossdock serve`'s own endpoint, where webhooks arrive: without it the target can look but not onboard.
        base_url = state.get("base_url")
    except (ValueError, KeyError, TypeError) as unreadable:
        raise OperatorError(
            f"{path} has no AWS endpoint ({unreadable}): it was written by an older `crossdock serve`; restart it"
        ) from unreadable
    # moto accepts any credentials; these keep boto3 from looking for real ones (and never sending them).
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
    client_options: Any = {"endpoint_url": endpoint_url, "config": _CONFIG}
    where = f"the embedded stack at {endpoint_url}"
    clients = {name: session.client(name, **client_options) for name in ("kms", "stepfunctions", "scheduler")}
    return target_from_resources(
        resources,
        session.resource("dynamodb", **client_options).Table,
        session.client("sqs", **client_options),
        where,
        # Its SQS runs on the stack's virtual clock, which does not move while a long poll waits.
        poll_seconds=0,
        onboarding=local_onboarding(resources, clients, str(base_url), where) if base_url else None,
    )


def local_onboarding(resources: Any, clients: Any, base_url: str, description: str) -> Onboarding:
    """The embedded stack's onboarding: webhooks come to `crossdock serve`'s endpoint, and connections created
    there talk to the simulators it serves under `/_sim/<system>`."""
    base = base_url.rstrip("/")
    api_bases = {
        "shopify": f"{base}/_sim/shopify",
        "rackbeat": f"{base}/_sim/rackbeat/api/",
        "shopbox": f"{base}/_sim/shopbox/api/v3",
        # Webshipper's API answers per account (`https://<account>.api.webshipper.io/v2`): a template.
        "webshipper": f"{base}/_sim/webshipper/{{account}}/v2",
        # PeakWMS's answers at one host for every customer; the simulator serves each under its name: a template.
        "peakwms": f"{base}/_sim/peakwms/{{account}}/api/integration/v1",
    }
    return onboarding_from_resources(resources, clients, base, description, api_bases)


USER_POOL = "UserPool"


def aws_user_directory(stack: str, profile: str | None = None, region: str | None = None) -> UserDirectory:
    """The user pool of the deployed stack `stack` (its UserPool resource), with the credentials of `profile`."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as missing:
        raise NotFound(str(missing)) from missing
    if not session.region_name:
        raise OperatorError("no AWS region: give --region, or set one for the profile")
    resources = stack_resources(session.client("cloudformation", config=_CONFIG), stack)
    where = f"stack {stack} in {session.region_name}" + (f" (profile {profile})" if profile else "")
    return _user_directory(resources, session.client("cognito-idp", config=_CONFIG), where)


def local_user_directory(state_file: str = DEFAULT_STATE_FILE) -> UserDirectory:
    """The user pool of a running `crossdock serve`, through its AWS endpoint (moto's cognito-idp)."""
    path = Path(state_file)
    if not path.exists():
        raise NotFound(f"no state file {path}: start `crossdock serve` (it writes one) or give its path to --local")
    try:
        aws = json.loads(path.read_text())["aws"]
        endpoint_url, region, resources = aws["endpoint_url"], aws["region"], aws["resources"]
    except (ValueError, KeyError, TypeError) as unreadable:
        raise OperatorError(f"{path} has no AWS endpoint ({unreadable}): restart `crossdock serve`") from unreadable
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
    client = session.client("cognito-idp", endpoint_url=endpoint_url, config=_CONFIG)
    return _user_directory(resources, client, f"the embedded stack at {endpoint_url}")


def _user_directory(resources: dict[str, str], cognito: Any, where: str) -> UserDirectory:
    if USER_POOL not in resources:
        raise OperatorError(f"{where} has no {USER_POOL}: deploy the current template.yaml to have users")
    return UserDirectory(cognito, resources[USER_POOL], where)
