"""IAM enforced on the embedded stack: every AWS call a function or workflow makes is allowed by its role, or fails
as AWS fails it.

Who calls: in AWS each function runs in its own containers with its role's credentials, and a workflow's tasks run
as the state machine's role. Here every function shares one process and the layer's cached boto3 clients, so a
client's credentials do not tell the functions apart; the caller is the one whose code runs on the calling thread
— the function whose handler runs there (`InProcessLambda.running`), else the state machine whose execution runs
there (and on the threads moto starts for its tasks). Each function still gets its own role's credentials (moto's
STS `AssumeRole`, as Lambda does) in its environment, so code reading them sees what it would in AWS. The harness,
the operator CLI and tests call as the account's administrator: nothing of theirs is checked.

What a denial looks like: botocore's `ClientError` with the service's code (`AccessDeniedException`, SQS's and
S3's `AccessDenied`), AWS's message ("User: arn:aws:sts::…:assumed-role/ROLE/SESSION is not authorized to
perform: ACTION on resource: ARN because no identity-based policy allows the ACTION action") and the service's
status, raised before the request reaches moto: nothing is written. The function handles or logs it as any error.

Decisions are cached per (role, action, resource, condition context); the distinct requests each role made are
kept (`observed`), so a test can ask which statement was never needed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.kms.models import kms_backends
from moto.kms.utils import _deserialize_ciphertext_blob
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState as ExecuteState
from moto.stepfunctions.parser.asl.eval.environment import Environment

from crossdock_local.aws.iam_evaluation import Decision, Policies
from crossdock_local.aws.iam_resources import Request, UnknownOperation, requests_for
from crossdock_local.aws.lambda_runtime import InProcessLambda

LOG = logging.getLogger(__name__)

# botocore's service name → (error code, HTTP status) of an authorization failure, as each service answers.
_DENIALS = {
    "dynamodb": ("AccessDeniedException", 400),
    "kms": ("AccessDeniedException", 400),
    "stepfunctions": ("AccessDeniedException", 400),
    "scheduler": ("AccessDeniedException", 403),
    "lambda": ("AccessDeniedException", 403),
    "sqs": ("AccessDenied", 403),
    "s3": ("AccessDenied", 403),
}
_DEFAULT_DENIAL = ("AccessDeniedException", 400)


@dataclass(frozen=True)
class Identity:
    """A role as a caller: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`."""

    role_logical_id: str
    role_name: str
    role_arn: str
    session_name: str
    account_id: str

    @property
    def principal(self) -> str:
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"


@dataclass(frozen=True)
class _Decided:
    allowed: bool
    explicit_deny: bool


class IamEnforcement:
    def __init__(self, lambdas: InProcessLambda, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self._lambdas = lambdas
        self.policies: dict[str, Policies] = {}  # by role logical id
        self._function_identities: dict[str, Identity] = {}  # by function logical id
        self._machine_identities: dict[str, Identity] = {}  # by state machine ARN
        self._role_identities: dict[str, Identity] = {}  # by role ARN, for roles handed to a service
        self._acting = threading.local()
        self._decisions: dict[tuple[str, Request], _Decided] = {}
        self.observed: dict[str, set[Request]] = {}  # role logical id → every distinct request it made
        self.enabled = True

    # -- who is who ---------------------------------------------------------------------------------------------

    def add_role(self, logical_id: str, policies: Policies) -> None:
        self.policies[logical_id] = policies
        self.observed.setdefault(logical_id, set())

    def assign_function(self, function_logical_id: str, identity: Identity) -> None:
        self._function_identities[function_logical_id] = identity

    def assign_state_machine(self, state_machine_arn: str, identity: Identity) -> None:
        self._machine_identities[state_machine_arn] = identity

    def assign_service_role(self, identity: Identity) -> None:
        self._role_identities[identity.role_arn] = identity

    def function_identity(self, function_logical_id: str) -> Identity:
        return self._function_identities[function_logical_id]

    @contextmanager
    def acting_as_state_machine(self, state_machine_arn: str) -> Iterator[None]:
        """The calls made on this thread meanwhile are the state machine's (its execution runs here)."""
        outer = getattr(self._acting, "identity", None)
        self._acting.identity = self._machine_identities.get(state_machine_arn)
        try:
            yield
        finally:
            self._acting.identity = outer

    def caller(self) -> Identity | None:
        spec = self._lambdas.running()
        if spec is not None:
            return self._function_identities.get(spec.logical_id)
        identity: Identity | None = getattr(self._acting, "identity", None)
        return identity

    # -- deciding -----------------------------------------------------------------------------------------------

    def authorize(self, identity: Identity, service: str, operation: str, params: dict[str, Any]) -> None:
        """Returns if `identity` may make the call; raises the service's AccessDenied `ClientError` otherwise."""
        try:
            requests = requests_for(self, service, operation, params)
        except UnknownOperation as unknown:
            # Failing closed: an operation nobody wrote a resource rule for is refused until someone does.
            message = (
                f"User: {identity.principal} is not authorized to perform: {unknown} (the embedded IAM has no "
                "resource rule for this operation: add one to crossdock_local/aws/iam_resources.py)"
            )
            raise _denial(service, operation, message) from None
        for request in requests:
            decided = self.decide(identity.role_logical_id, request)
            if not decided.allowed:
                raise _denial(service, operation, _message(identity, request, decided))

    def decide(self, role_logical_id: str, request: Request) -> _Decided:
        key = (role_logical_id, request)
        decided = self._decisions.get(key)
        if decided is None:
            decision: Decision = self.policies[role_logical_id].decide(
                request.action, request.resource, request.context_map
            )
            decided = _Decided(decision.allowed, decision.explicit_deny)
            self._decisions[key] = decided
            self.observed[role_logical_id].add(request)
        return decided

    def scheduled_invoke_denied(self, role_arn: str | None, function_arn: str) -> str | None:
        """Whether a schedule's role may invoke its target (None) or the error its run fails with: the scheduler
        assumes the target's RoleArn for every run (Scheduler user guide, "Set up the execution role")."""
        if not self.enabled:
            return None
        identity = self._role_identities.get(role_arn or "")
        if identity is None:
            LOG.warning(
                "schedule target %s: %s is not a role of the stack the scheduler can assume", function_arn, role_arn
            )
            return "AccessDeniedException"
        try:
            self.authorize(identity, "lambda", "Invoke", {"FunctionName": function_arn})
        except ClientError as denied:
            LOG.warning("schedule target %s: %s", function_arn, denied.response["Error"]["Message"])
            return "AccessDeniedException"
        return None

    # -- what only the services know ----------------------------------------------------------------------------

    def kms_key_id(self, key_id: str | None, ciphertext: bytes | None) -> str:
        backend = kms_backends[self.account_id][self.region]
        if key_id is None:
            if ciphertext is None:
                raise UnknownOperation("kms: neither a KeyId nor a ciphertext names the key")
            # moto's ciphertext starts with the key's id, as AWS's carries its key in its header.
            key_id = str(_deserialize_ciphertext_blob(ciphertext).key_id)
        resolved: str = backend.any_id_to_key_id(key_id)
        return resolved

    # -- the hook -----------------------------------------------------------------------------------------------

    def install(self, stack: ExitStack) -> None:
        """Every botocore call is checked before it is sent; undone when `stack` closes."""
        client_class: Any = BaseClient  # _make_api_call is private to botocore, hence untyped
        original: Callable[..., Any] = client_class._make_api_call
        enforcement = self

        def make_api_call(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            if enforcement.enabled:
                identity = enforcement.caller()
                if identity is not None:
                    service = client.meta.service_model.service_name
                    enforcement.authorize(identity, service, operation_name, api_params)
            return original(client, operation_name, api_params)

        client_class._make_api_call = make_api_call
        stack.callback(setattr, client_class, "_make_api_call", original)
        stack.enter_context(mock.patch.object(ExecuteState, "_evaluate_with_timeout", self._as_state_machine()))
        stack.enter_context(mock.patch.object(execute_state, "Thread", self._inheriting_thread()))

    def _as_state_machine(self) -> Callable[[ExecuteState, Environment], None]:
        """A task's work (a Lambda invoke, an SDK call) is its state machine's: the machine is read from the
        execution's context."""
        original: Callable[[ExecuteState, Environment], None] = ExecuteState._evaluate_with_timeout
        enforcement = self

        def evaluate_with_timeout(state: ExecuteState, env: Environment) -> None:
            machine = env.states.context_object.context_object_data["StateMachine"]["Id"]
            with enforcement.acting_as_state_machine(machine):
                original(state, env)

        return evaluate_with_timeout

    def _inheriting_thread(self) -> type[threading.Thread]:
        """moto runs each task on a thread of its own (to time it out): that thread acts as the one starting it."""
        acting = self._acting

        class InheritingThread(threading.Thread):
            def __init__(self, target: Callable[[], Any] | None = None, **kwargs: Any) -> None:
                identity = getattr(acting, "identity", None)

                def run_as_starter() -> None:
                    acting.identity = identity
                    if target is not None:
                        target()

                super().__init__(target=run_as_starter, **kwargs)

        return InheritingThread


def _message(identity: Identity, request: Request, decided: _Decided) -> str:
    why = (
        "with an explicit deny in an identity-based policy"
        if decided.explicit_deny
        else f"because no identity-based policy allows the {request.action} action"
    )
    return (
        f"User: {identity.principal} is not authorized to perform: {request.action} on resource: {request.resource} "
        f"{why}"
    )


def _denial(service: str, operation: str, message: str) -> ClientError:
    code, status = _DENIALS.get(service, _DEFAULT_DENIAL)
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
    }
    return ClientError(response, operation)
