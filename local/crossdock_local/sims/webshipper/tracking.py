"""Tracking events: `GET /tracking_events` (doc W1: `status` such as in_transit, delivered, returned;
`tracking_number`, `shipment_id`), made when the carrier scans a parcel — here by the control API's `track`.

An event also becomes its shipment's `latest_transit_event` (on the tracking link of its number) and moves the
shipment's `updated_at`, so it is announced as `trackingevent/created` and `shipment/updated`. Guess: the statuses
beyond the sheet's three (`created`, `exception`) and the event's `description` and `occurred_at` fields.
"""

from __future__ import annotations

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.listing import Filterable, by_id, by_text, by_time, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.views import document
from crossdock_local.sims.webshipper.wire import choice, id_param, invalid, jsonapi, not_found, text

STATUSES = ("created", "in_transit", "delivered", "returned", "exception")
FILTERS: Filterable = {
    "id": by_id("_id"),
    "status": by_text("status"),
    "tracking_number": by_text("tracking_number"),
    "shipment_id": by_id("shipment_id"),
    "occurred_at": by_time("occurred_at"),
}


def track(session: Session, shipment_id: int, status: str, description: str | None = None) -> Record:
    """The carrier reports `status` for the shipment's (first) parcel."""
    shipment = session.account.of("shipments").get(shipment_id)
    if shipment is None:
        raise invalid("/data/attributes/shipment_id", f"names no shipment ({shipment_id})")
    checked = choice(status, "/data/attributes/status", STATUSES) or ""
    text(description, "/data/attributes/description", max_length=2000)
    now = session.timestamp()
    link = shipment["tracking_links"][0]
    event: Record = {
        "_id": session.account.next_id("tracking_events"),
        "status": checked,
        "description": description,
        "tracking_number": link["number"],
        "shipment_id": shipment_id,
        "occurred_at": now,
        "created_at": now,
    }
    session.account.of("tracking_events")[event["_id"]] = event
    link["latest_transit_event"] = {"status": checked, "description": description, "occurred_at": now}
    shipment["updated_at"] = now
    session.changed("trackingevent/created", "tracking_events", event)
    session.changed("shipment/updated", "shipments", shipment)
    return event


def list_events(session: Session, request: SimRequest) -> SimResponse:
    rows = list(session.account.of("tracking_events").values())
    return listing(session, request, "tracking_events", rows, FILTERS)


def show_event(session: Session, request: SimRequest, id: str) -> SimResponse:
    event = session.account.of("tracking_events").get(id_param(id, "tracking_events"))
    if event is None:
        raise not_found("tracking_events", id)
    return jsonapi(200, document(session, "tracking_events", event))


ROUTES: tuple[Route, ...] = (
    ("GET", "/tracking_events", list_events, "token"),
    ("GET", "/tracking_events/{id}", show_event, "token"),
)
