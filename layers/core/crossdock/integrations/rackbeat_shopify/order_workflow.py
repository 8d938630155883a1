"""The order workflow of `rackbeat_shopify` (SPEC §1.5): transfer → book → ship → invoice, as far as the target
says; and the credit note of a refund, and the cancellation of an order.

Each stage is idempotent on (connection, order, stage): it looks at Rackbeat before it writes, so a replay — or a
retry after Rackbeat committed and the response was lost — never creates a second customer, order, shipment or
invoice. The workflow passes the order context from stage to stage; each stage returns it with `next` set.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, cast

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopify import cancellation, customers, numbering, order_lines, refunds
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, RackbeatStatus
from crossdock.model.order import Order
from crossdock.ports import StagePorts
from crossdock.store import attempts, events, mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import finish_event
from crossdock.workflow_names import attempt_name, execution_name, sibling_execution

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


def next_stage(target: RackbeatStatus, after: str) -> str:
    stages = ("transfer", *STAGES_FOR_TARGET[target])
    position = stages.index(after)
    return stages[position + 1] if position + 1 < len(stages) else "done"


class RackbeatOrderWorkflow:
    """`ports.OrderWorkflow` of this kind."""

    def chained(self) -> frozenset[str]:
        return frozenset({"book", "ship", "invoice"})

    def run(
        self, stage: str, context: dict[str, Any], connection: Connection, ports: StagePorts, execution: str | None
    ) -> dict[str, Any]:
        own = cast(RackbeatShopifyConnection, connection)
        settings = RackbeatShopifySettings.model_validate(context["settings"])
        # Order stages make a few calls each and back off through the workflow's own retries.
        client = ports.clients.rackbeat(own, paced=False)
        if stage == "credit_note":
            return refunds.credit_note_stage(context, settings, client, ports.table)
        if stage == "cancel":
            # The order's own workflow may be on a later attempt (a redrive after it failed): wait for that one.
            first = execution_name(connection.id, context["order_id"])
            latest = attempt_name(first, attempts.current(ports.table, connection.id, first).latest)
            order_execution = sibling_execution(execution or "", latest)
            return cancellation.cancel_stage(context, client, ports.table, ports.workflow_status, order_execution)
        target = RackbeatStatus(context["target"])
        if stage == "transfer":
            context = transfer(context, own, settings, client, ports)
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
        if context.get("next") == "done":  # the stage settled the event itself (e.g. a cancelled order skipped)
            return context
        following = next_stage(target, stage)
        if following == "done":
            record_done(context, target, ports)
        return {**context, "next": following}

    def on_failure(self, context: dict[str, Any], reason: str, failure_class: str, table: Any) -> None:
        number = context.get("rackbeat_order")
        if number is not None:
            mappings.put_mapping(
                table,
                context["connection_id"],
                "order",
                "shopify",
                context["order_id"],
                str(number),
                status="needs_attention",
                shopify_total=context.get("shopify_total", ""),
                order_name=context.get("order_name", ""),
                taxes_included=bool(context.get("taxes_included", True)),
            )


def _skip(context: dict[str, Any], reason: str, ports: StagePorts) -> dict[str, Any]:
    finish_event(ports.table, context["connection_id"], context["event_sk"], EventStatus.SKIPPED, reason)
    return {**context, "next": "done"}


def _source_order(ports: StagePorts, context: dict[str, Any], settings: RackbeatShopifySettings) -> Order:
    event = events.load_event(ports.table, context["connection_id"], context["event_sk"])
    if event is None:
        raise PermanentError(f"event {context['event_sk']} is gone from the event log", FailureClass.BUG)
    return to_canonical(parse_order(json.loads(event["payload"])), settings.shipping_product_number)


def _order_defaults(order: Order, settings: RackbeatShopifySettings) -> rackbeat.OrderDefaults:
    # SPEC §1.6: the delivery country's location overrides the web location only; a POS sale leaves the shop's own
    # stock, and an order without a shipping address has no delivery country (the billing one is not asked).
    location = settings.pos.rackbeat_location if order.is_pos else settings.fulfillment.rackbeat_location
    if not order.is_pos and order.delivery_country in settings.advanced.country_locations:
        location = settings.advanced.country_locations[str(order.delivery_country)]
    return rackbeat.OrderDefaults(
        employee=settings.employees.pos if order.is_pos else settings.employees.web,
        layout=settings.customer_defaults.layout,
        payment_terms=settings.customer_defaults.payment_terms,
        location=location,
        rounding_product_number=settings.advanced.rounding_product_number,
        use_shop_number=settings.orders.numbering == "shopify",
        number_offset=numbering.number_offset(order, settings.orders),
        vat_zone=customers.vat_zone(order, settings),
    )


def transfer(
    context: dict[str, Any],
    connection: Connection,
    settings: RackbeatShopifySettings,
    client: RackbeatClient,
    ports: StagePorts,
) -> dict[str, Any]:
    """Customer + draft order in Rackbeat, bound to the Shopify order in the mapping table."""
    order = _source_order(ports, context, settings)
    mapped = mappings.get_mapping(ports.table, connection.id, "order", "shopify", order.source_id) or {}
    if mapped.get("status") == "cancelled" and not mapped.get("target_id"):
        return _skip(context, f"order {order.name} was cancelled in Shopify before it reached Rackbeat", ports)
    order = order_lines.apply_unmapped_policy(order, settings)
    existing = rackbeat.find_order(client, order)
    price_note = ""
    if existing is None:
        customer_number = customers.customer_number(client, ports.table, connection.id, order, settings)
        prices: dict[str, Decimal] = {}
        if settings.advanced.use_customer_prices:
            prices = order_lines.customer_prices_for(order, rackbeat.customer_prices(client, customer_number))
            price_note = f"; customer {customer_number}'s own prices on {len(prices)} line(s)" if prices else ""
        existing = _create_draft(client, order, customer_number, settings, prices)
    difference = order.total - rackbeat.order_total(existing)
    number = int(existing["number"])
    mappings.put_mapping(
        ports.table,
        connection.id,
        "order",
        "shopify",
        order.source_id,
        str(number),
        status="transferred",
        shopify_total=str(order.total),
        order_name=order.name,
        taxes_included=order.taxes_included,
    )
    return {
        **context,
        "rackbeat_order": number,
        "rackbeat_customer": int(existing["customer_id"]) if existing.get("customer_id") is not None else None,
        "shopify_total": str(order.total),
        "total_difference": str(difference),
        "taxes_included": order.taxes_included,
        **({"price_note": price_note} if price_note else {}),
    }


def _create_draft(
    client: RackbeatClient,
    order: Order,
    customer_number: int,
    settings: RackbeatShopifySettings,
    prices: dict[str, Decimal],
) -> dict[str, Any]:
    """The draft, with lines whose items Rackbeat does not know handled by `orders.unmapped_lines`, and a taken
    order number (`orders.numbering = shopify`) reported rather than worked around."""
    defaults = _order_defaults(order, settings)
    for _ in range(2):  # the second attempt has the unknown items on the fallback item
        body = rackbeat.draft_body(order, customer_number, settings.shipping_product_number, defaults, prices)
        try:
            return rackbeat.create_draft(client, body)
        except Unprocessable as refused:
            if "number" in refused.errors and defaults.use_shop_number:
                raise PermanentError(
                    f"order {order.name}: Rackbeat order number {body['number']} is already taken by another order "
                    "(orders.numbering is 'shopify'); nothing was overwritten — free the number, give the shop its "
                    "own orders.number_prefix or switch numbering to 'rackbeat_next'",
                    FailureClass.VALIDATION,
                ) from None
            unknown = order_lines.refused_line_indexes(refused.errors)
            if not unknown:
                raise
            order = order_lines.replace_unknown_items(order, unknown, settings)
    raise PermanentError(f"order {order.name}: Rackbeat refused its lines twice", FailureClass.UNMAPPED)


def record_done(context: dict[str, Any], target: RackbeatStatus, ports: StagePorts) -> None:
    number = str(context["rackbeat_order"])
    difference = Decimal(context.get("total_difference") or 0)
    if context.get("price_note"):
        note = context["price_note"] + (
            f"; Rackbeat's total differs from Shopify's by {-difference}" if difference else ""
        )
    else:
        note = (
            f"; total differs from Shopify's by {difference} (set advanced.rounding_product_number)"
            if difference
            else ""
        )
    mappings.put_mapping(
        ports.table,
        context["connection_id"],
        "order",
        "shopify",
        context["order_id"],
        number,
        status="done",
        target=target.value,
        shopify_total=context.get("shopify_total", ""),
        order_name=context.get("order_name", ""),
        taxes_included=bool(context.get("taxes_included", True)),
        **({"rackbeat_invoice": str(context["rackbeat_invoice"])} if context.get("rackbeat_invoice") else {}),
    )
    finish_event(
        ports.table,
        context["connection_id"],
        context["event_sk"],
        EventStatus.DONE,
        f"Shopify order {context.get('order_name', context['order_id'])} is Rackbeat order {number} ({target.value})"
        + note,
        rackbeat_order=number,
    )


ORDER_WORKFLOW = RackbeatOrderWorkflow()
