"""The outbound commands of `rackbeat_shopify` (the shop's outbound queue): push an item's product data, or push the
stock waiting for the shop.

A product push finishes the Rackbeat event that asked for it. A stock push serves many coalesced events at once
(they ended `done` when queued), so what it could not set is recorded as an event of its own, `stock/push`, with
the items and reasons, where operators look for everything that needs them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

from crossdock.connections.model import Connection
from crossdock.errors import PermanentError
from crossdock.integration import CommandHandler
from crossdock.integrations.rackbeat_shopify import products, stock
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.ports import CommandPorts
from crossdock.store import events
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome, finish_event

MAX_PROBLEMS_IN_REASON = 20


def push_stock(connection: Connection, command: dict[str, Any], ports: CommandPorts) -> str:
    stock_deps = stock.StockDeps(
        table=ports.table,
        now=ports.now,
        request_push=ports.request_stock_push,
        rackbeat=ports.clients.rackbeat,
        shopify=ports.clients.shopify,
        seconds_left=ports.seconds_left,
        sleep=ports.sleep,
        continue_push=ports.continue_stock_push,
    )
    report = stock.push_stock(cast(RackbeatShopifyConnection, connection), stock_deps)
    if report.problems:
        _record_stock_problems(ports.table, connection.id, report)
    return report.summary()


def push_product(connection: Connection, command: dict[str, Any], ports: CommandPorts) -> str:
    product_deps = products.ProductDeps(ports.table, ports.clients.rackbeat, ports.clients.shopify)
    try:
        outcome = products.push_item(
            cast(RackbeatShopifyConnection, connection),
            str(command["number"]),
            command.get("kind", "product"),
            product_deps,
        )
    except PermanentError as refused:
        outcome = Outcome.needs_attention(refused.reason, refused.failure_class)
    details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
    finish_event(ports.table, connection.id, str(command["event_sk"]), outcome.status, outcome.reason, **details)
    return outcome.reason


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


COMMANDS: dict[str, CommandHandler] = {"stock.push": push_stock, "product.push": push_product}
