"""Where a benchmark's functions log: a file, so that the bench's stdout holds only its figures.

The embedded Lambda runtime writes what a function logs (its Powertools JSON lines and EMF metric records) to the
process's stdout, as Lambda hands it to CloudWatch. A bench runs its stack inside `functions_log_file`, which makes
stdout the log file meanwhile, prints its figures after the block, and names the file in its last line:

    with functions_log_file("stock-burst") as log:
        ...  # the stack runs; what it measured is kept
    print(...)  # the figures
    print(f"the functions' logs: {log}")
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path


def log_path(bench: str) -> Path:
    return Path(tempfile.gettempdir()) / f"crossdock-{bench}.log"


@contextlib.contextmanager
def functions_log_file(bench: str) -> Iterator[Path]:
    """Stdout goes to `log_path(bench)`, written afresh, while the block runs; yields that path. Stderr is left
    alone: a bench that fails still says why where it is run."""
    path = log_path(bench)
    with path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        yield path
