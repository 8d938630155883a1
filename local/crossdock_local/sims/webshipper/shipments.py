"""Shipments: `POST /shipments` (201), `GET /shipments[/{id}]` (doc W1), with carrier and tracking.

Doc W1, seen W4: a shipment is made from an order by sending only `relationships.order`; the addresses and the
rate are copied from the order. Guess: `attributes.order_line_ids` names the lines a shipment covers (the spec
shows no field for it); without it every line still pending is covered. Behaviour 5: covered lines become
`dispatched`, the order `partly_dispatched` while some remain, else `dispatched`. Behaviour 6: a shipment that
cannot be booked (no rate, a delivery address with neither `att_contact` nor `company_name`, a cancelled order)
is refused with 422 and the order is left in `error` with `error_message`/`error_class`, as Webshipper records a
failed booking on the order. Tracking: the carrier's tracking number and URL in `tracking_links`; given ones are
kept (a shipment booked elsewhere), else the simulator books one (`CARRIER` + a running number).
Announced as `shipment/created` and the order's `order/updated`.
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.listing import Filterable, by_id, by_text, by_time, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.views import document, linkage
from crossdock_local.sims.webshipper.wire import (
    flag,
    id_param,
    invalid,
    jsonapi,
    not_found,
    number,
    related_id,
    resource_of,
    text,
    to_id,
)

FILTERS: Filterable = {
    "id": by_id("_id"),
    "order": by_id("_order"),
    "order_id": by_id("_order"),
    "reference": by_text("reference"),
    "status": by_text("status"),
    "tracking_number": ((lambda s: [link["number"] for link in s["tracking_links"]]), str),
    "updated_at": by_time("updated_at"),
    "created_at": by_time("created_at"),
}
# Guess: the spec lists no shipment statuses; a booked label is `success`.
BOOKED = "success"


class BookingFailed(Exception):
    """A shipment Webshipper could not book: the order is marked `error` and the caller answers 422."""

    def __init__(self, pointer: str, detail: str, error_class: str) -> None:
        super().__init__(detail)
        self.pointer, self.detail, self.error_class = pointer, detail, error_class


def create(session: Session, attributes: Record, relationships: Record) -> Record:
    order_id = related_id(relationships, "order", "orders", required=True)
    orders = session.account.of("orders")
    if order_id not in orders:
        raise invalid("/data/relationships/order", f"names no order ({order_id})")
    order = orders[order_id]
    given = _given(attributes)
    lines = _covered(order, attributes.get("order_line_ids"))
    try:
        rate, carrier = _bookable(session, order)
    except BookingFailed as failed:
        _mark_failed(session, order, failed)
        raise invalid(failed.pointer, failed.detail) from None
    account = session.account
    shipment_id = account.next_id("shipments")
    now = session.timestamp()
    tracking = given.pop("tracking_links", None) or [_booked_tracking(carrier, shipment_id)]
    record: Record = {
        "_id": shipment_id,
        "_order": order["_id"],
        "_carrier": carrier["_id"],
        "reference": order.get("visible_ref") or order.get("ext_ref"),
        "ext_ref": f"{carrier['alias'].upper()}-{shipment_id}",  # doc W1: the carrier's own reference
        "status": BOOKED,
        "is_return": bool(rate["is_return"]),
        "carrier_id": carrier["_id"],
        "shipping_rate_id": rate["_id"],
        "cost_price": rate.get("price"),
        "packages": [{"weight": _weight(order, lines), "weight_unit": "g", "dimensions": None}],
        "delivery_address": order.get("delivery_address"),
        "sender_address": order.get("sender_address"),
        "drop_point": order.get("drop_point"),
        **given,
        "tracking_links": tracking,
        "order_line_ids": [line["id"] for line in lines],
        "created_at": now,
        "updated_at": now,
    }
    account.of("shipments")[shipment_id] = record
    for line in lines:
        line["status"] = "dispatched"
    pending = any(line["status"] == "pending" for line in order["order_lines"])
    order["status"] = "partly_dispatched" if pending else "dispatched"
    order["updated_at"] = now
    session.changed("shipment/created", "shipments", record)
    session.changed("order/updated", "orders", order)
    return record


def _bookable(session: Session, order: Record) -> tuple[Record, Record]:
    if order["status"] == "cancelled":
        raise BookingFailed("/data/relationships/order", "is cancelled", "OrderCancelled")
    rate = session.account.of("shipping_rates").get(order["_shipping_rate"] or -1)
    if rate is None:
        raise BookingFailed("/data/relationships/order", "has no shipping rate", "MissingShippingRate")
    carrier = session.account.of("carriers")[rate["_carrier"]]
    address = order.get("delivery_address") or {}
    if not address.get("att_contact") and not address.get("company_name"):
        # Doc W1: a label needs the contact or the company.
        raise BookingFailed(
            "/data/relationships/order", "delivery_address needs att_contact or company_name", "AddressError"
        )
    if rate["require_drop_point"] and not order.get("drop_point"):
        raise BookingFailed("/data/relationships/order", "needs a drop point for this rate", "DropPointRequired")
    return rate, carrier


def _mark_failed(session: Session, order: Record, failed: BookingFailed) -> None:
    order["status"] = "error"
    order["error_message"] = f"Shipment not booked: order {failed.detail}"
    order["error_class"] = failed.error_class  # Guess: the class names
    order["updated_at"] = session.timestamp()
    session.changed("order/updated", "orders", order)


def _covered(order: Record, raw: Any) -> list[Record]:
    pointer = "/data/attributes/order_line_ids"
    pending = [line for line in order["order_lines"] if line["status"] == "pending"]
    if raw is None:
        return pending
    if not isinstance(raw, list) or not raw:
        raise invalid(pointer, "must be a non-empty list of order line ids")
    by_id_ = {line["id"]: line for line in order["order_lines"]}
    covered = []
    for index, value in enumerate(raw):
        line = by_id_.get(to_id(value) or -1)
        if line is None:
            raise invalid(f"{pointer}/{index}", "names no line of this order")
        if line["status"] != "pending":
            raise invalid(f"{pointer}/{index}", "is already dispatched")
        covered.append(line)
    return covered


def _given(attributes: Record) -> Record:
    given: Record = {}
    if "reference" in attributes:
        given["reference"] = text(attributes["reference"], "/data/attributes/reference")
    if "ext_ref" in attributes:
        given["ext_ref"] = text(attributes["ext_ref"], "/data/attributes/ext_ref")
    if "is_return" in attributes:
        given["is_return"] = bool(flag(attributes["is_return"], "/data/attributes/is_return"))
    if "packages" in attributes:
        given["packages"] = _packages(attributes["packages"])
    if "tracking_links" in attributes:
        given["tracking_links"] = _tracking(attributes["tracking_links"])
    return given


def _packages(raw: Any) -> list[Record]:
    if not isinstance(raw, list):
        raise invalid("/data/attributes/packages", "must be a list")
    packages = []
    for index, package in enumerate(raw):
        at = f"/data/attributes/packages/{index}"
        if not isinstance(package, dict):
            raise invalid(at, "must be an object")
        weight = number(package.get("weight"), f"{at}/weight", minimum=0)
        unit = package.get("weight_unit", "g")
        if unit not in ("g", "kg", "oz", "lbs"):
            raise invalid(f"{at}/weight_unit", "must be one of g, kg, oz, lbs")
        packages.append({"weight": weight, "weight_unit": unit, "dimensions": package.get("dimensions")})
    return packages


def _tracking(raw: Any) -> list[Record]:
    if not isinstance(raw, list) or not raw:
        raise invalid("/data/attributes/tracking_links", "must be a non-empty list")
    links = []
    for index, link in enumerate(raw):
        at = f"/data/attributes/tracking_links/{index}"
        if not isinstance(link, dict):
            raise invalid(at, "must be an object")
        links.append(
            {
                "number": text(link.get("number"), f"{at}/number", required=True),
                "url": text(link.get("url"), f"{at}/url", max_length=2000),
                "latest_transit_event": link.get("latest_transit_event"),
            }
        )
    return links


def _booked_tracking(carrier: Record, shipment_id: int) -> Record:
    number_ = f"{carrier['alias'].upper()}{shipment_id:011d}"
    return {"number": number_, "url": carrier["_tracking_url"].format(number=number_), "latest_transit_event": None}


def _weight(order: Record, lines: list[Record]) -> float:
    grams = {"g": 1.0, "kg": 1000.0, "oz": 28.349523125, "lbs": 453.59237}
    return round(float(sum((line["weight"] or 0) * grams[line["weight_unit"]] * line["quantity"] for line in lines)), 3)


def shipment(session: Session, raw: str) -> Record:
    found = session.account.of("shipments").get(id_param(raw, "shipments"))
    if found is None:
        raise not_found("shipments", raw)
    return found


def post_shipment(session: Session, request: SimRequest) -> SimResponse:
    attributes, relationships = resource_of(request, "shipments")
    return jsonapi(201, document(session, "shipments", create(session, attributes, relationships)))


def list_shipments(session: Session, request: SimRequest) -> SimResponse:
    return listing(session, request, "shipments", list(session.account.of("shipments").values()), FILTERS)


def show_shipment(session: Session, request: SimRequest, id: str) -> SimResponse:
    return jsonapi(200, document(session, "shipments", shipment(session, id)))


def relationship(session: Session, request: SimRequest, id: str, name: str) -> SimResponse:
    shown = linkage(session, "shipments", shipment(session, id), name)
    if shown is None:
        raise not_found("relationship", name)
    return jsonapi(200, shown)


ROUTES: tuple[Route, ...] = (
    ("POST", "/shipments", post_shipment, "token"),
    ("GET", "/shipments", list_shipments, "token"),
    ("GET", "/shipments/{id}", show_shipment, "token"),
    ("GET", "/shipments/{id}/relationships/{name}", relationship, "token"),
)
