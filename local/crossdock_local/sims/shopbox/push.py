"""The optional stock-delta push: Shopbox calling a configured URL with what a sale sold [seen S6, not
re-verified], unsigned, its secret only in the URL.

Off unless a client has a push URL (`PUT /_control/clients/{uid}/stock-push`, `sim.set_stock_push`). Each sale
queues one delivery `[{"product_id", "quantity", "variance_id"}]` of the quantities sold; Guess: a cancellation
queues the same with the quantities negated. The sheet says such a push can be lost or repeated, so it goes
through the shared base's outbox with its delivery faults (`webhook_*` switches), and Guess: a refused delivery is
not retried (`MAX_ATTEMPTS`). A receiver must treat it as a hint to re-read the stock, never apply it blindly.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from crossdock_local.sims.base.webhooks import Delivery, WebhookOutbox
from crossdock_local.sims.shopbox.state import ClientState, Record
from crossdock_local.sims.shopbox.wire import invalid, text

MAX_ATTEMPTS = 1
TOPIC = "stock.sold"  # the simulator's own name: Shopbox names none


def headers(delivery: Delivery) -> dict[str, str]:
    # Unsigned: no signature, no secret header; only what any HTTP POST of JSON carries.
    return {"Content-Type": "application/json", "User-Agent": "Shopbox"}


def set_push_url(client: ClientState, raw: object) -> None:
    """Where the client's pushes go; null switches the push off. 422 naming `url` for anything but http(s)."""
    url = text(raw, "url")
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise invalid("url", "must be an http(s) URL")
    client.push_url = url or None


def queue_sale(outbox: WebhookOutbox[Delivery], client: ClientState, basket: Record, sign: int) -> None:
    """Queue the push of one sale (`sign` +1) or its cancellation (-1), if the client has a push URL."""
    if client.push_url is None:
        return
    deltas = [
        {"product_id": line["product"], "quantity": sign * line["quantity"], "variance_id": line["product_variance"]}
        for line in basket["_lines"]
    ]
    event = f"{basket['uid']}:{'sold' if sign > 0 else 'canceled'}"
    outbox.queue(
        Delivery(
            delivery_id=f"{event}/1",
            event_id=event,
            tenant=str(client.uid),
            subscription=str(client.uid),
            topic=TOPIC,
            url=client.push_url,
            body=json.dumps(deltas).encode(),
        )
    )
