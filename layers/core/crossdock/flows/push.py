"""Commands from a shop's outbound queue: push an item's product data, or push the stock waiting for the shop.

A product push finishes the Rackbeat event that asked for it. A stock push serves many coalesced events at once
(they ended `done` when queued), so what it could not set is recorded as an event of its own, `stock/push`, with
the items and reasons, where operators look for everything that needs them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock.aws.observability import logger
from crossdock.connections.clients import ConnectionClients
from crossdock.connections.model import ConnectionState
from crossdock.errors import PermanentError
from crossdock.flows.outcome import Outcome, finish_event
from crossdock.integrations.rackbeat_shopify import products, stock
from crossdock.store import connections, events
from crossdock.store.events import EventStatus

MAX_PROBLEMS_IN_REASON = 20


@dataclass(frozen=True)
class PushDeps:
    table: Any
    clients: ConnectionClients
    request_stock_push: Callable[[str], None]
    continue_stock_push: Callable[[str], None]
    now: Callable[[], float]
    sleep: Callable[[float], None]
    seconds_left: Callable[[], float]


def run_command(command: dict[str, Any], deps: PushDeps) -> str:
    connection_id = str(command.get("connection_id"))
    connection = connections.load_connection(deps.table, connection_id)
    kind = command.get("command")
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        outcome = Outcome.skipped(
            f"connection {connection_id} is {connection.state.value if connection else 'deleted'}"
        )
        if kind == "product.push" and command.get("event_sk"):
            finish_event(deps.table, connection_id, str(command["event_sk"]), outcome.status, outcome.reason)
        return outcome.reason
    if kind == "stock.push":
        stock_deps = stock.StockDeps(
            table=deps.table,
            now=deps.now,
            request_push=deps.request_stock_push,
            rackbeat=deps.clients.rackbeat,
            shopify=deps.clients.shopify,
            seconds_left=deps.seconds_left,
            sleep=deps.sleep,
            continue_push=deps.continue_stock_push,
        )
        report = stock.push_stock(connection, stock_deps)
        if report.problems:
            _record_stock_problems(deps.table, connection_id, report)
        return report.summary()
    if kind == "product.push":
        product_deps = products.ProductDeps(deps.table, deps.clients.rackbeat, deps.clients.shopify)
        try:
            outcome = products.push_item(
                connection, str(command["number"]), command.get("kind", "product"), product_deps
            )
        except PermanentError as refused:
            outcome = Outcome.needs_attention(refused.reason, refused.failure_class)
        details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
        finish_event(deps.table, connection_id, str(command["event_sk"]), outcome.status, outcome.reason, **details)
        return outcome.reason
    # A command this code does not know cannot succeed by retrying; keep it visible in the log and drop it.
    logger.error("unknown outbound command", extra={"command": kind})
    return f"unknown command {kind}"


def _record_stock_problems(table: Any, connection_id: str, report: stock.PushReport) -> None:
    received_at = events.received_stamp()
    payload = json.dumps({"problems": report.problems, "summary": report.summary()})
    sk = events.record_received(
        table, connection_id, str(uuid.uuid4()), "crossdock", "stock/push", payload, received_at
    )
    shown = report.problems[:MAX_PROBLEMS_IN_REASON]
    more = len(report.problems) - len(shown)
    reason = "; ".join(shown) + (f"; and {more} more" if more else "")
    finish_event(table, connection_id, sk, EventStatus.NEEDS_ATTENTION, reason, failure_class="unmapped")
