"""EventBridge Scheduler schedules made at run time (one per connection), in the stack's own schedule group.

`put` is an upsert by name: it reads the schedule and creates it, updates it, or leaves it alone when it already
says what is wanted (a settings save that did not touch the interval writes nothing). `delete` of a schedule that is
gone already is fine, so both are safe to repeat. AWS errors become the error taxonomy: throttling and 5xx are
`RetryableError`; anything else (a missing permission, a refused expression) is a `PermanentError` of class bug.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from crossdock.errors import FailureClass, PermanentError, RetryableError

_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
_TRANSIENT = frozenset({"ThrottlingException", "InternalServerException", "ServiceUnavailableException"})


@dataclass(frozen=True)
class ScheduleTarget:
    """What a group's schedules invoke: a Lambda function, with a role the scheduler assumes to invoke it."""

    function_arn: str
    role_arn: str
    dead_letter_arn: str | None = None  # for invocations the scheduler itself could not make


@cache
def client() -> Any:
    return boto3.client("scheduler", config=_CONFIG)


class ScheduleGroup:
    """The schedules of one group. Without a target it can read and delete them only: the function a schedule
    invokes cannot name the role that invokes it in its own configuration (the role names the function)."""

    def __init__(self, scheduler: Any, group: str, target: ScheduleTarget | None = None) -> None:
        self._scheduler = scheduler
        self.group = group
        self.target = target

    @staticmethod
    def named(group: str, target: ScheduleTarget | None = None) -> ScheduleGroup:
        """The group the function's environment names (template.yaml sets `<PREFIX>_SCHEDULE_GROUP` and, for the
        functions that create schedules, the target's function, role and dead-letter queue)."""
        return ScheduleGroup(client(), group, target)

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._call("get_schedule", Name=name, GroupName=self.group)
        except ClientError as failed:
            if _code(failed) == "ResourceNotFoundException":
                return None
            raise _translated("read", name, failed) from failed
        return found

    def put(self, name: str, expression: str, event: dict[str, Any], description: str) -> str:
        """Makes the schedule say this; returns "created", "updated" or "unchanged"."""
        wanted = self._request(name, expression, event, description)
        current = self.get(name)
        if current is not None and _same(current, wanted):
            return "unchanged"
        try:
            if current is None:
                try:
                    self._call("create_schedule", **wanted)
                    return "created"
                except ClientError as taken:
                    if _code(taken) != "ConflictException":
                        raise
                    # Another container created it a moment ago: make it say what we want.
            self._call("update_schedule", **wanted)
        except ClientError as failed:
            raise _translated("write", name, failed) from failed
        return "updated"

    def delete(self, name: str) -> bool:
        """Removes the schedule; False when there was none."""
        try:
            self._call("delete_schedule", Name=name, GroupName=self.group)
        except ClientError as failed:
            if _code(failed) == "ResourceNotFoundException":
                return False
            raise _translated("delete", name, failed) from failed
        return True

    def _request(self, name: str, expression: str, event: dict[str, Any], description: str) -> dict[str, Any]:
        if self.target is None:
            raise PermanentError(f"schedule {name}: this function may not create schedules", FailureClass.BUG)
        target: dict[str, Any] = {
            "Arn": self.target.function_arn,
            "RoleArn": self.target.role_arn,
            "Input": json.dumps(event, separators=(",", ":"), sort_keys=True),
            # A sweep that could not be invoked is worth little an hour later: the next one covers its window.
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 900},
        }
        if self.target.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.target.dead_letter_arn}
        return {
            "Name": name,
            "GroupName": self.group,
            "ScheduleExpression": expression,
            # Spreads the sweeps of many connections that were set up at the same moment over a few minutes, so they
            # do not all reach one Rackbeat account (several shops share it) in the same second.
            "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
            "State": "ENABLED",
            "Description": description,
            "Target": target,
        }

    def _call(self, operation: str, **arguments: Any) -> Any:
        try:
            return getattr(self._scheduler, operation)(**arguments)
        except BotoCoreError as unreachable:
            raise RetryableError(f"EventBridge Scheduler could not be reached ({type(unreachable).__name__})") from None


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    keys = ("ScheduleExpression", "FlexibleTimeWindow", "State", "Description")
    if any(current.get(key) != wanted[key] for key in keys):
        return False
    have, want = current.get("Target") or {}, wanted["Target"]
    return all(have.get(key) == want.get(key) for key in ("Arn", "RoleArn", "Input", "DeadLetterConfig"))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _translated(action: str, name: str, error: ClientError) -> Exception:
    code = _code(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _TRANSIENT or status >= 500:
        return RetryableError(f"EventBridge Scheduler could not {action} schedule {name} ({code})")
    return PermanentError(f"EventBridge Scheduler refused to {action} schedule {name} ({code})", FailureClass.BUG)
