"""Rackbeat order documents built from the canonical order, and the look-ups that make every write idempotent.

Every create is preceded by a look-up for what a lost response may already have created (customers: see
`customers`): orders by their `other_reference` (which carries the source's order: a Shopify order id, a Shopbox
basket uid), shipments by order, invoices by order number. That is what lets a workflow stage be replayed without a
second customer, order, shipment or invoice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crossdock.connectors.rackbeat.client import RackbeatClient, Unprocessable
from crossdock.errors import FailureClass, PermanentError
from crossdock.model.order import Address, Order, OrderLine, to_cents

PERCENT_PLACES = Decimal("0.000001")
CENT_HALF = Decimal("0.005")


@dataclass(frozen=True)
class OrderDefaults:
    """What the connection's settings put on a Rackbeat order (SPEC §1.2, §1.4)."""

    employee: int | None
    layout: int | None
    payment_terms: int | None
    location: str | None
    rounding_product_number: str | None
    use_shop_number: bool
    # Added to the shop's number (a shop's own range on a Rackbeat account several shops share).
    number_offset: int = 0
    # `domestic`, `eu` or `abroad`, from the delivery country; None leaves the customer's own zone.
    vat_zone: str | None = None


def order_reference(order: Order) -> str:
    """Unique across shops (Shopify order ids are global) and readable for the merchant."""
    return f"Shopify {order.name} ({order.source_id})"


_SHOPIFY_REFERENCE = re.compile(r"Shopify .* \((\d+)\)")


def shopify_order_id(other_reference: str | None) -> str | None:
    """The Shopify order id an order's `other_reference` names (`order_reference`'s inverse), or None when the order
    did not come from a Shopify order."""
    match = _SHOPIFY_REFERENCE.fullmatch((other_reference or "").strip())
    return match.group(1) if match else None


def _discount_percentage(line: OrderLine) -> Decimal:
    gross = line.unit_price_excl_vat * line.quantity
    if gross == 0 or line.discount_excl_vat == 0:
        return Decimal(0)
    return (line.discount_excl_vat / gross * 100).quantize(PERCENT_PLACES)


def _vat_percentage(line: OrderLine) -> Decimal:
    return (line.vat_rate * 100).normalize()


def _line_net(line: dict[str, Any]) -> Decimal:
    return Decimal(line["quantity"]) * Decimal(line["line_price"]) * (1 - Decimal(line["discount_percentage"]) / 100)


def rackbeat_line_total(line: dict[str, Any]) -> Decimal:
    """Rackbeat's arithmetic for one line, unrounded: net = qty × price × (1 − discount %), plus VAT %."""
    return _line_net(line) * (1 + Decimal(line["vat_percentage"]) / 100)


def expected_total(lines: list[dict[str, Any]]) -> Decimal:
    """The document total Rackbeat will show. Its exact rounding is not published; we assume what an invoice
    prints — net total and VAT total each rounded to the cent, then added (the simulator does the same). Used to
    see a cent difference before it reaches the ERP."""
    net = sum((_line_net(line) for line in lines), Decimal(0))
    vat = sum((_line_net(line) * Decimal(line["vat_percentage"]) / 100 for line in lines), Decimal(0))
    return to_cents(net) + to_cents(vat)


def order_total(rackbeat_order: dict[str, Any]) -> Decimal:
    """The total Rackbeat reports for an order (VAT included), or our own reckoning of its lines."""
    if rackbeat_order.get("total") is not None:
        return Decimal(str(rackbeat_order["total"]))
    return expected_total(rackbeat_order.get("lines") or [])


def rounding_tolerance(order: Order) -> Decimal:
    """Per-line rounding of tax can move the total by at most half a cent per line."""
    return CENT_HALF * max(len(order.lines), 1)


def order_lines(
    order: Order, shipping_number: str, defaults: OrderDefaults, customer_prices: dict[str, Decimal] | None = None
) -> list[dict[str, Any]]:
    """Lines one-to-one, shipping on the shipping item, and — when configured — a rounding line for the cent that
    Shopify's per-line tax rounding and Rackbeat's own VAT arithmetic may disagree on.

    A larger difference means the order's tax amounts do not match their rates; guessing which is right would
    book wrong VAT, so the order is refused with the figures. With `customer_prices` (item → the customer's own net
    price, `advanced.use_customer_prices`) those lines take the customer's price without Shopify's discount, and the
    total is allowed to differ: that is what the merchant asked for."""
    prices = customer_prices or {}
    lines = [
        _line(line, shipping_number, defaults, prices.get(line.sku) if not line.is_shipping else None)
        for line in order.lines
    ]
    if any(not line.is_shipping and line.sku in prices for line in order.lines):
        return lines
    rackbeat_total = expected_total(lines)
    difference = order.total - rackbeat_total
    if abs(difference) > rounding_tolerance(order):
        raise PermanentError(
            f"order {order.name}: Rackbeat would total {rackbeat_total} {order.currency} at the tax rates on the "
            f"order, but Shopify charged {order.total}; the order's tax amounts do not match their rates",
            FailureClass.VALIDATION,
        )
    if difference and defaults.rounding_product_number:
        lines.append(
            {
                "item_id": defaults.rounding_product_number,
                "name": "Rounding",
                "quantity": 1,
                "line_price": str(difference),
                "discount_percentage": "0",
                "vat_percentage": "0",
            }
        )
    return lines


def _line(line: OrderLine, shipping_number: str, defaults: OrderDefaults, own_price: Decimal | None) -> dict[str, Any]:
    return {
        "item_id": shipping_number if line.is_shipping else line.sku,
        "name": line.title,
        "quantity": line.quantity,
        "line_price": str((line.unit_price_excl_vat if own_price is None else own_price).normalize()),
        "discount_percentage": "0" if own_price is not None else str(_discount_percentage(line)),
        "vat_percentage": str(_vat_percentage(line)),
        **({"location_id": defaults.location} if defaults.location else {}),
    }


def draft_body(
    order: Order,
    customer_number: int,
    shipping_number: str,
    defaults: OrderDefaults,
    customer_prices: dict[str, Decimal] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_number,
        "currency": order.currency,
        "other_reference": order_reference(order),
        "heading": f"Shopify order {order.name}",
        "number": order.number + defaults.number_offset if defaults.use_shop_number and order.number else None,
        "lines": order_lines(order, shipping_number, defaults, customer_prices),
        **address_fields("address_", order.billing_address),
        **address_fields("delivery_address_", order.delivery_address),
    }
    optional = {
        "employee_id": defaults.employee,
        "our_reference_id": defaults.employee,
        "layout_id": defaults.layout,
        "payment_terms_id": defaults.payment_terms,
        "vat_zone": defaults.vat_zone,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def address_fields(prefix: str, address: Address | None) -> dict[str, str]:
    """The order's `address_*` (invoice) or `delivery_address_*` fields; parts the order does not have are left
    out, so Rackbeat keeps the customer's own."""
    if address is None:
        return {}
    parts = {
        "name": address.company or address.name,
        "street": address.street,
        "zipcode": address.zip,
        "city": address.city,
        "country": address.country_code,
    }
    return {f"{prefix}{key}": value for key, value in parts.items() if value}


def find_order(client: RackbeatClient, order: Order) -> dict[str, Any] | None:
    return find_order_by_reference(client, order_reference(order))


def find_order_by_reference(client: RackbeatClient, reference: str) -> dict[str, Any] | None:
    """The order whose `other_reference` is exactly `reference` (each source keeps its own: a Shopify order, a
    Shopbox basket), or None."""
    return client.find_one("orders", "orders", "other_reference", reference)


def create_draft(client: RackbeatClient, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = client.post("orders/drafts", body)["order"]
    return created


def get_order(client: RackbeatClient, number: int) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"orders/{number}")["order"]
    return found


def book(client: RackbeatClient, number: int) -> None:
    if get_order(client, number).get("is_booked"):
        return
    try:
        client.post(f"orders/{number}/book", {"mail": {"send": False}})
    except Unprocessable as refused:
        # A lost response to an earlier attempt booked it already; anything else is a real refusal.
        if not get_order(client, number).get("is_booked"):
            raise refused from None


def ensure_shipment(client: RackbeatClient, number: int, shipped: bool) -> dict[str, Any]:
    shipments = client.get(f"orders/{number}/shipments")["order_shipments"]
    if shipments:
        shipment: dict[str, Any] = shipments[0]
    else:
        shipment = client.post(f"orders/{number}/create-shipment")["order_shipment"]
    if shipped and not shipment.get("is_shipped"):
        try:
            client.post(f"orders/shipments/{shipment['id']}/mark-shipped", {"pick": True})
        except Unprocessable as refused:
            again = client.get(f"orders/{number}/shipments")["order_shipments"]
            if not any(s["id"] == shipment["id"] and s.get("is_shipped") for s in again):
                raise refused from None
        shipment = {**shipment, "is_shipped": True}
    return shipment


def find_invoice(client: RackbeatClient, number: int) -> dict[str, Any] | None:
    return client.find_one("customer-invoices", "customer_invoices", "order_number", str(number))


def ensure_invoice(client: RackbeatClient, number: int, booked: bool) -> int:
    invoice = find_invoice(client, number) if get_order(client, number).get("is_invoiced") else None
    if invoice is None:
        created = client.post(f"orders/{number}/convert-to-invoice", book=str(booked).lower())
        invoice_number = int(created["invoice_id"])
        if not booked:
            return invoice_number
        invoice = {"number": invoice_number, "is_booked": True}
    if booked and not invoice.get("is_booked"):
        client.post(f"customer-invoices/{invoice['number']}/book")
    return int(invoice["number"])


def customer_prices(client: RackbeatClient, customer_number: int) -> dict[str, Decimal]:
    """The customer's own net item prices (`advanced.use_customer_prices`).

    Guess: `GET /customers/{number}/product-prices` → `product_prices[{product_number, sales_price, min_quantity}]`;
    the fact sheet does not document customer prices. Quantity breaks are ignored: the base (min 1) price counts."""
    prices: dict[str, Decimal] = {}
    for row in client.iterate(f"customers/{customer_number}/product-prices", "product_prices"):
        if int(row.get("min_quantity") or 1) <= 1 and row.get("sales_price") is not None:
            prices[str(row["product_number"])] = Decimal(str(row["sales_price"]))
    return prices


def cancel(client: RackbeatClient, number: int) -> None:
    """Guess: `POST /orders/{number}/cancel` (the fact sheet only shows the `is_cancelled` flag). A refusal after a
    lost response that did cancel is success."""
    try:
        client.post(f"orders/{number}/cancel")
    except Unprocessable as refused:
        if not get_order(client, number).get("is_cancelled"):
            raise refused from None
