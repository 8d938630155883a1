"""PeakWMS's webhook events by number and by the name Crossdock's addresses use (reference/peakwms.md "Webhooks",
[doc P1]). Kept apart from `shapes` (and free of everything but the standard library) because ingest imports it on
its cold start; `shapes` re-exports both tables."""

from __future__ import annotations

# name (the last segment of `/webhooks/peakwms/{connection_id}/{event}`, and `peakwms/<name>` as the queued
# event's topic) → the event number PeakWMS registers (`POST /webhook {"name": <int>}`).
EVENTS: dict[str, int] = {
    "stock_adjust": 100,
    "ean_updates": 101,
    "pick_order_packed": 102,
    "inbound_order_closed": 103,  # a purchase order closed
    "order_refunded": 104,
    "product_create_update": 105,
    "fulfillment_not_possible": 106,
    "inbound_delivery_closed": 107,
    "order_send_again": 108,
    "order_state_changed": 109,
    "pick_order_picked": 110,
    "expected_delivery_changed": 111,
}
EVENT_NAMES: dict[int, str] = {number: name for name, number in EVENTS.items()}
# The vendor's own names of the events [doc P1], as a registration may echo them back [guess: the SDK sends ints].
VENDOR_NAMES: dict[str, int] = {
    "StockAdjust": 100,
    "EanUpdates": 101,
    "PickOrderPacked": 102,
    "InboundOrderClosed": 103,
    "OrderRefunded": 104,
    "ProductCreateUpdate": 105,
    "FulfillmentNotPossible": 106,
    "InboundDeliveryClosed": 107,
    "OrderSendAgain": 108,
    "OrderStateChanged": 109,
    "PickOrderPicked": 110,
    "ExpectedDeliveryChanged": 111,
}
TOPIC_PREFIX = "peakwms/"


def topic(name: str) -> str:
    """The queued event's topic for an event name: `peakwms/stock_adjust`."""
    return TOPIC_PREFIX + name


def event_number(value: object) -> int | None:
    """An event as PeakWMS or a caller may write it: 100, "100", "StockAdjust" or "stock_adjust"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in EVENT_NAMES else None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return event_number(int(text))
        return EVENTS.get(text) or VENDOR_NAMES.get(text)
    return None
