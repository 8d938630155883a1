"""In-process Lambda: runs a function's handler from its source file the way the Lambda runtime would.

Every handler invocation holds one re-entrant lock, because `os.environ` is process-wide: while a handler's module
is imported and while it runs, the environment holds that function's own variables (on top of the process
environment) and nothing of any other function's, so a function that forgot a variable fails here as in AWS.
The price is that invocations of all functions are serialised; the handlers here are I/O-light (moto and
in-process simulators), so this costs little and keeps the isolation exact. A nested synchronous invoke from
inside a handler runs in the same thread (the lock is re-entrant) with the inner function's environment swapped in.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crossdock_local.aws.clock import VirtualClock
from crossdock_local.aws.logs import LogListener, function_output

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str  # "module.function", as in the template
    runtime: str
    timeout: int
    memory_mb: int
    environment: dict[str, str]
    # Its role's temporary credentials, set by Lambda as reserved variables (not part of its configuration).
    credentials: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InvokeResult:
    payload: Any  # the handler's result after a JSON round trip, or the error payload
    error: dict[str, Any] | None  # {"errorMessage", "errorType", "requestId", "stackTrace"} when the handler raised


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id
    source: str  # what triggered it: "api", "sqs", "lambda" (Invoke API, Step Functions tasks)
    request_id: str
    started_at: float  # virtual epoch seconds
    duration_ms: float  # real time spent in init + handler
    cold_start: bool
    error_type: str | None


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    billed_ms: int = 0
    gb_seconds: float = 0.0
    by_source: dict[str, int] = field(default_factory=dict)


class LambdaRuntimeError(Exception):
    """An error the Lambda runtime itself reports (its errorType is not an exception class name)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class LambdaContext:
    """The context object the Python runtime passes as the handler's second argument."""

    def __init__(self, spec: FunctionSpec, clock: VirtualClock, request_id: str) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        day = datetime.fromtimestamp(clock.time(), tz=UTC).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._clock = clock
        self._deadline = clock.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.monotonic()) * 1000))


class ProcessCrash(BaseException):
    """The function's process died (killed, out of memory): a BaseException, so no `except Exception` in the
    handler can swallow it — nothing after the crash point runs, as in a real crash."""


@dataclass
class CrashFaults:
    """Crashes the runtime injects, for the chaos suite.

    `after_rate`: per function logical id, the share of invocations whose process dies after the handler finished
    — its work is done, its answer is lost (between two workflow stages, or before SQS records are deleted).
    `arm()`: something the running invocation just did (a Rackbeat write) is the last thing it does — the
    invocation's next AWS API call never happens (between a Rackbeat write and the mapping write).
    """

    after_rate: dict[str, float] = field(default_factory=dict)
    seed: int | None = None
    crashes: int = 0
    _armed: bool = False
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def arm(self) -> None:
        self._armed = True

    def roll_after(self, function: str, event: Any) -> bool:
        """Whether this invocation of `function` (with `event`) dies after its handler returned."""
        rate = self.after_rate.get(function, 0.0)
        return rate > 0 and self._rng.random() < rate


class InProcessLambda:
    def __init__(self, clock: VirtualClock, region: str) -> None:
        self._clock = clock
        self._region = region
        self._lock = threading.RLock()
        self._specs: dict[str, FunctionSpec] = {}  # by logical id, name and ARN
        self._handlers: dict[str, Handler] = {}
        self._loaded_modules: list[str] = []
        self._env_layers: list[tuple[dict[str, str], dict[str, str | None]]] = []
        self.stats: dict[str, FunctionStats] = {}
        self.invocations: deque[Invocation] = deque(maxlen=10_000)  # recent ones, for tests and debugging
        self.log_listeners: list[LogListener] = []  # told every line a function writes (see aws_logs)
        self.crash_faults = CrashFaults()
        self._invoking: int | None = None  # the thread running an invocation (one at a time, under the lock)
        self._running = threading.local()  # per thread, the function whose handler runs there (IAM's caller)

    def register(self, spec: FunctionSpec) -> None:
        for key in (spec.logical_id, spec.name, spec.arn):
            self._specs[key] = spec
        self.stats[spec.logical_id] = FunctionStats()

    def find(self, name_or_arn: str) -> FunctionSpec | None:
        """The function for a name, a logical id or an ARN (a version/alias qualifier on the ARN is ignored)."""
        if name_or_arn.startswith("arn:"):
            name_or_arn = ":".join(name_or_arn.split(":")[:7])
        return self._specs.get(name_or_arn)

    def unload(self) -> None:
        """Forget the imported handler modules, so the next runtime starts cold."""
        for name in self._loaded_modules:
            sys.modules.pop(name, None)
        self._loaded_modules.clear()
        self._handlers.clear()

    def retire(self, logical_id: str) -> None:
        """A configuration change: Lambda replaces the function's containers, so its next invocation starts cold
        and reads the new environment (functions read theirs once, at import)."""
        with self._lock:
            self._handlers.pop(logical_id, None)
            prefix = f"crossdock_fn_{logical_id}_"
            for name in [loaded for loaded in self._loaded_modules if loaded.startswith(prefix)]:
                sys.modules.pop(name, None)
                self._loaded_modules.remove(name)

    def invoke(self, spec: FunctionSpec, event: Any, source: str) -> InvokeResult:
        request_id = str(uuid.uuid4())
        started_at = self._clock.time()
        with (
            self._lock,
            self._environment(spec),
            function_output(spec.logical_id, request_id, self.log_listeners) as log,
        ):
            started = time.perf_counter()
            cold_start = spec.logical_id not in self._handlers
            self._invoking = threading.get_ident()
            caller, self._running.spec = getattr(self._running, "spec", None), spec
            try:
                handler = self._handler(spec)
                payload = self._marshal(handler(event, LambdaContext(spec, self._clock, request_id)))
                if self.crash_faults.roll_after(spec.logical_id, event):
                    raise ProcessCrash("after the handler returned")
                result = InvokeResult(payload=payload, error=None)
            except ProcessCrash as crash:
                self.crash_faults.crashes += 1
                error = LambdaRuntimeError(
                    "Runtime.ExitError", f"RequestId: {request_id} Error: process exited ({crash})"
                )
                result = InvokeResult(payload=None, error=_error_payload(error, request_id))
            except Exception as exc:  # noqa: BLE001 - every handler failure becomes a function error, as in Lambda
                result = InvokeResult(payload=None, error=_error_payload(exc, request_id))
            finally:
                self._invoking = None
                self._running.spec = caller
                self.crash_faults._armed = False
            if result.error is not None:  # the runtime logs a failed invocation itself, as it is: nothing masks it
                log.write(_runtime_error_line(result.error))
            duration_ms = (time.perf_counter() - started) * 1000
        error_type = result.error["errorType"] if result.error else None
        self._record(Invocation(spec.logical_id, source, request_id, started_at, duration_ms, cold_start, error_type))
        return result

    @property
    def environment_lock(self) -> threading.RLock:
        """Held while a function's variables are in os.environ; whoever reads os.environ whole takes it too."""
        return self._lock

    def running(self) -> FunctionSpec | None:
        """The function whose handler runs on this thread (the innermost of nested invocations), if any."""
        spec: FunctionSpec | None = getattr(self._running, "spec", None)
        return spec

    def crash_if_armed(self) -> None:
        """Called before every AWS API call: the invocation dies here if a crash was armed during it."""
        faults = self.crash_faults
        if faults._armed and self._invoking == threading.get_ident():
            faults._armed = False
            raise ProcessCrash("after its last external write")

    def arm_crash(self) -> None:
        """Arms a crash for the running invocation, if any (a write made from outside a function is no crash)."""
        if self._invoking is not None:
            self.crash_faults.arm()

    def _record(self, invocation: Invocation) -> None:
        spec = self._specs[invocation.function]
        stats = self.stats[invocation.function]
        billed_ms = max(1, math.ceil(invocation.duration_ms))  # Lambda bills in 1 ms steps
        with self._lock:
            stats.invocations += 1
            stats.errors += invocation.error_type is not None
            stats.cold_starts += invocation.cold_start
            stats.billed_ms += billed_ms
            stats.gb_seconds += billed_ms / 1000 * spec.memory_mb / 1024
            stats.by_source[invocation.source] = stats.by_source.get(invocation.source, 0) + 1
            self.invocations.append(invocation)

    @staticmethod
    def _marshal(result: Any) -> Any:
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise LambdaRuntimeError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc

    def _handler(self, spec: FunctionSpec) -> Handler:
        """The handler function, importing its module on first use (the cold start)."""
        if spec.logical_id in self._handlers:
            return self._handlers[spec.logical_id]
        module_path, _, function_name = spec.handler.rpartition(".")
        source = spec.code_dir / (module_path.replace(".", "/") + ".py")
        # Every function has a module called `app`: each is imported under its own name.
        unique_name = f"crossdock_fn_{spec.logical_id}_{module_path.replace('.', '_')}"
        import_spec = importlib.util.spec_from_file_location(unique_name, source)
        if import_spec is None or import_spec.loader is None or not source.is_file():
            raise LambdaRuntimeError(
                "Runtime.ImportModuleError", f"Unable to import module '{module_path}': No module named '{module_path}'"
            )
        module = importlib.util.module_from_spec(import_spec)
        sys.modules[unique_name] = module
        sys.path.insert(0, str(spec.code_dir))  # the task root is importable, as in Lambda
        try:
            import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(unique_name, None)  # a failed init is retried on the next invocation, as in Lambda
            raise
        finally:
            sys.path.remove(str(spec.code_dir))
        handler = getattr(module, function_name, None)
        if not callable(handler):
            raise LambdaRuntimeError(
                "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_path}'"
            )
        self._loaded_modules.append(unique_name)
        self._handlers[spec.logical_id] = handler
        return self._handlers[spec.logical_id]

    def _function_environment(self, spec: FunctionSpec) -> dict[str, str]:
        reserved = {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            # No X-Ray daemon listens here: Powertools' Tracer stays off (and the X-Ray SDK is not even loaded).
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        return {**reserved, **spec.environment, **spec.credentials}

    @contextmanager
    def _environment(self, spec: FunctionSpec) -> Iterator[None]:
        """Lay the function's environment over the process environment; an outer invocation's is lifted first."""
        if self._env_layers:
            restore_environment(self._env_layers[-1][1])
        env = self._function_environment(spec)
        self._env_layers.append((env, apply_environment(env)))
        try:
            yield
        finally:
            restore_environment(self._env_layers.pop()[1])
            if self._env_layers:
                outer_env = self._env_layers[-1][0]
                self._env_layers[-1] = (outer_env, apply_environment(outer_env))


def apply_environment(env: dict[str, str]) -> dict[str, str | None]:
    """Set the variables one by one (never clear os.environ: other threads read it meanwhile); return the old ones."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    return saved


def restore_environment(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _error_payload(exc: Exception, request_id: str) -> dict[str, Any]:
    error_type = exc.error_type if isinstance(exc, LambdaRuntimeError) else type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": traceback.format_list(_user_frames(exc)),
    }


def _runtime_error_line(error: dict[str, Any]) -> str:
    """What the Python runtime writes to the function's log for an uncaught error (text log format)."""
    frames = [frame.rstrip("\n") for frame in error["stackTrace"]]
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}", "Traceback (most recent call last):", *frames]
    return "\n".join(lines) + "\n"


def _user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The traceback without this runtime's and importlib's frames, as Lambda shows only the function's own."""
    return [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename != __file__ and not frame.filename.startswith("<frozen importlib")
    ]
