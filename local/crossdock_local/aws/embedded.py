"""Embedded AWS: runs a SAM template whole, in-process, on moto.

`EmbeddedAws` provisions the template's resources in moto and runs each function's handler in-process when AWS
would: API routes for requests, SQS event source mappings when pumped, and Step Functions Lambda tasks when moto's
ASL interpreter invokes them. Application code cannot tell: its boto3 clients simply reach moto.

Patched in moto while the context is entered (and undone on exit):
- `LambdaFunction.invoke` hands invocations of the template's functions to the in-process handler and reports a
  handler exception as an `Unhandled` function error, so Step Functions Retry/Catch match its class name.
- SQS's clock (visibility timeouts, timestamps), the Step Functions retrier's backoff sleep and Wait states use
  the virtual clock `aws.clock`, so backoff and redelivery happen without real waiting.
- Step Functions executions run on a bounded thread pool instead of a new thread per execution.

EventBridge Scheduler schedules are created in moto (so `get_schedule` answers) and fired on the virtual clock by
`crossdock_local.aws_scheduler`: `drain` runs those that are due, `fire_schedule` runs one now. Schedules the
application creates at run time (in the template's schedule groups) are run the same way (`scheduler`).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import moto
import moto.sqs.models as moto_sqs_models
from botocore.client import BaseClient
from moto.awslambda.models import LambdaFunction
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from crossdock_local.aws import cognito
from crossdock_local.aws.api import ApiGateway, ApiResponse, Route
from crossdock_local.aws.botocore_user_agent import build_user_agents_once
from crossdock_local.aws.clock import VirtualClock
from crossdock_local.aws.dynamodb_answers import write_item_answers_directly
from crossdock_local.aws.dynamodb_expressions import parse_update_expressions_once
from crossdock_local.aws.dynamodb_projection import project_scalars_directly
from crossdock_local.aws.dynamodb_tables import atomic_item_writes, partition_queries
from crossdock_local.aws.iam_enforcement import IamEnforcement
from crossdock_local.aws.iam_stack import StackRoles, container_state_per_function
from crossdock_local.aws.lambda_runtime import (
    InProcessLambda,
    Invocation,
    InvokeResult,
    apply_environment,
    restore_environment,
)
from crossdock_local.aws.moto_dispatch import find_handlers_by_name
from crossdock_local.aws.moto_requests import build_request_environs_directly
from crossdock_local.aws.moto_version import require_patched_moto
from crossdock_local.aws.provisioning import TemplateProvisioning
from crossdock_local.aws.request_signing import skip_signatures
from crossdock_local.aws.scheduler import EmbeddedScheduler, ScheduledRun, following_api_schedules
from crossdock_local.aws.sqs import SqsPoller
from crossdock_local.aws.sqs_attributes import read_queue_attributes_lazily
from crossdock_local.aws.sqs_messages import find_messages_directly
from crossdock_local.aws.step_functions_logging import quiet_absent_choice_variables
from crossdock_local.aws.template import Physical, Resolver
from crossdock_local.aws.usage import ApiCallCounter

PROCESS_DEATHS = frozenset({"Runtime.ExitError", "Sandbox.Timedout"})

__all__ = ["ApiResponse", "EmbeddedAws", "Invocation", "InvokeResult", "Physical", "ScheduledRun", "VirtualClock"]

LOG = logging.getLogger(__name__)


class EmbeddedAws(TemplateProvisioning):
    """`with EmbeddedAws(template=Path("template.yaml")) as aws:` - the stack, running on moto in this process."""

    def __init__(
        self,
        template: Path,
        *,
        parameters: dict[str, str] | None = None,
        stack_name: str = "crossdock",
        region: str = "eu-west-1",
        max_concurrent_executions: int = 16,
        enforce_iam: bool = True,
    ) -> None:
        self.template_path = Path(template).resolve()
        self.stack_name = stack_name
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.clock = VirtualClock()
        self.resources: dict[str, Physical] = {}
        self.sampling_rules: dict[str, dict[str, Any]] = {}  # X-Ray's, by rule name (kept, not applied)
        self.bucket_policies: dict[str, dict[str, Any]] = {}  # S3's, by bucket name (kept, not applied)
        self._parameters = parameters or {}
        self._max_concurrent_executions = max_concurrent_executions
        self._template: dict[str, Any] = {}
        self._resolver: Resolver | None = None
        self._provisioning: set[str] = set()
        self._lambdas = InProcessLambda(self.clock, region)
        self._api = ApiGateway(self._lambdas, self.clock, self.account_id)
        self._calls = ApiCallCounter()
        self.iam = IamEnforcement(self._lambdas, region, self.account_id)  # each function as its role (iam_stack)
        self.iam.enabled = enforce_iam
        self._roles: StackRoles | None = None
        self._poller: SqsPoller | None = None
        self._scheduler: EmbeddedScheduler | None = None
        self._clients: dict[str, Any] = {}
        self._executions: concurrent.futures.ThreadPoolExecutor | None = None
        self._running: set[concurrent.futures.Future[None]] = set()
        self._running_lock = threading.Lock()
        self._exit_stack = ExitStack()

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def __enter__(self) -> EmbeddedAws:
        try:
            self._start()
        except BaseException:
            self._exit_stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit_stack.close()

    def _start(self) -> None:
        require_patched_moto()  # before anything is patched: the patches target one moto release
        stack = self._exit_stack
        saved_env = apply_environment(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
            }
        )
        stack.callback(restore_environment, saved_env)
        mocked = moto.mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        mocked.start()
        stack.callback(mocked.stop)
        self._patch_moto(stack)
        self.iam.install(stack)
        container_state_per_function(stack, self._lambdas)
        self._calls.install()
        stack.callback(self._calls.uninstall)
        self._install_crash_point(stack)
        stack.callback(self._lambdas.unload)
        self._provision()

    def _install_crash_point(self, stack: ExitStack) -> None:
        """Every AWS API call a function makes first asks the runtime whether its process has just died (chaos
        faults: `lambdas.crash_faults`); nothing is patched when no crash is ever armed but this check."""
        client_class: Any = BaseClient  # _make_api_call is private to botocore, hence untyped
        original = client_class._make_api_call
        lambdas = self._lambdas

        def make_api_call(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            lambdas.crash_if_armed()
            return original(client, operation_name, api_params)

        client_class._make_api_call = make_api_call
        stack.callback(setattr, client_class, "_make_api_call", original)

    def _patch_moto(self, stack: ExitStack) -> None:
        clock = self.clock
        self._patch_lambda_invoke(stack)
        cognito.install(stack, clock)
        stack.enter_context(following_api_schedules(lambda: self._scheduler))
        stack.enter_context(mock.patch.object(moto_sqs_models, "unix_time", lambda dt=None: clock.time()))
        stack.enter_context(mock.patch.object(moto_sqs_models, "unix_time_millis", lambda dt=None: clock.time() * 1000))
        # Waits are recorded too: an Express workflow would be billed for them (bench/cost_per_order.py).
        waiting = self._calls.timed(clock.sleep)
        stack.enter_context(mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=waiting)))
        stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", _virtual_wait(waiting)))
        self._executions = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._max_concurrent_executions, thread_name_prefix="embedded-sfn"
        )
        stack.callback(self._stop_executions)
        stack.enter_context(mock.patch.object(ExecutionWorker, "start", self._pooled_execution_start()))
        stack.enter_context(mock.patch.object(StepFunctionsParserBackend, "start_execution", _named_start_execution()))
        stack.enter_context(mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_parse_once())))
        quiet_absent_choice_variables(stack)
        atomic_item_writes(stack)
        partition_queries(stack)
        write_item_answers_directly(stack)
        parse_update_expressions_once(stack)
        project_scalars_directly(stack)
        read_queue_attributes_lazily(stack)
        find_messages_directly(stack)
        find_handlers_by_name(stack)
        build_request_environs_directly(stack)
        build_user_agents_once(stack)
        skip_signatures(stack)
        # moto makes a new boto3 client for every Lambda task of every execution (tens of milliseconds each, and
        # under the runtime's lock, see below); its clients differ by region and service only (fixed test
        # credentials, whatever the state's), and botocore clients are safe to share between threads, so one per
        # region and service serves every execution, as the Step Functions service keeps its connections.
        # Making a boto3 client reads os.environ whole (proxies, IMDS settings) while an invocation on another
        # thread may be restoring its function's variables: a dict changed during iteration → KeyError. The
        # workflow threads make their Lambda clients under the runtime's lock, as the invocations change os.environ.
        original_client_for = vars(lambda_eval_utils)["boto_client_for"]  # imported there, not exported
        runtime_lock = self._lambdas.environment_lock
        task_clients: dict[tuple[str, str], Any] = {}

        def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            client = task_clients.get((region, service))
            if client is None:
                with runtime_lock:
                    client = task_clients.get((region, service))
                    if client is None:
                        client = original_client_for(region=region, service=service, state_credentials=None)
                        task_clients[(region, service)] = client
            return client

        stack.enter_context(mock.patch.object(lambda_eval_utils, "boto_client_for", client_for))

    def _patch_lambda_invoke(self, stack: ExitStack) -> None:
        """Invocations of the template's functions run in-process; anything else keeps moto's behaviour.

        Without Docker, moto's backend answers `Invoke` itself (echoing the payload); `InvokeAsync` goes through
        `LambdaFunction.invoke`. Both are intercepted.
        """
        backend_invoke = LambdaSimpleBackend.invoke
        function_invoke = LambdaFunction.invoke

        def invoke_via_backend(
            backend: LambdaSimpleBackend, name: str, qualifier: str | None, body: Any, headers: Any, response: Any
        ) -> str | bytes | None:
            payload = self._invoke_in_process(name, body, response)
            return backend_invoke(backend, name, qualifier, body, headers, response) if payload is None else payload

        def invoke_via_function(fn: LambdaFunction, body: Any, headers: Any, response: Any) -> str | bytes:
            payload = self._invoke_in_process(fn.function_arn, body, response)
            return function_invoke(fn, body, headers, response) if payload is None else payload

        stack.enter_context(mock.patch.object(LambdaSimpleBackend, "invoke", invoke_via_backend))
        stack.enter_context(mock.patch.object(LambdaFunction, "invoke", invoke_via_function))

    def _invoke_in_process(self, name_or_arn: str, body: Any, response_headers: dict[str, str]) -> bytes | None:
        """The invocation's response payload, or None when the function is not one of the template's."""
        spec = self._lambdas.find(name_or_arn)
        if spec is None:
            return None
        result = self._lambdas.invoke(spec, json.loads(body) if body else {}, source="lambda")
        if result.error is not None:
            # An uncaught exception is "Unhandled"; Step Functions then matches Retry/Catch on its errorType.
            response_headers["x-amz-function-error"] = "Unhandled"
            if result.error["errorType"] in PROCESS_DEATHS:
                # Step Functions reports a function that died without an error of its own (out of memory, timed
                # out, killed) as Lambda.Unknown (Step Functions guide, "Handle Lambda service exceptions").
                return json.dumps({**result.error, "errorType": "Lambda.Unknown"}).encode()
            return json.dumps(result.error).encode()
        return json.dumps(result.payload).encode()

    def _pooled_execution_start(self) -> Callable[[ExecutionWorker], None]:
        """moto starts a thread per execution; queue them on the bounded pool instead (they stay RUNNING)."""

        def start(worker: ExecutionWorker) -> None:
            assert self._executions is not None
            future = self._executions.submit(worker._execution_logic)
            with self._running_lock:
                self._running.add(future)
            future.add_done_callback(self._execution_done)

        return start

    def _execution_done(self, future: concurrent.futures.Future[None]) -> None:
        with self._running_lock:
            self._running.discard(future)
        if not future.cancelled() and future.exception() is not None:
            LOG.error("state machine execution crashed", exc_info=future.exception())

    def _stop_executions(self) -> None:
        """Drop queued executions and give running ones a moment: after exit moto is gone from under them."""
        assert self._executions is not None
        self._executions.shutdown(wait=False, cancel_futures=True)
        with self._running_lock:
            running = list(self._running)
        concurrent.futures.wait(running, timeout=10)

    def _client(self, service: str, role: str | None = None) -> Any:
        """A boto3 client of the runtime itself; its calls count as `role` ("runtime") or not at all (None)."""
        key = f"{service}:{role}"
        if key not in self._clients:
            client: Any = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
            self._clients[key] = self._calls.assign(client, role)
        return self._clients[key]

    # -- resources ----------------------------------------------------------------------------------------------

    def queue_url(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def queue_arn(self, logical_id: str) -> str:
        return str(self.resources[logical_id].attrs["Arn"])

    def table_name(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def key_id(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def state_machine_arn(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def function_name(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def schedule_name(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def function_env(self, logical_id: str) -> dict[str, str]:
        """The function's resolved Environment.Variables (Globals merged)."""
        spec = self._lambdas.find(logical_id)
        if spec is None:
            raise KeyError(f"{logical_id} is not a function of this template")
        return dict(spec.environment)

    def update_function_environment(self, logical_id: str, variables: dict[str, str]) -> None:
        """Merge `variables` into the function's environment, as `UpdateFunctionConfiguration` does: for values
        only known once the stack runs (the local endpoint's address). Invocations from now on see them, in new
        containers (a cold start), as after a configuration change in AWS."""
        spec = self._lambdas.find(logical_id)
        if spec is None:
            raise KeyError(f"{logical_id} is not a function of this template")
        spec.environment.update(variables)  # the spec is shared by its name, ARN and logical id
        self._lambdas.retire(spec.logical_id)
        self._client("lambda").update_function_configuration(
            FunctionName=spec.name, Environment={"Variables": dict(spec.environment)}
        )

    def meter_request_units(self, enabled: bool = True) -> None:
        """Meter DynamoDB's request units from the items' sizes from now on (`usage()["dynamodb"]`). Off by default:
        it reads every written item before and after the write, which slows the stack by about a fifth."""
        self._calls.meter_dynamodb = enabled

    def exclude_from_usage(self, client: Any) -> Any:
        """Leave a boto3 client's calls out of `usage()`: a harness reading state to audit a run is not work the
        stack does. The client must live as long as this runtime."""
        return self._calls.assign(client, None)

    @property
    def scheduler(self) -> EmbeddedScheduler:
        """The embedded scheduler: also runs the schedules the application creates (by group and name)."""
        assert self._scheduler is not None
        return self._scheduler

    @property
    def schedule_runs(self) -> list[ScheduledRun]:
        """Every run of a schedule so far, oldest first."""
        assert self._scheduler is not None
        return list(self._scheduler.runs)

    @property
    def routes(self) -> list[Route]:
        return list(self._api.routes)

    @property
    def lambdas(self) -> InProcessLambda:
        """The in-process Lambda runtime: its per-function stats and its crash faults (the chaos suite's)."""
        return self._lambdas

    def queue_depth(self, logical_id: str) -> int:
        """Messages in the queue, visible or in flight (ApproximateNumberOfMessages + …NotVisible + …Delayed)."""
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        found = self._client("sqs").get_queue_attributes(QueueUrl=self.queue_url(logical_id), AttributeNames=names)
        return sum(int(found["Attributes"].get(name, 0)) for name in names)

    @property
    def invocations(self) -> list[Invocation]:
        """The most recent Lambda invocations (up to 10,000), oldest first."""
        return list(self._lambdas.invocations)

    # -- running ------------------------------------------------------------------------------------------------

    def api_request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        base64: bool = False,
        query: dict[str, str | list[str]] | None = None,
    ) -> ApiResponse:
        """One request to the template's REST API, as API Gateway would serve it (path without the stage)."""
        return self._api.request(method, path, headers or {}, body, base64_body=base64, query=query)

    def invoke(self, logical_id: str, event: Any) -> InvokeResult:
        """Invoke a function directly (RequestResponse), as `lambda.invoke` would."""
        spec = self._lambdas.find(logical_id)
        if spec is None:
            raise KeyError(f"{logical_id} is not a function of this template")
        return self._lambdas.invoke(spec, event, source="lambda")

    def fire_due_schedules(self) -> list[ScheduledRun]:
        """Run the targets of the schedules whose time has come on the virtual clock (`drain` does this too)."""
        assert self._scheduler is not None
        return self._scheduler.fire_due()

    def fire_schedule(self, logical_id: str) -> ScheduledRun:
        """Run a schedule's target now, whatever its time (its regular runs stay as they were)."""
        assert self._scheduler is not None
        return self._scheduler.fire(self.schedule_name(logical_id))

    def next_schedule_time(self, logical_id: str) -> float | None:
        """Virtual epoch seconds of the schedule's next run; None if it will not run again."""
        assert self._scheduler is not None
        return self._scheduler.due_at(self.schedule_name(logical_id))

    def pump(self) -> int:
        """One polling round over every SQS event source mapping; returns how many records were delivered."""
        assert self._poller is not None
        return self._poller.poll()

    def set_mapping_enabled(self, function_logical_id: str, enabled: bool) -> None:
        """Switch a function's SQS event source mappings off or on, as `UpdateEventSourceMapping(Enabled=...)`
        does: messages wait on the queue meanwhile, and `drain` no longer waits for them."""
        assert self._poller is not None
        if enabled:
            self._poller.disabled.discard(function_logical_id)
        else:
            self._poller.disabled.add(function_logical_id)

    def wait_for_executions(self, timeout: float = 30.0) -> None:
        """Return once no state machine execution is running or queued; TimeoutError after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._running_lock:
                running = list(self._running)
            if not running:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(running)} state machine executions still running after {timeout}s")
            concurrent.futures.wait(running, timeout=remaining)

    def drain(self, max_rounds: int = 1000, execution_timeout: float = 30.0) -> int:
        """Run until the mapped queues are empty and no execution runs; returns the records delivered.

        When only in-flight (invisible) or delayed messages remain, the virtual clock jumps to the earliest moment
        one becomes visible instead of waiting. Schedules that have come due (also through such a jump) run first
        in each round; the clock never jumps to a schedule, as they recur without end. Raises RuntimeError if the
        stack has not settled in `max_rounds`.
        """
        delivered = 0
        for _ in range(max_rounds):
            fired = self.fire_due_schedules()
            delivered_now = self.pump()
            delivered += delivered_now
            self.wait_for_executions(execution_timeout)
            if delivered_now or fired:
                continue
            visible, next_visible_at = self._mapped_queue_state()
            if visible:
                continue
            if next_visible_at is None:
                return delivered
            self.clock.advance_to(next_visible_at)
        raise RuntimeError(f"the stack did not settle within {max_rounds} rounds")

    def _mapped_queue_state(self) -> tuple[int, float | None]:
        """Visible messages on the mapped queues, and the epoch seconds at which the next hidden one shows."""
        assert self._poller is not None
        backend = sqs_backends[self.account_id][self.region]
        visible = 0
        hidden_until: list[float] = []
        # One reading of the clock for the whole walk (moto's `visible` and `delayed` read it per message, in
        # milliseconds: visible once past `visible_at`, delayed until `delayed_until`).
        now = self.clock.time() * 1000
        for mapping in self._poller.active_mappings():
            queue = backend.get_queue(mapping.queue_url.rsplit("/", 1)[-1])
            # A FIFO queue hands out nothing of a message group while one of its messages is in flight: such a
            # message is visible but cannot be received until the in-flight one is deleted or shows again.
            blocked = {
                message.group_id: message.visible_at
                for message in queue.pending_messages
                if queue.fifo_queue and message.group_id is not None and not now > message.visible_at
            }
            for message in list(queue._messages):
                showing = now > message.visible_at and not now < message.delayed_until
                if showing and message.group_id not in blocked:
                    visible += 1
                elif showing and message.group_id is not None:
                    hidden_until.append(blocked[message.group_id] / 1000 + 0.001)
                else:
                    # Strictly after: moto shows a message once the clock is past its visibility time.
                    hidden_until.append(max(message.visible_at, message.delayed_until) / 1000 + 0.001)
        return visible, min(hidden_until, default=None)

    # -- usage --------------------------------------------------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        """Counters to price the stack's AWS cost.

        api_calls: {service: {operation: n}} made by application code (handlers, tests, the demo);
        runtime_calls: same, made by the embedded AWS on the application's behalf (the SQS poller: AWS bills
        these as SQS requests); lambda: per function logical id, invocations, errors, cold starts, billed
        milliseconds (real time, 1 ms steps), GB-seconds and invocations by source; api_requests: REST API
        requests; states: per state machine, executions by status and state transitions (retries included, as
        billed) read from the execution histories; states_waited_seconds: retry backoff and Wait states slept by
        all executions; dynamodb: per table logical id, on-demand read and write request units from the items'
        sizes (once `meter_request_units` is on); sqs: per queue type, billed requests (64 KB chunks) by
        operation and empty receives; scheduler: schedule runs (invocations of their targets). See
        `crossdock_local.aws_usage`.
        """
        return {
            "api_calls": _copy_counts(self._calls.app),
            "runtime_calls": _copy_counts(self._calls.runtime),
            "api_requests": self._api.requests,
            "lambda": {
                logical_id: {**vars(stats), "by_source": dict(stats.by_source), "memory_mb": self._memory(logical_id)}
                for logical_id, stats in self._lambdas.stats.items()
            },
            "states": {
                logical_id: self._state_machine_usage(physical.ref)
                for logical_id, physical in self.resources.items()
                if self._template["Resources"].get(logical_id, {}).get("Type") == "AWS::Serverless::StateMachine"
            },
            "states_waited_seconds": self._calls.waited_seconds,
            "dynamodb": {
                self._logical_id(table): {
                    **vars(units),
                    "by_operation": dict(units.by_operation),
                    "writes_by_kind": dict(units.writes_by_kind),
                }
                for table, units in self._calls.dynamodb.items()
            },
            "sqs": {
                queue_type: {"billed": dict(requests.billed), "empty_receives": requests.empty_receives}
                for queue_type, requests in self._calls.sqs.items()
            },
            "scheduler": {"invocations": len(self.schedule_runs)},
        }

    def _logical_id(self, physical_ref: str) -> str:
        return next((lid for lid, physical in self.resources.items() if physical.ref == physical_ref), physical_ref)

    def _memory(self, logical_id: str) -> int:
        spec = self._lambdas.find(logical_id)
        assert spec is not None
        return spec.memory_mb

    def _state_machine_usage(self, arn: str) -> dict[str, Any]:
        sfn = self._client("stepfunctions")
        by_status: dict[str, int] = {}
        transitions = 0
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            for execution in page["executions"]:
                by_status[execution["status"]] = by_status.get(execution["status"], 0) + 1
                transitions += _transitions(sfn, execution["executionArn"])
        return {"executions": sum(by_status.values()), "by_status": by_status, "transitions": transitions}


def _transitions(sfn: Any, execution_arn: str) -> int:
    """Billed state transitions: every state entered, plus every retry of a task."""
    types: list[str] = [
        event["type"]
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        for event in page["events"]
    ]
    entered = sum(event_type.endswith("StateEntered") for event_type in types)
    scheduled = sum(event_type in ("LambdaFunctionScheduled", "TaskScheduled") for event_type in types)
    return entered + max(0, scheduled - types.count("TaskStateEntered"))


def _named_start_execution() -> Callable[..., Any]:
    """moto names an execution started without a name "None" (so a second one clashes); AWS uses a UUID."""
    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        backend: StepFunctionsParserBackend, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    return start_execution


def _parse_once() -> Callable[[str], tuple[Any, Any]]:
    """moto parses a state machine's definition with ANTLR at every execution's start (about a tenth of a second
    each, the largest cost of a short execution). The parse tree depends on the definition alone, so it is kept per
    definition; the evaluation components are still built afresh from it for each execution, as before."""
    original = AmazonStateLanguageParser.parse
    trees: dict[str, Any] = {}

    def parse(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, tree = original(definition)
            trees[definition] = tree
            return program, tree
        return Preprocessor().visit(tree), tree

    return parse


def _virtual_wait(sleep: Callable[[float], None]) -> Callable[[WaitFunction, Environment, int], None]:
    def wait_interval(_wait: WaitFunction, env: Environment, wait_seconds: int) -> None:
        if wait_seconds > 0 and env.is_running():
            sleep(wait_seconds)

    return wait_interval


def _copy_counts(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {service: dict(operations) for service, operations in counts.items()}
