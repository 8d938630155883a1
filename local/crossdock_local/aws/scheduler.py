"""Embedded EventBridge Scheduler: fires the schedules moto stores, on the virtual clock.

moto keeps schedules (`create_schedule`, `get_schedule`, `update_schedule` work) but never runs them. Here each
schedule gets a due time on the virtual clock; `fire_due` runs the targets of those that are due, the way the
scheduler would invoke them, and moves each to its next occurrence. The schedule is read back from moto at every
firing, so `update_schedule` (a new rate, a new input, `State: DISABLED`) takes effect as it would in AWS.

Schedules created through the API at run time (`CreateSchedule` by the application, in any schedule group) are run
too: `following_api_schedules` has moto tell the scheduler about each one as it is created (its first run is one
period after that moment on the virtual clock) and deleted.

Semantics kept: `rate(N minutes|hours|days)` recurs every N units, the first time one period after creation (or at
`StartDate`); `at(yyyy-mm-ddThh:mm:ss)` fires once; `EndDate` ends a schedule; a disabled schedule does not fire; a
deleted one never fires again; the target receives the schedule's `Input` as its event. Simplified: a jump of the
clock over several periods fires once (as after downtime, not a backlog); a flexible time window fires at its start;
a Lambda target runs synchronously, and its error is recorded instead of being retried by Lambda's asynchronous
invocation; `cron(...)` expressions are not run (a warning says so).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from moto.scheduler.models import EventBridgeSchedulerBackend

LOG = logging.getLogger(__name__)

_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

# (target ARN, the schedule's Input or None, the target's RoleArn) → the error type when the target failed, else None.
TargetInvoker = Callable[[str, str | None, str | None], str | None]


@dataclass(frozen=True)
class ScheduledRun:
    schedule: str  # the schedule's name
    target_arn: str
    fired_at: float  # virtual epoch seconds
    error_type: str | None


@dataclass
class _Entry:
    name: str
    group: str
    due_at: float | None  # None: never again


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of a `rate(...)` expression; None for other kinds. Raises on a malformed rate."""
    if not expression.startswith("rate("):
        return None
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if match is None:
        raise ValueError(f"invalid rate expression {expression!r}")
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    if count < 1 or (count == 1) != (match.group(2) == unit):
        raise ValueError(f"invalid rate expression {expression!r} (1 takes a singular unit, more a plural one)")
    return float(count * _UNIT_SECONDS[unit])


def at_time(expression: str) -> float | None:
    """Epoch seconds of a one-time `at(...)` expression (UTC, as without ScheduleExpressionTimezone)."""
    match = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", expression)
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC).timestamp() if match else None


class EmbeddedScheduler:
    def __init__(self, client: Any, now: Callable[[], float], invoke_target: TargetInvoker) -> None:
        self._client = client  # a boto3 "scheduler" client on moto
        self._now = now
        self._invoke_target = invoke_target
        self._entries: dict[tuple[str, str], _Entry] = {}  # (group, name) → entry
        self._lock = threading.Lock()
        self.runs: list[ScheduledRun] = []

    def add(self, name: str, group: str = "default", schedule: dict[str, Any] | None = None) -> None:
        """Start running a schedule created in moto; `schedule` is its description when the caller has it (moto
        itself, while it creates the schedule, must not be asked again)."""
        schedule = schedule if schedule is not None else self._get(name, group)
        if schedule is None:
            raise KeyError(f"no schedule {name} in group {group}")
        created = self._now()
        start = _epoch(schedule.get("StartDate"))
        expression = schedule["ScheduleExpression"]
        period = rate_seconds(expression)
        if period is not None:
            due_at: float | None = start if start is not None and start > created else created + period
        else:
            due_at = at_time(expression)
            if due_at is None:
                LOG.warning("schedule %s: %s is not run by the embedded scheduler", name, expression)
        with self._lock:
            self._entries[(group, name)] = _Entry(name, group, due_at)

    def discard(self, name: str, group: str = "default") -> None:
        """Stop running a schedule (it was deleted)."""
        with self._lock:
            self._entries.pop((group, name), None)

    def scheduled(self, group: str | None = None) -> list[tuple[str, str]]:
        """(group, name) of every schedule being run, of `group` or all."""
        with self._lock:
            return sorted(key for key in self._entries if group is None or key[0] == group)

    def due_at(self, name: str, group: str = "default") -> float | None:
        """When the schedule fires next (virtual epoch seconds), or None if it never will."""
        return self._entries[(group, name)].due_at

    def fire_due(self) -> list[ScheduledRun]:
        """Fire every schedule whose time has come; each moves on to its next occurrence after now."""
        now = self._now()
        with self._lock:
            due = [entry for entry in self._entries.values() if entry.due_at is not None and entry.due_at <= now]
            for entry in due:
                entry.due_at = self._next_after(entry, now)
        runs = [run for run in (self._fire(entry, disabled_too=False) for entry in due) if run is not None]
        return runs

    def fire(self, name: str, group: str = "default") -> ScheduledRun:
        """Run the schedule's target now (even a disabled one), leaving its next occurrence as it was."""
        run = self._fire(self._entries[(group, name)], disabled_too=True)
        assert run is not None
        return run

    def _next_after(self, entry: _Entry, now: float) -> float | None:
        schedule = self._get(entry.name, entry.group)
        if schedule is None:
            return None  # deleted behind our back: nothing more to run
        period = rate_seconds(schedule["ScheduleExpression"])
        if period is None or entry.due_at is None:
            return None  # a one-time schedule has fired
        missed = int((now - entry.due_at) // period) + 1
        following = entry.due_at + missed * period
        end = _epoch(schedule.get("EndDate"))
        return None if end is not None and following > end else following

    def _fire(self, entry: _Entry, *, disabled_too: bool) -> ScheduledRun | None:
        schedule = self._get(entry.name, entry.group)
        if schedule is None or (schedule.get("State") == "DISABLED" and not disabled_too):
            return None
        target = schedule["Target"]
        error_type = self._invoke_target(target["Arn"], target.get("Input"), target.get("RoleArn"))
        if error_type is not None:
            LOG.warning("schedule %s: target %s failed with %s", entry.name, target["Arn"], error_type)
        run = ScheduledRun(entry.name, target["Arn"], self._now(), error_type)
        with self._lock:
            self.runs.append(run)
        return run

    def _get(self, name: str, group: str) -> dict[str, Any] | None:
        try:
            schedule: dict[str, Any] = self._client.get_schedule(Name=name, GroupName=group)
        except self._client.exceptions.ResourceNotFoundException:
            return None
        return schedule


@contextmanager
def following_api_schedules(scheduler: Callable[[], EmbeddedScheduler | None]) -> Iterator[None]:
    """While entered, every schedule moto creates is run by `scheduler()` from that moment, and every one it deletes
    stops: schedules the application makes at run time behave like the template's."""
    create, delete = EventBridgeSchedulerBackend.create_schedule, EventBridgeSchedulerBackend.delete_schedule

    def created(backend: EventBridgeSchedulerBackend, *args: Any, **kwargs: Any) -> Any:
        schedule = create(backend, *args, **kwargs)
        running = scheduler()
        if running is not None:
            running.add(schedule.name, schedule.group_name, schedule.to_dict())
        return schedule

    def deleted(backend: EventBridgeSchedulerBackend, group_name: str | None, name: str) -> None:
        delete(backend, group_name, name)
        running = scheduler()
        if running is not None:
            running.discard(name, group_name or "default")

    with (
        mock.patch.object(EventBridgeSchedulerBackend, "create_schedule", created),
        mock.patch.object(EventBridgeSchedulerBackend, "delete_schedule", deleted),
    ):
        yield


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)
