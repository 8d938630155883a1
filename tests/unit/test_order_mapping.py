"""Shopify order → Rackbeat order lines: VAT, discounts, shipping and totals, on Shopify's real payload shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.rackbeat.orders import OrderDefaults, draft_body, expected_total, order_lines
from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.errors import PermanentError
from crossdock.model.order import Order

DEFAULTS = OrderDefaults(
    employee=7, layout=None, payment_terms=None, location="L1", rounding_product_number=None, use_shop_number=False
)


def danish(order: dict[str, Any]) -> dict[str, Any]:
    """The fixture order made Danish: DKK, 25 % VAT included in prices, a 49.00 shipping line."""
    order["currency"], order["taxes_included"] = "DKK", True
    for line in order["line_items"]:
        gross = Decimal(line["price"]) * line["quantity"] - sum(
            Decimal(a["amount"]) for a in line["discount_allocations"]
        )
        line["tax_lines"] = [
            {"price": str((gross - gross / Decimal("1.25")).quantize(Decimal("0.01"))), "rate": 0.25, "title": "Moms"}
        ]
    order["shipping_lines"] = [
        {
            "title": "GLS",
            "code": "GLS",
            "price": "49.00",
            "discounted_price": "49.00",
            "tax_lines": [{"price": "9.80", "rate": 0.25, "title": "Moms"}],
        }
    ]
    order["total_price"] = "636.00"  # 597.00 − 10.00 discount + 49.00 shipping, VAT included
    return order


def canonical(payload: dict[str, Any]) -> Order:
    return to_canonical(parse_order(payload), shipping_sku="FRAGT")


def test_vat_included_order_totals_exactly_in_rackbeat(fixture_order: dict[str, Any]) -> None:
    order = canonical(danish(fixture_order))
    lines = order_lines(order, "FRAGT", DEFAULTS)
    assert expected_total(lines) == Decimal("636.00")
    assert [line["item_id"] for line in lines] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK", "FRAGT"]
    assert lines[0]["line_price"] == "159.2"  # 199.00 / 1.25
    assert lines[0]["vat_percentage"] == "25"
    assert Decimal(lines[0]["discount_percentage"]) == pytest.approx(Decimal("3.34") / Decimal("199") * 100)
    assert all(line["location_id"] == "L1" for line in lines)


def test_inconsistent_tax_lines_are_refused_with_the_figures(fixture_order: dict[str, Any]) -> None:
    # Shopify's own fixture charges 3.98 tax per line but labels it 6 % of ~196: Rackbeat would book other VAT.
    order = canonical(fixture_order)
    with pytest.raises(PermanentError, match=r"Rackbeat would total 622\.22 USD .* Shopify charged 598\.94"):
        order_lines(order, "FRAGT", DEFAULTS)


def test_cent_rounding_goes_on_the_rounding_item(fixture_order: dict[str, Any]) -> None:
    # GIVEN taxes on top, rounded per line by Shopify (3 × 0.0425 → 0.04 each) while Rackbeat rounds the sum
    fixture_order["line_items"] = fixture_order["line_items"][:3]
    for line in fixture_order["line_items"]:
        line.update(price="0.17", discount_allocations=[], tax_lines=[{"price": "0.04", "rate": 0.25}])
    fixture_order.update(total_price="0.63", shipping_lines=[])
    order = canonical(fixture_order)
    plain = order_lines(order, "FRAGT", DEFAULTS)
    assert expected_total(plain) == Decimal("0.64")
    # WHEN a rounding item is configured THEN a line takes the cent and the totals agree
    with_rounding = order_lines(
        order, "FRAGT", DEFAULTS.__class__(**{**DEFAULTS.__dict__, "rounding_product_number": "ORE"})
    )
    assert with_rounding[-1]["item_id"] == "ORE" and with_rounding[-1]["line_price"] == "-0.01"
    assert expected_total(with_rounding) == Decimal("0.63")


def test_guest_checkout_customer_comes_from_order_email(fixture_order: dict[str, Any]) -> None:
    fixture_order["customer"] = None
    order = canonical(danish(fixture_order))
    assert order.customer.email == "bob.norman@mail.example.com"
    assert order.customer.name  # from the billing address


def test_draft_body_carries_reference_employee_and_shop_number(fixture_order: dict[str, Any]) -> None:
    order = canonical(danish(fixture_order))
    body = draft_body(order, 42, "FRAGT", DEFAULTS)
    assert body["customer_id"] == 42
    assert body["other_reference"] == "Shopify #1001 (450789469)"
    assert body["our_reference_id"] == 7 and body["number"] is None
    shop_numbered = draft_body(order, 42, "FRAGT", DEFAULTS.__class__(**{**DEFAULTS.__dict__, "use_shop_number": True}))
    assert shop_numbered["number"] == 1001


def test_free_shipping_is_not_booked(fixture_order: dict[str, Any]) -> None:
    order = canonical(danish(fixture_order))
    assert sum(1 for line in order.lines if line.is_shipping) == 1
    fixture_order = danish(fixture_order)
    fixture_order["shipping_lines"][0].update(price="0.00", discounted_price="0.00", tax_lines=[])
    assert not any(line.is_shipping for line in canonical(fixture_order).lines)
