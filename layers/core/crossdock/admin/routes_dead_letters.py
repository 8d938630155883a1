"""Dead letters, for operators only (a merchant is 403 here: the queues are the whole stack's): list a queue's
messages and redrive them (`operations.dead_letters`, the CLI's `dlq` and `dlq redrive`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from crossdock.admin import context
from crossdock.admin.errors import ERROR_RESPONSES
from crossdock.admin.models import RedriveRequest
from crossdock.aws.observability import logger
from crossdock.operations import dead_letters

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@router.get("/admin/dead-letters", responses=ERROR_RESPONSES)
def list_dead_letters(
    queue: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dead_letters.DeadLetterReport]:
    """Every dead-letter queue (or the one named), with up to `limit` messages each, payloads never shown."""
    context.caller(router).as_operator()
    target = context.target()
    names = [queue] if queue is not None else [found.name for found in target.dead_letter_queues]
    return [dead_letters.show(target, name, limit=limit) for name in names]


@router.post("/admin/dead-letters/redrive", responses=ERROR_RESPONSES)
def redrive(request: RedriveRequest) -> dead_letters.RedriveReport:
    caller = context.caller(router).as_operator()
    target = context.target()
    report = dead_letters.redrive(target, request.queue, limit=request.limit)
    # A queue is the whole stack's, not a connection's: whose messages moved is not known here, so the redrive is
    # recorded in the function's log with who asked, not in a connection's event log.
    logger.info(
        "dead letters redriven",
        extra={"user": caller.user, "email": caller.email, "queue": request.queue, "moved": report.moved},
    )
    return report
