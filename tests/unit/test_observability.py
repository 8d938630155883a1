"""The functions' logger, metrics and tracer: secrets never reach a log line, one metric record per finished event,
and the X-Ray SDK stays unloaded where nothing is traced."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from crossdock.aws import observability
from crossdock.aws.observability import count_finished_event, logger, tracing_is_off
from crossdock.errors import FailureClass
from crossdock.store import keys
from crossdock.store.events import EventStatus, load_event, record_received
from crossdock.store.outcome import finish_event

ROOT = Path(__file__).resolve().parents[2]
ACCESS_TOKEN = "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"
APP_SECRET = "9f70b11c74b7e42514ef82f5c008fb8e"
OAUTH_CODE = "0907a61c0c8d55e99db179b68161bc00"


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def library_log() -> Iterator[io.StringIO]:
    """A handler on the root logger in the Lambda runtime's text format, as the Python runtime installs one."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


# -- the functions' logger -------------------------------------------------------------------------------------------


def test_extra_keys_message_and_exception_of_a_log_line_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise PermissionError(f"Shopify refused the token {ACCESS_TOKEN}")
    except PermissionError:
        logger.exception(
            "token exchange failed for code=%s",
            OAUTH_CODE,
            extra={"headers": {"Authorization": f"Bearer {ACCESS_TOKEN}"}, "client_secret": APP_SECRET, "shop": "a"},
        )

    out = capsys.readouterr().out
    for secret in (ACCESS_TOKEN, APP_SECRET, OAUTH_CODE):
        assert secret not in out
    (line,) = _json_lines(out)
    assert line["message"] == "token exchange failed for code=[REDACTED]"
    assert line["headers"] == {"Authorization": "[REDACTED]"} and line["client_secret"] == "[REDACTED]"
    assert line["shop"] == "a"
    assert "PermissionError: Shopify refused the token [REDACTED]" in line["exception"]
    assert line["stack_trace"]["value"] == "Shopify refused the token [REDACTED]"


def test_a_structured_message_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    logger.info({"event": "token refreshed", "access_token": ACCESS_TOKEN, "expires_in": 3600})

    (line,) = _json_lines(capsys.readouterr().out)
    assert line["message"] == {"event": "token refreshed", "access_token": "[REDACTED]", "expires_in": 3600}


def test_the_logger_writes_to_stdout_as_it_is_when_the_line_is_logged() -> None:
    # The embedded runtime and the demo swap stdout after the functions' modules loaded; metrics are printed there.
    swapped = io.StringIO()
    saved, sys.stdout = sys.stdout, swapped
    try:
        logger.info("order stage finished", extra={"stage": "book"})
    finally:
        sys.stdout = saved
    assert _json_lines(swapped.getvalue())[0]["stage"] == "book"


# -- any other library's records ---------------------------------------------------------------------------------------


def test_library_records_are_masked_before_any_handler_formats_them(library_log: io.StringIO) -> None:
    logging.getLogger("httpx").warning(
        'HTTP Request: POST %s "HTTP/1.1 400 Bad Request"',
        f"https://acme.myshopify.com/admin/oauth/access_token?client_secret={APP_SECRET}&code={OAUTH_CODE}",
    )
    logging.getLogger("botocore.endpoint").warning(
        "Sending http request: %r", {"Authorization": f"Bearer {APP_SECRET}"}
    )

    text = library_log.getvalue()
    assert APP_SECRET not in text and OAUTH_CODE not in text
    assert "access_token?client_secret=[REDACTED]&code=[REDACTED]" in text


def test_library_tracebacks_are_masked(library_log: io.StringIO) -> None:
    try:
        raise ConnectionError(f"refresh_token={ACCESS_TOKEN} refused")
    except ConnectionError:
        logging.getLogger("httpx").exception("request failed")

    text = library_log.getvalue()
    assert ACCESS_TOKEN not in text
    assert "ConnectionError: refresh_token=[REDACTED] refused" in text


def test_a_malformed_logging_call_is_left_for_logging_to_report(library_log: io.StringIO) -> None:
    record = logging.getLogger("somewhere").makeRecord("somewhere", logging.WARNING, "f", 1, "%d apples", ("x",), None)
    assert record.args == ("x",)  # not formatted, not lost: the handler reports it as logging always did


def test_redaction_is_installed_once() -> None:
    factory = logging.getLogRecordFactory()
    observability.install_redaction()
    assert logging.getLogRecordFactory() is factory


# -- metrics per finished event ------------------------------------------------------------------------------------


def _emf(out: str) -> list[dict[str, Any]]:
    return [line for line in _json_lines(out) if "_aws" in line]


@pytest.fixture
def metric_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "crossdock-test")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


@pytest.mark.parametrize("status", ["done", "skipped"])
def test_done_and_skipped_are_one_metric_each(
    status: str, metric_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    count_finished_event(status)

    (record,) = _emf(capsys.readouterr().out)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Crossdock"
    assert directive["Metrics"] == [{"Name": f"events_{status}", "Unit": "Count"}]
    assert directive["Dimensions"] == [["service"]]
    assert record["service"] == "crossdock-test" and record[f"events_{status}"] == [1.0]


def test_needs_attention_is_counted_in_total_and_per_failure_class(
    metric_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    count_finished_event("needs_attention", FailureClass.RATE_LIMIT)

    (record,) = _emf(capsys.readouterr().out)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Metrics"] == [{"Name": "events_needs_attention", "Unit": "Count"}]
    assert directive["Dimensions"] == [["service"], ["service", "failure_class"]]
    assert (record["service"], record["failure_class"], record["events_needs_attention"]) == (
        "crossdock-test",
        "rate_limit",
        [1.0],
    )


def test_needs_attention_without_a_class_is_counted_as_a_bug(
    metric_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    count_finished_event("needs_attention")
    (record,) = _emf(capsys.readouterr().out)
    assert record["failure_class"] == "bug"


def test_an_unfinished_status_is_refused_by_name(metric_env: None) -> None:
    with pytest.raises(ValueError, match="status: 'received'"):
        count_finished_event("received")


def test_the_functions_metrics_are_named_after_the_environment_they_are_written_in(
    metric_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Several functions may share this module in one process (the embedded runtime), each with its own environment.
    for service in ("crossdock-test", "crossdock-other"):
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
        observability.metrics.add_metric(name="order_stage_book", unit=MetricUnit.Count, value=1)
        observability.metrics.flush_metrics()
        (record,) = _emf(capsys.readouterr().out)
        assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Crossdock"
        assert record["service"] == service


def test_finishing_an_event_records_it_then_counts_it_once(
    table: Any, metric_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    record_received(table, "c1", "e1", "shopify", "orders/paid", "{}", "2026-01-01T00:00:00.000000Z")
    sk = keys.event_sk("2026-01-01T00:00:00.000000Z", "e1")

    finish_event(table, "c1", sk, EventStatus.NEEDS_ATTENTION, "unmapped lines", failure_class="unmapped")

    stored = load_event(table, "c1", sk)
    assert stored is not None and (stored["status"], stored["failure_class"]) == ("needs_attention", "unmapped")
    (record,) = _emf(capsys.readouterr().out)
    assert record["events_needs_attention"] == [1.0] and record["failure_class"] == "unmapped"


def test_an_event_whose_outcome_was_not_stored_is_not_counted(
    table: Any, metric_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = boto3.resource("dynamodb", region_name="eu-west-1").Table("no-such-table")
    with pytest.raises(ClientError):
        finish_event(missing, "c1", "EVT#1", EventStatus.DONE, "done")
    assert _emf(capsys.readouterr().out) == []


# -- tracing ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "off"),
    [
        ({}, True),  # not in Lambda: no X-Ray daemon to send to
        ({"LAMBDA_TASK_ROOT": "/var/task"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, True),
    ],
)
def test_tracing_is_off_by_powertools_rules(env: dict[str, str], off: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing_is_off() is off


def _fresh_python(code: str, **env: str) -> str:
    """`code` in a new interpreter (a cold start), with the Lambda variables of `env` only."""
    clean = {k: v for k, v in os.environ.items() if k not in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED")}
    answer = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True, cwd=ROOT
    )
    return answer.stdout.strip()


def test_where_nothing_is_traced_the_xray_sdk_and_httpx_are_not_loaded() -> None:
    loaded = _fresh_python(
        "import sys\n"
        "from crossdock.aws import observability\n"
        "observability.trace_outbound_http()\n"
        "print(sorted(m for m in ('aws_xray_sdk.core', 'httpx') if m in sys.modules))",
        LAMBDA_TASK_ROOT="/var/task",
        POWERTOOLS_TRACE_DISABLED="true",
    )
    assert loaded == "[]"


def test_in_lambda_aws_calls_are_traced_and_http_calls_once_asked() -> None:
    patched = _fresh_python(
        "from aws_xray_sdk.core import patcher\n"
        "from crossdock.aws import observability\n"
        "before = sorted(patcher._PATCHED_MODULES)\n"
        "observability.trace_outbound_http()\n"
        "print(before, sorted(patcher._PATCHED_MODULES), observability.tracer.disabled)",
        LAMBDA_TASK_ROOT=str(ROOT / "functions" / "dispatch"),
    )
    assert patched == "['botocore'] ['botocore', 'httpx'] False"
