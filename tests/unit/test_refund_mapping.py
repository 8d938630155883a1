"""Shopify's own refund payloads (fixtures, 2025-01 and the older shape) → the lines a credit note credits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock.connectors.shopify.refunds import credit_lines, parse_refund


def test_a_restocked_refund_line_from_shopifys_example(shopify_payload: Any) -> None:
    payload = shopify_payload("2025-01/refund_1.json")
    refund = parse_refund(payload)
    black, green = credit_lines(refund, taxes_included=False)
    assert (black.sku, black.quantity, black.restock) == ("IPOD2008BLACK", 1, True)  # legacy_restock
    assert black.unit_price_excl_vat == Decimal("195.66") and black.vat_rate == Decimal("0.06")
    assert (green.sku, green.unit_price_excl_vat) == ("IPOD2008GREEN", Decimal("195.67"))
    paid_back = [t for t in payload["refund"]["transactions"] if t["kind"] == "refund" and t["status"] == "success"]
    assert refund.refunded_amount == sum((Decimal(t["amount"]) for t in paid_back), Decimal(0))


def test_no_restock_lines_do_not_return_goods(shopify_payload: Any) -> None:
    refund = parse_refund(shopify_payload("2025-01/refund_2.json"))
    lines = credit_lines(refund, taxes_included=False)
    assert lines and not any(line.restock for line in lines)


def test_vat_inclusive_subtotals_are_made_net() -> None:
    refund = parse_refund(
        {
            "id": 1,
            "order_id": 2,
            "refund_line_items": [
                {
                    "id": 3,
                    "line_item_id": 4,
                    "quantity": 2,
                    "restock_type": "return",
                    "subtotal": 250.0,
                    "total_tax": 50.0,
                    "line_item": {
                        "id": 4,
                        "sku": "MUG",
                        "title": "Mug",
                        "quantity": 2,
                        "price": "125.00",
                        "tax_lines": [{"price": "50.00", "rate": 0.25}],
                    },
                }
            ],
            "refund_shipping_lines": [
                {
                    "subtotal_amount_set": {"shop_money": {"amount": "49.00"}},
                    "tax_amount_set": {"shop_money": {"amount": "9.80"}},
                }
            ],
        }
    )
    mug, shipping = credit_lines(refund, taxes_included=True)
    assert mug.unit_price_excl_vat == Decimal("100") and mug.vat_rate == Decimal("0.25")
    assert (
        shipping.is_shipping
        and shipping.unit_price_excl_vat == Decimal("39.20")
        and shipping.vat_rate == Decimal("0.25")
    )


def test_older_shape_lines(shopify_payload: Any) -> None:
    refund = parse_refund(shopify_payload("refund.json"))
    assert [line.sku for line in credit_lines(refund, taxes_included=False)] == ["IPOD2008BLACK", "IPOD2008GREEN"]
