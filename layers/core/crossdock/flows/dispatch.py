"""Dispatch: turns one queued event into work, following the connection's settings (DESIGN §1).

Shopify order events start the order workflow when `orders.transfer_when` says the order is ready. The workflow
is named from connection + order, so every later event for the same order (duplicates, `orders/paid` after
`orders/create`, retries) is refused by Step Functions itself and logged as skipped. Events that do not lead to
work end `skipped` with the reason; bad payloads end `needs_attention`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.rackbeat.products import ITEM_EVENTS, STOCK_EVENTS
from crossdock.connectors.shopify.orders import PAID_STATES, ShopifyOrder, parse_order
from crossdock.connectors.shopify.refunds import parse_refund
from crossdock.connectors.shopify.webhooks import CANCEL_TOPIC, ORDER_TOPICS, PRODUCT_TOPICS, REFUND_TOPIC, RESYNC_TOPIC
from crossdock.errors import ExecutionAlreadyExists, FailureClass, PermanentError
from crossdock.flows.outcome import Outcome, finish_event, first_error
from crossdock.flows.reconcile_schedule import ReconcileSchedules
from crossdock.flows.workflow_names import attempt_name, execution_name
from crossdock.integrations.rackbeat_shopify import lifecycle, products, stock
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, TransferWhen
from crossdock.store import attempts, connections, events, mappings
from crossdock.store.events import EventStatus
from crossdock.store.secrets import SecretStore

StartWorkflow = Callable[[str, dict[str, Any]], str]  # (execution name, input) → execution ARN
WorkflowStatus = Callable[[str], str | None]  # execution name → RUNNING, SUCCEEDED, FAILED, … or None (never started)
FetchOrder = Callable[[Connection, str], dict[str, Any] | None]  # Shopify order id → REST-shaped order, None if gone

# Messages that ask Crossdock to look at something again (`"redrive"` on the inbound message): an operator's
# retry or resync, or the reconciliation sweep. Only they may start a new attempt of a workflow that ended.
REDRIVE_ORIGINS = frozenset({"operator", "reconciliation"})
# The sweep retries an attempt that failed for a passing reason (the target was down or throttling), a few times;
# what failed for a lasting reason (bad data, unmapped lines, auth, a bug) waits for an operator.
TRANSIENT_FAILURES = frozenset({FailureClass.TARGET_DOWN.value, FailureClass.RATE_LIMIT.value})
MAX_SWEEP_ATTEMPTS = 5


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
    # For redrives: the state of an earlier attempt, and the order as Shopify has it now (`orders/resync`).
    workflow_status: WorkflowStatus | None = None
    fetch_order: FetchOrder | None = None
    # An uninstall removes the connection's reconciliation schedule at once (it would also remove itself later).
    reconcile_schedules: ReconcileSchedules | None = None


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
        finish_event(deps.table, connection_id, sk, outcome.status, outcome.reason, **details)
    return outcome


def _route(message: dict[str, Any], connection_id: str, sk: str, deps: DispatchDeps) -> Outcome:
    connection = connections.load_connection(deps.table, connection_id)
    source, topic = message["source"], message["topic"]
    if connection is not None and source == "shopify" and topic in lifecycle.LIFECYCLE_TOPICS:
        # Whatever the connection's state: `shop/redact` arrives 48 hours after the uninstall.
        if deps.secrets is None:
            return Outcome.needs_attention(f"{topic} cannot be handled here: no secret store", FailureClass.BUG)
        return lifecycle.handle_lifecycle_event(
            deps.table, deps.secrets, connection, topic, message["payload"], sk, deps.reconcile_schedules
        )
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        state = connection.state.value if connection else "deleted"
        return Outcome(EventStatus.SKIPPED, f"connection {connection_id} is {state}")
    connection = settings_in_force(deps.table, connection, str(message["received_at"]))
    redrive = message.get("redrive")
    if redrive is not None and redrive not in REDRIVE_ORIGINS:
        return Outcome.needs_attention(f"redrive: unknown origin {redrive!r}", FailureClass.BUG)
    if source == "crossdock" and topic == RESYNC_TOPIC:
        return _resync(connection, message["payload"], sk, deps, redrive or "operator")
    if source == "shopify" and topic == REFUND_TOPIC:
        return _refund_event(connection, message["payload"], sk, deps, redrive)
    if source == "shopify" and topic == CANCEL_TOPIC:
        return _cancel_event(connection, message["payload"], sk, deps, redrive)
    if source == "shopify" and topic in ORDER_TOPICS:
        return _order_event(connection, topic, message["payload"], sk, deps, redrive)
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


def _resync(connection: Connection, payload: str, sk: str, deps: DispatchDeps, redrive: str) -> Outcome:
    """An order looked at again on request: read from Shopify as it is now, stored as the event's payload (the
    workflow reads the order from the event), then handled as an `orders/updated` that may start a new attempt."""
    try:
        order_id = str(_json(payload)["order_id"]).strip()
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"orders/resync payload is invalid: {first_error(invalid)}")
    if not order_id.isdigit():
        return Outcome.needs_attention(f"orders/resync payload is invalid: order_id: {order_id!r} is not a Shopify id")
    if deps.fetch_order is None:
        return Outcome.needs_attention("orders/resync cannot be handled here: no Shopify reader", FailureClass.BUG)
    order = deps.fetch_order(connection, order_id)
    if order is None:
        return Outcome.skipped(f"Shopify has no order {order_id} (deleted, or another shop's id)")
    current = json.dumps(order, separators=(",", ":"))
    events.replace_payload(deps.table, connection.id, sk, current)
    return _order_event(connection, "orders/updated", current, sk, deps, redrive)


def _order_event(
    connection: Connection, topic: str, payload: str, sk: str, deps: DispatchDeps, redrive: str | None = None
) -> Outcome:
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
    return _start(
        connection.id, name, workflow_input, deps, f"order {order.name} is already being transferred", redrive
    )


def _start(
    connection_id: str,
    name: str,
    workflow_input: dict[str, Any],
    deps: DispatchDeps,
    repeat: str,
    redrive: str | None,
) -> Outcome:
    """Starts the workflow's first attempt; a repeat of it is refused by Step Functions (the name is taken). A
    redrive looks at the latest attempt instead and starts the next one only when that one ended without a result."""
    if redrive is None:
        return _start_attempt(name, workflow_input, deps, repeat)
    seen = attempts.current(deps.table, connection_id, name)
    latest = attempt_name(name, seen.latest)
    status = deps.workflow_status(latest) if deps.workflow_status else None
    if status is None:
        return _start_attempt(latest, workflow_input, deps, repeat)
    if status == "RUNNING":
        return Outcome.skipped(f"{repeat} (workflow {latest})")
    if status == "SUCCEEDED":
        return Outcome.skipped(f"workflow {latest} already finished it")
    if redrive == "reconciliation" and seen.last_failure and seen.last_failure not in TRANSIENT_FAILURES:
        return Outcome.skipped(f"its last attempt failed ({seen.last_failure}): an operator decides on a retry")
    if redrive == "reconciliation" and seen.latest + 1 >= MAX_SWEEP_ATTEMPTS:
        return Outcome.skipped(f"{seen.latest + 1} attempts failed: an operator decides on a retry")
    following = attempts.begin_next(deps.table, connection_id, name, seen)
    if following is None:
        return Outcome.skipped(f"another retry of workflow {name} started at the same moment")
    return _start_attempt(attempt_name(name, following), workflow_input, deps, repeat)


def _start_attempt(name: str, workflow_input: dict[str, Any], deps: DispatchDeps, repeat: str) -> Outcome:
    try:
        deps.start_order_workflow(name, workflow_input)
    except ExecutionAlreadyExists:
        return Outcome.skipped(f"{repeat} (workflow {name})")
    return Outcome(EventStatus.RECEIVED, f"workflow {name} started")


def _refund_event(
    connection: Connection, payload: str, sk: str, deps: DispatchDeps, redrive: str | None = None
) -> Outcome:
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
    return _start(connection.id, name, workflow_input, deps, f"refund {refund.id} is already being credited", redrive)


def _cancel_event(
    connection: Connection, payload: str, sk: str, deps: DispatchDeps, redrive: str | None = None
) -> Outcome:
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
    return _start(connection.id, name, workflow_input, deps, f"order {order.name} is already being cancelled", redrive)


def _json(payload: str) -> dict[str, Any]:
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("payload is not a JSON object")
    return value
