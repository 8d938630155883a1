"""The order workflow of `rackbeat_shopbox`: a Shopbox sale (basket) → one Rackbeat order, then book → ship →
invoice as far as `sales.rackbeat_status` says; and the cancellation of a basket Shopbox cancelled later.

The workflow is the order workflow every kind shares (`statemachines/order.asl.json`, `flows.order_stages`), named
after connection + basket uid by dispatch, so a basket the poll sends twice starts it once. Each stage is idempotent:
`transfer` looks for the order by the basket's reference before it creates one from the basket's detail (which
dispatch read from Shopbox into the event), so a retry after Rackbeat committed and the response was lost finds
it; book, ship and invoice are the Rackbeat connector's own idempotent steps (`connectors.rackbeat.orders`), shared
with the Shopify kind.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import orders as rackbeat
from crossdock.connectors.shopbox.shapes import Basket
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopbox import cancellation, pos_customer, sales_order, till_returns
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.ports import StagePorts
from crossdock.store import attempts, events, mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import finish_event, first_error
from crossdock.workflow_names import attempt_name, execution_name, sibling_execution

SYSTEM = "shopbox"  # the mapping table's system of a basket: `MAP#order#shopbox#<basket uid>`

# The stages after `transfer` each `sales.rackbeat_status` needs, in SPEC order (book → ship → invoice).
STAGES_FOR_TARGET: dict[str, tuple[str, ...]] = {
    "draft": (),
    "booked": ("book",),
    "shipped": ("book", "ship"),
    "invoiced": ("book", "invoice"),
    "invoiced_and_shipped": ("book", "ship", "invoice"),
}
SHIPPED_TARGETS = frozenset({"shipped", "invoiced_and_shipped"})


def next_stage(target: str, after: str) -> str:
    stages = ("transfer", *STAGES_FOR_TARGET[target])
    position = stages.index(after)
    return stages[position + 1] if position + 1 < len(stages) else "done"


def client_uid(connection: Connection) -> str:
    return RackbeatShopboxConnection.of(connection).client_uid


class ShopboxOrderWorkflow:
    """`ports.OrderWorkflow` of this kind."""

    def chained(self) -> frozenset[str]:
        return frozenset({"book", "ship", "invoice"})

    def run(
        self, stage: str, context: dict[str, Any], connection: Connection, ports: StagePorts, execution: str | None
    ) -> dict[str, Any]:
        settings = RackbeatShopboxSettings.model_validate(context["settings"])
        client = ports.clients.rackbeat(connection, paced=False)
        if stage == "cancel":
            # The basket's own workflow may be on a later attempt (an operator's sync after it failed): wait for that.
            first = execution_name(connection.id, context["order_id"])
            latest = attempt_name(first, attempts.current(ports.table, connection.id, first).latest)
            order_execution = sibling_execution(execution or "", latest)
            return cancellation.cancel_stage(context, client, ports.table, ports.workflow_status, order_execution)
        target = str(context["target"])
        if stage == "transfer":
            context = transfer(context, connection, settings, ports)
            if context.get("next") == "done":  # cancelled before it reached Rackbeat: settled already
                return context
        elif stage == "book":
            rackbeat.book(client, int(context["rackbeat_order"]))
        elif stage == "ship":
            rackbeat.ensure_shipment(client, int(context["rackbeat_order"]), shipped=target in SHIPPED_TARGETS)
        elif stage == "invoice":
            invoice = rackbeat.ensure_invoice(client, int(context["rackbeat_order"]), booked=True)
            context = {**context, "rackbeat_invoice": invoice}
        else:
            raise PermanentError(f"unknown workflow stage {stage!r}", FailureClass.BUG)
        following = next_stage(target, stage)
        if following == "done":
            record_done(context, target, ports)
        return {**context, "next": following}

    def on_failure(self, context: dict[str, Any], reason: str, failure_class: str, table: Any) -> None:
        """A basket whose workflow failed for good is marked `needs_attention` in the mapping, with its Rackbeat
        order when one was made: the poll stops sending it (its workflow would refuse it anyway), and a manual sync
        names the order, or starts the next attempt when there is none."""
        if context.get("kind", "order") != "order":
            return  # a failed cancellation leaves the order's own mapping as it is
        number = context.get("rackbeat_order")
        mappings.put_mapping(
            table,
            context["connection_id"],
            "order",
            SYSTEM,
            context["order_id"],
            "" if number is None else str(number),
            status="needs_attention",
            failure_class=failure_class,
        )


def transfer(
    context: dict[str, Any], connection: Connection, settings: RackbeatShopboxSettings, ports: StagePorts
) -> dict[str, Any]:
    """The draft order in Rackbeat, bound to the basket in the mapping table."""
    uid = str(context["order_id"])
    table = ports.table
    mapped = mappings.get_mapping(table, connection.id, "order", SYSTEM, uid) or {}
    if mapped.get("status") == "cancelled" and not mapped.get("target_id"):
        return _settle(
            context, EventStatus.SKIPPED, f"Shopbox basket {uid} was cancelled before it reached Rackbeat", ports
        )
    client = ports.clients.rackbeat(connection, paced=False)
    reference = sales_order.basket_reference(uid, client_uid(connection))
    existing = rackbeat.find_order_by_reference(client, reference)
    if existing is None:
        basket = _basket(context, ports)
        if basket.is_return:
            reason = till_returns.credit_return(basket, settings, client, table, connection.id)
            return _settle(context, EventStatus.DONE, reason, ports)
        items = sales_order.RackbeatItems(client, settings.uid_field_id, settings.variant_field_id)
        sale = sales_order.read_sale(basket, client_uid(connection), settings, items)
        till = settings.sales.customer_number
        if till is None:
            raise PermanentError(
                f"Shopbox basket {uid}: sales.customer_number: no Rackbeat customer for sales at the till",
                FailureClass.VALIDATION,
            )
        customer = pos_customer.rackbeat_customer(client, basket.customer, till)
        existing = rackbeat.create_draft(client, sales_order.order_body(sale, settings, customer.number))
    number = int(existing["number"])
    mappings.put_mapping(table, connection.id, "order", SYSTEM, uid, str(number), status="transferred")
    return {**context, "rackbeat_order": number}


def _basket(context: dict[str, Any], ports: StagePorts) -> Basket:
    """The basket's detail as dispatch read it from Shopbox into the event."""
    event = events.load_event(ports.table, context["connection_id"], context["event_sk"])
    if event is None:
        raise PermanentError(f"event {context['event_sk']} is gone from the event log", FailureClass.BUG)
    try:
        return Basket.model_validate_json(event["payload"])
    except ValidationError as invalid:
        raise PermanentError(
            f"basket {context['order_id']}: the event holds no basket detail ({first_error(invalid)})",
            FailureClass.VALIDATION,
        ) from None


def record_done(context: dict[str, Any], target: str, ports: StagePorts) -> None:
    number = str(context["rackbeat_order"])
    invoice = context.get("rackbeat_invoice")
    mappings.put_mapping(
        ports.table,
        context["connection_id"],
        "order",
        SYSTEM,
        context["order_id"],
        number,
        status="done",
        target=target,
        **({"rackbeat_invoice": str(invoice)} if invoice else {}),
    )
    finish_event(
        ports.table,
        context["connection_id"],
        context["event_sk"],
        EventStatus.DONE,
        f"Shopbox basket {context['order_id']} is Rackbeat order {number} ({target})",
        rackbeat_order=number,
    )


def _settle(context: dict[str, Any], status: EventStatus, reason: str, ports: StagePorts) -> dict[str, Any]:
    finish_event(ports.table, context["connection_id"], context["event_sk"], status, reason)
    return {**context, "next": "done"}


ORDER_WORKFLOW = ShopboxOrderWorkflow()
