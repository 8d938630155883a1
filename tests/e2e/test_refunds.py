"""Refunds become booked credit notes (issue #4, `orders.refunds_as_credit_notes`), end to end."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crossdock_local.stack import LocalStack

CREDITING = {"refunds_as_credit_notes": True, "rackbeat_status": "invoiced_and_shipped"}


def _credit_notes(merchant: Any) -> list[dict[str, Any]]:
    return list(merchant.stack.rackbeat.credit_notes(merchant.account))


def _refunded(refund: dict[str, Any]) -> Decimal:
    return sum((Decimal(t["amount"]) for t in refund["transactions"] if t["kind"] == "refund"), Decimal(0))


def _product_lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in order["line_items"] if line.get("sku")]


def test_a_full_refund_is_one_booked_credit_note_with_the_goods_back_in_stock(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN an order invoiced and shipped in Rackbeat
    merchant = merchant_with(orders=CREDITING)
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    lines = _product_lines(placed)
    stock_after_sale = {line["sku"]: merchant.stock(line["sku"]) for line in lines}
    # WHEN every line and the shipping is refunded, with restock
    refund = stack.shopify.refund(
        merchant.domain, placed["id"], [(line["id"], line["quantity"]) for line in lines], shipping=True
    )
    stack.settle()
    # THEN one booked credit note on the order's invoice credits exactly that, and the goods are back in stock
    (note,) = _credit_notes(merchant)
    invoice = merchant.only_rackbeat_order(placed)["invoice_number"]
    assert note["is_booked"] and note["invoice_number"] == invoice and note["stock_returned"]
    credited = {(line["item_id"], Decimal(str(line["quantity"]))) for line in note["lines"]}
    expected = {(line["sku"], Decimal(line["quantity"])) for line in lines}
    if any(Decimal(shipping["price"]) for shipping in placed["shipping_lines"]):
        expected.add(("FRAGT", Decimal(1)))
    assert credited == expected
    assert Decimal(str(note["total"])) == _refunded(refund)
    for line in lines:
        assert merchant.stock(line["sku"]) == stock_after_sale[line["sku"]] + line["quantity"]
    (done,) = [e for e in merchant.events() if e["topic"] == "refunds/create"]
    assert done["status"] == "done" and f"credit note {note['number']}" in done["reason"]


def test_partial_and_repeated_refunds_each_make_their_own_credit_note_once(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with(orders=CREDITING)
    order = next(
        o for o in (merchant.order(i) for i in range(40)) if sum(li["quantity"] for li in o["line_items"]) >= 2
    )
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    first_line = _product_lines(placed)[0]
    other = [(line["id"], line["quantity"]) for line in _product_lines(placed)]
    if first_line["quantity"] >= 2:
        first, second = [(first_line["id"], 1)], [(first_line["id"], first_line["quantity"] - 1), *other[1:]]
    else:
        first, second = other[:1], other[1:]
    # WHEN two partial refunds arrive, each delivered twice
    one = stack.shopify.refund(merchant.domain, placed["id"], first, duplicate=True)
    stack.settle()
    two = stack.shopify.refund(merchant.domain, placed["id"], second, duplicate=True)
    stack.settle()
    # THEN exactly two booked credit notes, one per refund, with their amounts
    notes = sorted(_credit_notes(merchant), key=lambda n: int(n["number"]))
    assert len(notes) == 2 and all(n["is_booked"] for n in notes)
    assert [Decimal(str(n["total"])) for n in notes] == [_refunded(one), _refunded(two)]
    assert [str(one["id"]) in notes[0]["other_reference"], str(two["id"]) in notes[1]["other_reference"]] == [
        True,
        True,
    ]


def test_a_refund_without_restock_returns_nothing_to_stock(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(orders=CREDITING)
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    line = _product_lines(placed)[0]
    before = merchant.stock(line["sku"])
    stack.shopify.refund(merchant.domain, placed["id"], [(line["id"], 1)], restock=False)
    stack.settle()
    (note,) = _credit_notes(merchant)
    assert note["is_booked"] and not note["stock_return"]
    assert merchant.stock(line["sku"]) == before


def test_refunds_are_skipped_when_the_setting_is_off(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    line = _product_lines(placed)[0]
    stack.shopify.refund(merchant.domain, placed["id"], [(line["id"], 1)])
    stack.settle()
    assert _credit_notes(merchant) == []
    (event,) = [e for e in merchant.events() if e["topic"] == "refunds/create"]
    assert (event["status"], event["reason"]) == ("skipped", "orders.refunds_as_credit_notes is off")


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _one_unit_off_by_a_cent(merchant: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order and a line of ≥ 2 units where one unit's refund, as Shopify splits amount and VAT (each rounded to
    cents), is a cent away from what its net price and VAT rate come to: the case Rackbeat would book differently."""
    for index in range(80):
        order = merchant.order(index)
        for line in _product_lines(order):
            if line["quantity"] < 2 or not line.get("tax_lines"):
                continue
            subtotal = Decimal(line["price"]) * line["quantity"] - sum(
                (Decimal(a["amount"]) for a in line.get("discount_allocations") or []), Decimal(0)
            )
            tax = sum((Decimal(t["price"]) for t in line["tax_lines"]), Decimal(0))
            rate = sum((Decimal(str(t["rate"])) for t in line["tax_lines"]), Decimal(0))
            unit_subtotal, unit_tax = _cents(subtotal / line["quantity"]), _cents(tax / line["quantity"])
            net, refunded = (
                (unit_subtotal - unit_tax, unit_subtotal)
                if order.get("taxes_included")
                else (unit_subtotal, unit_subtotal + unit_tax)
            )
            if _cents(net * (1 + rate)) != refunded:
                return order, line
    raise AssertionError("no order in the generator's first 80 has such a line")


def test_a_cent_of_vat_rounding_is_absorbed_so_the_credit_note_matches_the_refund(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN an invoiced order, and a refund of one unit whose VAT Shopify rounded the other way than Rackbeat would
    merchant = merchant_with(orders=CREDITING)
    order, line = _one_unit_off_by_a_cent(merchant)
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    placed_line = next(li for li in placed["line_items"] if li["sku"] == line["sku"])
    # WHEN that unit is refunded
    refund = stack.shopify.refund(merchant.domain, placed["id"], [(placed_line["id"], 1)])
    stack.settle()
    # THEN the credit note credits exactly what Shopify refunded: the unit's net price moved by under a cent
    (note,) = _credit_notes(merchant)
    assert Decimal(str(note["total"])) == _refunded(refund)
    (credited,) = note["lines"]
    assert credited["item_id"] == line["sku"] and Decimal(str(credited["quantity"])) == 1
    (done,) = [e for e in merchant.events() if e["topic"] == "refunds/create"]
    assert done["status"] == "done" and "Shopify refunded" not in done["reason"]
