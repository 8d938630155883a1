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
from crossdock.connections.settings import RackbeatShopifySettings, TransferWhen
from crossdock.errors import ExecutionAlreadyExists, FailureClass, PermanentError
from crossdock.flows import lifecycle, products, stock
from crossdock.flows.outcome import Outcome, first_error
from crossdock.store import connections, events, mappings
from crossdock.store.events import EventStatus
from crossdock.store.secrets import SecretStore
from crossdock.systems.rackbeat.products import ITEM_EVENTS, STOCK_EVENTS
from crossdock.systems.shopify.orders import ShopifyOrder, parse_order
from crossdock.systems.shopify.refunds import parse_refund
from crossdock.systems.shopify.webhooks import CANCEL_TOPIC, ORDER_TOPICS, PRODUCT_TOPICS, REFUND_TOPIC

PAID_STATES = frozenset({"paid", "partially_refunded", "refunded"})


StartWorkflow = Callable[[str, dict[str, Any]], str]  # (execution name, input) → execution ARN


@dataclass(frozen=True)
class DispatchDeps:
    table: Any
    start_order_workflow: StartWorkflow
    # Sends a command to the shop's outbound queue (product and stock pushes); None where nothing pushes.
    send_command: Callable[[dict[str, Any]], None] | None = None
    stock: stock.StockDeps | None = None
    products: products.ProductDeps | None = None
    # Connection secrets: an uninstall deletes the Shopify token.
    secrets: SecretStore | None = None


def execution_name(connection_id: str, order_id: str, kind: str = "order") -> str:
    """Deterministic per order (or refund, or cancellation); Step Functions allows 80 characters of
    [A-Za-z0-9-_]. A connection id is a 36-character UUID and Shopify ids have at most 19 digits, so it fits."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{connection_id}-{kind}-{order_id}")[:80]


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
        details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
        events.finish_event(deps.table, connection_id, sk, outcome.status, outcome.reason, **details)
    return outcome


def _route(message: dict[str, Any], connection_id: str, sk: str, deps: DispatchDeps) -> Outcome:
    connection = connections.load_connection(deps.table, connection_id)
    source, topic = message["source"], message["topic"]
    if connection is not None and source == "shopify" and topic in lifecycle.LIFECYCLE_TOPICS:
        # Whatever the connection's state: `shop/redact` arrives 48 hours after the uninstall.
        if deps.secrets is None:
            return Outcome.needs_attention(f"{topic} cannot be handled here: no secret store", FailureClass.BUG)
        return lifecycle.handle_lifecycle_event(deps.table, deps.secrets, connection, topic, message["payload"], sk)
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        state = connection.state.value if connection else "deleted"
        return Outcome(EventStatus.SKIPPED, f"connection {connection_id} is {state}")
    connection = settings_in_force(deps.table, connection, str(message["received_at"]))
    if source == "shopify" and topic == REFUND_TOPIC:
        return _refund_event(connection, message["payload"], sk, deps)
    if source == "shopify" and topic == CANCEL_TOPIC:
        return _cancel_event(connection, message["payload"], sk, deps)
    if source == "shopify" and topic in ORDER_TOPICS:
        return _order_event(connection, topic, message["payload"], sk, deps)
    if source == "shopify" and topic in PRODUCT_TOPICS and deps.products is not None:
        try:
            return products.shopify_product_changed(connection, topic, message["payload"], deps.products)
        except PermanentError as refused:
            return Outcome.needs_attention(refused.reason, refused.failure_class)
    if source == "rackbeat" and (topic in ITEM_EVENTS or topic in STOCK_EVENTS):
        return _rackbeat_item_event(connection, topic, message["payload"], sk, deps)
    return Outcome(EventStatus.SKIPPED, f"no flow handles {source} event {topic}")


def settings_in_force(table: Any, connection: Connection, received_at: str) -> Connection:
    """The connection with the settings that were in force when the event was received: an event that waited in
    the queue while the merchant saved new settings is still handled by the old ones. Costs a query only then."""
    saved_at = connection.settings_saved_at
    if saved_at is None or received_at >= saved_at:
        return connection
    earlier = [
        version
        for version in connections.list_settings_versions(table, connection.id)
        if version["version"] < connection.settings_version and (version["saved_at"] or "") <= received_at
    ]
    if not earlier:
        return connection
    chosen = max(earlier, key=lambda version: int(version["version"]))
    settings = RackbeatShopifySettings.model_validate(chosen["settings"])
    return connection.model_copy(
        update={"settings": settings, "settings_version": chosen["version"], "settings_saved_at": chosen["saved_at"]}
    )


def _rackbeat_item_event(connection: Connection, topic: str, payload: str, sk: str, deps: DispatchDeps) -> Outcome:
    """Rackbeat's body only names the item (`{"key_name": "number", "key": "1021"}`); the work re-reads it."""
    try:
        number = str(_json(payload)["key"]).strip()
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"Rackbeat webhook body is invalid: {first_error(invalid)}")
    if not number:
        return Outcome.needs_attention("Rackbeat webhook body is invalid: key: empty")
    if deps.send_command is None or deps.stock is None:
        return Outcome.skipped(f"no outbound queue configured for rackbeat event {topic}")
    settings = connection.settings
    if topic in STOCK_EVENTS:
        if not settings.stock_sync.enabled:
            return Outcome.skipped("stock_sync.enabled is off")
        return Outcome.done(stock.stock_changed(connection, number, deps.stock))
    if settings.product_sync.master != "rackbeat":
        return Outcome.skipped(f"product_sync.master is {settings.product_sync.master}")
    deps.send_command(
        {
            "command": "product.push",
            "connection_id": connection.id,
            "number": number,
            "kind": ITEM_EVENTS[topic],
            "event_sk": sk,
        }
    )
    return Outcome(EventStatus.RECEIVED, f"item {number} queued for the shop")


def _order_event(connection: Connection, topic: str, payload: str, sk: str, deps: DispatchDeps) -> Outcome:
    try:
        order = parse_order(_json(payload))
    except (ValidationError, ValueError) as invalid:
        return Outcome.needs_attention(f"order payload is invalid: {first_error(invalid)}")
    if order.cancelled_at:
        return Outcome(EventStatus.SKIPPED, f"order {order.name} is cancelled")
    settings = connection.settings
    not_yet = transfer_reason(settings.orders.transfer_when, topic, order)
    if not_yet:
        return Outcome(EventStatus.SKIPPED, not_yet)
    mapped = mappings.get_mapping(deps.table, connection.id, "order", "shopify", str(order.id))
    if mapped and mapped.get("status") == "done":
        return Outcome(EventStatus.SKIPPED, f"order {order.name} is already Rackbeat order {mapped['target_id']}")
    if mapped and mapped.get("status") == "cancelled":
        return Outcome(EventStatus.SKIPPED, f"order {order.name} was cancelled")
    is_pos = order.source_name == "pos"
    target = settings.pos.rackbeat_status if is_pos else settings.orders.rackbeat_status
    name = execution_name(connection.id, str(order.id))
    workflow_input = {
        "kind": "order",  # the workflow's first state routes on it (order, refund, cancel)
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


def _start(name: str, workflow_input: dict[str, Any], deps: DispatchDeps, repeat: str) -> Outcome:
    try:
        deps.start_order_workflow(name, workflow_input)
    except ExecutionAlreadyExists:
        return Outcome(EventStatus.SKIPPED, f"{repeat} (workflow {name})")
    return Outcome(EventStatus.RECEIVED, f"workflow {name} started")


def _refund_event(connection: Connection, payload: str, sk: str, deps: DispatchDeps) -> Outcome:
    try:
        refund = parse_refund(_json(payload))
    except (ValidationError, ValueError) as invalid:
        return Outcome.needs_attention(f"refund payload is invalid: {first_error(invalid)}")
    settings = connection.settings
    if not settings.orders.refunds_as_credit_notes:
        return Outcome.skipped("orders.refunds_as_credit_notes is off")
    name = execution_name(connection.id, str(refund.id), "refund")
    workflow_input = {
        "kind": "refund",
        "connection_id": connection.id,
        "event_sk": sk,
        "refund_id": str(refund.id),
        "order_id": str(refund.order_id),
        "settings_version": connection.settings_version,
        "settings": settings.model_dump(mode="json"),
    }
    return _start(name, workflow_input, deps, f"refund {refund.id} is already being credited")


def _cancel_event(connection: Connection, payload: str, sk: str, deps: DispatchDeps) -> Outcome:
    try:
        order = parse_order(_json(payload))
    except (ValidationError, ValueError) as invalid:
        return Outcome.needs_attention(f"order payload is invalid: {first_error(invalid)}")
    if not order.cancelled_at:
        return Outcome.needs_attention(f"orders/cancelled for order {order.name} has no cancelled_at")
    name = execution_name(connection.id, str(order.id), "cancel")
    workflow_input = {
        "kind": "cancel",
        "connection_id": connection.id,
        "event_sk": sk,
        "order_id": str(order.id),
        "order_name": order.name,
        "settings_version": connection.settings_version,
        "settings": connection.settings.model_dump(mode="json"),
    }
    return _start(name, workflow_input, deps, f"order {order.name} is already being cancelled")


def _json(payload: str) -> dict[str, Any]:
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("payload is not a JSON object")
    return value
