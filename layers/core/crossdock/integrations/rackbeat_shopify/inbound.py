"""The route table of `rackbeat_shopify`: which inbound event goes to which handler, and the handlers.

Shopify order events start the order workflow when `orders.transfer_when` says the order is ready. The workflow
is named from connection + order, so every later event for the same order (duplicates, `orders/paid` after
`orders/create`, retries) is refused by Step Functions itself and logged as skipped. Events that do not lead to
work end `skipped` with the reason; bad payloads end `needs_attention`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from pydantic import ValidationError

from crossdock.bodies import json_object
from crossdock.connectors.rackbeat.products import ITEM_EVENTS, STOCK_EVENTS
from crossdock.connectors.shopify import order_query
from crossdock.connectors.shopify.orders import PAID_STATES, ShopifyOrder, parse_order
from crossdock.connectors.shopify.refunds import parse_refund
from crossdock.connectors.shopify.webhooks import CANCEL_TOPIC, ORDER_TOPICS, PRODUCT_TOPICS, REFUND_TOPIC
from crossdock.errors import FailureClass, PermanentError
from crossdock.integration import Route
from crossdock.integrations.rackbeat_shopify import lifecycle, outbound, products, refund_waits, stock
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import TransferWhen
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store import events, mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome, first_error
from crossdock.store.secrets import SecretStore
from crossdock.topics import RESYNC_TOPIC
from crossdock.workflow_names import execution_name


def transfer_reason(when: TransferWhen, topic: str, order: ShopifyOrder) -> str | None:
    """None when the order should be transferred now, else why not."""
    if when is TransferWhen.NEVER:
        return "orders.transfer_when is 'never'"
    if when is TransferWhen.PAID and topic != "orders/paid" and order.financial_status not in PAID_STATES:
        return f"orders.transfer_when is 'paid' and the order is {order.financial_status or 'not paid'}"
    if when is TransferWhen.FULFILLED and topic != "orders/fulfilled" and order.fulfillment_status != "fulfilled":
        return f"orders.transfer_when is 'fulfilled' and the order is {order.fulfillment_status or 'unfulfilled'}"
    return None


def _connection(event: InboundEvent) -> RackbeatShopifyConnection:
    return RackbeatShopifyConnection.of(event.connection)


def _json(payload: str) -> dict[str, Any]:
    """The payload as a JSON object; else a ValueError saying why (also for one nested deeper than the parser
    recurses here, which ingest's parse, nearer the top of the stack, let through)."""
    return json_object(payload)


def lifecycle_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    # Whatever the connection's state: `shop/redact` arrives 48 hours after the uninstall.
    if ports.secrets is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no secret store", FailureClass.BUG)
    return lifecycle.handle_lifecycle_event(
        ports.table,
        cast(SecretStore, ports.secrets),
        _connection(event),
        event.topic,
        event.payload,
        event.sk,
        ports.schedules,
    )


def order_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    return _order_event(_connection(event), event.topic, event.payload, event.sk, ports, event.redrive)


def _order_event(
    connection: RackbeatShopifyConnection, topic: str, payload: str, sk: str, ports: DispatchPorts, redrive: str | None
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
    mapped = mappings.get_mapping(ports.table, connection.id, "order", "shopify", str(order.id))
    if mapped and mapped.get("status") == "done":
        return Outcome(EventStatus.SKIPPED, f"order {order.name} is already Rackbeat order {mapped['target_id']}")
    if mapped and mapped.get("status") == "cancelled":
        return Outcome(EventStatus.SKIPPED, f"order {order.name} was cancelled")
    is_pos = order.source_name == "pos"
    target = settings.pos.rackbeat_status if is_pos else settings.orders.rackbeat_status
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
    name = execution_name(connection.id, str(order.id))
    repeat = f"order {order.name} is already being transferred"
    return ports.start_workflow(connection.id, name, workflow_input, repeat, redrive)


def resync(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """An order looked at again on request: read from Shopify as it is now, stored as the event's payload (the
    workflow reads the order from the event), then handled as an `orders/updated` that may start a new attempt."""
    connection = _connection(event)
    try:
        order_id = str(_json(event.payload)["order_id"]).strip()
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"orders/resync payload is invalid: {first_error(invalid)}")
    if not order_id.isdigit():
        return Outcome.needs_attention(f"orders/resync payload is invalid: order_id: {order_id!r} is not a Shopify id")
    if ports.clients is None:
        return Outcome.needs_attention("orders/resync cannot be handled here: no Shopify reader", FailureClass.BUG)
    order = order_query.fetch_order(ports.clients.shopify(connection), order_id)
    if order is None:
        return Outcome.skipped(f"Shopify has no order {order_id} (deleted, or another shop's id)")
    current = json.dumps(order, separators=(",", ":"))
    events.replace_payload(ports.table, connection.id, event.sk, current)
    return _order_event(connection, "orders/updated", current, event.sk, ports, event.redrive or "operator")


def refund_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    connection = _connection(event)
    try:
        refund = parse_refund(_json(event.payload))
    except (ValidationError, ValueError) as invalid:
        return Outcome.needs_attention(f"refund payload is invalid: {first_error(invalid)}")
    settings = connection.settings
    if not settings.orders.refunds_as_credit_notes:
        return Outcome.skipped("orders.refunds_as_credit_notes is off")
    workflow_input = {
        "kind": "refund",
        "connection_id": connection.id,
        "event_sk": event.sk,
        "refund_id": str(refund.id),
        "order_id": str(refund.order_id),
        "settings_version": connection.settings_version,
        "settings": settings.model_dump(mode="json"),
    }
    name = execution_name(connection.id, str(refund.id), "refund")
    repeat = f"refund {refund.id} is already being credited"
    return ports.start_workflow(connection.id, name, workflow_input, repeat, event.redrive)


def cancel_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    connection = _connection(event)
    try:
        order = parse_order(_json(event.payload))
    except (ValidationError, ValueError) as invalid:
        return Outcome.needs_attention(f"order payload is invalid: {first_error(invalid)}")
    if not order.cancelled_at:
        return Outcome.needs_attention(f"orders/cancelled for order {order.name} has no cancelled_at")
    workflow_input = {
        "kind": "cancel",
        "connection_id": connection.id,
        "event_sk": event.sk,
        "order_id": str(order.id),
        "order_name": order.name,
        "settings_version": connection.settings_version,
        "settings": connection.settings.model_dump(mode="json"),
    }
    name = execution_name(connection.id, str(order.id), "cancel")
    repeat = f"order {order.name} is already being cancelled"
    return ports.start_workflow(connection.id, name, workflow_input, repeat, event.redrive)


def product_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    if ports.clients is None:
        return Outcome.skipped(f"no product sync configured for shopify event {event.topic}")
    deps = products.ProductDeps(table=ports.table, rackbeat=ports.clients.rackbeat, shopify=ports.clients.shopify)
    try:
        return products.shopify_product_changed(_connection(event), event.topic, event.payload, deps)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


@dataclass(frozen=True)
class _Outbound:
    """The shop's outbound queue as this kind uses it from dispatch: item pushes and stock push requests."""

    ports: DispatchPorts

    def send(self, message: dict[str, Any], group: str, dedupe: str) -> None:
        assert self.ports.send_outbound is not None
        self.ports.send_outbound("shopify", message, group, dedupe)


def rackbeat_item_event(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    """Rackbeat's body only names the item (`{"key_name": "number", "key": "1021"}`); the work re-reads it."""
    connection, topic = _connection(event), event.topic
    try:
        number = str(_json(event.payload)["key"]).strip()
    except (ValueError, KeyError) as invalid:
        return Outcome.needs_attention(f"Rackbeat webhook body is invalid: {first_error(invalid)}")
    if not number:
        return Outcome.needs_attention("Rackbeat webhook body is invalid: key: empty")
    if ports.send_outbound is None or ports.clients is None:
        return Outcome.skipped(f"no outbound queue configured for rackbeat event {topic}")
    queue = _Outbound(ports)
    settings = connection.settings
    if topic in STOCK_EVENTS:
        if not settings.stock_sync.enabled:
            return Outcome.skipped("stock_sync.enabled is off")
        request_push = outbound.stock_push_request(queue.send, ports.now)
        return Outcome.done(
            stock.stock_changed(connection.id, number, ports.table, ports.now, request_push, event.heard_at)
        )
    if settings.product_sync.master != "rackbeat":
        return Outcome.skipped(f"product_sync.master is {settings.product_sync.master}")
    outbound.item_push_request(queue.send, ports.now)(
        {
            "command": "product.push",
            "connection_id": connection.id,
            "number": number,
            "kind": ITEM_EVENTS[topic],
            "event_sk": event.sk,
        }
    )
    return Outcome(EventStatus.RECEIVED, f"item {number} queued for the shop")


ROUTES = (
    Route("shopify", lifecycle.LIFECYCLE_TOPICS, lifecycle_event, any_state=True),
    Route("crossdock", frozenset({RESYNC_TOPIC}), resync),
    Route("crossdock", frozenset({refund_waits.CREDIT_TOPIC}), refund_waits.credit_event),
    Route("shopify", frozenset({REFUND_TOPIC}), refund_event),
    Route("shopify", frozenset({CANCEL_TOPIC}), cancel_event),
    Route("shopify", ORDER_TOPICS - {REFUND_TOPIC, CANCEL_TOPIC}, order_event),
    Route("shopify", PRODUCT_TOPICS, product_event),
    Route("rackbeat", frozenset(ITEM_EVENTS) | STOCK_EVENTS, rackbeat_item_event),
)
