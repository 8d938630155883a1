"""Sales orders in PeakWMS (reference/peakwms.md "Sales orders", "Idempotency handles").

`orderId` = the Shopify order's numeric id: the handle every call uses. A sales order is looked up by it before it
is created, and a refused create that a re-read explains ([guess] a duplicate POST is a 400 with an errorCode) is
adopted — a retried create, or two copies of one webhook at once, never make two. After that it is always `PUT
/salesOrder/{orderId}`. Cancelling a cancelled order is a 400 with errorCode 4148 [seen P1]: success, nothing done —
once a re-read shows it cancelled ([guess] the same code may refuse a packed or shipped order).
[guess] `GET /salesOrder/{orderId}` reads one (P1 lists no read; the simulator offers it).
"""

from __future__ import annotations

from crossdock.connectors.peakwms.client import PeakwmsClient, PeakwmsNotFound, PeakwmsRejected
from crossdock.connectors.peakwms.shapes import (
    CANCELLED,
    STATE_NAMES,
    PeakSalesOrder,
    SalesOrderDraft,
    sales_order_body,
)
from crossdock.connectors.peakwms.wire import rows

ALREADY_CANCELLED = "4148"


def get_sales_order(client: PeakwmsClient, order_id: str) -> PeakSalesOrder | None:
    try:
        answer = client.get(f"salesOrder/{order_id}")
    except PeakwmsNotFound:
        return None
    # [guess] the record itself, or a list of one
    records = [answer] if isinstance(answer, dict) and "orderId" in answer else rows(answer)
    for record in records:
        if str(record.get("orderId", "")) == order_id:
            return PeakSalesOrder.parse(record)
    return None


def listed_sales_order(client: PeakwmsClient, order_id: str) -> PeakSalesOrder | None:
    """The sales order of `order_id` found by reading the whole list ([guess] `GET /salesOrder/keySet`, as products
    and stock page): the fallback when a create was refused and `GET /salesOrder/{orderId}` does not find it (an
    account without that read). Costs a call per 250 orders; the newest record of the orderId wins."""
    try:
        found = [record for record in client.key_set("salesOrder") if str(record.get("orderId", "")) == order_id]
    except PeakwmsNotFound:
        return None
    return PeakSalesOrder.parse(found[-1]) if found else None


def create_sales_order(client: PeakwmsClient, draft: SalesOrderDraft) -> tuple[PeakSalesOrder, bool]:
    """The sales order of `draft.order_id` and whether this call created it (an existing one is returned as it
    is: updating it is `update_sales_order`'s)."""
    found = get_sales_order(client, draft.order_id)
    if found is not None:
        return found, False
    try:
        answer = client.post("salesOrder", sales_order_body(draft))
    except PeakwmsRejected as refused:
        if isinstance(refused, PeakwmsNotFound):
            raise
        adopted = get_sales_order(client, draft.order_id) or listed_sales_order(client, draft.order_id)
        if adopted is None:
            raise
        return adopted, False
    if isinstance(answer, dict) and answer.get("orderId") is not None:
        return PeakSalesOrder.parse(answer), True
    return get_sales_order(client, draft.order_id) or _as_sent(draft), True


def update_sales_order(client: PeakwmsClient, draft: SalesOrderDraft) -> PeakSalesOrder:
    """`PUT /salesOrder/{orderId}` [seen P1] with the whole draft; PeakWMS's answer (or a re-read)."""
    answer = client.put(f"salesOrder/{draft.order_id}", sales_order_body(draft))
    if isinstance(answer, dict) and answer.get("orderId") is not None:
        return PeakSalesOrder.parse(answer)
    return get_sales_order(client, draft.order_id) or _as_sent(draft)


def cancel_sales_order(client: PeakwmsClient, order_id: str) -> bool:
    """Cancels the sales order: True when this call cancelled it, False when it was cancelled already.

    [guess] PeakWMS may answer 4148 also for an order it cannot cancel any more (packed, shipped: the simulator
    does), so a 4148 is re-read and only an order PeakWMS shows cancelled (or no longer has) is "cancelled already";
    any other state is `PeakwmsRejected` with PeakWMS's status and errorCode and the message "it is <state>"."""
    try:
        client.put(f"salesOrder/{order_id}/cancel")
    except PeakwmsRejected as refused:
        if not already_cancelled(refused):
            raise
        now = get_sales_order(client, order_id)
        if now is not None and now.state != CANCELLED:
            state = STATE_NAMES.get(now.state, str(now.state)) if now.state is not None else "unknown"
            raise PeakwmsRejected(
                f"PeakWMS did not cancel sales order {order_id}: it is {state}",
                status=refused.status,
                error_code=refused.error_code,
                message=f"it is {state}",
            ) from refused
        return False
    return True


def already_cancelled(refused: PeakwmsRejected) -> bool:
    """[seen P1] errorCode 4148; without an errorCode [guess] the message "…in state CANCELLED"."""
    if refused.error_code is not None:
        return refused.error_code == ALREADY_CANCELLED
    return refused.status == 400 and "state cancelled" in refused.message.lower()


def delete_sales_order(client: PeakwmsClient, order_id: str) -> bool:
    """Removes the sales order (`DELETE /salesOrder/{id}` takes PeakWMS's internal id [seen P1]); False when there
    was none."""
    found = get_sales_order(client, order_id)
    if found is None or found.id is None:
        return False
    try:
        client.delete(f"salesOrder/{found.id}")
    except PeakwmsNotFound:
        return False
    return True


def _as_sent(draft: SalesOrderDraft) -> PeakSalesOrder:
    return PeakSalesOrder(None, draft.order_id, None, None, draft.lines, draft.payment_status, draft.order_number)
