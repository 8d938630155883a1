"""Orders: `POST /orders` (201), `GET /orders`, `GET/PATCH/DELETE /orders/{id}`, `GET /orders/{id}/shipments`.

Doc W1: `order_channel` is required (the attribute `order_channel_id` is deprecated but still read), `ext_ref` is
unique per order channel (422 for a second one; the same `ext_ref` in another channel is fine). The status follows
the rate (behaviour 4): no rate or an unknown one is `missing_rate`; a rate that requires a drop point without one
is `error` with `error_message`. `PATCH status=dispatched` from outside marks every line dispatched (seen W4);
`cancelled` or `DELETE` cancels (doc W1 lists both; Guess: `DELETE` removes the order, and is 422 once it has
shipments). Every change is announced (`order/created|updated|deleted`), our own writes included: no suppress flag
is known. A refused write changes nothing.
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.base import SimRequest, SimResponse
from crossdock_local.sims.webshipper.listing import Filterable, by_id, by_text, by_time, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import Record
from crossdock_local.sims.webshipper.views import document, linkage
from crossdock_local.sims.webshipper.wire import (
    choice,
    flag,
    id_param,
    invalid,
    jsonapi,
    not_found,
    number,
    refuse,
    related_id,
    resource_of,
    text,
    to_id,
)

STATUSES = ("pending", "dispatched", "partly_dispatched", "cancelled", "error", "missing_rate", "on_hold")
LINE_STATUSES = ("pending", "dispatched", "returned")
WEIGHT_UNITS = ("g", "kg", "oz", "lbs")
ADDRESS_FIELDS = (
    "att_contact", "company_name", "address_1", "address_2", "zip", "city",
    "country_code", "state", "phone", "email", "vat_no", "address_type",
)  # fmt: skip
ADDRESSES = ("delivery_address", "billing_address", "sender_address")
TEXTS = ("ext_ref", "visible_ref", "internal_comment", "external_comment", "error_message", "error_class")
FILTERS: Filterable = {
    "id": by_id("_id"),
    "ext_ref": by_text("ext_ref"),
    "visible_ref": by_text("visible_ref"),
    "status": by_text("status"),
    "created_at": by_time("created_at"),
    "updated_at": by_time("updated_at"),
    "order_channel_id": by_id("_order_channel"),
    "shipping_rate_id": by_id("_shipping_rate"),
    "sku": ((lambda order: [line.get("sku") for line in order["order_lines"]]), str),
}
SHIPMENT_FILTERS: Filterable = {"id": by_id("_id"), "status": by_text("status"), "reference": by_text("reference")}


def order(session: Session, raw: str) -> Record:
    found = session.account.of("orders").get(id_param(raw, "orders"))
    if found is None:
        raise not_found("orders", raw)
    return found


def create(session: Session, attributes: Record, relationships: Record) -> Record:
    """A new order from a JSON:API resource's parts (the API's POST and the control API's seeding)."""
    channel = related_id(relationships, "order_channel", "order_channels")
    if channel is None:  # the deprecated attribute, still accepted
        channel = to_id(attributes.get("order_channel_id"))
    if channel is None:
        raise invalid("/data/relationships/order_channel", "is required")
    if channel not in session.account.of("order_channels"):
        raise invalid("/data/relationships/order_channel", f"names no order channel ({channel})")
    rate = related_id(relationships, "shipping_rate", "shipping_rates")
    if rate is None:
        rate = to_id(attributes.get("shipping_rate_id"))
    fields = _fields(attributes, creating=True)
    lines = _lines(attributes.get("order_lines", []))
    _check_unique(session, channel, fields.get("ext_ref"), None)
    account = session.account
    now = session.timestamp()
    record: Record = {
        "_id": account.next_id("orders"),
        "_order_channel": channel,
        "_shipping_rate": rate,
        "status": "pending",
        **{name: None for name in TEXTS},
        "currency": "DKK",
        **{name: None for name in ADDRESSES},
        "drop_point": None,
        "original_shipping": None,
        "lock_state": None,
        "create_shipment_automatically": False,
        **fields,
        "order_lines": [],
        "order_channel_id": channel,  # deprecated attribute, shown as the spec still lists it
        "shipping_rate_id": rate,
        "created_at": now,
        "updated_at": now,
    }
    record["order_lines"] = [{**line, "id": account.next_id("order_lines")} for line in lines]
    _settle_rate(session, record, fields.get("status"))
    account.of("orders")[record["_id"]] = record
    session.changed("order/created", "orders", record)
    return record


def update(session: Session, record: Record, attributes: Record, relationships: Record) -> Record:
    """PATCH: the attributes sent replace the stored ones; a new `shipping_rate` re-checks the rate."""
    fields = _fields(attributes, creating=False)
    lines = _lines(attributes["order_lines"]) if "order_lines" in attributes else None
    rate_given = "shipping_rate" in relationships or "shipping_rate_id" in attributes
    rate = related_id(relationships, "shipping_rate", "shipping_rates")
    if rate is None and "shipping_rate_id" in attributes:
        rate = to_id(attributes.get("shipping_rate_id"))
    if "ext_ref" in fields:
        _check_unique(session, record["_order_channel"], fields["ext_ref"], record["_id"])
    if lines is not None and any(line["status"] != "pending" for line in record["order_lines"]):
        raise invalid("/data/attributes/order_lines", "cannot change once lines are dispatched")
    status = fields.pop("status", None)
    record.update(fields)
    if lines is not None:
        record["order_lines"] = [{**line, "id": session.account.next_id("order_lines")} for line in lines]
    if rate_given:
        record["_shipping_rate"] = record["shipping_rate_id"] = rate
    if status is not None:
        _set_status(record, status)
    elif rate_given or "drop_point" in fields:
        _settle_rate(session, record, None)
    record["updated_at"] = session.timestamp()
    session.changed("order/updated", "orders", record)
    return record


def _set_status(record: Record, status: str) -> None:
    record["status"] = status
    if status == "dispatched":  # seen W4: marking sent from outside dispatches every line
        for line in record["order_lines"]:
            if line["status"] == "pending":
                line["status"] = "dispatched"


def _settle_rate(session: Session, record: Record, asked: str | None) -> None:
    """Behaviour 4: the status a rate (or its absence) gives a pending order; an explicit status wins."""
    rate = session.account.of("shipping_rates").get(record["_shipping_rate"] or -1)
    if rate is None:
        record["status"] = "missing_rate"
    elif rate["require_drop_point"] and not record.get("drop_point"):
        record["status"] = "error"
        record["error_message"] = f"Shipping rate {rate['name']} requires a drop point"
        record["error_class"] = "DropPointRequired"  # Guess: the class name
    else:
        if record["status"] in ("missing_rate", "error"):
            record["error_message"] = record["error_class"] = None
        record["status"] = asked or ("pending" if record["status"] in ("missing_rate", "error") else record["status"])


def _check_unique(session: Session, channel: int, ext_ref: str | None, own: int | None) -> None:
    if not ext_ref or not session.rules.unique_ext_ref:
        return
    for other in session.account.of("orders").values():
        if other["_order_channel"] == channel and other["ext_ref"] == ext_ref and other["_id"] != own:
            raise invalid("/data/attributes/ext_ref", "has already been taken in this order channel")


def _fields(attributes: Record, *, creating: bool) -> Record:
    fields: Record = {}
    for name in TEXTS:
        if name in attributes:
            fields[name] = text(attributes[name], f"/data/attributes/{name}", max_length=2000)
    if "status" in attributes:
        fields["status"] = choice(attributes["status"], "/data/attributes/status", STATUSES)
    if "currency" in attributes:
        currency = text(attributes["currency"], "/data/attributes/currency")
        if currency is None or len(currency) != 3 or not currency.isalpha():
            raise invalid("/data/attributes/currency", "must be a three-letter ISO 4217 code")
        fields["currency"] = currency.upper()
    for name in ADDRESSES:
        if name in attributes:
            fields[name] = address(attributes[name], f"/data/attributes/{name}")
    for name in ("drop_point", "original_shipping", "lock_state"):
        if name in attributes:
            if attributes[name] is not None and not isinstance(attributes[name], dict | str):
                raise invalid(f"/data/attributes/{name}", "must be an object")
            fields[name] = attributes[name]
    if "create_shipment_automatically" in attributes:
        pointer = "/data/attributes/create_shipment_automatically"
        fields["create_shipment_automatically"] = bool(flag(attributes["create_shipment_automatically"], pointer))
    if creating and fields.get("status") in ("dispatched", "partly_dispatched"):
        raise invalid("/data/attributes/status", "cannot be dispatched on a new order")
    return fields


def address(value: Any, pointer: str) -> Record | None:
    """Doc W1: every field a string; `country_code` ISO-2. A missing contact and company is allowed on the
    order and refused when a label is made (shipments.py)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(pointer, "must be an object")
    shown: Record = {}
    for name in ADDRESS_FIELDS:
        shown[name] = text(value.get(name), f"{pointer}/{name}")
    code = shown["country_code"]
    if code is not None and (len(code) != 2 or not code.isalpha()):
        raise invalid(f"{pointer}/country_code", "must be an ISO 3166-1 alpha-2 code")
    if code:
        shown["country_code"] = code.upper()
    return shown


def _lines(value: Any) -> list[Record]:
    pointer = "/data/attributes/order_lines"
    if not isinstance(value, list):
        raise invalid(pointer, "must be a list")
    lines = []
    for index, raw in enumerate(value):
        at = f"{pointer}/{index}"
        if not isinstance(raw, dict):
            raise invalid(at, "must be an object")
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise invalid(f"{at}/quantity", "must be a whole number of at least 1")
        line: Record = {"quantity": quantity}
        for name in ("sku", "description", "location", "tarif_number", "country_of_origin", "ext_ref"):
            line[name] = text(raw.get(name), f"{at}/{name}")
        for name in ("unit_price", "discounted_unit_price", "discount_value", "vat_percent", "weight"):
            line[name] = number(raw.get(name), f"{at}/{name}", minimum=0)
        line["discount_type"] = choice(raw.get("discount_type"), f"{at}/discount_type", ("fixed", "percent"))
        line["weight_unit"] = choice(raw.get("weight_unit"), f"{at}/weight_unit", WEIGHT_UNITS) or "g"
        line["status"] = choice(raw.get("status"), f"{at}/status", LINE_STATUSES) or "pending"
        line["is_virtual"] = bool(flag(raw.get("is_virtual"), f"{at}/is_virtual"))
        line["package_id"] = raw.get("package_id")
        extra = raw.get("additional_attributes", {})
        if not isinstance(extra, dict):
            raise invalid(f"{at}/additional_attributes", "must be an object")
        line["additional_attributes"] = dict(extra)
        lines.append(line)
    return lines


def post_order(session: Session, request: SimRequest) -> SimResponse:
    attributes, relationships = resource_of(request, "orders")
    return jsonapi(201, document(session, "orders", create(session, attributes, relationships)))


def list_orders(session: Session, request: SimRequest) -> SimResponse:
    return listing(session, request, "orders", list(session.account.of("orders").values()), FILTERS)


def show_order(session: Session, request: SimRequest, id: str) -> SimResponse:
    return jsonapi(200, document(session, "orders", order(session, id)))


def patch_order(session: Session, request: SimRequest, id: str) -> SimResponse:
    record = order(session, id)
    attributes, relationships = resource_of(request, "orders")
    sent = request.json()["data"].get("id")
    if sent is not None and to_id(sent) != record["_id"]:
        raise refuse(409, "data.id does not match the order in the path", "/data/id")
    return jsonapi(200, document(session, "orders", update(session, record, attributes, relationships)))


def delete_order(session: Session, request: SimRequest, id: str) -> SimResponse:
    record = order(session, id)
    if any(s["_order"] == record["_id"] for s in session.account.of("shipments").values()):
        raise refuse(422, "An order with shipments cannot be deleted; cancel it instead", "/data")
    del session.account.of("orders")[record["_id"]]
    session.changed("order/deleted", "orders", record)
    return jsonapi(204, None)


def order_shipments(session: Session, request: SimRequest, id: str) -> SimResponse:
    owner = order(session, id)["_id"]
    rows = [s for s in session.account.of("shipments").values() if s["_order"] == owner]
    return listing(session, request, "shipments", rows, SHIPMENT_FILTERS)


def relationship(session: Session, request: SimRequest, id: str, name: str) -> SimResponse:
    shown = linkage(session, "orders", order(session, id), name)
    if shown is None:
        raise not_found("relationship", name)
    return jsonapi(200, shown)


ROUTES: tuple[Route, ...] = (
    ("POST", "/orders", post_order, "token"),
    ("GET", "/orders", list_orders, "token"),
    ("GET", "/orders/{id}", show_order, "token"),
    ("PATCH", "/orders/{id}", patch_order, "token"),
    ("DELETE", "/orders/{id}", delete_order, "token"),
    ("GET", "/orders/{id}/shipments", order_shipments, "token"),
    ("GET", "/orders/{id}/relationships/{name}", relationship, "token"),
)
