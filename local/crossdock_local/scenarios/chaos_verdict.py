"""What every integration's chaos run reports the same way: its figures' common part (faults met, work left in
flight, secrets found in the functions' log lines, wall and CPU time), the verdict table, and the command's run
(the functions' log lines to a file, the table printed, exit 1 when a promise broke).

Each run (`chaos_shopbox`, `chaos_webshipper`) keeps its own audit, faults and promise; what is here is only how
they are told.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from crossdock_local.stack import LocalStack


@dataclass
class ChaosVerdict:
    """The part of a run's figures every chaos run has."""

    faults: Counter[str] = field(default_factory=Counter)
    unfinished: list[str] = field(default_factory=list)
    leaked_secrets: list[str] = field(default_factory=list)
    log_lines: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def lost(self) -> list[str]:
        raise NotImplementedError

    @property
    def duplicated(self) -> list[str]:
        raise NotImplementedError

    @property
    def mismatched(self) -> list[str]:
        raise NotImplementedError


def count_failures(figures: ChaosVerdict, system: str, calls_by_status: Mapping[int, int]) -> None:
    """A simulator's 5xx and 429 answers, as faults met."""
    figures.faults[f"{system} 5xx"] = sum(n for status, n in calls_by_status.items() if status >= 500)
    figures.faults[f"{system} 429"] = calls_by_status.get(429, 0)


def work_in_flight(stack: LocalStack) -> list[str]:
    """The work queues that still hold messages once the run has settled (dead letters are the audit's)."""
    left = []
    for logical_id in stack.aws.resources:
        if logical_id.endswith("Queue") and not logical_id.endswith("DeadLetterQueue"):
            waiting = stack.aws.queue_depth(logical_id)
            if waiting:
                left.append(f"{logical_id}: {waiting} messages")
    return left


def verdict_rows(figures: ChaosVerdict) -> list[tuple[str, str]]:
    """The promise's rows, after the run's own counts."""
    return [
        ("lost", str(len(figures.lost))),
        ("duplicated", str(len(figures.duplicated))),
        ("mismatched", str(len(figures.mismatched))),
        ("left in flight", str(len(figures.unfinished))),
        ("secrets found in log lines", f"{len(figures.leaked_secrets)} (of {figures.log_lines} lines searched)"),
    ]


def render_verdict(
    title: str, rows: list[tuple[str, str]], figures: ChaosVerdict, problems: list[str], ok: bool
) -> str:
    """The table: the rows, the faults met, the times, then the first problems, what is left and what leaked."""
    rows = [
        *rows,
        *[(f"fault: {name}", str(n)) for name, n in figures.faults.items()],
        ("wall time", f"{figures.wall_seconds:.0f} s"),
        ("CPU time (this process)", f"{figures.cpu_seconds:.0f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    out = [title]
    out += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    out += [f"  {problem}" for problem in problems[:20]]
    out += [f"  unfinished: {item}" for item in figures.unfinished]
    out += [f"  leak: {item}" for item in figures.leaked_secrets[:10]]
    out.append("RESULT: " + ("all promises kept" if ok else "PROMISES BROKEN"))
    return "\n".join(out)


Config = TypeVar("Config")
Figures = TypeVar("Figures")


def run_command(
    config: Config,
    run: Callable[[Config, io.TextIOBase], Figures],
    render: Callable[[Config, Figures], str],
    ok: Callable[[Figures], bool],
    log_path: Any,
) -> int:
    """A chaos command's run: the functions' log lines to `log_path`, the table printed; 1 when a promise broke."""
    buffer = io.StringIO()
    figures = run(config, buffer)
    with open(log_path, "w") as log:
        log.write(buffer.getvalue())
    print(render(config, figures))
    print(f"function logs: {log_path}")
    return 0 if ok(figures) else 1
