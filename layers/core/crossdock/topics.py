"""Crossdock's own inbound topics: requests it sends itself through the inbound queue, beside the systems' events."""

# Inbound messages Crossdock makes itself carry this source (operator's resync, reconciliation sweep).
CROSSDOCK_SOURCE = "crossdock"
# Read a source order again and handle it as an update (payload {"order_id": …}): the operator's resync and the
# reconciliation sweep send it.
RESYNC_TOPIC = "orders/resync"
# What a stock push could not set, recorded as an event of its own (flows.push).
STOCK_PUSH_TOPIC = "stock/push"
# A carrier's tracking handed to the shop an order came from (`rackbeat_webshipper`'s tracking step, payload the
# shipment's hand-over detail): recorded by the step, and sent again through the inbound queue on an operator's retry.
TRACKING_TOPIC = "tracking/shopify"
