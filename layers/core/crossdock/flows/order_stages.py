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

from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.flows.outcome import finish_event
from crossdock.flows.workflow_names import attempt_name, execution_name
from crossdock.integrations.rackbeat_shopify import cancellation, order_lines, refunds
from crossdock.integrations.rackbeat_shopify.cancellation import WorkflowStatus
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, RackbeatStatus
from crossdock.model.order import Order
from crossdock.store import attempts, connections, events, mappings
from crossdock.store.events import EventStatus

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


def _never_started(execution_arn: str) -> str | None:
    return None


@dataclass(frozen=True)
class StageDeps:
    table: Any
    rackbeat_for: RackbeatFor
    # Status of another execution of the order workflow (a cancellation waits for its order's own workflow).
    workflow_status: WorkflowStatus = _never_started


def next_stage(target: RackbeatStatus, after: str) -> str:
    stages = ("transfer", *STAGES_FOR_TARGET[target])
    position = stages.index(after)
    return stages[position + 1] if position + 1 < len(stages) else "done"


def run_stage(stage: str, context: dict[str, Any], deps: StageDeps, execution: str | None = None) -> dict[str, Any]:
    if stage == "needs_attention":
        record_needs_attention(context, deps)
        return context
    connection = _connection(deps, context["connection_id"])
    if connection.state is not ConnectionState.ACTIVE:
        # Uninstalled or paused: work for the shop stops, wherever its workflows were.
        return _skip(context, f"connection {connection.id} is {connection.state.value}: work for it has stopped", deps)
    settings = RackbeatShopifySettings.model_validate(context["settings"])
    client = deps.rackbeat_for(connection)
    if stage == "credit_note":
        return refunds.credit_note_stage(context, settings, client, deps.table)
    if stage == "cancel":
        own = execution or ""
        # The order's own workflow may be on a later attempt (a redrive after it failed): wait for that one.
        first = execution_name(connection.id, context["order_id"])
        latest = attempt_name(first, attempts.current(deps.table, connection.id, first).latest)
        order_execution = cancellation.sibling_execution(own, latest)
        return cancellation.cancel_stage(context, client, deps.table, deps.workflow_status, order_execution)
    target = RackbeatStatus(context["target"])
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
    if context.get("next") == "done":  # the stage settled the event itself (e.g. a cancelled order skipped)
        return context
    following = next_stage(target, stage)
    if following == "done":
        record_done(context, target, deps)
    return {**context, "next": following}


# Stages that may follow one another within one invocation (transfer → book → ship → invoice).
CHAINED_STAGES = frozenset({"book", "ship", "invoice"})
# Time an invocation keeps for one more stage: a few Rackbeat calls, each with the client's read timeout.
SECONDS_PER_STAGE_RESERVE = 15.0


def run_stages(
    stage: str,
    context: dict[str, Any],
    deps: StageDeps,
    execution: str | None = None,
    seconds_left: Callable[[], float] = lambda: float("inf"),
) -> tuple[dict[str, Any], list[str]]:
    """Runs `stage`, then the order's following stages in the same invocation while time is left; returns the
    context (its `next` is the stage still to run, or `done`) and the stages that ran.

    Standard workflows are billed per state transition, and a Task plus the Choice after it are two per stage: an
    order to `invoiced_and_shipped` took ten, it now takes four. The workflow keeps a Task per stage for what does
    not finish here: a stage that fails for a passing reason (429, 5xx, timeout) is handed back as `next`, so it runs
    again as its own state with that state's retry policy and backoff — never inside this invocation. A permanent
    failure raises as before (Catch → needs_attention), and a crash re-runs the first stage, which is idempotent."""
    result = run_stage(stage, context, deps, execution)
    ran = [stage]
    while result.get("next") in CHAINED_STAGES and seconds_left() >= SECONDS_PER_STAGE_RESERVE:
        following = str(result["next"])
        try:
            result = run_stage(following, result, deps, execution)
        except RetryableError:
            return result, ran  # `next` is still `following`: the workflow runs it as its own state, with backoff
        ran.append(following)
    return result, ran


def _connection(deps: StageDeps, connection_id: str) -> Connection:
    connection = connections.load_connection(deps.table, connection_id)
    if connection is None:
        raise PermanentError(f"connection {connection_id} no longer exists")
    return connection


def _skip(context: dict[str, Any], reason: str, deps: StageDeps) -> dict[str, Any]:
    finish_event(deps.table, context["connection_id"], context["event_sk"], EventStatus.SKIPPED, reason)
    return {**context, "next": "done"}


def _source_order(deps: StageDeps, context: dict[str, Any], settings: RackbeatShopifySettings) -> Order:
    event = events.load_event(deps.table, context["connection_id"], context["event_sk"])
    if event is None:
        raise PermanentError(f"event {context['event_sk']} is gone from the event log", FailureClass.BUG)
    return to_canonical(parse_order(json.loads(event["payload"])), settings.shipping_product_number)


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
    mapped = mappings.get_mapping(deps.table, connection.id, "order", "shopify", order.source_id) or {}
    if mapped.get("status") == "cancelled" and not mapped.get("target_id"):
        return _skip(context, f"order {order.name} was cancelled in Shopify before it reached Rackbeat", deps)
    order = order_lines.apply_unmapped_policy(order, settings)
    existing = rackbeat.find_order(client, order)
    price_note = ""
    if existing is None:
        customer_number = _customer_number(client, order, settings)
        prices: dict[str, Decimal] = {}
        if settings.advanced.use_customer_prices:
            prices = order_lines.customer_prices_for(order, rackbeat.customer_prices(client, customer_number))
            price_note = f"; customer {customer_number}'s own prices on {len(prices)} line(s)" if prices else ""
        existing = _create_draft(client, order, customer_number, settings, prices)
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
                    f"order {order.name}: Rackbeat order number {order.number} is already taken by another order "
                    "(orders.numbering is 'shopify'); nothing was overwritten — free the number or switch numbering "
                    "to 'rackbeat_next'",
                    FailureClass.VALIDATION,
                ) from None
            unknown = order_lines.refused_line_indexes(refused.errors)
            if not unknown:
                raise
            order = order_lines.replace_unknown_items(order, unknown, settings)
    raise PermanentError(f"order {order.name}: Rackbeat refused its lines twice", FailureClass.UNMAPPED)


def record_done(context: dict[str, Any], target: RackbeatStatus, deps: StageDeps) -> None:
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
        deps.table,
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
    finish_event(
        deps.table,
        context["connection_id"],
        context["event_sk"],
        EventStatus.NEEDS_ATTENTION,
        reason,
        failure_class=failure_class,
    )
    # Remembered per workflow so that the reconciliation sweep retries only what failed for a passing reason.
    kind = str(context.get("kind", "order"))
    subject = context.get("refund_id") if kind == "refund" else context.get("order_id")
    if subject is not None:
        first = execution_name(context["connection_id"], str(subject), kind)
        attempts.record_failure(deps.table, context["connection_id"], first, failure_class)
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
            order_name=context.get("order_name", ""),
            taxes_included=bool(context.get("taxes_included", True)),
        )
