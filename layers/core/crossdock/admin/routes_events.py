"""A connection's event log, filtered and paged, and the retry of an event (`operations.events`, the CLI's
`events list` and `events retry`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from crossdock.admin import audit, tenancy
from crossdock.admin.errors import ERROR_RESPONSES, FieldError, Invalid
from crossdock.admin.models import EventList
from crossdock.operations import events as event_ops
from crossdock.store.events import EventStatus

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated

DEFAULT_PAGE = 50
# `<received_at>#<event id>` of the last event of a page, as the next page's `cursor`.
CURSOR = r"^\d{4}-\d{2}-\d{2}T[0-9:.]+Z?#[A-Za-z0-9_.:-]{1,200}$"


@router.get("/admin/connections/<connection_id>/events", responses=ERROR_RESPONSES)
def list_events(
    connection_id: str,
    status: Annotated[EventStatus | None, Query()] = None,
    topic: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    since: Annotated[str | None, Query(min_length=1, max_length=40, description="ISO 8601 date or time")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=250)] = None,
) -> EventList:
    target, _, _ = tenancy.on_connection(router, connection_id)
    stamp = None
    if since is not None:
        try:
            stamp = event_ops.stamp_since(since)
        except ValueError as wrong:
            raise Invalid("the filter is invalid", [FieldError(field="since", message=str(wrong))]) from None
    if cursor is not None and "#" not in cursor:
        raise Invalid("the cursor is invalid", [FieldError(field="cursor", message="give back a page's cursor")])
    rows = event_ops.connection_events(
        target, connection_id, status=status, since=stamp, limit=limit + 1, before=cursor, topic=topic
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = f"{page[-1].received_at}#{page[-1].event_id}" if more and page else None
    return EventList(events=page, cursor=next_cursor)


@router.post("/admin/connections/<connection_id>/events/<event_id>/retry", responses=ERROR_RESPONSES)
def retry_event(connection_id: str, event_id: str) -> event_ops.RetryResult:
    """Sends a needs_attention event's message again (the CLI's `events retry`, never `--force`)."""
    target, caller, _ = tenancy.on_connection(router, connection_id)
    retried = event_ops.retry_event(target, event_id, connection_id, by=caller.email or caller.user)
    what = f"retried event {event_id} ({retried.event.source} {retried.event.topic}) as {retried.new_event_id}"
    audit.record(target, caller, connection_id, "event/retried", what)
    return retried
