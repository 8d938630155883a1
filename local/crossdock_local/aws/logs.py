"""Function logs in the embedded runtime: what a handler writes while it runs is its log, line by line.

In AWS a function's stdout and stderr go to its log group, and the Python runtime puts a handler on the root logger
so that any library's log records land there too. Here, while a handler runs, stdout and stderr are swapped for a
`FunctionOutput` and a root handler in the runtime's text format writes into it; the text still reaches the
process's own stream (the demo's log file, pytest's capture) and each complete line is handed, with the function's
logical id, to the listeners (`crossdock_local.log_capture` keeps them for a run).
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

LogListener = Callable[[str, str], None]  # (function logical id, one log line without its newline)

_active = threading.local()  # per thread: the FunctionOutputs of the invocations running in it, innermost last


class FunctionOutput(io.TextIOBase):
    """A text stream that passes everything to `target` and tells the listeners about every complete line."""

    def __init__(self, function: str, target: TextIO, listeners: list[LogListener]) -> None:
        super().__init__()
        self.function = function
        self.target = target
        self._listeners = listeners
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.target.write(text)
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._tell(line)
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def finish(self) -> None:
        """The invocation is over: a last line without its newline is a line all the same."""
        if self._partial:
            line, self._partial = self._partial, ""
            self._tell(line)

    def _tell(self, line: str) -> None:
        for listener in list(self._listeners):
            listener(self.function, line)


class _InvocationRecords(logging.Filter):
    """Only records made by the invocation's own thread, and not while a nested invocation runs in it (that one's
    handler takes them): the simulators' and the runtime's threads log on, but not into a function's log. And not
    a record its own logger's handler wrote already (Powertools' JSON logger): in Lambda, Powertools filters those
    out of the runtime's handler, which exists before the function's code is imported."""

    def __init__(self, output: FunctionOutput) -> None:
        super().__init__()
        self._output = output

    def filter(self, record: logging.LogRecord) -> bool:
        stack: list[FunctionOutput] = getattr(_active, "stack", [])
        return bool(stack) and stack[-1] is self._output and not _written_below_root(record.name)


def _written_below_root(name: str) -> bool:
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None and logger is not logging.root:
        if any(not isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


@contextmanager
def function_output(function: str, request_id: str, listeners: list[LogListener]) -> Iterator[FunctionOutput]:
    """While the block runs, stdout, stderr and the root logger's records (this thread's) are `function`'s log."""
    stdout = FunctionOutput(function, _underlying(sys.stdout), listeners)
    stderr = FunctionOutput(function, _underlying(sys.stderr), listeners)
    handler = logging.StreamHandler(stdout)
    # The Lambda Python runtime's text format: level, time, request id, message.
    handler.setFormatter(logging.Formatter(f"[%(levelname)s]\t%(asctime)s\t{request_id}\t%(message)s"))
    handler.addFilter(_InvocationRecords(stdout))
    stack: list[FunctionOutput] = _active.__dict__.setdefault("stack", [])
    saved = sys.stdout, sys.stderr
    stack.append(stdout)
    sys.stdout, sys.stderr = stdout, stderr
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stdout
    finally:
        root.removeHandler(handler)
        sys.stdout, sys.stderr = saved
        stack.pop()
        stdout.finish()
        stderr.finish()


def _underlying(stream: TextIO) -> TextIO:
    """The stream a nested invocation writes through to: the process's, not the outer function's log."""
    return stream.target if isinstance(stream, FunctionOutput) else stream
