"""The embedded stack's roles, made as CloudFormation and Lambda make them, and handed to the IAM enforcement.

At provisioning: every role of the transformed template exists in moto (SAM's `<Function>Role`s under the stack's
name, with their inline policies), each function is created with its own role and gets that role's temporary
credentials (moto's STS `AssumeRole`, session name = the function's name, as Lambda does), each state machine runs
as its role. Once every resource exists the policies are resolved against them and compiled; an SQS event source
mapping is refused as `CreateEventSourceMapping` refuses it when the function's role cannot receive, delete and
read the queue's attributes. The layer's caches of decrypted secrets (and of the API clients holding them) are
kept per function, as per container.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

from crossdock.integrations.clients import ConnectionClients
from crossdock.store.secrets import SecretStore
from crossdock_local.aws.iam_enforcement import IamEnforcement, Identity
from crossdock_local.aws.iam_evaluation import Policies, compile_document
from crossdock_local.aws.iam_policies import RoleTemplate
from crossdock_local.aws.iam_resources import Request
from crossdock_local.aws.lambda_runtime import InProcessLambda

_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"}],
}
_STATES_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com"]}, "Action": "sts:AssumeRole"}],
}
_STATE_MACHINE = "AWS::StepFunctions::StateMachine"
# What Lambda's SQS poller does with the function's role (Lambda developer guide, "Execution role permissions").
_EVENT_SOURCE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


class StackRoles:
    def __init__(
        self,
        enforcement: IamEnforcement,
        roles: dict[str, RoleTemplate],
        iam: Any,
        sts: Any,
        role_name: Callable[[str], str],
    ) -> None:
        self.enforcement = enforcement
        self._roles = roles
        self._iam = iam
        self._sts = sts
        self._role_name = role_name  # logical id → physical name (the stack's naming)
        self._by_principal = {role.assumed_by: role for role in roles.values() if role.assumed_by is not None}
        self._sessions: dict[str, str] = {}  # function or state machine logical id → its session name

    def role_arn(self, principal_logical_id: str) -> str:
        """The ARN of the role SAM makes for a function or state machine, creating it in moto on first ask."""
        role = self._by_principal[principal_logical_id]
        name = self._role_name(role.logical_id)
        arn = f"arn:aws:iam::{self.enforcement.account_id}:role/{name}"
        try:
            self._iam.get_role(RoleName=name)
        except self._iam.exceptions.NoSuchEntityException:
            trust = _STATES_TRUST if role.assumed_by_type == _STATE_MACHINE else _LAMBDA_TRUST
            self._iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        return arn

    def function_credentials(self, function_logical_id: str, function_name: str) -> dict[str, str]:
        """The reserved variables Lambda sets from the function's role: its temporary credentials."""
        self._sessions[function_logical_id] = function_name
        answer = self._sts.assume_role(RoleArn=self.role_arn(function_logical_id), RoleSessionName=function_name)
        credentials = answer["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }

    def finish(self, resolve: Callable[[Any], Any], provisioned: Callable[[str], str | None]) -> None:
        """Resolve and compile every role's policies (every resource they name exists now) and assign callers;
        `provisioned` gives a resource's physical id, None for one its condition left out."""
        enforcement = self.enforcement
        for role in self._roles.values():
            principal_ref = provisioned(role.assumed_by or role.logical_id)
            if principal_ref is None:
                continue
            statements = []
            for document in role.documents:
                resolved = document.document if document.managed else resolve(document.document)
                statements += compile_document(f"{role.logical_id}/{document.name}", resolved, managed=document.managed)
                if not document.managed and role.assumed_by is not None:
                    self._iam.put_role_policy(
                        RoleName=self._role_name(role.logical_id),
                        PolicyName=document.name,
                        # SAM's documents carry no Version (IAM reads them as 2012-10-17; moto insists on it).
                        PolicyDocument=json.dumps({"Version": "2012-10-17", **resolved}),
                    )
            enforcement.add_role(role.logical_id, Policies(tuple(statements)))
            name = self._role_name(role.logical_id)
            arn = f"arn:aws:iam::{enforcement.account_id}:role/{name}"
            if role.assumed_by is None:
                # A role handed to a service (the scheduler's): the service names its session.
                enforcement.assign_service_role(
                    Identity(role.logical_id, name, arn, "scheduler", enforcement.account_id)
                )
                continue
            session = self._sessions.get(role.assumed_by, role.assumed_by)
            identity = Identity(role.logical_id, name, arn, session, enforcement.account_id)
            if role.assumed_by_type == _STATE_MACHINE:
                # Step Functions names the session after the execution; one name per machine is enough here.
                enforcement.assign_state_machine(principal_ref, identity)
            else:
                enforcement.assign_function(role.assumed_by, identity)

    def check_event_source(self, function_logical_id: str, queue_arn: str) -> None:
        """Refuse a mapping the function's role cannot poll, as `CreateEventSourceMapping` does (the deploy fails)."""
        identity = self.enforcement.function_identity(function_logical_id)
        for action in _EVENT_SOURCE_ACTIONS:
            if not self.enforcement.decide(identity.role_logical_id, Request(action, queue_arn)).allowed:
                raise ValueError(
                    f"{function_logical_id}: InvalidParameterValueException: The provided execution role does not "
                    f"have permissions to call {action.split(':')[1]} on SQS ({queue_arn})"
                )


class PerFunction:
    """A dict the layer keeps per container (decrypted secrets, API clients holding them), kept apart for each
    function here, where every function shares the layer's one copy in one process.

    Without it the first function to decrypt a connection's secret, or to build its API client, would spare every
    other function its `kms:Decrypt`, and a role without KMSDecryptPolicy would pass. Keyed by the function running
    on the calling thread (None: the harness's own reads). Only the dict operations the layer uses are offered.
    """

    def __init__(self, lambdas: InProcessLambda) -> None:
        self._lambdas = lambdas
        self._dicts: dict[str | None, dict[Any, Any]] = {}

    def _mine(self) -> dict[Any, Any]:
        spec = self._lambdas.running()
        return self._dicts.setdefault(spec.logical_id if spec is not None else None, {})

    def get(self, key: Any, default: Any = None) -> Any:
        return self._mine().get(key, default)

    def pop(self, key: Any, default: Any = None) -> Any:
        return self._mine().pop(key, default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return self._mine().setdefault(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._mine()[key] = value


# The layer's per-container state that holds what only an AWS call gives (a decrypted secret): attribute names.
_CONTAINER_STATE = ((SecretStore, ("_cache",)), (ConnectionClients, ("_rackbeat", "_shopify", "_pacers")))


def container_state_per_function(stack: ExitStack, lambdas: InProcessLambda) -> None:
    """Every `SecretStore` and `ConnectionClients` made while `stack` is open keeps its state per function."""
    for owner, attributes in _CONTAINER_STATE:
        stack.enter_context(mock.patch.object(owner, "__init__", _per_function_init(owner, attributes, lambdas)))


def _per_function_init(owner: type, attributes: tuple[str, ...], lambdas: InProcessLambda) -> Callable[..., None]:
    original: Callable[..., None] = vars(owner)["__init__"]

    def init(instance: Any, *args: Any, **kwargs: Any) -> None:
        original(instance, *args, **kwargs)
        for attribute in attributes:
            setattr(instance, attribute, PerFunction(lambdas))

    return init
