"""Dispatch: turns one queued event into work, through the route table of the connection's integration (DESIGN §1).

The inbound message is read into a typed model first (a union discriminated on who made it: a system's webhook, or
Crossdock's own request); a message that does not fit is recorded and ends `needs_attention` naming the field. The
event is recorded in the connection's log, the connection is loaded with the settings that were in force when the
event arrived, and the integration's route for (source, topic) does the work. What no route handles ends `skipped`
with the reason; a connection that is not active skips everything but the routes marked `any_state`.

A message too large for SQS carries a claim check instead of its payload (`payload_ref`, see
`store.claim_checks`): the body is read back from the payload bucket first, and then kept in the event log like any
other (compressed). One that would not fit an event log item even compressed, or whose body is gone, ends
`needs_attention` with the key, so an operator can still find it.

Starting a workflow is offered to the handlers here (`start_workflow`): the first attempt of a named workflow is
refused by Step Functions when repeated; a redrive (operator, reconciliation) looks at the latest attempt and starts
the next one only when that one ended without a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.errors import ExecutionAlreadyExists, FailureClass
from crossdock.ports import (
    ConnectionRepository,
    InboundEvent,
    Secrets,
    SendOutbound,
    StartWorkflow,
    WorkflowStatus,
)
from crossdock.store import events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome, first_error
from crossdock.store.repositories import KeptInTable
from crossdock.topics import CROSSDOCK_SOURCE
from crossdock.workflow_names import attempt_name

# Messages that ask Crossdock to look at something again (`"redrive"` on the inbound message): an operator's
# retry or resync, or the reconciliation sweep. Only they may start a new attempt of a workflow that ended.
REDRIVE_ORIGINS = frozenset({"operator", "reconciliation"})
# The sweep retries an attempt that failed for a passing reason (the target was down or throttling), a few times;
# what failed for a lasting reason (bad data, unmapped lines, auth, a bug) waits for an operator.
TRANSIENT_FAILURES = frozenset({FailureClass.TARGET_DOWN.value, FailureClass.RATE_LIMIT.value})
MAX_SWEEP_ATTEMPTS = 5
# The compressed payload an event log item may hold: DynamoDB refuses items over 400 KB, and the item has more.
EVENT_PAYLOAD_LIMIT = 350_000

# Reads a claim-checked body back by its key; None when it is gone.
ReadCheckedIn = Callable[[str], str | None]


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    connection_id: str
    event_id: str
    source: str
    topic: str
    payload: str
    received_at: str
    # When ingest heard a delivery it fanned out to an account's followers (`flows.ingest.fan_out`).
    heard_at: float | None = None


class WebhookMessage(_Message):
    """A system's event, as ingest (or the operator's retry of one) queued it."""

    redrive: Literal["operator", "reconciliation"] | None = None


class CrossdockRequest(_Message):
    """Crossdock's own request (a resync): always a second look, by default on an operator's behalf."""

    source: Literal["crossdock"]
    redrive: Literal["operator", "reconciliation"] | None = None


def _made_by(message: Any) -> str:
    source = message.get("source") if isinstance(message, dict) else getattr(message, "source", None)
    return "request" if source == CROSSDOCK_SOURCE else "webhook"


InboundMessage = Annotated[
    Annotated[WebhookMessage, Tag("webhook")] | Annotated[CrossdockRequest, Tag("request")], Discriminator(_made_by)
]
_MESSAGES: TypeAdapter[WebhookMessage | CrossdockRequest] = TypeAdapter(InboundMessage)


@dataclass(frozen=True)
class DispatchDeps(KeptInTable):
    """What the dispatch function provides; the handlers of every integration see it as `ports.DispatchPorts`."""

    start_order_workflow: StartWorkflow
    secrets: Secrets | None = None
    # The connections' API clients (`ConnectionClients`); None where nothing calls out.
    clients: Any = None
    # Sends a command to a target system's outbound queue (product and stock pushes); None where nothing pushes.
    send_outbound: SendOutbound | None = None
    now: Callable[[], float] = lambda: 0.0
    # For redrives: the state of an earlier attempt.
    workflow_status: WorkflowStatus | None = None
    # The connections' poll schedules: an uninstall removes them at once (they would also remove themselves later).
    schedules: Any = None
    # The payload bucket's reader, for messages that carry a claim check; None where none can arrive.
    read_checked_in: ReadCheckedIn | None = None

    def start_workflow(
        self, connection_id: str, name: str, workflow_input: dict[str, Any], repeat: str, redrive: str | None
    ) -> Outcome:
        if redrive is None:
            return self._start_attempt(name, workflow_input, repeat)
        seen = self.attempts.current(connection_id, name)
        latest = attempt_name(name, seen.latest)
        status = self.workflow_status(latest) if self.workflow_status else None
        if status is None:
            return self._start_attempt(latest, workflow_input, repeat)
        if status == "RUNNING":
            return Outcome.skipped(f"{repeat} (workflow {latest})")
        if status == "SUCCEEDED":
            return Outcome.skipped(f"workflow {latest} already finished it")
        if redrive == "reconciliation" and seen.last_failure and seen.last_failure not in TRANSIENT_FAILURES:
            return Outcome.skipped(f"its last attempt failed ({seen.last_failure}): an operator decides on a retry")
        if redrive == "reconciliation" and seen.latest + 1 >= MAX_SWEEP_ATTEMPTS:
            return Outcome.skipped(f"{seen.latest + 1} attempts failed: an operator decides on a retry")
        following = self.attempts.begin_next(connection_id, name, seen)
        if following is None:
            return Outcome.skipped(f"another retry of workflow {name} started at the same moment")
        return self._start_attempt(attempt_name(name, following), workflow_input, repeat)

    def _start_attempt(self, name: str, workflow_input: dict[str, Any], repeat: str) -> Outcome:
        try:
            self.start_order_workflow(name, workflow_input)
        except ExecutionAlreadyExists:
            return Outcome.skipped(f"{repeat} (workflow {name})")
        return Outcome(EventStatus.RECEIVED, f"workflow {name} started")


def dispatch_event(message: dict[str, Any], deps: DispatchDeps) -> Outcome:
    checked_in = message.get("payload_ref")
    if checked_in is not None:
        found = _check_out(message, checked_in, deps)
        if isinstance(found, Outcome):
            return _record_refusal(message, found, deps, payload_ref=str(checked_in))
        message = found
    try:
        inbound = _MESSAGES.validate_python(message)
    except ValidationError as invalid:
        return _unreadable(message, invalid, deps)
    sk = deps.events.record_received(
        inbound.connection_id,
        inbound.event_id,
        inbound.source,
        inbound.topic,
        inbound.payload,
        inbound.received_at,
    )
    outcome = _route(inbound, sk, deps)
    if outcome.status is not EventStatus.RECEIVED:
        details = {**outcome.details}
        if outcome.failure_class:
            details["failure_class"] = outcome.failure_class.value
        deps.events.finish(inbound.connection_id, sk, outcome.status, outcome.reason, **details)
    return outcome


def _check_out(message: dict[str, Any], key: Any, deps: DispatchDeps) -> dict[str, Any] | Outcome:
    """The message with the body its claim check stands for, or why it cannot be had."""
    if not isinstance(key, str) or not key:
        return Outcome.needs_attention("inbound message is invalid: payload_ref: not a key", FailureClass.BUG)
    if deps.read_checked_in is None:
        return Outcome.needs_attention(f"payload_ref: no payload bucket to read {key} from", FailureClass.BUG)
    body = deps.read_checked_in(key)  # raises when S3 fails: the message is retried
    if body is None:
        return Outcome.needs_attention(f"payload_ref: {key} is gone from the payload bucket (expired?)")
    packed = len(events.pack_payload(body))
    if packed > EVENT_PAYLOAD_LIMIT:
        return Outcome.needs_attention(
            f"payload: {len(body.encode())} bytes, {packed} compressed, over the event log's {EVENT_PAYLOAD_LIMIT}; "
            f"kept in the payload bucket as {key} until it expires"
        )
    return {**message, "payload": body}


def _unreadable(message: dict[str, Any], invalid: ValidationError, deps: DispatchDeps) -> Outcome:
    outcome = Outcome.needs_attention(f"inbound message is invalid: {first_error(invalid)}", FailureClass.BUG)
    return _record_refusal(message, outcome, deps)


def _record_refusal(message: dict[str, Any], outcome: Outcome, deps: DispatchDeps, **details: str) -> Outcome:
    """A message that cannot become work: recorded under its connection when it names one (an operator sees it
    there, with `details` such as its claim check), else only reported; never retried, since it cannot get
    better."""
    connection_id = message.get("connection_id")
    if isinstance(connection_id, str) and connection_id:
        sk = deps.events.record_received(
            connection_id,
            str(message.get("event_id") or "unreadable"),
            str(message.get("source") or "-"),
            str(message.get("topic") or "-"),
            str(message.get("payload") or ""),
            str(message.get("received_at") or events.received_stamp()),
        )
        if outcome.failure_class is not None:
            details = {**details, "failure_class": outcome.failure_class.value}
        deps.events.finish(connection_id, sk, outcome.status, outcome.reason, **details)
    return outcome


def _route(inbound: WebhookMessage | CrossdockRequest, sk: str, deps: DispatchDeps) -> Outcome:
    connection = deps.connections.load(inbound.connection_id)
    if connection is None:
        return Outcome(EventStatus.SKIPPED, f"connection {inbound.connection_id} is deleted")
    route = registry.integration(connection.kind).route(inbound.source, inbound.topic)
    if connection.state is not ConnectionState.ACTIVE and not (route and route.any_state):
        return Outcome(EventStatus.SKIPPED, f"connection {connection.id} is {connection.state.value}")
    if route is None:
        return Outcome(EventStatus.SKIPPED, f"no flow handles {inbound.source} event {inbound.topic}")
    if not route.any_state:
        connection = settings_in_force(deps.connections, connection, inbound.received_at)
    event = InboundEvent(
        connection,
        inbound.source,
        inbound.topic,
        inbound.payload,
        sk,
        inbound.received_at,
        inbound.redrive,
        inbound.heard_at,
    )
    return route.handle(event, deps)


def settings_in_force(connections: ConnectionRepository, connection: Connection, received_at: str) -> Connection:
    """The connection with the settings that were in force when the event was received: an event that waited in
    the queue while the merchant saved new settings is still handled by the old ones. Costs a query only then."""
    saved_at = connection.settings_saved_at
    if saved_at is None or received_at >= saved_at:
        return connection
    earlier = [
        version
        for version in connections.settings_versions(connection.id)
        if version["version"] < connection.settings_version and (version["saved_at"] or "") <= received_at
    ]
    if not earlier:
        return connection
    chosen = max(earlier, key=lambda version: int(version["version"]))
    settings = registry.integration(connection.kind).settings_model.model_validate(chosen["settings"])
    return connection.model_copy(
        update={"settings": settings, "settings_version": chosen["version"], "settings_saved_at": chosen["saved_at"]}
    )
