"""Dispatch: turns one queued event into work, following the connection's settings (DESIGN §1).

Shopify order events start the order workflow when `orders.transfer_when` says the order is ready. The workflow
is named from connection + order, so every later event for the same order (duplicates, `orders/paid` after
`orders/create`, retries) is refused by Step Functions itself and logged as skipped. Events that do not lead to
work end `skipped` with the reason; bad payloads end `needs_attention`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connections.settings import TransferWhen
from crossdock.errors import ExecutionAlreadyExists, FailureClass
from crossdock.store import connections, events, mappings
from crossdock.store.events import EventStatus
from crossdock.systems.shopify.orders import ShopifyOrder, parse_order
from crossdock.systems.shopify.webhooks import ORDER_TOPICS

PAID_STATES = frozenset({"paid", "partially_refunded", "refunded"})


StartWorkflow = Callable[[str, dict[str, Any]], str]  # (execution name, input) → execution ARN


@dataclass(frozen=True)
class DispatchDeps:
    table: Any
    start_order_workflow: StartWorkflow


@dataclass(frozen=True)
class Outcome:
    status: EventStatus
    reason: str


def execution_name(connection_id: str, order_id: str) -> str:
    """Deterministic per order; Step Functions allows 80 characters of [A-Za-z0-9-_]."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{connection_id}-order-{order_id}")[:80]


def transfer_reason(when: TransferWhen, topic: str, order: ShopifyOrder) -> str | None:
    """None when the order should be transferred now, else why not."""
    if when is TransferWhen.NEVER:
        return "orders.transfer_when is 'never'"
    if when is TransferWhen.PAID and topic != "orders/paid" and order.financial_status not in PAID_STATES:
        return f"orders.transfer_when is 'paid' and the order is {order.financial_status or 'not paid'}"
    if when is TransferWhen.FULFILLED and topic != "orders/fulfilled" and order.fulfillment_status != "fulfilled":
        return f"orders.transfer_when is 'fulfilled' and the order is {order.fulfillment_status or 'unfulfilled'}"
    return None


def dispatch_event(message: dict[str, Any], deps: DispatchDeps) -> Outcome:
    connection_id = str(message["connection_id"])
    sk = events.record_received(
        deps.table,
        connection_id,
        str(message["event_id"]),
        str(message["source"]),
        str(message["topic"]),
        str(message["payload"]),
        str(message["received_at"]),
    )
    outcome = _route(message, connection_id, sk, deps)
    if outcome.status is not EventStatus.RECEIVED:
        details = (
            {"failure_class": FailureClass.VALIDATION.value} if outcome.status is EventStatus.NEEDS_ATTENTION else {}
        )
        events.finish_event(deps.table, connection_id, sk, outcome.status, outcome.reason, **details)
    return outcome


def _route(message: dict[str, Any], connection_id: str, sk: str, deps: DispatchDeps) -> Outcome:
    connection = connections.load_connection(deps.table, connection_id)
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        state = connection.state.value if connection else "deleted"
        return Outcome(EventStatus.SKIPPED, f"connection {connection_id} is {state}")
    source, topic = message["source"], message["topic"]
    if source == "shopify" and topic in ORDER_TOPICS:
        return _order_event(connection, topic, message["payload"], sk, deps)
    return Outcome(EventStatus.SKIPPED, f"no flow handles {source} event {topic}")


def _order_event(connection: Connection, topic: str, payload: str, sk: str, deps: DispatchDeps) -> Outcome:
    try:
        order = parse_order(_json(payload))
    except (ValidationError, ValueError) as invalid:
        return Outcome(EventStatus.NEEDS_ATTENTION, f"order payload is invalid: {_first_error(invalid)}")
    if order.cancelled_at:
        return Outcome(EventStatus.SKIPPED, f"order {order.name} is cancelled")
    settings = connection.settings
    not_yet = transfer_reason(settings.orders.transfer_when, topic, order)
    if not_yet:
        return Outcome(EventStatus.SKIPPED, not_yet)
    mapped = mappings.get_mapping(deps.table, connection.id, "order", "shopify", str(order.id))
    if mapped and mapped.get("status") == "done":
        return Outcome(EventStatus.SKIPPED, f"order {order.name} is already Rackbeat order {mapped['target_id']}")
    is_pos = order.source_name == "pos"
    target = settings.pos.rackbeat_status if is_pos else settings.orders.rackbeat_status
    name = execution_name(connection.id, str(order.id))
    workflow_input = {
        "connection_id": connection.id,
        "event_sk": sk,
        "order_id": str(order.id),
        "order_name": order.name,
        "target": target.value,
        "settings_version": connection.settings_version,
        "settings": settings.model_dump(mode="json"),
    }
    try:
        deps.start_order_workflow(name, workflow_input)
    except ExecutionAlreadyExists:
        return Outcome(EventStatus.SKIPPED, f"order {order.name} is already being transferred (workflow {name})")
    return Outcome(EventStatus.RECEIVED, f"order workflow {name} started")


def _json(payload: str) -> dict[str, Any]:
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("payload is not a JSON object")
    return value


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)
