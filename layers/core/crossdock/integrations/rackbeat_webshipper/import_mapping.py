"""A Webshipper order as the Rackbeat order it becomes (Webshipper → Rackbeat, issue 15 item 4): the checks first,
then the draft body. Pure: the Rackbeat look-ups it needs (items, their default locations, the customer) are done
by `order_import` and handed in.

Markers (docs/webshipper.md "Webshipper → Rackbeat"): the Rackbeat order carries `other_reference =
"webshipper-<Webshipper order id>"`, which is how a repeat, a retry after a lost response or a manual sync finds
it instead of making a second one; orders we created in Webshipper (`ext_ref` `rackbeat-…` in `order_channel`) are
never imported.

Money [guess, as the connector's `OrderLineDraft`]: Webshipper's `unit_price` excludes VAT and
`discounted_unit_price` is the price after the line's discount; the Rackbeat line carries the unit price and the
discount as a share of it. `vat_percent` goes over when Webshipper gives it; without it Rackbeat applies the order's
VAT zone's own rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crossdock.connectors.webshipper.shapes import Address, OrderLine, WebshipperOrder
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings

FROM_WEBSHIPPER_PREFIX = "webshipper-"
OURS_PREFIX = "rackbeat-"  # `ext_ref` of an order Crossdock created in Webshipper (OUTBOUND)
PERCENT_PLACES = Decimal("0.000001")
HUNDRED = Decimal(100)


def import_reference(order_id: str) -> str:
    """The Rackbeat order's `other_reference`: `webshipper-<Webshipper order id>`."""
    return f"{FROM_WEBSHIPPER_PREFIX}{order_id}"


def webshipper_id_of(other_reference: str | None) -> str | None:
    """The Webshipper order id a Rackbeat order's `other_reference` names, or None when it did not come from one."""
    text = (other_reference or "").strip()
    tail = text.removeprefix(FROM_WEBSHIPPER_PREFIX)
    return tail if text.startswith(FROM_WEBSHIPPER_PREFIX) and tail.isdigit() else None


def described(order: WebshipperOrder) -> str:
    shown = f"Webshipper order {order.id}"
    return shown + (f" ({order.visible_ref})" if order.visible_ref and order.visible_ref != order.id else "")


def import_refusal(settings: RackbeatWebshipperSettings) -> str | None:
    if settings.order_transfer == "rackbeat_to_webshipper":
        return "order_transfer is 'rackbeat_to_webshipper': Webshipper orders are not imported into Rackbeat"
    return None


def is_ours(order: WebshipperOrder, settings: RackbeatWebshipperSettings) -> bool:
    """An order Crossdock created in Webshipper from a Rackbeat order (`rackbeat-…` in `order_channel`)."""
    return (
        settings.order_channel is not None
        and order.channel_id == settings.order_channel
        and (order.ext_ref or "").startswith(OURS_PREFIX)
    )


def check_importable(order: WebshipperOrder, settings: RackbeatWebshipperSettings) -> None:
    """Raises `Skip` for an order that is not ours to import (settings, our own, cancelled)."""
    refusal = import_refusal(settings)
    if refusal:
        raise Skip(refusal)
    if is_ours(order, settings):
        raise Skip(f"{described(order)} is ours ({order.ext_ref} in channel {order.channel_id}): not imported back")
    if order.status == "cancelled":
        raise Skip(f"{described(order)} is cancelled in Webshipper: not imported")


@dataclass(frozen=True)
class ImportLine:
    """One order line, checked."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal | None  # excluding VAT
    discount_percentage: Decimal
    vat_percent: Decimal | None


def check_lines(order: WebshipperOrder) -> tuple[ImportLine, ...]:
    """Every line with its SKU and a positive quantity; the first problem raises naming its field."""
    if not order.lines:
        raise PermanentError(f"{described(order)}: order_lines: the order has no lines", FailureClass.VALIDATION)
    return tuple(_line(order, index, line) for index, line in enumerate(order.lines))


def _line(order: WebshipperOrder, index: int, line: OrderLine) -> ImportLine:
    where = f"{described(order)}: order_lines[{index}]"
    if not line.sku:
        raise PermanentError(
            f"{where}.sku: the line ({line.description or 'no description'}) has no SKU, so no Rackbeat item can "
            "be found or made for it",
            FailureClass.UNMAPPED,
        )
    if line.quantity <= 0:
        raise PermanentError(f"{where}.quantity: {line.quantity} is not a positive quantity", FailureClass.VALIDATION)
    price = line.unit_price
    if price is not None and price < 0:
        raise PermanentError(f"{where}.unit_price: {price} is not a price", FailureClass.VALIDATION)
    share = Decimal(0)
    if price and line.discounted_unit_price is not None and line.discounted_unit_price < price:
        share = ((price - line.discounted_unit_price) / price * HUNDRED).quantize(PERCENT_PLACES)
    return ImportLine(
        sku=line.sku,
        name=line.description or line.sku,
        quantity=line.quantity,
        unit_price=price,
        discount_percentage=max(share, Decimal(0)),
        vat_percent=line.vat_percent,
    )


def check_address(order: WebshipperOrder) -> Address:
    """The delivery address (the billing one when there is none), with a contact or a company to address it to."""
    address = order.delivery_address or order.billing_address
    if address is None:
        raise PermanentError(f"{described(order)}: delivery_address: the order has none", FailureClass.VALIDATION)
    if not (address.att_contact or address.company_name):
        raise PermanentError(
            f"{described(order)}: delivery_address.att_contact: the address has neither a contact (att_contact) nor "
            "a company (company_name) to address it to",
            FailureClass.VALIDATION,
        )
    return address


def customer_email(order: WebshipperOrder) -> str | None:
    for address in (order.billing_address, order.delivery_address):
        if address is not None and address.email and "@" in address.email:
            return address.email.strip()
    return None


def customer_name(address: Address) -> str:
    return address.company_name or address.att_contact or ""


def line_location(item: dict[str, Any], settings: RackbeatWebshipperSettings) -> str | None:
    """`use_product_default_location`: the item's default location in Rackbeat (`default_location{number}`), else
    `default_location`; off: always `default_location`. None: Rackbeat's own choice."""
    if settings.use_product_default_location:
        own = item.get("default_location")
        number = own.get("number") if isinstance(own, dict) else own
        if number not in (None, ""):
            return str(number)
    return settings.default_location


def address_fields(prefix: str, address: Address | None) -> dict[str, str]:
    """The Rackbeat order's `address_*` (invoice) or `delivery_address_*` fields, only those Webshipper filled."""
    if address is None:
        return {}
    street = ", ".join(part for part in (address.address_1, address.address_2) if part)
    parts = {
        "name": address.company_name or address.att_contact,
        "street": street,
        "zipcode": address.zip,
        "city": address.city,
        "country": address.country_code,
    }
    return {f"{prefix}{key}": value for key, value in parts.items() if value}


def plain(amount: Decimal) -> str:
    """A decimal as Rackbeat reads it: no exponent, no trailing zeros (80, 62.5)."""
    return format(amount.normalize(), "f")


def order_body(
    order: WebshipperOrder,
    lines: tuple[ImportLine, ...],
    locations: dict[str, str | None],
    customer_number: int,
    settings: RackbeatWebshipperSettings,
) -> dict[str, Any]:
    """The draft order: the settings' employee, layout, payment terms and VAT zone, the lines on their items at
    their locations (`locations`: SKU → location), and the marker that finds it again."""
    rackbeat_lines = []
    for line in lines:
        shown: dict[str, Any] = {
            "item_id": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "discount_percentage": plain(line.discount_percentage),
        }
        if line.unit_price is not None:
            shown["line_price"] = plain(line.unit_price)
        if line.vat_percent is not None:
            shown["vat_percentage"] = plain(line.vat_percent)
        location = locations.get(line.sku)
        if location is not None:
            shown["location_id"] = location
        rackbeat_lines.append(shown)
    body: dict[str, Any] = {
        "customer_id": customer_number,
        "other_reference": import_reference(order.id),
        "heading": f"Webshipper order {order.visible_ref or order.id}",
        "number": None,
        "vat_zone": settings.default_vat_zone,
        "lines": rackbeat_lines,
        **address_fields("address_", order.billing_address),
        **address_fields("delivery_address_", order.delivery_address),
    }
    if order.currency:
        body["currency"] = order.currency
    optional = {
        "employee_id": settings.default_employee,
        "our_reference_id": settings.default_employee,
        "layout_id": settings.default_layout,
        "payment_terms_id": settings.default_payment_terms,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body
