"""The stages of the order workflow (SPEC §1.5): transfer → book → ship → invoice, as far as the target says.

Each stage is idempotent on (connection, order, stage): it looks at Rackbeat before it writes, so a replay — or a
retry after Rackbeat committed and the response was lost — never creates a second customer, order, shipment or
invoice. The workflow passes the order context from stage to stage; each stage returns it with `next` set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connections.settings import RackbeatShopifySettings, RackbeatStatus
from crossdock.errors import FailureClass, PermanentError
from crossdock.model.order import Order
from crossdock.store import connections, events, mappings
from crossdock.store.events import EventStatus
from crossdock.systems.rackbeat import orders as rackbeat
from crossdock.systems.rackbeat.client import RackbeatClient
from crossdock.systems.shopify.orders import parse_order, to_canonical

# The stages after `transfer` that each target needs, in SPEC order (book → ship → invoice).
STAGES_FOR_TARGET: dict[RackbeatStatus, tuple[str, ...]] = {
    RackbeatStatus.DRAFT: (),
    RackbeatStatus.BOOKED: ("book",),
    RackbeatStatus.READY_TO_SHIP: ("book", "ship"),
    RackbeatStatus.SHIPPED: ("book", "ship"),
    RackbeatStatus.READY_TO_INVOICE: ("book", "invoice"),
    RackbeatStatus.INVOICED: ("book", "invoice"),
    RackbeatStatus.INVOICED_AND_SHIPPED: ("book", "ship", "invoice"),
    RackbeatStatus.INVOICED_READY_TO_SHIP: ("book", "ship", "invoice"),
}
SHIPPED_TARGETS = frozenset({RackbeatStatus.SHIPPED, RackbeatStatus.INVOICED_AND_SHIPPED})
UNBOOKED_INVOICE_TARGETS = frozenset({RackbeatStatus.READY_TO_INVOICE})

RackbeatFor = Callable[[Connection], RackbeatClient]


@dataclass(frozen=True)
class StageDeps:
    table: Any
    rackbeat_for: RackbeatFor


def next_stage(target: RackbeatStatus, after: str) -> str:
    stages = ("transfer", *STAGES_FOR_TARGET[target])
    position = stages.index(after)
    return stages[position + 1] if position + 1 < len(stages) else "done"


def run_stage(stage: str, context: dict[str, Any], deps: StageDeps) -> dict[str, Any]:
    if stage == "needs_attention":
        record_needs_attention(context, deps)
        return context
    connection = _connection(deps, context["connection_id"])
    settings = RackbeatShopifySettings.model_validate(context["settings"])
    target = RackbeatStatus(context["target"])
    client = deps.rackbeat_for(connection)
    if stage == "transfer":
        context = transfer(context, connection, settings, client, deps)
    elif stage == "book":
        rackbeat.book(client, int(context["rackbeat_order"]))
    elif stage == "ship":
        rackbeat.ensure_shipment(client, int(context["rackbeat_order"]), shipped=target in SHIPPED_TARGETS)
    elif stage == "invoice":
        invoice = rackbeat.ensure_invoice(
            client, int(context["rackbeat_order"]), booked=target not in UNBOOKED_INVOICE_TARGETS
        )
        context = {**context, "rackbeat_invoice": invoice}
    else:
        raise PermanentError(f"unknown workflow stage {stage!r}", FailureClass.BUG)
    following = next_stage(target, stage)
    if following == "done":
        record_done(context, target, deps)
    return {**context, "next": following}


def _connection(deps: StageDeps, connection_id: str) -> Connection:
    connection = connections.load_connection(deps.table, connection_id)
    if connection is None:
        raise PermanentError(f"connection {connection_id} no longer exists")
    return connection


def _source_order(deps: StageDeps, context: dict[str, Any], settings: RackbeatShopifySettings) -> Order:
    event = events.load_event(deps.table, context["connection_id"], context["event_sk"])
    if event is None:
        raise PermanentError(f"event {context['event_sk']} is gone from the event log", FailureClass.BUG)
    return to_canonical(parse_order(json.loads(event["payload"])), settings.shipping_product_number)


def _check_lines(order: Order) -> None:
    missing = [line.title for line in order.lines if not line.sku]
    if missing:
        raise PermanentError(
            f"order {order.name} has lines without a SKU, which cannot be matched to Rackbeat items: "
            + ", ".join(repr(title) for title in missing),
            FailureClass.UNMAPPED,
        )


def _customer_number(client: RackbeatClient, order: Order, settings: RackbeatShopifySettings) -> int:
    if order.is_pos and settings.pos.customer_number is not None:
        return settings.pos.customer_number
    defaults = settings.customer_defaults
    return rackbeat.find_or_create_customer(
        client,
        order.customer,
        rackbeat.CustomerDefaults(
            currency=defaults.currency,
            language=defaults.language,
            vat_zone=defaults.vat_zone,
            customer_group=defaults.customer_group,
            layout=defaults.layout,
            payment_terms=defaults.payment_terms,
        ),
    )


def _order_defaults(order: Order, settings: RackbeatShopifySettings) -> rackbeat.OrderDefaults:
    location = settings.pos.rackbeat_location if order.is_pos else settings.fulfillment.rackbeat_location
    if order.country_code and order.country_code in settings.advanced.country_locations:
        location = settings.advanced.country_locations[order.country_code]
    return rackbeat.OrderDefaults(
        employee=settings.employees.pos if order.is_pos else settings.employees.web,
        layout=settings.customer_defaults.layout,
        payment_terms=settings.customer_defaults.payment_terms,
        location=location,
        rounding_product_number=settings.advanced.rounding_product_number,
        use_shop_number=settings.orders.numbering == "shopify",
    )


def transfer(
    context: dict[str, Any],
    connection: Connection,
    settings: RackbeatShopifySettings,
    client: RackbeatClient,
    deps: StageDeps,
) -> dict[str, Any]:
    """Customer + draft order in Rackbeat, bound to the Shopify order in the mapping table."""
    order = _source_order(deps, context, settings)
    _check_lines(order)
    existing = rackbeat.find_order(client, order)
    if existing is None:
        customer_number = _customer_number(client, order, settings)
        body = rackbeat.draft_body(
            order, customer_number, settings.shipping_product_number, _order_defaults(order, settings)
        )
        existing = rackbeat.create_draft(client, body)
    difference = order.total - rackbeat.order_total(existing)
    number = int(existing["number"])
    mappings.put_mapping(
        deps.table,
        connection.id,
        "order",
        "shopify",
        order.source_id,
        str(number),
        status="transferred",
        shopify_total=str(order.total),
    )
    return {
        **context,
        "rackbeat_order": number,
        "rackbeat_customer": int(existing["customer_id"]) if existing.get("customer_id") is not None else None,
        "shopify_total": str(order.total),
        "total_difference": str(difference),
    }


def record_done(context: dict[str, Any], target: RackbeatStatus, deps: StageDeps) -> None:
    number = str(context["rackbeat_order"])
    difference = Decimal(context.get("total_difference") or 0)
    note = (
        f"; total differs from Shopify's by {difference} (set advanced.rounding_product_number)" if difference else ""
    )
    mappings.put_mapping(
        deps.table,
        context["connection_id"],
        "order",
        "shopify",
        context["order_id"],
        number,
        status="done",
        target=target.value,
        shopify_total=context.get("shopify_total", ""),
    )
    events.finish_event(
        deps.table,
        context["connection_id"],
        context["event_sk"],
        EventStatus.DONE,
        f"Shopify order {context.get('order_name', context['order_id'])} is Rackbeat order {number} ({target.value})"
        + note,
        rackbeat_order=number,
    )


def describe_failure(error: dict[str, Any]) -> tuple[str, str]:
    """(reason, failure class) from the `Error`/`Cause` Step Functions caught. A Lambda error's cause is the
    function's error JSON; our errors carry their class as a `[class]` prefix of the message."""
    name = str(error.get("Error", "Error"))
    cause = error.get("Cause") or ""
    try:
        message = str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        message = str(cause)
    failure_class = FailureClass.BUG.value
    if message.startswith("[") and "] " in message:
        failure_class, message = message[1:].split("] ", 1)
    elif name == "RetryableError":
        failure_class = FailureClass.TARGET_DOWN.value
    return f"{name}: {message}" if message else name, failure_class


def record_needs_attention(context: dict[str, Any], deps: StageDeps) -> None:
    reason, failure_class = describe_failure(context.get("error") or {})
    events.finish_event(
        deps.table,
        context["connection_id"],
        context["event_sk"],
        EventStatus.NEEDS_ATTENTION,
        reason,
        failure_class=failure_class,
    )
    number = context.get("rackbeat_order")
    if number is not None:
        mappings.put_mapping(
            deps.table,
            context["connection_id"],
            "order",
            "shopify",
            context["order_id"],
            str(number),
            status="needs_attention",
            shopify_total=context.get("shopify_total", ""),
        )
