"""A Shopbox basket as the canonical order (`connectors.shopbox.orders.basket_order`): VAT-inclusive øre become
exact net kroner as docs/orders.md says, the till's VAT per line, and a basket that does not add up is refused
naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.shopbox.money import decimal_to_ore, ore_to_decimal
from crossdock.connectors.shopbox.orders import basket_order
from crossdock.connectors.shopbox.shapes import Basket
from crossdock.errors import FailureClass, PermanentError

DANISH_VAT = Decimal("0.25")


def basket(lines: list[dict[str, Any]], **fields: Any) -> Basket:
    total = sum(line["quantity"] * line["selling_price"] - line.get("discount", 0) for line in lines)
    body = {"uid": 991, "crdate": 1733490000, "tstamp": 1733490060, "canceled": False, "branch": 55, "total": total}
    return Basket.model_validate({**body, **fields, "sales": lines})


MUG = {"uid": 1, "product": 812, "sku_code": "MUG-1", "name": "Mug", "quantity": 2, "selling_price": 7900}


def test_a_sale_becomes_an_order_with_exact_net_prices_and_the_tills_vat() -> None:
    # GIVEN two mugs at 79.00 kr incl. 25 % VAT with 5.00 kr off the line, and a coffee at 12 % read from the line
    coffee = {
        "uid": 2,
        "product": 813,
        "sku_code": "KAFFE",
        "name": "Kaffe",
        "quantity": 3,
        "selling_price": 3333,
        "vat_rate": 12.5,
    }
    sale = basket([{**MUG, "discount": 500}, coffee], customer={"uid": 77, "name": "Ida", "email": "ida@example.dk"})
    # WHEN it is mapped
    order = basket_order(sale, default_vat_rate=DANISH_VAT)
    mug, kaffe = order.lines
    # THEN net prices are price / (1 + rate), exact to six decimals, and each line's gross equals the till's
    assert (mug.unit_price_excl_vat, mug.discount_excl_vat, mug.vat_rate) == (Decimal("63.2"), Decimal(4), DANISH_VAT)
    assert mug.vat_amount == Decimal("30.60") and mug.net_total + mug.vat_amount == Decimal("153.00")
    assert kaffe.vat_rate == Decimal("0.125") and kaffe.unit_price_excl_vat == Decimal("29.626667")
    assert kaffe.vat_amount == Decimal("11.11")  # 99.99 − 99.99 / 1.125 = 11.11 to the øre
    # AND the order is the basket: its uid, paid at the till, VAT included, the total in kroner, the customer
    assert (order.source_id, order.source_name, order.is_pos, order.taxes_included) == ("991", "pos", True, True)
    assert order.total == Decimal("252.99") and order.currency == "DKK" and order.cancelled is False
    assert (order.customer.source_id, order.customer.email) == ("77", "ida@example.dk")
    assert (mug.sku, mug.source_line_id, mug.unmapped) == ("MUG-1", "1", None)


def test_a_line_without_vat_rate_takes_the_callers_default_and_a_line_without_sku_is_marked() -> None:
    # GIVEN a line with no vat_rate and no sku_code
    sale = basket([{"product": 900, "name": "Kage", "quantity": 1, "selling_price": 4000}])
    # WHEN it is mapped with 0 % as the default
    (line,) = basket_order(sale, default_vat_rate=Decimal(0)).lines
    # THEN the default applies (no VAT: net is gross) and the line says why it cannot name an item
    assert (line.vat_rate, line.unit_price_excl_vat, line.vat_amount) == (Decimal(0), Decimal("40.00"), Decimal(0))
    assert line.unmapped == "no SKU"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"product": None}, "sales[0].product"),
        ({"quantity": 0}, "sales[0].quantity"),
        ({"quantity": -1}, "sales[0].quantity"),
        ({"discount": 20000}, "sales[0].discount"),
        ({"selling_price": -100}, "sales[0].selling_price"),
        ({"vat_rate": 125}, "sales[0].vat_rate"),
    ],
    ids=["no-product", "zero-quantity", "negative-quantity", "discount-above-line", "negative-price", "vat-125"],
)
def test_a_line_that_cannot_be_sold_is_refused_naming_its_field(change: dict[str, Any], field: str) -> None:
    # GIVEN a sale whose one line is wrong in one field
    line = {**MUG, **change}
    sale = Basket.model_validate({"uid": 991, "crdate": 1, "tstamp": 1, "sales": [line]})
    # WHEN it is mapped  THEN it is a VALIDATION failure naming the basket and the field
    with pytest.raises(PermanentError) as refused:
        basket_order(sale, default_vat_rate=DANISH_VAT)
    assert refused.value.failure_class is FailureClass.VALIDATION
    assert f"basket 991: {field}:" in str(refused.value)


def test_a_total_other_than_the_lines_sum_is_refused_with_both_figures() -> None:
    # GIVEN a basket whose total is one øre off the sum of its lines
    sale = basket([MUG], total=15801)
    # WHEN it is mapped  THEN the refusal names `total` with both amounts
    with pytest.raises(PermanentError) as refused:
        basket_order(sale, default_vat_rate=DANISH_VAT)
    assert "total: 15801 øre, but the sales add up to 15800 øre" in str(refused.value)


def test_a_basket_without_lines_is_refused_naming_the_key() -> None:
    # GIVEN a detail answer that carried no lines under any key (an unknown shape)
    sale = Basket.model_validate({"uid": 991, "crdate": 1, "tstamp": 1, "total": 100, "rows": [MUG]})
    # WHEN it is mapped under the key the caller names  THEN the refusal names that key
    with pytest.raises(PermanentError, match=r"basket 991: lines: the sale has no lines"):
        basket_order(sale, default_vat_rate=DANISH_VAT, lines_key="lines")


def test_a_default_vat_rate_in_percent_is_a_bug_of_the_caller() -> None:
    # GIVEN a caller passing 25 (percent) where a fraction is asked for  WHEN a sale is mapped  THEN it is a BUG
    with pytest.raises(PermanentError) as refused:
        basket_order(basket([MUG]), default_vat_rate=Decimal(25))
    assert refused.value.failure_class is FailureClass.BUG and "default_vat_rate" in str(refused.value)


def test_money_is_exact_both_ways_and_refuses_sub_ore() -> None:
    # GIVEN øre and kroner  WHEN converted  THEN exactly; a fraction of an øre or a float is refused
    assert ore_to_decimal(7900) == Decimal("79.00") and ore_to_decimal(-5) == Decimal("-0.05")
    assert decimal_to_ore(Decimal("79.00")) == 7900 and decimal_to_ore(Decimal("0.1")) == 10
    with pytest.raises(PermanentError, match="fraction of an øre"):
        decimal_to_ore(Decimal("79.005"))
    with pytest.raises(PermanentError):
        ore_to_decimal(79.0)  # type: ignore[arg-type]
