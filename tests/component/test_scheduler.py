"""The embedded runtime provisions EventBridge Scheduler schedules in moto and fires them on its virtual clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.scheduler import at_time, rate_seconds

APP = Path(__file__).parent / "embedded_app" / "scheduled.yaml"
REAL_TEMPLATE = Path(__file__).parents[2] / "template.yaml"
FIVE_MINUTES = 300


@pytest.fixture
def aws() -> Iterator[EmbeddedAws]:
    with EmbeddedAws(template=APP) as embedded:
        yield embedded


def _ticks(aws: EmbeddedAws) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(aws.table_name("Table"))
    items: list[dict[str, Any]] = table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "tick"}
    )["Items"]
    return items


def _tick_events(aws: EmbeddedAws) -> list[dict[str, Any]]:
    return sorted((json.loads(item["event"]) for item in _ticks(aws)), key=lambda event: json.dumps(event))


def test_schedules_are_provisioned_in_moto_as_cloudformation_would(aws: EmbeddedAws) -> None:
    scheduler = boto3.client("scheduler")

    schedule = scheduler.get_schedule(Name=aws.schedule_name("TickSchedule"))

    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["State"] == "ENABLED"
    assert (
        schedule["Target"]["Arn"]
        == boto3.client("lambda").get_function(FunctionName=aws.function_name("TickFunction"))["Configuration"][
            "FunctionArn"
        ]
    )
    assert schedule["Target"]["Input"] == '{"tick": "regular"}'
    role = boto3.client("iam").get_role(RoleName=aws.resources["TickRole"].ref)["Role"]
    assert schedule["Target"]["RoleArn"] == role["Arn"]
    assert scheduler.get_schedule(Name="tick-once")["ScheduleExpression"] == "at(2099-01-01T00:00:00)"
    assert {s["Name"] for s in scheduler.list_schedules()["Schedules"]} == {
        aws.schedule_name("TickSchedule"),
        "tick-once",
        aws.schedule_name("PausedSchedule"),
    }


def test_a_rate_schedule_fires_once_a_period_on_the_virtual_clock(aws: EmbeddedAws) -> None:
    # GIVEN the schedule, created while the stack started: its first run is a period after that moment. The clock
    # keeps running while the rest of the stack starts (seconds on a loaded machine), so the run is held to a
    # period after some moment of the start, not to a moment this test takes after it.
    now = aws.clock.time()
    first = aws.next_schedule_time("TickSchedule")
    assert first is not None and now + FIVE_MINUTES - 60 < first <= now + FIVE_MINUTES

    aws.clock.advance(first - aws.clock.time() - 5)
    assert aws.fire_due_schedules() == []

    aws.clock.advance(6)
    (run,) = aws.fire_due_schedules()

    assert run.schedule == aws.schedule_name("TickSchedule")
    assert run.error_type is None
    assert _tick_events(aws) == [{"tick": "regular"}]
    assert [item["greeting"] for item in _ticks(aws)] == ["hello"]  # the function's own environment
    assert aws.invocations[-1].source == "scheduler"
    assert aws.fire_due_schedules() == []  # the next run is a period later
    assert aws.next_schedule_time("TickSchedule") == pytest.approx(first + FIVE_MINUTES, abs=1)


def test_drain_runs_due_schedules_and_a_long_jump_fires_once(aws: EmbeddedAws) -> None:
    assert aws.drain() == 0
    assert _ticks(aws) == []  # draining does not move the clock towards a schedule

    aws.clock.advance(3 * FIVE_MINUTES + 10)
    aws.drain()

    assert _tick_events(aws) == [{"tick": "regular"}]
    next_run = aws.next_schedule_time("TickSchedule")
    assert next_run is not None and aws.clock.time() < next_run <= aws.clock.time() + FIVE_MINUTES


def test_a_disabled_schedule_does_not_fire_until_fired_by_name(aws: EmbeddedAws) -> None:
    aws.clock.advance(FIVE_MINUTES + 1)
    fired = {run.schedule for run in aws.fire_due_schedules()}
    assert aws.schedule_name("PausedSchedule") not in fired

    run = aws.fire_schedule("PausedSchedule")

    assert run.schedule == aws.schedule_name("PausedSchedule")
    assert {"tick": "paused"} in _tick_events(aws)


def test_update_schedule_takes_effect_and_a_failing_target_is_recorded(aws: EmbeddedAws) -> None:
    scheduler = boto3.client("scheduler")
    name = aws.schedule_name("TickSchedule")
    current = scheduler.get_schedule(Name=name)
    scheduler.update_schedule(
        Name=name,
        ScheduleExpression=current["ScheduleExpression"],
        FlexibleTimeWindow=current["FlexibleTimeWindow"],
        Target={**current["Target"], "Input": json.dumps({"fail": True})},
    )

    aws.clock.advance(FIVE_MINUTES + 1)
    (run,) = aws.fire_due_schedules()

    assert run.error_type == "RuntimeError"
    assert aws.schedule_runs == [run]
    assert aws.usage()["lambda"]["TickFunction"]["errors"] == 1

    scheduler.update_schedule(
        Name=name,
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="DISABLED",
        Target=current["Target"],
    )
    aws.clock.advance(FIVE_MINUTES + 1)
    assert aws.fire_due_schedules() == []


def test_a_one_time_schedule_fires_once_at_its_time(aws: EmbeddedAws) -> None:
    once = datetime(2099, 1, 1, tzinfo=UTC).timestamp()
    assert aws.next_schedule_time("OnceSchedule") == once

    aws.clock.advance_to(once + 1)
    fired = {run.schedule for run in aws.fire_due_schedules()}
    aws.clock.advance(FIVE_MINUTES * 12)
    fired_later = {run.schedule for run in aws.fire_due_schedules()}

    assert "tick-once" in fired
    assert "tick-once" not in fired_later
    assert aws.next_schedule_time("OnceSchedule") is None


def test_function_environment_can_be_updated_while_running(aws: EmbeddedAws) -> None:
    aws.update_function_environment("TickFunction", {"GREETING": "hej"})

    aws.fire_schedule("TickSchedule")

    assert [item["greeting"] for item in _ticks(aws)] == ["hej"]
    assert aws.function_env("TickFunction")["GREETING"] == "hej"
    configuration = boto3.client("lambda").get_function_configuration(FunctionName=aws.function_name("TickFunction"))
    assert configuration["Environment"]["Variables"]["GREETING"] == "hej"


def test_schedule_expressions() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(15 minutes)") == 900
    assert rate_seconds("rate(2 days)") == 172_800
    assert rate_seconds("cron(0 * * * ? *)") is None
    for invalid in ("rate(1 minutes)", "rate(2 hour)", "rate(0 hours)", "rate(5 weeks)"):
        with pytest.raises(ValueError):
            rate_seconds(invalid)
    assert at_time("at(2030-06-01T12:00:00)") == datetime(2030, 6, 1, 12, tzinfo=UTC).timestamp()
    assert at_time("rate(1 hour)") is None


def test_real_template_runs_the_self_check_on_its_schedule() -> None:
    with EmbeddedAws(template=REAL_TEMPLATE, parameters={"SelfCheckRate": "rate(15 minutes)"}) as aws:
        schedule = boto3.client("scheduler").get_schedule(Name=aws.schedule_name("SelfCheckSchedule"))
        assert schedule["ScheduleExpression"] == "rate(15 minutes)"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert schedule["Target"]["DeadLetterConfig"]["Arn"] == aws.queue_arn("SelfCheckDeadLetterQueue")
        role = aws.resources["SelfCheckScheduleRole"].ref
        policy: Any = boto3.client("iam").get_role_policy(RoleName=role, PolicyName="invoke-self-check")
        statements = policy["PolicyDocument"]["Statement"]
        assert {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": schedule["Target"]["Arn"]} in (
            statements
        )

        aws.clock.advance(15 * 60 + 1)
        aws.drain()

        (run,) = aws.schedule_runs
        assert run.error_type is None
        assert [i.function for i in aws.invocations if i.source == "scheduler"] == ["SelfCheckFunction"]
