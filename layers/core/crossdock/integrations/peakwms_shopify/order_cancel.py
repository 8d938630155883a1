"""A Shopify order cancelled (`orders/cancelled`, or an `orders/updated` that shows `cancelled_at`) or deleted
(`orders/delete`): its PeakWMS sales order is cancelled, once.

Cancelled rather than deleted also for a deletion: PeakWMS keeps the order's history and refuses to cancel what it
has shipped, where a delete would lose track of goods already picked (and `DELETE /salesOrder/{id}` takes only
PeakWMS's internal id). A second cancel is PeakWMS's 400 with errorCode 4148, which is success once PeakWMS shows
the order cancelled (`sales_orders.cancel_sales_order` re-reads it): done, "cancelled already".

Under the order's lease, like the transfer: a cancellation that comes before its order (Shopify sends no order of
its webhooks) leaves a `cancelled` mark so the create that follows is skipped; one that meets no binding still looks
in PeakWMS, where a create whose answer was lost may have made the order. PeakWMS refusing the cancel (the order
is packed or shipped) ends needs_attention with PeakWMS's words.
"""

from __future__ import annotations

from dataclasses import replace

from crossdock.connectors.peakwms import sales_orders
from crossdock.connectors.peakwms.client import PeakwmsRejected
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.peakwms_shopify import order_binding
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.order_binding import Binding
from crossdock.integrations.peakwms_shopify.order_transfer import OrderSystems
from crossdock.store.outcome import Outcome


def cancel_order(
    connection: PeakwmsShopifyConnection, order_id: str, name: str, systems: OrderSystems, *, deleted: bool
) -> Outcome:
    """The order's PeakWMS sales order cancelled; `Skip` when that was done before, `PermanentError` when PeakWMS
    refuses."""
    what = "deleted" if deleted else "cancelled"
    with order_binding.order_lock(systems.table, connection.id, order_id):
        bound = order_binding.binding(systems.table, connection.id, order_id)
        if bound is not None and bound.cancelled:
            where = f"PeakWMS sales order {bound.peakwms_id}" if bound.peakwms_id else "it never reached PeakWMS"
            raise Skip(f"Shopify order {name} was cancelled or deleted before ({where})")
        peakwms_id = bound.peakwms_id if bound is not None else ""
        if bound is None:
            order_binding.mark_cancelled(systems.table, connection.id, order_id)
            found = sales_orders.get_sales_order(systems.peakwms, order_id)
            if found is None:
                return Outcome.done(f"Shopify order {name} was {what} before it reached PeakWMS; it will not be sent")
            peakwms_id = found.id or order_id
        try:
            cancelled = sales_orders.cancel_sales_order(systems.peakwms, order_id)
        except PeakwmsRejected as refused:
            raise _refused(name, what, peakwms_id, refused.message or refused.reason) from None
        kept = bound or Binding(peakwms_id, order_binding.CANCELLED, "", "", "", "", None)
        marked = replace(kept, peakwms_id=peakwms_id, status=order_binding.CANCELLED)
        order_binding.bind(systems.table, connection.id, order_id, marked)
        result = "cancelled" if cancelled else "was cancelled in PeakWMS already"
        return Outcome.done(
            f"Shopify order {name} {what}: PeakWMS sales order {peakwms_id} {result}", peakwms_order=peakwms_id
        )


def _refused(name: str, what: str, peakwms_id: str, why: str) -> PermanentError:
    return PermanentError(
        f"Shopify order {name} was {what}, but PeakWMS did not cancel sales order {peakwms_id}: {why} (picked or "
        "shipped already? stop or return it in PeakWMS)",
        FailureClass.VALIDATION,
    )
