"""Schedules the application creates at run time (one per connection, `crossdock.aws.schedules.ScheduleGroup`) are
run by the embedded EventBridge Scheduler like the template's: from their creation on the virtual clock, in their
own group, until they are deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from crossdock.aws.schedules import ScheduleGroup, ScheduleTarget
from crossdock.errors import PermanentError
from crossdock_local.aws.embedded import EmbeddedAws

APP = Path(__file__).parent / "embedded_app" / "scheduled.yaml"
GROUP = "connections"
TEN_MINUTES = 600


@pytest.fixture
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(template=APP) as embedded:
        boto3.client("scheduler").create_schedule_group(Name=GROUP)
        yield embedded


@pytest.fixture
def group(aws: EmbeddedAws) -> ScheduleGroup:
    target = ScheduleTarget(
        function_arn=aws.resources["TickFunction"].attrs["Arn"], role_arn=aws.resources["TickRole"].attrs["Arn"]
    )
    return ScheduleGroup(boto3.client("scheduler"), GROUP, target)


def _ticks(aws: EmbeddedAws) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(aws.table_name("Table"))
    items = table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "tick"})["Items"]
    return sorted((json.loads(item["event"]) for item in items), key=lambda event: json.dumps(event, sort_keys=True))


def test_a_schedule_created_at_run_time_fires_from_its_creation(aws: EmbeddedAws, group: ScheduleGroup) -> None:
    aws.clock.advance(3 * TEN_MINUTES)  # long after the stack started
    created = aws.clock.time()

    assert group.put("conn-1", "rate(10 minutes)", {"connection_id": "1"}, "sweep of shop 1") == "created"

    assert (GROUP, "conn-1") in aws.scheduler.scheduled(GROUP)
    assert aws.scheduler.due_at("conn-1", GROUP) == pytest.approx(created + TEN_MINUTES, abs=1)
    aws.clock.advance(TEN_MINUTES - 5)
    assert [run.schedule for run in aws.fire_due_schedules()] != ["conn-1"]
    aws.clock.advance(6)
    fired = [run for run in aws.fire_due_schedules() if run.schedule == "conn-1"]
    assert len(fired) == 1 and fired[0].error_type is None
    assert {"connection_id": "1"} in _ticks(aws)


def test_an_unchanged_put_writes_nothing_and_a_changed_one_updates(aws: EmbeddedAws, group: ScheduleGroup) -> None:
    group.put("conn-2", "rate(10 minutes)", {"connection_id": "2"}, "sweep")
    first = group.get("conn-2")

    assert group.put("conn-2", "rate(10 minutes)", {"connection_id": "2"}, "sweep") == "unchanged"
    assert group.put("conn-2", "rate(30 minutes)", {"connection_id": "2"}, "sweep") == "updated"

    updated = group.get("conn-2")
    assert first is not None and updated is not None
    assert updated["ScheduleExpression"] == "rate(30 minutes)"
    assert updated["Target"]["Input"] == first["Target"]["Input"] == '{"connection_id":"2"}'
    assert updated["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert updated["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 900}


def test_a_deleted_schedule_never_fires_again(aws: EmbeddedAws, group: ScheduleGroup) -> None:
    group.put("conn-3", "rate(10 minutes)", {"connection_id": "3"}, "sweep")

    assert group.delete("conn-3") is True
    assert group.delete("conn-3") is False  # gone already: fine

    assert group.get("conn-3") is None
    assert (GROUP, "conn-3") not in aws.scheduler.scheduled()
    aws.clock.advance(3 * TEN_MINUTES)
    assert all(run.schedule != "conn-3" for run in aws.fire_due_schedules())
    assert {"connection_id": "3"} not in _ticks(aws)


def test_same_names_in_two_groups_are_two_schedules(aws: EmbeddedAws, group: ScheduleGroup) -> None:
    other = ScheduleGroup(boto3.client("scheduler"), "default", group.target)
    group.put("twin", "rate(10 minutes)", {"connection_id": "a"}, "sweep")
    other.put("twin", "rate(20 minutes)", {"connection_id": "b"}, "sweep")

    aws.clock.advance(TEN_MINUTES + 1)
    aws.fire_due_schedules()

    assert {"connection_id": "a"} in _ticks(aws) and {"connection_id": "b"} not in _ticks(aws)
    assert aws.scheduler.due_at("twin", "default") > aws.clock.time()


def test_a_group_without_a_target_may_delete_but_not_create(aws: EmbeddedAws, group: ScheduleGroup) -> None:
    group.put("conn-4", "rate(10 minutes)", {"connection_id": "4"}, "sweep")
    deleter = ScheduleGroup(boto3.client("scheduler"), GROUP)

    with pytest.raises(PermanentError) as refused:
        deleter.put("conn-5", "rate(10 minutes)", {"connection_id": "5"}, "sweep")

    assert refused.value.failure_class.value == "bug"
    assert deleter.delete("conn-4") is True
