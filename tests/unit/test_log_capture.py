"""Function logs in the embedded runtime (`aws_logs`) and the search of a run's lines for secrets (`log_capture`)."""

from __future__ import annotations

import base64
import io
import logging
import sys
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from crossdock_local.aws.log_capture import FunctionLogs
from crossdock_local.aws.logs import function_output

TOKEN = "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"
KEY = "rb_key/with+special=chars"


@pytest.fixture
def root_at_info() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield
    root.setLevel(level)


def _logs(*lines: tuple[str, str]) -> FunctionLogs:
    logs = FunctionLogs()
    for function, text in lines:
        logs.add(function, text)
    return logs


# -- searching a run's lines -------------------------------------------------------------------------------------------


def test_a_secret_is_found_as_it_is_in_base64_and_url_encoded() -> None:
    logs = _logs(
        ("IngestFunction", "nothing here"),
        ("DispatchFunction", f"token {TOKEN} refused"),
        ("ShopifyAppFunction", f'{{"Plaintext": "{base64.b64encode(KEY.encode()).decode()}"}}'),
        ("OrderStepsFunction", f"GET /items?key={quote(KEY, safe='')}"),
    )

    leaks = logs.leaks({"access token": TOKEN, "api key": KEY})

    assert [(leak.secret, leak.encoding, leak.function, leak.line_number) for leak in leaks] == [
        ("access token", "as is", "DispatchFunction", 2),
        ("api key", "base64", "ShopifyAppFunction", 3),
        ("api key", "URL-encoded", "OrderStepsFunction", 4),
    ]


def test_a_report_shows_labels_and_never_a_value() -> None:
    line = f"{'x' * 200} key={KEY} and token={TOKEN} {'y' * 200}"
    logs = _logs(("DispatchFunction", line))

    with pytest.raises(AssertionError) as failure:
        logs.assert_no_secrets({"access token": TOKEN, "api key": KEY})

    report = str(failure.value)
    assert TOKEN not in report and KEY not in report
    assert "<access token>" in report and "<api key>" in report
    assert "2 log line(s) of 1 carry a secret" in report


def test_a_clean_run_passes_and_bare_values_get_numbered_labels() -> None:
    logs = _logs(("IngestFunction", "webhook refused"), ("DispatchFunction", f"saw {TOKEN}"))
    logs.assert_no_secrets({"api key": KEY})
    assert [leak.secret for leak in logs.leaks([KEY, TOKEN])] == ["secret 2"]


def test_a_secret_too_short_to_search_for_is_refused_by_label() -> None:
    with pytest.raises(ValueError, match="webhook token: shorter than 8 characters"):
        _logs().leaks({"webhook token": "abc"})


# -- what a function writes is its log ---------------------------------------------------------------------------------


def test_prints_and_library_records_are_the_functions_and_still_reach_stdout(root_at_info: None) -> None:
    lines: list[tuple[str, str]] = []
    underlying = io.StringIO()
    saved = sys.stdout
    sys.stdout = underlying
    try:
        with function_output("DispatchFunction", "req-1", [lambda function, text: lines.append((function, text))]):
            print('{"level":"INFO","message":"event dispatched"}')
            logging.getLogger("httpx").info("HTTP Request: GET https://example.test")
            sys.stdout.write("a last line without a newline")
    finally:
        sys.stdout = saved

    assert lines == [
        ("DispatchFunction", '{"level":"INFO","message":"event dispatched"}'),
        (
            "DispatchFunction",
            "[INFO]\t" + lines[1][1].split("\t")[1] + "\treq-1\tHTTP Request: GET https://example.test",
        ),
        ("DispatchFunction", "a last line without a newline"),
    ]
    assert underlying.getvalue().startswith('{"level":"INFO","message":"event dispatched"}\n')


def test_other_threads_do_not_write_into_a_functions_log(root_at_info: None) -> None:
    lines: list[str] = []
    with function_output("DispatchFunction", "req-1", [lambda function, text: lines.append(text)]):
        other = threading.Thread(target=lambda: logging.getLogger("werkzeug").warning("GET /_sim/rackbeat 200"))
        other.start()
        other.join()
        logging.getLogger("httpx").warning("own line")
    assert len(lines) == 1 and lines[0].endswith("own line")


def test_a_nested_invocation_writes_only_into_its_own_log(root_at_info: None) -> None:
    lines: list[tuple[str, str]] = []
    listeners = [lambda function, text: lines.append((function, text))]
    with function_output("OuterFunction", "req-1", listeners):
        print("outer before")
        with function_output("InnerFunction", "req-2", listeners):
            print("inner")
            logging.getLogger("botocore").warning("inner record")
        print("outer after")

    assert [(function, text.split("\t")[-1]) for function, text in lines] == [
        ("OuterFunction", "outer before"),
        ("InnerFunction", "inner"),
        ("InnerFunction", "inner record"),
        ("OuterFunction", "outer after"),
    ]


def test_a_record_its_own_loggers_handler_wrote_is_not_written_again(root_at_info: None) -> None:
    # Powertools' logger writes its JSON line itself; in Lambda it keeps the runtime's handler from a second copy.
    own = logging.getLogger("crossdock-test-service")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    own.addHandler(handler)
    lines: list[str] = []
    try:
        with function_output("DispatchFunction", "req-1", [lambda function, text: lines.append(text)]):
            own.info("event dispatched")
            logging.getLogger("crossdock-test-service.child").info("from a child")
            logging.getLogger("botocore.endpoint").info("a library's record")
    finally:
        own.removeHandler(handler)
    assert stream.getvalue() == "event dispatched\nfrom a child\n"
    assert [line.split("\t")[-1] for line in lines] == ["a library's record"]
