"""Powertools Logger, Metrics and Tracer shared by the functions: JSON logs with correlation ids and every secret
masked, one metric per event outcome, X-Ray traces of AWS and outbound HTTP calls.

Redaction (`crossdock.aws.redaction`) sits under every log line the process writes, on two paths:
- the Powertools logger's formatter masks the whole structured record (message, extra keys, exception, stack);
- a log record factory masks every other library's records as they are made (httpx, botocore, Powertools' own),
  message and traceback, before any handler — the Lambda runtime's included — formats them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from crossdock.aws.redaction import redact, redact_text
from crossdock.errors import FailureClass

# One metric per event outcome (SPEC §5), named after the event log's statuses. needs_attention is emitted twice in
# one record: without a dimension beyond the service (for the rate alarm) and per failure class (for the dashboard).
OUTCOME_METRICS = {
    "done": "events_done",
    "skipped": "events_skipped",
    "needs_attention": "events_needs_attention",
}
FAILURE_CLASS_DIMENSION = "failure_class"


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every value of the record passed through `redact` before it is written."""

    def serialize(self, log: Mapping[str, Any]) -> str:
        return super().serialize(redact(log))


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time, as `print` does (Powertools prints the metrics): log lines and
    metrics then always land in the same stream, also when the process redirects stdout after this module loaded."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _redacting_record_factory(make_record: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _redact_record(record)
        return record

    make_redacted_record.redacts_secrets = True  # type: ignore[attr-defined]  # marks it, so it is installed once
    return make_redacted_record


_TRACEBACK_FORMATTER = logging.Formatter()


def _redact_record(record: logging.LogRecord) -> None:
    """Masks the record's message (merged with its arguments), traceback and stack in place. The traceback is
    formatted here, once, into `exc_text`, which the standard formatters print instead of formatting it again."""
    if isinstance(record.msg, Mapping):  # a structured message (Powertools takes dicts as they are)
        record.msg = redact(record.msg)
    else:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            return  # a malformed logging call: left for the handler to report, as logging does
        record.msg, record.args = redact_text(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact_text(_TRACEBACK_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)


def install_redaction() -> None:
    """Redacts every log record of the process from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts_secrets", False):
        logging.setLogRecordFactory(_redacting_record_factory(current))


class _MetricsFromEnvironment(AmazonCloudWatchEMFProvider):
    """Powertools' EMF metrics (what `Metrics()` wraps), with namespace and service read from the environment when
    the metrics are written rather than once at import: configuration of the function that runs, whenever and
    wherever this module was first loaded (a process may run several functions, each with its own environment)."""

    @property  # type: ignore[override]  # Powertools infers str; it is None when unset
    def namespace(self) -> str | None:
        return os.getenv(constants.METRICS_NAMESPACE_ENV) or self._namespace

    @namespace.setter
    def namespace(self, value: str | None) -> None:
        self._namespace = value

    @property  # type: ignore[override]  # Powertools infers str; it is None when unset
    def service(self) -> str | None:
        return os.getenv(constants.SERVICE_NAME_ENV) or self._service

    @service.setter
    def service(self, value: str | None) -> None:
        self._service = value


install_redaction()
logger = Logger(logger_formatter=RedactingFormatter(), logger_handler=logging.StreamHandler(_CurrentStdout()))
metrics = _MetricsFromEnvironment()


def count_finished_event(status: str, failure_class: str | None = None) -> None:
    """One EMF record for an event that has just finished: `events_done`, `events_skipped` or
    `events_needs_attention` (also by `failure_class`; one without a class is counted as a bug, as it is one)."""
    if status not in OUTCOME_METRICS:
        raise ValueError(f"status: {status!r} is not a finished event's status ({', '.join(OUTCOME_METRICS)})")
    # A provider of its own: the handler's `metrics` share one dimension set, and a failure class must not become a
    # dimension of every other metric the invocation emits.
    record = _MetricsFromEnvironment()
    record.add_metric(name=OUTCOME_METRICS[status], unit=MetricUnit.Count, value=1)
    if status == "needs_attention":
        dimensions = {FAILURE_CLASS_DIMENSION: str(failure_class or FailureClass.BUG.value)}
        if record.service:
            dimensions = {"service": record.service, **dimensions}
        record.add_dimensions(**dimensions)
    record.flush_metrics()


# -- tracing ----------------------------------------------------------------------------------------------------------


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class _NoTracing(BaseProvider):
    """What the Tracer holds when nothing is traced: without it Powertools imports the X-Ray SDK all the same."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Any) -> None:
        return None

    def patch_all(self) -> None:
        return None


def tracing_is_off() -> bool:
    """Powertools' own rule for when its Tracer stays off: `POWERTOOLS_TRACE_DISABLED`, or not running in Lambda
    (no `LAMBDA_TASK_ROOT`), or in SAM's or Chalice's local emulators."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return True
    in_lambda = bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV))
    emulated = bool(os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV))
    return not in_lambda or emulated


def _tracer() -> Tracer:
    # Decided here rather than left to Powertools: its Tracer imports the X-Ray SDK even when it stays off, which
    # outside Lambda builds two botocore clients for the sampler (a third of a second of cold start for nothing).
    if tracing_is_off():
        return Tracer(disabled=True, auto_patch=False, provider=_NoTracing())
    # Only botocore at first: ingest never calls out, and patching httpx would import it (see trace_outbound_http).
    return Tracer(patch_modules=["botocore"])


tracer = _tracer()


def trace_outbound_http() -> None:
    """For the functions that call Rackbeat or Shopify: each httpx request becomes an X-Ray subsegment. Call it at
    import, before any client is made (X-Ray swaps `httpx.Client` for an instrumented subclass)."""
    tracer.patch(["httpx"])
