"""`ScheduleGroup` turns EventBridge Scheduler's answers into Crossdock's error taxonomy and survives the race of two
containers creating one schedule (a fake client stands in for boto3's)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from crossdock.aws.schedules import ScheduleGroup, ScheduleTarget
from crossdock.errors import FailureClass, PermanentError, RetryableError

TARGET = ScheduleTarget("arn:aws:lambda:eu-west-1:1:function:reconcile", "arn:aws:iam::1:role/invoke")


def _error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "x")


class FakeScheduler:
    """Answers `get_schedule` from `stored` and raises what each operation is told to."""

    def __init__(self, **raises: Exception) -> None:
        self.raises = raises
        self.stored: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def _maybe_raise(self, operation: str) -> None:
        self.calls.append(operation)
        if operation in self.raises:
            raise self.raises.pop(operation)

    def get_schedule(self, Name: str, GroupName: str) -> dict[str, Any]:
        self._maybe_raise("get_schedule")
        if Name not in self.stored:
            raise _error("ResourceNotFoundException", 404)
        return self.stored[Name]

    def create_schedule(self, **request: Any) -> dict[str, Any]:
        self._maybe_raise("create_schedule")
        self.stored[request["Name"]] = request
        return {"ScheduleArn": "arn"}

    def update_schedule(self, **request: Any) -> dict[str, Any]:
        self._maybe_raise("update_schedule")
        self.stored[request["Name"]] = request
        return {"ScheduleArn": "arn"}

    def delete_schedule(self, Name: str, GroupName: str) -> dict[str, Any]:
        self._maybe_raise("delete_schedule")
        if self.stored.pop(Name, None) is None:
            raise _error("ResourceNotFoundException", 404)
        return {}


def test_a_create_that_lost_the_race_becomes_an_update() -> None:
    scheduler = FakeScheduler(create_schedule=_error("ConflictException", 409))
    group = ScheduleGroup(scheduler, "g", TARGET)

    assert group.put("s", "rate(15 minutes)", {"connection_id": "c"}, "sweep") == "updated"

    assert scheduler.calls == ["get_schedule", "create_schedule", "update_schedule"]
    assert scheduler.stored["s"]["ScheduleExpression"] == "rate(15 minutes)"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_error("ThrottlingException"), RetryableError),
        (_error("InternalServerException", 500), RetryableError),
        (_error("AccessDeniedException", 403), PermanentError),
        (_error("ValidationException"), PermanentError),
    ],
)
def test_refusals_become_the_error_taxonomy_naming_the_schedule(error: ClientError, expected: type) -> None:
    group = ScheduleGroup(FakeScheduler(create_schedule=error), "g", TARGET)

    with pytest.raises(expected) as failed:
        group.put("reconcile-c", "rate(15 minutes)", {"connection_id": "c"}, "sweep")

    assert "reconcile-c" in failed.value.reason
    if expected is PermanentError:
        assert failed.value.failure_class is FailureClass.BUG


def test_an_unreachable_scheduler_is_retryable() -> None:
    group = ScheduleGroup(FakeScheduler(get_schedule=EndpointConnectionError(endpoint_url="https://x")), "g", TARGET)

    with pytest.raises(RetryableError):
        group.put("s", "rate(15 minutes)", {}, "sweep")


def test_the_input_is_stable_so_an_unchanged_schedule_is_not_rewritten() -> None:
    scheduler = FakeScheduler()
    group = ScheduleGroup(scheduler, "g", TARGET)
    group.put("s", "rate(15 minutes)", {"b": 1, "a": 2}, "sweep")

    assert group.put("s", "rate(15 minutes)", {"a": 2, "b": 1}, "sweep") == "unchanged"
    assert scheduler.calls == ["get_schedule", "create_schedule", "get_schedule"]
    assert scheduler.stored["s"]["Target"]["Input"] == '{"a":2,"b":1}'
