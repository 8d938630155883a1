"""Every log line the functions of an embedded stack write during a run, and a search of them for secrets.

    with capture_function_logs(stack.aws) as logs:
        ...  # the run: installs, orders, webhooks, chaos
    logs.assert_no_secrets({"rackbeat api key": key, "shopify access token": token})

A secret is looked for as it is and in the encodings a log could carry it in (base64, as botocore logs a KMS
plaintext; URL-encoded, as in a query string). What is reported names the secret by its label, the function and
the line, and shows the line with the secret replaced by its label: the value itself never reaches test output.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from crossdock_local.aws.embedded import EmbeddedAws

# Shorter values would be found by chance in ids, timestamps and hashes: a search for them proves nothing.
MIN_SECRET_LENGTH = 8
_EXCERPT = 160  # characters of the line shown around a leak


@dataclass(frozen=True)
class LogLine:
    function: str  # the function's logical id
    text: str


@dataclass(frozen=True)
class Leak:
    secret: str  # the secret's label, never its value
    encoding: str  # "as is", "base64", "URL-encoded"
    function: str
    line_number: int  # 1-based, in the order the run wrote its lines
    excerpt: str  # the line around the leak, the secret replaced by <label>

    def __str__(self) -> str:
        return f"{self.secret} ({self.encoding}) in {self.function}, line {self.line_number}: {self.excerpt}"


class FunctionLogs:
    """The lines written by every function while the capture was on, in order."""

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self._lock = threading.Lock()

    def add(self, function: str, text: str) -> None:
        with self._lock:
            self.lines.append(LogLine(function, text))

    def functions(self) -> set[str]:
        return {line.function for line in self.lines}

    def leaks(self, secrets: Mapping[str, str] | Iterable[str]) -> list[Leak]:
        """Every line that contains one of the secrets (a mapping label → value; bare values get "secret N")."""
        forms = {label: _forms(value) for label, value in _labelled(secrets).items()}
        # Every form of every secret, longest first (one may contain another), to mask the excerpts with.
        masks = sorted(
            ((form, f"<{label}>") for label, by_encoding in forms.items() for form in by_encoding.values()),
            key=lambda mask: -len(mask[0]),
        )
        found: list[Leak] = []
        with self._lock:
            lines = list(self.lines)
        for number, line in enumerate(lines, start=1):
            for label, by_encoding in forms.items():
                encoding = next((name for name, form in by_encoding.items() if form in line.text), None)
                if encoding is not None:
                    excerpt = _excerpt(line.text, by_encoding[encoding], masks)
                    found.append(Leak(label, encoding, line.function, number, excerpt))
        return found

    def assert_no_secrets(self, secrets: Mapping[str, str] | Iterable[str]) -> None:
        leaks = self.leaks(secrets)
        if leaks:
            shown = "\n".join(f"  {leak}" for leak in leaks[:20])
            more = f"\n  … and {len(leaks) - 20} more" if len(leaks) > 20 else ""
            raise AssertionError(f"{len(leaks)} log line(s) of {len(self.lines)} carry a secret:\n{shown}{more}")


@contextmanager
def capture_function_logs(aws: EmbeddedAws) -> Iterator[FunctionLogs]:
    """Keeps every line the stack's functions write while the block runs (stdout, stderr, library log records and
    the runtime's own error lines); the lines still reach the process's stdout as before."""
    logs = FunctionLogs()
    listeners = aws.lambdas.log_listeners
    listeners.append(logs.add)
    try:
        yield logs
    finally:
        listeners.remove(logs.add)


def _labelled(secrets: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    if isinstance(secrets, Mapping):
        labelled = {str(label): str(value) for label, value in secrets.items()}
    else:
        labelled = {f"secret {number}": str(value) for number, value in enumerate(secrets, start=1)}
    for label, value in labelled.items():
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"{label}: shorter than {MIN_SECRET_LENGTH} characters, too short to search logs for")
    return labelled


def _forms(value: str) -> dict[str, str]:
    forms = {"as is": value}
    forms["base64"] = base64.b64encode(value.encode()).decode().rstrip("=")
    quoted = quote(value, safe="")
    if quoted != value:
        forms["URL-encoded"] = quoted
    return forms


def _excerpt(text: str, form: str, masks: list[tuple[str, str]]) -> str:
    """The line around the first occurrence of `form`, every secret in it masked before it is cut (a cut could
    otherwise leave the start of a secret showing)."""
    before, after = text.split(form, 1)
    before, after = _mask(before, masks), _mask(after, masks)
    half = _EXCERPT // 2
    head = ("…" + before[-half:]) if len(before) > half else before
    tail = (after[:half] + "…") if len(after) > half else after
    label = next(replacement for candidate, replacement in masks if candidate == form)
    return head + label + tail


def _mask(text: str, masks: list[tuple[str, str]]) -> str:
    for form, replacement in masks:
        text = text.replace(form, replacement)
    return text
