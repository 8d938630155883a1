"""How a flow ends an event (SPEC §5: every inbound event ends done, skipped or needs_attention with a reason)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from crossdock.aws.observability import count_finished_event
from crossdock.errors import FailureClass
from crossdock.store import events
from crossdock.store.events import EventStatus


@dataclass(frozen=True)
class Outcome:
    status: EventStatus
    reason: str
    failure_class: FailureClass | None = None
    # Recorded with the event's outcome for whoever reads it next (a follow-up step, an operator).
    details: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def done(cls, reason: str, **details: str) -> Outcome:
        return cls(EventStatus.DONE, reason, details=details)

    @classmethod
    def skipped(cls, reason: str) -> Outcome:
        return cls(EventStatus.SKIPPED, reason)

    @classmethod
    def needs_attention(cls, reason: str, failure_class: FailureClass = FailureClass.VALIDATION) -> Outcome:
        return cls(EventStatus.NEEDS_ATTENTION, reason, failure_class)


def finish_event(table: Any, connection_id: str, sk: str, status: EventStatus, reason: str, **details: Any) -> None:
    """Ends an event: records its outcome in the event log (`store.events.finish_event`, same arguments) and counts
    it (`events_<status>`, needs_attention also per `failure_class`). Every flow ends its events through here, so a
    finished event is counted in one place; the store itself stays free of metrics.

    Counted once: a workflow stage retried after it had already finished the event writes the same outcome again,
    and the status the write replaced shows it was no change. (`UPDATED_OLD` may leave out an attribute set to the
    value it had — moto does — so "no previous status" counts as no change too; every event has one from receipt.)"""
    previous = events.finish_event(table, connection_id, sk, status, reason, **details)
    if previous is not None and previous != status.value:
        count_finished_event(status.value, details.get("failure_class"))


def first_error(error: Exception) -> str:
    """The first problem of a validation error, as `field.path: message`."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)
