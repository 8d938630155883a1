"""Shopify's order webhooks on a `peakwms_shopify` connection (source `shopify`, subscribed by setup step
`receive_orders`), handled in dispatch:

- `orders/create`, `orders/updated`: the order → one PeakWMS sales order, created or updated (`order_transfer`);
  an update showing `cancelled_at` cancels it;
- `orders/cancelled`, `orders/delete`: the sales order cancelled (`order_cancel`).

The webhook body is the whole order (a delete's only its id), used as it is: `updated_at` orders the deliveries,
so a late one never overwrites a newer one. A failure the next attempt may not meet (5xx, a timeout, 429, another
event of the same order at this moment, fulfillment orders not made yet) is raised and the queue tries again; one
it would meet again ends `needs_attention` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable

from crossdock.bodies import json_object
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integration import Route
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.order_cancel import cancel_order
from crossdock.integrations.peakwms_shopify.order_payload import deleted_order_id, read_order
from crossdock.integrations.peakwms_shopify.order_transfer import OrderSystems, send_order
from crossdock.ports import DispatchPorts, InboundEvent
from crossdock.store.outcome import Outcome

SOURCE = "shopify"
ORDER_CHANGED = frozenset({"orders/create", "orders/updated"})
ORDER_CANCELLED = "orders/cancelled"
ORDER_DELETED = "orders/delete"


def _handled(
    event: InboundEvent,
    ports: DispatchPorts,
    work: Callable[[PeakwmsShopifyConnection, OrderSystems], Outcome],
) -> Outcome:
    connection = PeakwmsShopifyConnection.of(event.connection)
    if ports.clients is None:
        return Outcome.needs_attention(f"{event.topic} cannot be handled here: no clients", FailureClass.BUG)
    try:
        systems = OrderSystems(
            peakwms=ports.clients.peakwms(connection), shopify=ports.clients.shopify(connection), table=ports.table
        )
        return work(connection, systems)
    except Skip as skipped:
        return Outcome.skipped(skipped.reason)
    except PermanentError as refused:
        return Outcome.needs_attention(refused.reason, refused.failure_class)


def _body(event: InboundEvent) -> dict[str, object]:
    try:
        return json_object(event.payload)
    except ValueError as unreadable:
        raise PermanentError(f"{event.topic} body is invalid: {unreadable}") from None


def order_changed(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    def work(connection: PeakwmsShopifyConnection, systems: OrderSystems) -> Outcome:
        order = read_order(_body(event))
        if order.cancelled_at:
            return _cancel(connection, order.name, str(order.id), order.is_pos, systems)
        return send_order(connection, order, systems, look_again=event.redrive is not None)

    return _handled(event, ports, work)


def order_cancelled(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    def work(connection: PeakwmsShopifyConnection, systems: OrderSystems) -> Outcome:
        order = read_order(_body(event))
        if not order.cancelled_at:
            raise PermanentError(f"orders/cancelled for Shopify order {order.name} has no cancelled_at")
        return _cancel(connection, order.name, str(order.id), order.is_pos, systems)

    return _handled(event, ports, work)


def order_deleted(event: InboundEvent, ports: DispatchPorts) -> Outcome:
    def work(connection: PeakwmsShopifyConnection, systems: OrderSystems) -> Outcome:
        order_id = deleted_order_id(_body(event))
        return cancel_order(connection, order_id, order_id, systems, deleted=True)

    return _handled(event, ports, work)


def _cancel(
    connection: PeakwmsShopifyConnection, name: str, order_id: str, is_pos: bool, systems: OrderSystems
) -> Outcome:
    if is_pos and not connection.settings.use_shopify_pos:
        raise Skip(f"Shopify order {name} is a POS sale and use_shopify_pos is off: it was never sent to PeakWMS")
    return cancel_order(connection, order_id, name, systems, deleted=False)


ROUTES: tuple[Route, ...] = (
    Route(SOURCE, ORDER_CHANGED, order_changed),
    Route(SOURCE, frozenset({ORDER_CANCELLED}), order_cancelled),
    Route(SOURCE, frozenset({ORDER_DELETED}), order_deleted),
)
