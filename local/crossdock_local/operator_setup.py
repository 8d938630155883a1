"""The operator's guided-setup commands (issue 16): `crossdock setup show <connection>`, `setup run <connection>
<step> [--start-date YYYY-MM-DD] [--wait]`, `setup skip <connection> <step>` — through `crossdock.operations
.guided_setup`, each step with its counts and a progress bar.

`--start-date` is the stock-and-history step's `history.start_date`, saved as the next settings version before the
step starts (today skips the history: only the stock levels are read). `--wait` follows the step until it is done
or has failed: a bar redrawn in place on a terminal, a line per change otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TextIO

from crossdock.operations import guided_setup, settings_input
from crossdock.operations import settings as connection_settings
from crossdock.operations.guided_setup import StepProgress
from crossdock.operations.target import OperatorTarget
from crossdock_local import operator_output as out
from crossdock_local.operator_onboarding import UsageError

Command = Callable[[OperatorTarget, argparse.Namespace], str]
AddCommand = Callable[[Any, str, Command, str], argparse.ArgumentParser]
BAR_WIDTH = 30
HISTORY_STEP = "stock_and_history"
START_DATE_KEY = "history.start_date"


def add_commands(commands: Any, command: AddCommand) -> None:
    """Adds the `setup` group; `command` is operator_cli's (the target options), marked as an onboarding command
    (the workflow is started through the stack's Step Functions)."""

    def onboarding_command(group: Any, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        parser = command(group, name, run, help_text)
        parser.set_defaults(onboarding=True)
        return parser

    setup = commands.add_parser("setup", help="a connection's guided setup, step by step").add_subparsers(
        dest="action", required=True
    )
    onboarding_command(setup, "show", _show, "every step of the setup: status, counts, a progress bar").add_argument(
        "connection_id"
    )
    run = onboarding_command(setup, "run", _run, "confirm a step: run it (a failed step resumes where it stopped)")
    run.add_argument("connection_id")
    run.add_argument("step")
    run.add_argument(
        "--start-date", type=date.fromisoformat, help=f"{HISTORY_STEP}: the first day of sales history (YYYY-MM-DD)"
    )
    run.add_argument("--wait", action="store_true", help="follow the step until it is done or has failed")
    run.add_argument("--every", type=float, default=5.0, help="seconds between looks with --wait (5)")
    skip = onboarding_command(setup, "skip", _skip, "skip a step (the merchant declines it)")
    skip.add_argument("connection_id")
    skip.add_argument("step")


def _show(target: OperatorTarget, args: argparse.Namespace) -> str:
    progress = guided_setup.show_setup(target, args.connection_id)
    if args.json:
        return out.as_json(progress)
    lines = [f"guided setup of connection {progress.connection_id} ({progress.kind})"]
    for number, step in enumerate(progress.steps, start=1):
        optional = " (optional)" if step.optional else ""
        lines.append(f"{number}. {step.name:<18} {step_bar(step)}  {step.title}{optional}")
        if step.note:
            lines.append(f"   {'':<18} {step.note}")
        if step.error:
            lines.append(f"   {'':<18} error: {out.shorten(step.error)}")
    following = progress.next_step
    lines.append(
        f"next: crossdock setup run {progress.connection_id} {following}  (or skip it)"
        if following
        else "the setup is complete"
    )
    return "\n".join(lines)


def _run(target: OperatorTarget, args: argparse.Namespace) -> str:
    if args.start_date is not None:
        if args.step != HISTORY_STEP:
            raise UsageError(f"--start-date is for the {HISTORY_STEP} step only")
        _save_start_date(target, args.connection_id, args.start_date)
    started = guided_setup.run_step(target, args.connection_id, args.step)
    step = started.step
    if args.wait:
        step = follow(target, args.connection_id, step, args.every, sys.stderr)
    if args.json:
        return out.as_json(step if args.wait else started)
    how = "resumed from where its last run stopped" if started.resumed else "started"
    lines = [f"step {step.name} of connection {started.connection_id}: {how} (run {step.run})", step_line(step)]
    if not args.wait:
        lines.append(f"follow it with: crossdock setup show {started.connection_id}")
    return "\n".join(lines)


def _save_start_date(target: OperatorTarget, connection_id: str, start: date) -> None:
    current = connection_settings.show_settings(target, connection_id)
    document = settings_input.apply_assignments(current.settings, [f"{START_DATE_KEY}={start.isoformat()}"])
    connection_settings.set_settings(target, connection_id, document, expected_version=current.version)


def _skip(target: OperatorTarget, args: argparse.Namespace) -> str:
    step = guided_setup.skip_step(target, args.connection_id, args.step)
    if args.json:
        return out.as_json(step)
    return f"step {step.name} of connection {args.connection_id}: {step.status}"


def follow(
    target: OperatorTarget,
    connection_id: str,
    step: StepProgress,
    every: float,
    stream: TextIO,
    look: Callable[[OperatorTarget, str, str], StepProgress] = guided_setup.step_progress,
) -> StepProgress:
    """Looks again every `every` seconds until the step has finished; a person waits here, so the wait is real."""
    terminal = stream.isatty()
    shown = ""
    while True:
        text = step_bar(step) if terminal else step_line(step)
        if text != shown:
            stream.write(("\r" + text) if terminal else text + "\n")
            stream.flush()
            shown = text
        if step.status != "running":
            if terminal:
                stream.write("\n")
            return step
        time.sleep(every)
        step = look(target, connection_id, step.name)


def step_line(step: StepProgress) -> str:
    total = "?" if step.total is None else str(step.total)
    line = f"{step.name} {step.status}: {step.done} of {total}"
    if step.note:
        line += f" ({step.note})"
    if step.error:
        line += f"; error: {out.shorten(step.error)}"
    return line


def step_bar(step: StepProgress, width: int = BAR_WIDTH) -> str:
    """`[#########.....................]  30%  300/1000 running`; no share before the step has counted its work,
    and a skipped step's bar stays empty."""
    if step.status == "done" or (step.total and step.status != "skipped"):
        share = min(1.0, step.done / step.total) if step.total else 1.0
        filled = round(share * width)
        counts = f"{step.done}/{step.total}" if step.total is not None else f"{step.done}"
        return f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  {counts} {step.status}"
    return f"[{'.' * width}]    -  {step.status}"
