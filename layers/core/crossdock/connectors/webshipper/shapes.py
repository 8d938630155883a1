"""Webshipper's JSON:API resources as frozen dataclasses, read leniently (reference/webshipper.md).

Nothing is parsed strictly: every field list in the sheet is partial, ids come as strings [doc W1] or numbers
[seen W6] and are kept as text, related ids are read from `data` or from `links.related` [seen W3], timestamps are
kept as Webshipper wrote them (`…T14:01:18.000Z` in the spec, `…T08:00:08.0Z` live — `parse_time` reads both). A
resource without an id is the one thing refused (`PermanentError`): nothing could be done with it.

`order_document` is the other direction: the create body of an `OrderDraft`, as the sheet's example shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock.connectors.webshipper.wire import related_id, text_id, wire_id
from crossdock.errors import PermanentError

ADDRESS_FIELDS = (
    "att_contact", "company_name", "address_1", "address_2", "zip", "city",
    "country_code", "state", "phone", "email", "vat_no",
)  # fmt: skip


def _attributes(resource: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = text_id(resource.get("id"))
    if found is None:
        raise PermanentError(f"Webshipper sent a {kind} resource without an id")
    attributes = resource.get("attributes")
    return found, attributes if isinstance(attributes, dict) else {}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    shown = str(value)
    return shown if shown != "" else None


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _quantity(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def parse_time(raw: str | None) -> datetime | None:
    """ISO 8601 read leniently (any number of fraction digits, `Z` or an offset, no zone meaning UTC)."""
    if not raw:
        return None
    value = raw.strip().replace("Z", "+00:00")
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", value)
    if match:  # fromisoformat in 3.11 wants 3 or 6 fraction digits
        value = f"{match[1]}.{match[2][:6].ljust(6, '0')}{match[3]}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Address:
    att_contact: str | None = None
    company_name: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    zip: str | None = None
    city: str | None = None
    country_code: str | None = None
    state: str | None = None
    phone: str | None = None
    email: str | None = None
    vat_no: str | None = None

    @classmethod
    def parse(cls, value: Any) -> Address | None:
        if not isinstance(value, dict):
            return None
        return cls(**{name: _text(value.get(name)) for name in ADDRESS_FIELDS})

    def document(self) -> dict[str, Any]:
        """The fields that have a value (an empty one would overwrite Webshipper's own default)."""
        return {name: getattr(self, name) for name in ADDRESS_FIELDS if getattr(self, name) is not None}


@dataclass(frozen=True)
class OrderLine:
    id: str | None
    sku: str | None
    description: str | None
    quantity: int
    unit_price: Decimal | None
    discounted_unit_price: Decimal | None
    vat_percent: Decimal | None
    location: str | None
    ext_ref: str | None  # our line id when we made the order
    status: str | None  # pending, dispatched, returned [doc W1]
    weight: Decimal | None = None
    weight_unit: str | None = None
    additional_attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: dict[str, Any]) -> OrderLine:
        extra = value.get("additional_attributes")
        return cls(
            id=text_id(value.get("id")),
            sku=_text(value.get("sku")),
            description=_text(value.get("description")),
            quantity=_quantity(value.get("quantity")),
            unit_price=_number(value.get("unit_price")),
            discounted_unit_price=_number(value.get("discounted_unit_price")),
            vat_percent=_number(value.get("vat_percent")),
            location=_text(value.get("location")),
            ext_ref=_text(value.get("ext_ref")),
            status=_text(value.get("status")),
            weight=_number(value.get("weight")),
            weight_unit=_text(value.get("weight_unit")),
            additional_attributes=dict(extra) if isinstance(extra, dict) else {},
        )


@dataclass(frozen=True)
class WebshipperOrder:
    id: str
    ext_ref: str | None
    visible_ref: str | None
    status: str | None  # pending, dispatched, partly_dispatched, cancelled, error, missing_rate, on_hold [doc W1]
    channel_id: str | None
    rate_id: str | None
    currency: str | None
    delivery_address: Address | None
    billing_address: Address | None
    drop_point: dict[str, Any] | None
    lines: tuple[OrderLine, ...]
    updated_at: str | None
    error_message: str | None = None
    created_at: str | None = None

    @classmethod
    def parse(cls, resource: dict[str, Any]) -> WebshipperOrder:
        id_, attributes = _attributes(resource, "orders")
        lines = attributes.get("order_lines")
        drop_point = attributes.get("drop_point")
        return cls(
            id=id_,
            ext_ref=_text(attributes.get("ext_ref")),
            visible_ref=_text(attributes.get("visible_ref")),
            status=_text(attributes.get("status")),
            # Doc W1: the relationship is the way; the attribute `order_channel_id` is deprecated but still shown.
            channel_id=related_id(resource, "order_channel", attribute="order_channel_id"),
            rate_id=related_id(resource, "shipping_rate", attribute="shipping_rate_id"),
            currency=_text(attributes.get("currency")),
            delivery_address=Address.parse(attributes.get("delivery_address")),
            billing_address=Address.parse(attributes.get("billing_address")),
            drop_point=dict(drop_point) if isinstance(drop_point, dict) else None,
            lines=tuple(OrderLine.parse(line) for line in lines if isinstance(line, dict))
            if isinstance(lines, list)
            else (),
            updated_at=_text(attributes.get("updated_at")),
            error_message=_text(attributes.get("error_message")),
            created_at=_text(attributes.get("created_at")),
        )


@dataclass(frozen=True)
class Tracking:
    number: str
    url: str | None


@dataclass(frozen=True)
class Shipment:
    id: str
    order_id: str | None
    reference: str | None  # the order's number [doc W1]
    carrier_id: str | None
    # [guess] not an attribute in the spec; filled from `GET /carriers/{id}` by `catalogue.get_shipment`.
    carrier_name: str | None
    tracking: tuple[Tracking, ...]
    status: str | None
    is_return: bool
    updated_at: str | None
    order_line_ids: tuple[str, ...] = ()  # [guess] the simulator's name for the lines a shipment covers

    @classmethod
    def parse(cls, resource: dict[str, Any]) -> Shipment:
        id_, attributes = _attributes(resource, "shipments")
        links = attributes.get("tracking_links")
        tracking = tuple(
            Tracking(str(link["number"]), _text(link.get("url")))
            for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict) and _text(link.get("number"))
        )
        # [guess] a carrier's name, when Webshipper shows one on the shipment, under one of these names.
        carrier_name = _text(attributes.get("carrier_name")) or _text(attributes.get("carrier"))
        line_ids = attributes.get("order_line_ids")
        return cls(
            id=id_,
            order_id=related_id(resource, "order", attribute="order_id"),
            reference=_text(attributes.get("reference")),
            carrier_id=related_id(resource, "carrier", attribute="carrier_id"),
            carrier_name=carrier_name,
            tracking=tracking,
            status=_text(attributes.get("status")),
            is_return=attributes.get("is_return") is True,
            updated_at=_text(attributes.get("updated_at")),
            order_line_ids=tuple(t for t in (text_id(v) for v in line_ids) if t) if isinstance(line_ids, list) else (),
        )


@dataclass(frozen=True)
class OrderChannel:
    id: str
    label: str | None

    @classmethod
    def parse(cls, resource: dict[str, Any]) -> OrderChannel:
        id_, attributes = _attributes(resource, "order_channels")
        return cls(id_, _text(attributes.get("channel_label")) or _text(attributes.get("name")))


@dataclass(frozen=True)
class ShippingRate:
    id: str
    name: str | None
    carrier_id: str | None
    channel_id: str | None
    require_drop_point: bool

    @classmethod
    def parse(cls, resource: dict[str, Any]) -> ShippingRate:
        id_, attributes = _attributes(resource, "shipping_rates")
        return cls(
            id=id_,
            name=_text(attributes.get("name")),
            carrier_id=related_id(resource, "carrier", attribute="carrier_id"),
            channel_id=related_id(resource, "order_channel", attribute="order_channel_id"),
            require_drop_point=attributes.get("require_drop_point") is True,
        )


# ---- what we send ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineDraft:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal | None = None  # excluding VAT
    vat_percent: Decimal | None = None
    ext_ref: str | None = None  # our line id
    discounted_unit_price: Decimal | None = None
    location: str | None = None
    weight: Decimal | None = None  # per unit
    weight_unit: str | None = None  # g (Webshipper's default), kg, oz, lbs


@dataclass(frozen=True)
class OrderDraft:
    """An order we create: `ext_ref` is unique in `channel_id` [doc W1] and is what finds it again."""

    ext_ref: str
    visible_ref: str
    channel_id: str
    rate_id: str | None
    currency: str
    delivery_address: Address
    lines: tuple[OrderLineDraft, ...]
    billing_address: Address | None = None
    drop_point: dict[str, Any] | None = None
    external_comment: str | None = None


def _money(value: Decimal | None) -> float | None:
    # JSON:API wants numbers; Webshipper's prices are decimals with two places [doc W1 examples].
    return None if value is None else float(value)


def _line_document(line: OrderLineDraft) -> dict[str, Any]:
    shown: dict[str, Any] = {"sku": line.sku, "description": line.description, "quantity": line.quantity}
    optional = {
        "unit_price": _money(line.unit_price),
        "discounted_unit_price": _money(line.discounted_unit_price),
        "vat_percent": _money(line.vat_percent),
        "ext_ref": line.ext_ref,
        "location": line.location,
        "weight": _money(line.weight),
        "weight_unit": line.weight_unit,
    }
    shown.update({name: value for name, value in optional.items() if value is not None})
    return shown


def order_document(draft: OrderDraft) -> dict[str, Any]:
    """The `POST /orders` body (the sheet's example): the channel and rate as relationships, ids sent as numbers
    [seen W6]; the deprecated `order_channel_id` attribute is not sent."""
    attributes: dict[str, Any] = {
        "ext_ref": draft.ext_ref,
        "visible_ref": draft.visible_ref,
        "currency": draft.currency,
        "delivery_address": draft.delivery_address.document(),
        "order_lines": [_line_document(line) for line in draft.lines],
    }
    if draft.billing_address is not None:
        attributes["billing_address"] = draft.billing_address.document()
    if draft.drop_point is not None:
        attributes["drop_point"] = draft.drop_point
    if draft.external_comment is not None:
        attributes["external_comment"] = draft.external_comment
    relationships: dict[str, Any] = {
        "order_channel": {"data": {"type": "order_channels", "id": wire_id(draft.channel_id)}}
    }
    if draft.rate_id is not None:
        relationships["shipping_rate"] = {"data": {"type": "shipping_rates", "id": wire_id(draft.rate_id)}}
    return {"data": {"type": "orders", "attributes": attributes, "relationships": relationships}}
