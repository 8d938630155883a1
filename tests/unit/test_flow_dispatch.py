"""The dispatch flow (flows/dispatch.py) against in-memory fakes: a made-up kind whose routes record what they were
handed, no AWS. Routing, the connection's state, unreadable messages, the settings in force, and how
`start_workflow` treats a first attempt and a redrive."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_fakes import (
    OTHER_SYSTEM,
    SYSTEM,
    FakeAttempts,
    FakeConnections,
    FakeEventLog,
    MadeUpKind,
    MadeUpSettings,
    Recorded,
    connection,
    registered,
)

from crossdock.connections.model import ConnectionState
from crossdock.errors import FailureClass
from crossdock.flows.dispatch import (
    EVENT_PAYLOAD_LIMIT,
    MAX_SWEEP_ATTEMPTS,
    DispatchDeps,
    dispatch_event,
    settings_in_force,
)
from crossdock.store.attempts import Attempts
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome
from crossdock.workflow_names import attempt_name

RECEIVED_AT = "2026-03-01T10:00:00.000000Z"
NAME = "c-1-order-1001"  # the first attempt's execution name


def message(topic: str = "orders/created", source: str = SYSTEM, **fields: Any) -> dict[str, Any]:
    return {
        "connection_id": "c-1",
        "event_id": "e-1",
        "source": source,
        "topic": topic,
        "payload": json.dumps({"id": 1001}),
        "received_at": RECEIVED_AT,
        **fields,
    }


@dataclass
class Harness:
    kind: MadeUpKind
    events: FakeEventLog = field(default_factory=FakeEventLog)
    connections: FakeConnections = field(default_factory=FakeConnections)
    attempts: FakeAttempts = field(default_factory=FakeAttempts)
    workflows: Recorded = field(default_factory=Recorded)
    statuses: dict[str, str] = field(default_factory=dict)  # execution name → its status in Step Functions
    bucket: dict[str, str] = field(default_factory=dict)  # the payload bucket: claim check → body

    def deps(self) -> DispatchDeps:
        return DispatchDeps(
            table=None,
            start_order_workflow=self.workflows.start,
            workflow_status=self.statuses.get,
            event_log=self.events,
            connection_repository=self.connections,
            attempt_log=self.attempts,
            read_checked_in=self.bucket.get,
        )

    def dispatch(self, sent: dict[str, Any]) -> Outcome:
        return dispatch_event(sent, self.deps())

    def start(self, redrive: str | None) -> Outcome:
        return self.deps().start_workflow("c-1", NAME, {"order_id": "1001"}, "order 1001 was started before", redrive)


@pytest.fixture
def harness() -> Iterator[Harness]:
    with registered(MadeUpKind()) as kind:
        made = Harness(kind)
        made.connections.add(connection())
        yield made


# ---- routing ------------------------------------------------------------------------------------------------------


def test_an_event_goes_to_the_route_of_its_source_and_topic_and_ends_as_its_handler_says(harness: Harness) -> None:
    # GIVEN an active connection and an event its kind routes (source + topic)
    # WHEN it is dispatched
    outcome = harness.dispatch(message("orders/updated"))
    # THEN the orders route got it, with the connection, the payload and the event's place in the log
    assert harness.kind.routes.names == ["orders"]
    event = harness.kind.routes.handled[0].event
    assert (event.connection.id, event.source, event.topic, event.payload) == (
        "c-1",
        SYSTEM,
        "orders/updated",
        '{"id": 1001}',
    )
    assert event.received_at == RECEIVED_AT and event.redrive is None
    # AND the event is recorded and ends as the handler answered
    assert outcome == Outcome.done("handled")
    stored = harness.events.only()
    assert (stored.event_id, stored.topic, stored.status, stored.reason) == (
        "e-1",
        "orders/updated",
        EventStatus.DONE,
        "handled",
    )
    assert event.sk == next(iter(harness.events.events))[1]


def test_an_event_whose_work_goes_on_elsewhere_stays_received(harness: Harness) -> None:
    # GIVEN a handler that started work which will finish the event itself (a workflow)
    harness.kind.routes.answer = Outcome(EventStatus.RECEIVED, "workflow started")
    # WHEN the event is dispatched, THEN dispatch leaves it received
    assert harness.dispatch(message()).status is EventStatus.RECEIVED
    assert harness.events.only().status is EventStatus.RECEIVED and harness.events.only().reason is None


def test_a_topic_is_routed_only_from_the_source_its_route_names(harness: Harness) -> None:
    # GIVEN the kind hears stock/changed from the other system only
    # WHEN the made-up system sends stock/changed, and the other system does
    refused = harness.dispatch(message("stock/changed", event_id="e-1"))
    routed = harness.dispatch(message("stock/changed", source=OTHER_SYSTEM, event_id="e-2"))
    # THEN only the other system's reaches the stock route; the first is skipped with the reason
    assert refused == Outcome.skipped(f"no flow handles {SYSTEM} event stock/changed")
    assert routed.status is EventStatus.DONE and harness.kind.routes.names == ["stock"]


def test_an_event_no_route_handles_is_skipped_with_the_reason(harness: Harness) -> None:
    outcome = harness.dispatch(message("customers/created"))

    assert outcome == Outcome.skipped(f"no flow handles {SYSTEM} event customers/created")
    assert harness.events.only().status is EventStatus.SKIPPED
    assert harness.events.only().reason == outcome.reason
    assert harness.kind.routes.handled == []


@pytest.mark.parametrize("state", [ConnectionState.PAUSED, ConnectionState.UNINSTALLED, ConnectionState.INSTALLING])
def test_a_connection_that_is_not_active_skips_its_routes(harness: Harness, state: ConnectionState) -> None:
    harness.connections.add(connection(state=state))

    outcome = harness.dispatch(message())

    assert outcome == Outcome.skipped(f"connection c-1 is {state.value}")
    assert harness.events.only().status is EventStatus.SKIPPED
    assert harness.kind.routes.handled == []


def test_a_route_marked_any_state_runs_for_an_uninstalled_connection_with_its_stored_settings(
    harness: Harness,
) -> None:
    # GIVEN an uninstalled connection whose settings were saved after the event was received
    harness.connections.add(connection(state=ConnectionState.UNINSTALLED, version=2, saved_at="2026-03-02T00:00:00Z"))
    harness.connections.versions["c-1"] = [{"version": 1, "saved_at": None, "settings": {"warehouse": "old"}}]
    # WHEN its app/removed event is dispatched
    outcome = harness.dispatch(message("app/removed"))
    # THEN the any-state route handles it, with the connection as stored (no look at earlier settings)
    assert outcome.status is EventStatus.DONE and harness.kind.routes.names == ["removed"]
    assert harness.kind.routes.handled[0].event.connection.settings_version == 2
    assert harness.connections.version_queries == 0


def test_an_event_for_a_deleted_connection_is_skipped_in_its_log(harness: Harness) -> None:
    outcome = harness.dispatch(message(connection_id="c-9"))

    assert outcome == Outcome.skipped("connection c-9 is deleted")
    assert harness.events.only("c-9").status is EventStatus.SKIPPED
    assert harness.kind.routes.handled == []


# ---- unreadable messages ------------------------------------------------------------------------------------------


def test_an_invalid_message_ends_needs_attention_naming_the_field_without_reaching_a_route(harness: Harness) -> None:
    # GIVEN a message without its topic
    sent = message()
    del sent["topic"]
    # WHEN it is dispatched
    outcome = harness.dispatch(sent)
    # THEN it needs attention as a bug, the reason names the field, and it is recorded under its connection
    assert outcome.status is EventStatus.NEEDS_ATTENTION and outcome.failure_class is FailureClass.BUG
    assert outcome.reason == "inbound message is invalid: webhook.topic: Field required"
    stored = harness.events.only()
    assert (stored.status, stored.reason, stored.topic) == (EventStatus.NEEDS_ATTENTION, outcome.reason, "-")
    assert stored.details == {"failure_class": "bug"}
    assert harness.kind.routes.handled == []


def test_a_message_with_an_unknown_redrive_names_the_redrive(harness: Harness) -> None:
    outcome = harness.dispatch(message(redrive="whoever"))

    assert outcome.status is EventStatus.NEEDS_ATTENTION and "redrive" in outcome.reason
    assert harness.kind.routes.handled == []


def test_an_invalid_message_that_names_no_connection_is_only_reported(harness: Harness) -> None:
    outcome = harness.dispatch({"topic": "orders/created"})

    assert outcome.status is EventStatus.NEEDS_ATTENTION and "connection_id" in outcome.reason
    assert harness.events.events == {}


# ---- the settings in force ----------------------------------------------------------------------------------------


def test_an_event_received_before_a_save_is_handled_with_the_settings_then_in_force(harness: Harness) -> None:
    # GIVEN settings version 3 saved at 12:00, version 2 at 09:00 and version 1 at install
    harness.connections.add(
        connection(settings=MadeUpSettings(warehouse="v3"), version=3, saved_at="2026-03-01T12:00:00.000000Z")
    )
    harness.connections.versions["c-1"] = [
        {"version": 1, "saved_at": None, "settings": {"warehouse": "v1"}},
        {"version": 2, "saved_at": "2026-03-01T09:00:00.000000Z", "settings": {"warehouse": "v2"}},
        {"version": 3, "saved_at": "2026-03-01T12:00:00.000000Z", "settings": {"warehouse": "v3"}},
    ]
    # WHEN an event received at 10:00 (it waited in the queue across the save) is dispatched
    harness.dispatch(message())
    # THEN its handler sees version 2, typed by the kind's settings model
    handled = harness.kind.routes.handled[0].event.connection
    assert handled.settings == MadeUpSettings(warehouse="v2")
    assert (handled.settings_version, handled.settings_saved_at) == (2, "2026-03-01T09:00:00.000000Z")


def test_an_event_received_after_the_save_uses_the_current_settings_without_a_query(harness: Harness) -> None:
    current = connection(settings=MadeUpSettings(warehouse="v2"), version=2, saved_at="2026-03-01T09:00:00.000000Z")

    assert settings_in_force(harness.connections, current, RECEIVED_AT) is current
    assert harness.connections.version_queries == 0


def test_an_event_before_a_save_with_no_earlier_version_recorded_keeps_the_current_settings(
    harness: Harness,
) -> None:
    current = connection(version=2, saved_at="2026-03-01T12:00:00.000000Z")
    harness.connections.versions["c-1"] = [{"version": 2, "saved_at": "2026-03-01T12:00:00.000000Z", "settings": {}}]

    assert settings_in_force(harness.connections, current, RECEIVED_AT) is current
    assert harness.connections.version_queries == 1


# ---- start_workflow -----------------------------------------------------------------------------------------------


def test_a_first_attempt_starts_the_named_workflow_and_a_repeat_is_skipped(harness: Harness) -> None:
    # WHEN the workflow is started twice without a redrive (a duplicate webhook)
    first = harness.start(None)
    repeat = harness.start(None)
    # THEN it is started once under its first name; the repeat is skipped with the handler's reason
    assert first == Outcome(EventStatus.RECEIVED, f"workflow {NAME} started")
    assert repeat == Outcome.skipped(f"order 1001 was started before (workflow {NAME})")
    assert harness.workflows.calls == [(NAME, {"order_id": "1001"})]
    assert harness.attempts.attempts == {}


def test_a_redrive_of_a_workflow_never_started_starts_its_first_attempt(harness: Harness) -> None:
    outcome = harness.start("operator")

    assert outcome.reason == f"workflow {NAME} started" and harness.workflows.names == [NAME]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("RUNNING", f"order 1001 was started before (workflow {NAME})"),
        ("SUCCEEDED", f"workflow {NAME} already finished it"),
    ],
)
def test_a_redrive_leaves_a_latest_attempt_that_runs_or_succeeded(harness: Harness, status: str, reason: str) -> None:
    harness.statuses[NAME] = status

    assert harness.start("operator") == Outcome.skipped(reason)
    assert harness.workflows.calls == [] and harness.attempts.attempts == {}


def test_an_operators_redrive_after_a_failure_starts_the_next_attempt(harness: Harness) -> None:
    # GIVEN the first attempt failed for a lasting reason
    harness.statuses[NAME] = "FAILED"
    harness.attempts.record_failure("c-1", NAME, "validation")
    # WHEN an operator retries
    outcome = harness.start("operator")
    # THEN attempt 1 is claimed (its failure forgotten) and started under its own name
    assert outcome.reason == f"workflow {attempt_name(NAME, 1)} started"
    assert harness.workflows.names == [f"{NAME}-r1"]
    assert harness.attempts.current("c-1", NAME) == Attempts(1, None)
    # AND a second retry while that attempt runs starts nothing
    harness.statuses[f"{NAME}-r1"] = "RUNNING"
    assert harness.start("operator").status is EventStatus.SKIPPED and len(harness.workflows.calls) == 1


def test_the_sweep_retries_a_passing_failure_but_leaves_a_lasting_one_to_an_operator(harness: Harness) -> None:
    # GIVEN one workflow whose attempt failed because the target was down, and one that failed validation
    harness.statuses[NAME] = "FAILED"
    harness.attempts.record_failure("c-1", NAME, "target_down")
    other = "c-1-order-1002"
    harness.statuses[other] = "FAILED"
    harness.attempts.record_failure("c-1", other, "validation")
    # WHEN the reconciliation sweep redrives both
    passing = harness.start("reconciliation")
    lasting = harness.deps().start_workflow("c-1", other, {}, "started before", "reconciliation")
    # THEN only the passing failure gets a new attempt
    assert passing.reason == f"workflow {NAME}-r1 started"
    assert lasting == Outcome.skipped("its last attempt failed (validation): an operator decides on a retry")
    assert harness.workflows.names == [f"{NAME}-r1"]


def test_the_sweep_gives_up_after_max_sweep_attempts_and_an_operator_still_may_retry(harness: Harness) -> None:
    # GIVEN the latest attempt is the last the sweep may make, and it failed for a passing reason
    last = MAX_SWEEP_ATTEMPTS - 1
    harness.attempts.attempts[("c-1", NAME)] = Attempts(last, "rate_limit")
    harness.statuses[attempt_name(NAME, last)] = "FAILED"
    # WHEN the sweep redrives it, THEN it leaves it to an operator
    swept = harness.start("reconciliation")
    assert swept == Outcome.skipped(f"{MAX_SWEEP_ATTEMPTS} attempts failed: an operator decides on a retry")
    assert harness.workflows.calls == []
    # AND an operator's retry starts the next attempt
    assert harness.start("operator").reason == f"workflow {NAME}-r{MAX_SWEEP_ATTEMPTS} started"


def test_two_redrives_racing_start_one_attempt(harness: Harness) -> None:
    # GIVEN another dispatcher claims the next attempt between this one's read and its claim
    harness.statuses[NAME] = "FAILED"
    harness.attempts.claimed_by_another = True
    # WHEN this one redrives, THEN it starts nothing and says why
    assert harness.start("operator") == Outcome.skipped(f"another retry of workflow {NAME} started at the same moment")
    assert harness.workflows.calls == []


def test_a_redrive_message_reaches_its_handler_as_a_redrive(harness: Harness) -> None:
    harness.dispatch(message(redrive="reconciliation"))

    assert harness.kind.routes.handled[0].event.redrive == "reconciliation"


# ---- claim checks -------------------------------------------------------------------------------------------------


def claim_checked(key: str) -> dict[str, Any]:
    sent = message("orders/updated", payload_ref=key)
    del sent["payload"]
    return sent


def test_a_claim_checked_message_is_handled_with_the_body_read_back_from_the_bucket(harness: Harness) -> None:
    # GIVEN a message whose body was too large for the queue and waits in the payload bucket
    body = json.dumps({"id": 1001, "note": "Levér ved bagdøren. " * 20_000}, ensure_ascii=False)
    harness.bucket["inbound/c-1/b.json"] = body
    # WHEN it is dispatched
    outcome = harness.dispatch(claim_checked("inbound/c-1/b.json"))
    # THEN the route got the whole body, and the event log keeps it as for any other event
    assert outcome == Outcome.done("handled")
    assert harness.kind.routes.handled[0].event.payload == body
    assert harness.events.only().payload == body


def test_a_claim_check_whose_body_is_gone_ends_needs_attention_naming_the_key(harness: Harness) -> None:
    # GIVEN a message whose body the bucket no longer has (its lifecycle rule expired it)
    # WHEN it is dispatched
    outcome = harness.dispatch(claim_checked("inbound/c-1/gone.json"))
    # THEN nothing is routed; the event is recorded needs_attention with the key, never retried
    assert harness.kind.routes.names == []
    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert outcome.reason == "payload_ref: inbound/c-1/gone.json is gone from the payload bucket (expired?)"
    stored = harness.events.only()
    assert (stored.status, stored.details["payload_ref"]) == (EventStatus.NEEDS_ATTENTION, "inbound/c-1/gone.json")


def test_a_body_too_large_for_the_event_log_even_compressed_waits_for_an_operator(harness: Harness) -> None:
    # GIVEN a claim-checked body that does not compress below the event log's item budget (random text)
    body = json.dumps({"id": 1001, "note": os.urandom(400_000).hex()})
    harness.bucket["inbound/c-1/huge.json"] = body
    # WHEN it is dispatched
    outcome = harness.dispatch(claim_checked("inbound/c-1/huge.json"))
    # THEN it is not routed, and the reason names the payload, its sizes and where the body still is
    assert harness.kind.routes.names == []
    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert outcome.reason.startswith(f"payload: {len(body)} bytes, ")
    assert f"over the event log's {EVENT_PAYLOAD_LIMIT}" in outcome.reason and "inbound/c-1/huge.json" in outcome.reason
    assert harness.events.only().payload == ""


def test_a_claim_check_without_a_bucket_to_read_is_a_bug(harness: Harness) -> None:
    deps = DispatchDeps(
        table=None,
        start_order_workflow=harness.workflows.start,
        event_log=harness.events,
        connection_repository=harness.connections,
        attempt_log=harness.attempts,
    )
    outcome = dispatch_event(claim_checked("inbound/c-1/b.json"), deps)
    assert (outcome.status, outcome.failure_class) == (EventStatus.NEEDS_ATTENTION, FailureClass.BUG)
