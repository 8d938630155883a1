"""Orders in Webshipper (reference/webshipper.md "Endpoints used", "Idempotency handles").

`ext_ref` is unique per order channel [doc W1] and is the only idempotency handle: an order is looked up by it
before it is created, and a 422 on create is read as "someone made it meanwhile" — re-read and adopted [seen W6,
W7] — so a retried create never makes two.
"""

from __future__ import annotations

from collections.abc import Iterator

from crossdock.connectors.webshipper.client import WebshipperClient, WebshipperNotFound, WebshipperRejected
from crossdock.connectors.webshipper.shapes import OrderDraft, Shipment, WebshipperOrder, order_document
from crossdock.connectors.webshipper.wire import wire_id


def find_by_ext_ref(client: WebshipperClient, channel_id: str | None, ext_ref: str) -> WebshipperOrder | None:
    """The order with `ext_ref` in `channel_id` (any channel when None). Both filters are documented [doc W1];
    the channel is checked here as well, in case a filter is ignored."""
    params: dict[str, str] = {"filter[ext_ref]": ext_ref}
    if channel_id is not None:
        params["filter[order_channel_id]"] = channel_id
    for resource in client.pages("orders", params):
        order = WebshipperOrder.parse(resource)
        if order.ext_ref != ext_ref:
            continue
        if channel_id is None or order.channel_id in (None, channel_id):
            return order
    return None


def create_order(client: WebshipperClient, draft: OrderDraft) -> tuple[WebshipperOrder, bool]:
    """The order for `draft` and whether this call created it: an existing one (same `ext_ref` in the channel) is
    returned as it is; a 422 on create that a re-read explains is adopted too, any other 422 is raised."""
    found = find_by_ext_ref(client, draft.channel_id, draft.ext_ref)
    if found is not None:
        return found, False
    try:
        answer = client.post("orders", order_document(draft))
    except WebshipperRejected:
        # Doc W1: a duplicate ext_ref is a 422 [guess: its wording]; whatever the words, a re-read decides.
        adopted = find_by_ext_ref(client, draft.channel_id, draft.ext_ref)
        if adopted is None:
            raise
        return adopted, False
    return WebshipperOrder.parse(answer.get("data") or {}), True


def get_order(client: WebshipperClient, order_id: str) -> WebshipperOrder | None:
    try:
        answer = client.get(f"orders/{order_id}")
    except WebshipperNotFound:
        return None
    return WebshipperOrder.parse(answer.get("data") or {})


def mark_dispatched(client: WebshipperClient, order_id: str) -> WebshipperOrder:
    """Marks the order sent [seen W4: `PATCH status=dispatched`]; repeating it changes nothing more."""
    document = {"data": {"type": "orders", "id": wire_id(order_id), "attributes": {"status": "dispatched"}}}
    return WebshipperOrder.parse(client.patch(f"orders/{order_id}", document).get("data") or {})


def order_shipments(client: WebshipperClient, order_id: str) -> list[Shipment]:
    """The order's shipments [seen W4: `GET /orders/{id}/shipments`], oldest first, without carrier names."""
    return [Shipment.parse(resource) for resource in client.pages(f"orders/{order_id}/shipments")]


def orders_updated_since(client: WebshipperClient, iso: str) -> Iterator[WebshipperOrder]:
    """Orders changed at or after `iso` (polling, and the manual sync). [seen W4] the value/operator form exists;
    [guess] its operator is called `gte`."""
    params = {"filter[updated_at][value]": iso, "filter[updated_at][operator]": "gte"}
    for resource in client.pages("orders", params):
        yield WebshipperOrder.parse(resource)
