"""A Rackbeat order (or one of its shipments) as the Webshipper order it becomes: whether it goes at all, its
`ext_ref`, lines, shipping rate and addresses (SPEC §3, issue 15 item 3). Pure: the caller reads Rackbeat and
writes Webshipper (`order_export`).

Ends, each with a reason an operator can act on: `Skip` for what the settings or the markers say is not ours to
send (the customer's group is excluded, transfers run the other way, the order came from Webshipper, no line is
left after `line_location_filter`), `PermanentError` for what needs a person (a delivery term without a rate, an
address Webshipper cannot label, a quantity Webshipper cannot count). Nothing is half-sent: the whole order is
worked out before anything is written.

Rackbeat fields read (the simulator's shapes, reference/rackbeat.md): `number, currency, delivery_terms,
other_reference, note, customer{number, company_name, contact_email}`, the `address_*` (invoice) and
`delivery_address_*` parts `name, street, zipcode, city, country`, and lines `id, item_id, name, quantity,
line_price, discount_percentage, vat_percentage, location_id`. A Rackbeat order keeps no pickup (drop point)
address: neither the fact sheet nor the simulator has a field for one, so none is sent (docs/webshipper.md).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock.connectors.webshipper.shapes import Address, OrderDraft, OrderLineDraft
from crossdock.errors import FailureClass, PermanentError, Skip
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings, shipping_method_key

# Loop prevention (docs/webshipper.md): what we create in Webshipper carries `rackbeat-…` as its `ext_ref`; a
# Rackbeat order INBOUND made from Webshipper carries `webshipper-<id>` as its `other_reference`, and a Rackbeat
# order INBOUND marked shipped from a Webshipper shipment has a note line `webshipper-shipment-<id>: …`.
EXT_REF_PREFIX = "rackbeat-"
FROM_WEBSHIPPER_PREFIX = "webshipper-"
SHIPPED_FROM_WEBSHIPPER_PREFIX = "webshipper-shipment-"
ALL_LOCATIONS = "all"
CENT = Decimal("0.01")

# The title of the Shopify shipping line a Rackbeat order made from a Shopify order carries (`shopify_origin`),
# None for any other order; asked only when the order's delivery term names no rate.
ShippingMethod = Callable[[], "str | None"]
# A Webshipper rate id → whether the rate requires a drop point (asked only of the default rate).
DropPointRule = Callable[[str], bool]


def no_shipping_method() -> str | None:
    """An order whose shipping line nobody looks for (not made from a Shopify order, or no shop to ask)."""
    return None


# An item number → its default location number in Rackbeat (None when it has none): read only for lines that
# name no location of their own, and only when `line_location_filter` is not `all`.
DefaultLocation = Callable[[str], "str | None"]


def export_reference(number: int | str, shipment_id: int | str | None = None) -> str:
    """`rackbeat-<order number>`, or `rackbeat-<order number>-<shipment id>` for one shipment of it."""
    return f"{EXT_REF_PREFIX}{number}" if shipment_id is None else f"{EXT_REF_PREFIX}{number}-{shipment_id}"


def came_from_webshipper(order: dict[str, Any]) -> bool:
    return str(order.get("other_reference") or "").strip().startswith(FROM_WEBSHIPPER_PREFIX)


def shipped_from_webshipper(order: dict[str, Any]) -> bool:
    """Whether INBOUND marked the order shipped from a Webshipper shipment (its note line)."""
    lines = str(order.get("note") or "").splitlines()
    return any(line.strip().startswith(SHIPPED_FROM_WEBSHIPPER_PREFIX) for line in lines)


def transfer_refusal(settings: RackbeatWebshipperSettings) -> str | None:
    if settings.order_transfer == "webshipper_to_rackbeat":
        return "order_transfer is 'webshipper_to_rackbeat': Rackbeat orders are not sent to Webshipper"
    return None


def excluded_group(settings: RackbeatWebshipperSettings, customer: dict[str, Any] | None) -> str | None:
    """Why the customer's group keeps the order out of Webshipper, or None."""
    group = (customer or {}).get("customer_group_id")
    if group is None or not str(group).strip().isdigit():
        return None
    if int(str(group)) in settings.excluded_customer_groups:
        number = (customer or {}).get("number")
        return f"customer {number} is in customer group {int(str(group))}, which excluded_customer_groups leaves out"
    return None


def plan_export(
    order: dict[str, Any],
    settings: RackbeatWebshipperSettings,
    default_location: DefaultLocation,
    *,
    shipment: dict[str, Any] | None = None,
    customer: dict[str, Any] | None = None,
    shipping_method: ShippingMethod = no_shipping_method,
    needs_drop_point: DropPointRule | None = None,
) -> OrderDraft:
    """The Webshipper order for `order` (or for `shipment` of it). Raises `Skip` or `PermanentError` (see above);
    `customer` is the Rackbeat customer when it was read (to see its group); `shipping_method` and
    `needs_drop_point` are `shipping_rate`'s (None: the default rate's drop point is not asked)."""
    number = order.get("number")
    refusal = transfer_refusal(settings)
    if refusal:
        raise Skip(refusal)
    if came_from_webshipper(order):
        raise Skip(f"Rackbeat order {number} came from Webshipper ({order.get('other_reference')})")
    excluded = excluded_group(settings, customer)
    if excluded:
        raise Skip(f"Rackbeat order {number}: {excluded}")
    if settings.order_channel is None:  # the settings' own rule: only with order_transfer webshipper_to_rackbeat
        raise PermanentError("order_channel is not set: no Webshipper channel to create the order in")
    lines = export_lines(order, settings.line_location_filter, default_location, shipment)
    if not lines:
        where = "" if shipment is None else f" shipment {shipment.get('id')} of"
        raise Skip(
            f"Rackbeat{where} order {number}: no line is from location {settings.line_location_filter} "
            "(line_location_filter)"
        )
    delivery = delivery_address(order)
    return OrderDraft(
        ext_ref=export_reference(str(number), None if shipment is None else str(shipment.get("id"))),
        visible_ref=str(number),
        channel_id=settings.order_channel,
        rate_id=shipping_rate(order, settings, shipping_method, needs_drop_point),
        currency=str(order.get("currency") or "DKK"),
        delivery_address=delivery,
        billing_address=billing_address(order) if settings.send_addresses else None,
        lines=tuple(lines),
    )


def export_lines(
    order: dict[str, Any],
    location_filter: str,
    default_location: DefaultLocation,
    shipment: dict[str, Any] | None = None,
) -> list[OrderLineDraft]:
    """The order's lines (or, for a shipment, the shipment's quantities of them) from the filter's location; a line
    without a location of its own is drawn from its item's default location, so that is the one compared."""
    order_lines = [line for line in order.get("lines") or [] if isinstance(line, dict)]
    if shipment is not None:
        by_id = {str(line.get("id")): line for line in order_lines}
        wanted = []
        for part in shipment.get("lines") or []:
            line = by_id.get(str(part.get("line_id")))
            if line is None:
                raise PermanentError(
                    f"Rackbeat shipment {shipment.get('id')} names line {part.get('line_id')}, which order "
                    f"{order.get('number')} does not have"
                )
            wanted.append({**line, "quantity": part.get("quantity"), "location_id": part.get("location_id")})
        order_lines = wanted
    chosen = []
    for index, line in enumerate(order_lines):
        if _is_credit_line(line):
            continue
        location = _text(line.get("location_id"))
        if location_filter != ALL_LOCATIONS:
            drawn_from = location or default_location(str(line.get("item_id")))
            if drawn_from != location_filter:
                continue
        chosen.append(_line(order, index, line, location))
    return chosen


def _is_credit_line(line: dict[str, Any]) -> bool:
    """A line of negative price — the rounding or discount line a Shopify order brings into Rackbeat — is nothing
    to pick, and Webshipper refuses a negative `unit_price` (422), so it is left out. Unreadable prices are left to
    `_line` to name."""
    try:
        return Decimal(str(line.get("line_price") or 0)) < 0
    except InvalidOperation:
        return False


def _line(order: dict[str, Any], index: int, line: dict[str, Any], location: str | None) -> OrderLineDraft:
    sku = _text(line.get("item_id"))
    where = f"Rackbeat order {order.get('number')} line {index + 1}"
    if sku is None:
        raise PermanentError(f"{where}: item_id is missing")
    quantity = _decimal(line.get("quantity"), f"{where} ({sku}): quantity")
    if quantity != quantity.to_integral_value() or quantity < 1:
        raise PermanentError(
            f"{where} ({sku}): quantity {quantity.normalize()} is not a whole number of at least 1, and Webshipper "
            "counts whole units"
        )
    price = _decimal(line.get("line_price") or 0, f"{where} ({sku}): line_price")
    discount = _decimal(line.get("discount_percentage") or 0, f"{where} ({sku}): discount_percentage")
    return OrderLineDraft(
        sku=sku,
        description=_text(line.get("name")) or sku,
        quantity=int(quantity),
        unit_price=price,
        discounted_unit_price=(price * (1 - discount / 100)).quantize(CENT),
        vat_percent=_decimal(line.get("vat_percentage") or 0, f"{where} ({sku}): vat_percentage"),
        ext_ref=str(line.get("id")),
        location=location,
    )


def shipping_rate(
    order: dict[str, Any],
    settings: RackbeatWebshipperSettings,
    shipping_method: ShippingMethod = no_shipping_method,
    needs_drop_point: DropPointRule | None = None,
) -> str:
    """The order's Webshipper rate, the first of (docs/webshipper.md "The shipping rate"): `delivery_term_rates`
    for its delivery term; `shipping_method_rates` for the Shopify shipping line it came with (`shipping_method`,
    asked only here); `default_shipping_rate`. The default is the rate nobody chose, so one that requires a drop
    point (`needs_drop_point`, asked only then) is refused: a Rackbeat order carries none. Raises `PermanentError`
    (class `unmapped`) naming every setting that could have given a rate."""
    number = order.get("number")
    term_id = delivery_term(order)
    if term_id is not None:
        rate = settings.delivery_term_rates.get(term_id)
        if rate is not None:
            return rate
    unmapped = [
        "has no delivery term (delivery_term_rates)"
        if term_id is None
        else f"has delivery term {term_id}, which delivery_term_rates does not map"
    ]
    title = shipping_method() if settings.shipping_method_rates else None
    if title is not None:
        wanted = shipping_method_key(title)
        for method, rate in settings.shipping_method_rates.items():
            if shipping_method_key(method) == wanted:
                return rate
        unmapped.append(f"its Shopify shipping line '{title}' is not in shipping_method_rates")
    default = settings.default_shipping_rate
    if default is None:
        keys = "delivery_term_rates, shipping_method_rates or" if title is not None else "delivery_term_rates or"
        raise PermanentError(
            f"Rackbeat order {number} {' and '.join(unmapped)}, and default_shipping_rate is not set: no Webshipper "
            f"shipping rate for it (set one in {keys} default_shipping_rate)",
            FailureClass.UNMAPPED,
        )
    if needs_drop_point is not None and needs_drop_point(default):
        raise PermanentError(
            f"Rackbeat order {number} {' and '.join(unmapped)}; default_shipping_rate {default} requires a drop point "
            "(drop_point), which a Rackbeat order does not carry: choose a default_shipping_rate without one, or "
            "map the order's delivery term in delivery_term_rates",
            FailureClass.UNMAPPED,
        )
    return default


def delivery_term(order: dict[str, Any]) -> str | None:
    """The order's delivery term id as `delivery_term_rates` keys it, or None."""
    term = order.get("delivery_terms")
    if isinstance(term, dict):  # tolerated: an expanded reference
        term = term.get("id", term.get("number"))
    term_id = _text(term)
    if term_id is None:
        return None
    return str(int(term_id)) if term_id.isdigit() else term_id


def delivery_address(order: dict[str, Any]) -> Address:
    """The order's delivery address; an order without one is delivered to its invoice address, as Rackbeat
    prints it."""
    prefix = "delivery_address_" if _text(order.get("delivery_address_street")) else "address_"
    found = _address(order, prefix)
    if found is None:
        raise PermanentError(
            f"Rackbeat order {order.get('number')}: the delivery address has no street (delivery_address_street, "
            "address_street)"
        )
    return found


def billing_address(order: dict[str, Any]) -> Address | None:
    """The invoice address (`address_*`) when the order has one."""
    return _address(order, "address_") if _text(order.get("address_street")) else None


def _address(order: dict[str, Any], prefix: str) -> Address | None:
    if not _text(order.get(f"{prefix}street")):
        return None
    found_customer = order.get("customer")
    customer: dict[str, Any] = found_customer if isinstance(found_customer, dict) else {}
    contact = _text(order.get(f"{prefix}name"))
    company = _text(customer.get("company_name"))
    where = f"Rackbeat order {order.get('number')}"
    if contact is None and company is None:
        raise PermanentError(
            f"{where}: the address has neither a contact ({prefix}name) nor a company (the customer's company_name); "
            "Webshipper needs one of them on the label"
        )
    country = _text(order.get(f"{prefix}country"))
    if country is None or len(country) != 2 or not country.isalpha():
        raise PermanentError(f"{where}: {prefix}country {country!r} is not a two-letter country code (ISO 3166)")
    return Address(
        att_contact=contact,
        company_name=company if company != contact else None,
        address_1=_text(order.get(f"{prefix}street")),
        zip=_text(order.get(f"{prefix}zipcode")),
        city=_text(order.get(f"{prefix}city")),
        country_code=country.upper(),
        email=_text(customer.get("contact_email")),
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any, what: str) -> Decimal:
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        raise PermanentError(f"{what} {value!r} is not a number") from None
    if not found.is_finite():
        raise PermanentError(f"{what} {value!r} is not a number")
    return found
