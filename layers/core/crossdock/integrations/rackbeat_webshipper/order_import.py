"""Webshipper → Rackbeat: a Webshipper order from any channel but our own becomes one booked Rackbeat order (issue
15, item 4), once — whatever repeats, reorders or loses an answer.

Once, in three layers:
- the binding `MAP#order#webshipper#<id>` → the Rackbeat order number: a repeat delivery, an `order/updated` of an
  order already imported, or a manual sync finds it and does nothing more;
- a lease per Webshipper order (`webshipper-import#<connection>#<id>`) while it is imported: an `order/created` and
  an `order/updated` handled at the same moment by two dispatchers do not both create (the second is retried);
- before creating, the Rackbeat order is looked up by its marker `other_reference = webshipper-<id>`, so a retry
  after Rackbeat committed and the answer was lost adopts the order it made.

Everything is checked before anything is written: a line without SKU, an address with neither contact nor company,
an unknown SKU without `product_group` end `needs_attention` naming the field or the SKUs, and nothing is made. With
`product_group` the unknown items are made in that group (an item number is unique in Rackbeat, so a repeat cannot
make two), then the order.

The order is booked at once: a Webshipper order is a sale to ship, and Rackbeat only ships a booked order. Its
`order.booked` webhook reaches OUTBOUND's export, which skips it by the marker.

Calls per order (counted in tests/unit/test_rackbeat_webshipper_inbound.py): Webshipper 1 read; Rackbeat 1 marker
look-up + 1 item read per distinct SKU + 1 customer look-up by e-mail (+1 create for a new customer, +1 per item
made) + 1 create + 1 read and 1 book.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from crossdock.connectors.rackbeat import customers as rackbeat_customers
from crossdock.connectors.rackbeat import orders as rackbeat_orders
from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable, item_path
from crossdock.connectors.rackbeat.products import SUPPRESS, read_item
from crossdock.connectors.webshipper import orders as webshipper_orders
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.shapes import Address, WebshipperOrder
from crossdock.errors import FailureClass, PermanentError, RetryableError, Skip
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.import_mapping import (
    ImportLine,
    check_address,
    check_importable,
    check_lines,
    customer_email,
    customer_name,
    described,
    import_reference,
    line_location,
    order_body,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.store import leases, mappings

ORDER = "order"
WEBSHIPPER = "webshipper"  # `MAP#order#webshipper#<Webshipper order id>` → Rackbeat order number
# `MAP#imported#rackbeat#<Rackbeat order number>` → the Webshipper order id it came from (a manual sync by number)
IMPORTED = "imported"
RACKBEAT = "rackbeat"
# Longer than an import can take (a few Rackbeat calls, each with its timeout); a crashed holder's lease lapses.
LEASE_SECONDS = 120.0


@dataclass(frozen=True)
class ImportSystems:
    """What an import talks to: the connection's two API clients, the table and the clock."""

    rackbeat: RackbeatClient
    webshipper: WebshipperClient
    table: Any
    now: float


@dataclass(frozen=True)
class Imported:
    webshipper_order: str
    rackbeat_order: int
    created: bool  # False: found already (bound, or adopted by its marker)
    summary: str
    bound_before: bool = False  # the binding existed: nothing was done


def imported_number(table: Any, connection_id: str, order_id: str) -> int | None:
    """The Rackbeat order an earlier import bound to the Webshipper order, or None."""
    found = mappings.get_mapping(table, connection_id, ORDER, WEBSHIPPER, order_id)
    target = (found or {}).get("target_id")
    return int(target) if target else None


def imported_from(table: Any, connection_id: str, rackbeat_number: int) -> str | None:
    """The Webshipper order an imported Rackbeat order came from, or None."""
    found = mappings.get_mapping(table, connection_id, IMPORTED, RACKBEAT, str(rackbeat_number))
    target = (found or {}).get("target_id")
    return str(target) if target else None


def bind(table: Any, connection_id: str, order_id: str, number: int) -> None:
    mappings.put_mapping(table, connection_id, ORDER, WEBSHIPPER, order_id, str(number), status="imported")
    mappings.put_mapping(table, connection_id, IMPORTED, RACKBEAT, str(number), order_id, status="imported")


def import_order(
    connection: RackbeatWebshipperConnection, order: WebshipperOrder, systems: ImportSystems, *, look_again: bool
) -> Imported:
    """The Webshipper order as one booked Rackbeat order. Raises `Skip` (settings, ours, cancelled),
    `PermanentError` (naming the field) or `RetryableError` (another import of it is under way, the systems)."""
    settings = connection.settings
    check_importable(order, settings)
    bound = imported_number(systems.table, connection.id, order.id)
    if bound is not None and not look_again:
        return Imported(order.id, bound, False, f"{described(order)} is already Rackbeat order {bound}", True)
    name = f"webshipper-import#{connection.id}#{order.id}"
    lease = leases.claim(systems.table, name, uuid.uuid4().hex, systems.now, LEASE_SECONDS)
    if lease is None:
        raise RetryableError(f"{described(order)} is being imported by another event at this moment")
    try:
        return _import_held(connection, order, settings, systems)
    finally:
        leases.release(systems.table, lease)


def _import_held(
    connection: RackbeatWebshipperConnection,
    order: WebshipperOrder,
    settings: RackbeatWebshipperSettings,
    systems: ImportSystems,
) -> Imported:
    rackbeat = systems.rackbeat
    existing = rackbeat_orders.find_order_by_reference(rackbeat, import_reference(order.id))
    created = existing is None
    if existing is None:
        lines = check_lines(order)
        address = check_address(order)
        items = _items(order, lines, settings, rackbeat)
        locations = {sku: line_location(item, settings) for sku, item in items.items()}
        customer = _customer(order, address, settings, rackbeat)
        existing = rackbeat_orders.create_draft(rackbeat, order_body(order, lines, locations, customer, settings))
    number = int(existing["number"])
    rackbeat_orders.book(rackbeat, number)
    bind(systems.table, connection.id, order.id, number)
    verb = "is now" if created else "was already"
    return Imported(order.id, number, created, f"{described(order)} {verb} Rackbeat order {number} (booked)")


def _items(
    order: WebshipperOrder,
    lines: tuple[ImportLine, ...],
    settings: RackbeatWebshipperSettings,
    rackbeat: RackbeatClient,
) -> dict[str, dict[str, Any]]:
    """Each SKU's Rackbeat item; the unknown ones made in `product_group`, or — without it — a `PermanentError`
    naming every unknown SKU (nothing is made)."""
    found: dict[str, dict[str, Any] | None] = {}
    for line in lines:
        if line.sku not in found:
            found[line.sku] = read_item(rackbeat, line.sku)
    unknown = [sku for sku, item in found.items() if item is None]
    if unknown and settings.product_group is None:
        raise PermanentError(
            f"{described(order)}: order_lines.sku: {', '.join(unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not a Rackbeat item and product_group is not set to create "
            f"{'it' if len(unknown) == 1 else 'them'}",
            FailureClass.UNMAPPED,
        )
    for sku in unknown:
        line = next(line for line in lines if line.sku == sku)
        found[sku] = _create_item(rackbeat, line, settings.product_group)
    return {sku: item for sku, item in found.items() if item is not None}


def _create_item(rackbeat: RackbeatClient, line: ImportLine, group: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"number": line.sku, "name": line.name}
    if line.unit_price is not None:
        body["sales_price"] = str(line.unit_price)
    if group is not None:
        body["group"] = {"number": group}
    try:
        created: dict[str, Any] = rackbeat.post("products", body, **SUPPRESS)["product"]
        return created
    except Unprocessable as refused:
        # A repeat after a lost answer (item numbers are unique): the item is there, take it.
        if not any("taken" in message for message in refused.errors.get("number", [])):
            raise
    again = read_item(rackbeat, line.sku)
    if again is None:
        raise PermanentError(f"Rackbeat refused item {item_path(line.sku)} as taken but has none", FailureClass.BUG)
    return again


def _customer(
    order: WebshipperOrder, address: Address, settings: RackbeatWebshipperSettings, rackbeat: RackbeatClient
) -> int:
    """The customer with the order's e-mail, else a new one in `default_customer_group`; without an e-mail (nothing
    to find it again by after a lost answer) or when Rackbeat refuses the new one, `default_customer`."""
    email = customer_email(order)
    if email is not None:
        number = rackbeat_customers.by_email(rackbeat, email)
        if number is not None:
            return number
        try:
            return rackbeat_customers.create(rackbeat, _customer_body(order, address, email, settings))
        except Unprocessable as refused:
            if settings.default_customer is None:
                raise PermanentError(
                    f"{described(order)}: customer: Rackbeat refused a new customer ({refused.reason}) and "
                    "default_customer is not set",
                    FailureClass.VALIDATION,
                ) from None
            return settings.default_customer
    if settings.default_customer is None:
        raise PermanentError(
            f"{described(order)}: billing_address.email: the order has no e-mail to find or create its Rackbeat "
            "customer by; set default_customer to the customer such orders go to",
            FailureClass.VALIDATION,
        )
    return settings.default_customer


def _customer_body(
    order: WebshipperOrder, address: Address, email: str, settings: RackbeatWebshipperSettings
) -> dict[str, Any]:
    billing = order.billing_address or address
    entries = [
        _address_entry(kind, shown)
        for kind, shown in (("invoice", billing), ("delivery", order.delivery_address))
        if shown is not None
    ]
    body: dict[str, Any] = {
        "company_name": customer_name(billing) or customer_name(address),
        "contact_email": email,
        "contact_phone": billing.phone or address.phone,
        "vat_zone": settings.default_vat_zone,
        "addresses": entries,
    }
    if order.currency:
        body["currency"] = order.currency
    optional = {
        "customer_group_id": settings.default_customer_group,
        "layout_id": settings.default_layout,
        "payment_terms_id": settings.default_payment_terms,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def _address_entry(kind: str, address: Address) -> dict[str, Any]:
    return {
        "type": kind,
        "name": customer_name(address) or None,
        "street": ", ".join(part for part in (address.address_1, address.address_2) if part) or None,
        "zipcode": address.zip,
        "city": address.city,
        "country": address.country_code,
    }


def read_order(webshipper: WebshipperClient, order_id: str) -> WebshipperOrder:
    """The order as Webshipper holds it now (a late or repeated webhook acts on the present); `Skip` when gone."""
    found = webshipper_orders.get_order(webshipper, order_id)
    if found is None:
        raise Skip(f"Webshipper has no order {order_id} (deleted since)")
    return found
