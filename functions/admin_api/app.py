"""Admin API: the routes of `crossdock.admin` (operators and merchant users, behind the Cognito authorizer).

The function acts on its own stack as the operator's CLI acts on a deployed one: `STACK_RESOURCES` names its
resources by logical id (the physical ids CloudFormation's ListStackResources would give), so the operations find
the table, queues, key, workflows and schedules exactly as `crossdock --stack` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from crossdock.admin import app as admin
from crossdock.admin import context, routes_console
from crossdock.aws.observability import logger, tracer
from crossdock.environment import FunctionEnvironment
from crossdock.operations.target import OperatorTarget, onboarding_from_resources, target_from_resources

# A person waits on the console: a slow AWS answer fails rather than hangs past API Gateway's 29 s.
_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    # Logical id → physical id of the stack's resources the operations use (template.yaml).
    stack_resources: dict[str, str]
    # Where the platforms deliver webhooks (the stack's PublicBaseUrl, else its API's URL).
    webhook_base_url: str
    # Only in the local runtime: where each platform's API answers (its simulators), for connections created here.
    platform_api_bases: dict[str, str] | None = None
    # The console's sign-in (routes_console): the user pool's app client, in the function's region (AWS sets it).
    user_pool_client_id: str | None = None
    aws_region: str = ""


ENV = Environment.read(os.environ)


def _target() -> OperatorTarget:
    where = f"stack {ENV.stage or '-'}"
    clients = {name: boto3.client(name, config=_CONFIG) for name in ("kms", "stepfunctions", "scheduler")}
    onboarding = onboarding_from_resources(
        ENV.stack_resources, clients, ENV.webhook_base_url, where, ENV.platform_api_bases
    )
    return target_from_resources(
        ENV.stack_resources,
        boto3.resource("dynamodb", config=_CONFIG).Table,
        boto3.client("sqs", config=_CONFIG),
        where,
        poll_seconds=0 if ENV.crossdock_local_stack else 1,
        onboarding=onboarding,
    )


context.use(_target)
# Locally the page signs in through the stack's own endpoint (its Cognito pass-through), never AWS's.
routes_console.configure(
    routes_console.ConsoleConfig(
        client_id=ENV.user_pool_client_id or "",
        region=ENV.aws_region,
        cognito_endpoint=routes_console.LOCAL_COGNITO_ENDPOINT if ENV.crossdock_local_stack else "",
    )
)


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], lambda_context: LambdaContext) -> dict[str, Any]:
    return admin.resolve(event, lambda_context)
