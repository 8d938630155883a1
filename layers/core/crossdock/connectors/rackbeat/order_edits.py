"""Changing a Rackbeat order after it was created: its lines (only while it is not booked), reopening a booked
order so its lines can change again, and the shipments that forbid that.

The fact sheet has `POST /orders/{n}/reopen` and "lines of a booked order can't be edited" (seen); the update is
`PUT /orders/{n}` with the draft body's fields (guess: the fact sheet lists `GET/PUT` for customers and products,
and the same body for drafts). Each write is checked against the order again when Rackbeat refuses it, so a retry
after a lost response that did commit is success, not an error.
"""

from __future__ import annotations

from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.connectors.rackbeat.orders import get_order

# The fields of an order line that a PUT sends back (Rackbeat's own line ids and amounts are its to work out).
LINE_FIELDS = ("item_id", "name", "quantity", "line_price", "discount_percentage", "vat_percentage", "location_id")


def line_body(line: dict[str, Any]) -> dict[str, Any]:
    """An order line as Rackbeat shows it, as the line of a PUT body."""
    return {key: line[key] for key in LINE_FIELDS if line.get(key) is not None}


def shipments(client: RackbeatClient, number: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(f"orders/{number}/shipments")["order_shipments"]
    return found


def update(client: RackbeatClient, number: int, body: dict[str, Any]) -> dict[str, Any]:
    updated: dict[str, Any] = client.put(f"orders/{number}", body)["order"]
    return updated


def reopen(client: RackbeatClient, number: int) -> None:
    """A booked order back to editable. A refusal after a lost response that did reopen it is success."""
    try:
        client.post(f"orders/{number}/reopen")
    except Unprocessable as refused:
        if get_order(client, number).get("is_booked"):
            raise refused from None
