"""A Shopify order or refund payload with an implausible value is refused where it is parsed (connectors/shopify/
order_values, refund_values), naming the field, instead of being booked or failing later as a bug; and whatever a
signed body holds, the parsers either read it or refuse it with a `ValidationError`, never another exception
(property-based)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.connectors.shopify.refunds import credit_lines, credited_total, parse_refund
from crossdock.store.outcome import first_error

# Small and quick: a few hundred examples in all, no deadline (the suite's time, not a timing threshold).
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _set(order: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(order)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return changed


def _refusal(payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as refused:
        parse_order(payload)
    return first_error(refused.value)


def test_shopifys_own_example_orders_are_read_as_before(fixture_order: dict[str, Any], shopify_payload: Any) -> None:
    # GIVEN Shopify's example orders of the current and the older shape
    orders = [fixture_order, shopify_payload("order.json")["order"]]
    orders += [shopify_payload(f"2025-01/order_{n}.json")["order"] for n in (1, 2)]
    # WHEN they are parsed THEN nothing in them is refused
    for order in orders:
        assert parse_order(order).id == order["id"]


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        # ids: pydantic would read `true` as 1; a negative or a 10^40 id is no Shopify id (positive int64)
        ("id", True, "id: Input should be a valid integer"),
        ("id", -5, "id: Input should be greater than or equal to 1"),
        ("id", 10**40, "id: Input should be less than or equal to 9223372036854775807"),
        ("line_items.0.id", "12", "line_items.0.id: Input should be a valid integer"),
        ("line_items.0.variant_id", 0, "line_items.0.variant_id: Input should be greater than or equal to 1"),
        # amounts: once an InvalidOperation (class bug) in the VAT arithmetic, or a tax mismatch in Rackbeat
        ("line_items.0.price", "1e400", "line_items.0.price: Input should be less than or equal to 1000000000000"),
        ("line_items.0.price", "-10.00", "line_items.0.price: Input should be greater than or equal to 0"),
        ("line_items.0.price", "NaN", "line_items.0.price: Input should be a finite number"),
        ("total_price", "12.0000001", "total_price: Decimal input should have no more than 6 decimal places"),
        ("line_items.0.tax_lines.0.rate", 25, "line_items.0.tax_lines.0.rate: Input should be less than or equal to 1"),
        # quantities: whole pieces, at least one, at most a million
        ("line_items.0.quantity", 1e30, "line_items.0.quantity: Input should be a valid integer"),
        ("line_items.0.quantity", 0, "line_items.0.quantity: Input should be greater than or equal to 1"),
        ("line_items.0.quantity", -2, "line_items.0.quantity: Input should be greater than or equal to 1"),
        ("line_items.0.quantity", 10**7, "line_items.0.quantity: Input should be less than or equal to 1000000"),
        # no lines at all: nothing to book
        ("line_items", [], "line_items: List should have at least 1 item after validation, not 0"),
        # a currency ISO 4217 does not know, or one no shop prices in
        ("currency", "DKR", "currency: Value error, 'DKR' is not an ISO 4217 currency code"),
        ("currency", "XXX", "currency: Value error, 'XXX' is not an ISO 4217 currency code"),
        # names with a NUL or another control character, or a lone surrogate no UTF-8 can carry
        ("line_items.0.title", "Mug\x00", "line_items.0.title: Value error, holds the control character U+0000"),
        ("name", "#10\x1b01", "name: Value error, holds the control character U+001B at position 3"),
        ("customer.first_name", "Bo\ud800", "customer.first_name: Input should be a valid string, unable to parse"),
    ],
)
def test_an_implausible_value_is_refused_naming_its_field(
    fixture_order: dict[str, Any], path: str, value: Any, reason: str
) -> None:
    # GIVEN Shopify's example order with one implausible value
    payload = _set(fixture_order, path, value)
    # WHEN it is parsed THEN it is refused, and the first problem names the field and what is wrong
    assert _refusal(payload).startswith(reason)


def test_a_real_danish_order_with_every_value_at_its_edge_is_still_read(fixture_order: dict[str, Any]) -> None:
    # GIVEN values at the edges of what is plausible (a large id, a million pieces, six decimals, æøå)
    payload = _set(fixture_order, "id", 2**63 - 1)
    payload = _set(payload, "currency", "DKK")
    payload = _set(payload, "line_items.0.quantity", 1_000_000)
    payload = _set(payload, "line_items.0.price", "0.000001")
    payload = _set(payload, "line_items.0.title", "Rødgrød med fløde\tÆrø")
    # WHEN it is parsed and mapped THEN nothing fails
    order = to_canonical(parse_order(payload), "FRAGT")
    assert order.source_id == str(2**63 - 1) and order.currency == "DKK"


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("id", False, "id: Input should be a valid integer"),
        ("order_id", -1, "order_id: Input should be greater than or equal to 1"),
        ("refund_line_items.0.quantity", 1.5, "refund_line_items.0.quantity: Input should be a valid integer"),
        (
            "refund_line_items.0.quantity",
            -1,
            "refund_line_items.0.quantity: Input should be greater than or equal to 0",
        ),
        # once an InvalidOperation (class bug) when the unit price was worked out
        ("refund_line_items.0.subtotal", "1e400", "refund_line_items.0.subtotal: Input should be less than or equal"),
        ("refund_line_items.0.total_tax", "-2.00", "refund_line_items.0.total_tax: Input should be greater than or"),
        ("refund_line_items.0.line_item.title", "Krus\x00", "refund_line_items.0.line_item.title: Value error, holds"),
        ("transactions", [{"kind": "refund", "amount": "Infinity"}], "transactions.0.amount: Input should be a finite"),
        ("order_adjustments", [{"kind": "shipping_refund", "amount": "1e400"}], "order_adjustments.0.amount: Input"),
    ],
)
def test_an_implausible_refund_value_is_refused_naming_its_field(
    shopify_payload: Any, path: str, value: Any, reason: str
) -> None:
    # GIVEN Shopify's example refund with one implausible value
    payload = _set(shopify_payload("2025-01/refund_2.json")["refund"], path, value)
    # WHEN it is parsed THEN it is refused, the first problem naming the field
    with pytest.raises(ValidationError) as refused:
        parse_refund(payload)
    assert first_error(refused.value).startswith(reason)


def test_a_refunds_signed_adjustments_and_a_zero_quantity_row_are_still_read(shopify_payload: Any) -> None:
    # GIVEN a refund with a shipping adjustment (negative, from the order's side) and an amount-only row of 0 pieces
    payload = shopify_payload("2025-01/refund_2.json")["refund"]
    payload["order_adjustments"] = [{"kind": "shipping_refund", "amount": "-5.00", "tax_amount": "-1.25"}]
    payload = _set(payload, "refund_line_items.0.quantity", 0)
    # WHEN it is parsed and its credit worked out THEN nothing is refused
    refund = parse_refund(payload)
    assert any(line.is_shipping for line in credit_lines(refund, taxes_included=True))


# ---- property-based: no value makes the parsers fail any other way ------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["1e400", "-0", "NaN", "Infinity", "0.0000001", "12.50", "DKK", "", "\x00", "\ud800"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ORDER_FIELDS = [
    "id",
    "name",
    "currency",
    "order_number",
    "taxes_included",
    "total_price",
    "total_tax",
    "customer",
    "billing_address",
    "shipping_address",
    "line_items",
    "shipping_lines",
    "line_items.0.id",
    "line_items.0.quantity",
    "line_items.0.price",
    "line_items.0.sku",
    "line_items.0.title",
    "line_items.0.tax_lines",
    "line_items.0.tax_lines.0.rate",
    "line_items.0.tax_lines.0.price",
    "line_items.0.discount_allocations",
    "line_items.0.total_discount",
    "line_items.0.variant_id",
]


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(ORDER_FIELDS), JSON_VALUES), min_size=1, max_size=4))
def test_any_value_in_any_order_field_is_read_or_refused_never_a_crash(
    fixture_order: dict[str, Any], changes: list[tuple[str, Any]]
) -> None:
    # GIVEN Shopify's example order with arbitrary JSON values in its mapped fields
    payload = fixture_order
    for path, value in changes:
        try:
            payload = _set(payload, path, value)
        except (IndexError, KeyError, TypeError):  # a path through a value replaced before: leave it
            continue
    # WHEN it is parsed and mapped
    try:
        order = to_canonical(parse_order(payload), "FRAGT")
    except ValidationError as refused:
        # THEN either it is refused, naming a field ...
        assert first_error(refused).split(":", 1)[0]
        return
    # ... or what was read is plausible: lines with whole positive quantities and finite, non-negative amounts
    assert all(line.quantity >= 1 for line in order.lines if not line.is_shipping)
    assert all(line.unit_price_excl_vat.is_finite() and line.unit_price_excl_vat >= 0 for line in order.lines)
    assert order.total.is_finite() and Decimal(0) <= order.total


REFUND_FIELDS = [
    "id",
    "order_id",
    "refund_line_items",
    "transactions",
    "order_adjustments",
    "refund_shipping_lines",
    "refund_line_items.0.quantity",
    "refund_line_items.0.subtotal",
    "refund_line_items.0.total_tax",
    "refund_line_items.0.line_item",
    "refund_line_items.0.line_item.tax_lines",
]


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(REFUND_FIELDS), JSON_VALUES), min_size=1, max_size=3))
def test_any_value_in_a_refund_is_read_or_refused_never_a_crash(
    shopify_payload: Any, changes: list[tuple[str, Any]]
) -> None:
    # GIVEN Shopify's example refund with arbitrary JSON values in its fields
    payload = shopify_payload("2025-01/refund_2.json")["refund"]
    for path, value in changes:
        try:
            payload = _set(payload, path, value)
        except (IndexError, KeyError, TypeError):  # a path through a value replaced before: leave it
            continue
    # WHEN it is parsed and its credit worked out THEN it is read or refused with a ValidationError, nothing else
    try:
        refund = parse_refund(payload)
    except ValidationError:
        return
    for taxes_included in (True, False):
        credit_lines(refund, taxes_included)
        credited_total(refund, taxes_included)
