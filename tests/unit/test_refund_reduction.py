"""A refund of an order without a booked invoice: what it may do to the Rackbeat order, and the order's lines after
it (`integrations.rackbeat_shopify.refund_reduction`), from Shopify's own refund payloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.connectors.shopify.refunds import CreditLine, credit_lines, parse_refund
from crossdock.errors import PermanentError
from crossdock.integrations.rackbeat_shopify.refund_reduction import RefundPath, path_for, reduced_lines
from crossdock.integrations.rackbeat_shopify.refund_waits import ready_refunds


def _line(item: str, quantity: int, price: str, name: str = "", **fields: Any) -> dict[str, Any]:
    """An order line as Rackbeat shows it (its own id and amounts included)."""
    return {
        "id": 91,
        "item_id": item,
        "name": name or item,
        "quantity": quantity,
        "line_price": price,
        "discount_percentage": 0,
        "vat_percentage": 6,
        "location_id": None,
        "line_total": "0.00",
        **fields,
    }


def _order(**flags: bool) -> dict[str, Any]:
    base = {"is_booked": False, "is_shipped": False, "is_partly_shipped": False, "is_invoiced": False}
    return {**base, "is_cancelled": False, **flags}


@pytest.mark.parametrize(
    ("order", "invoice", "shipments", "path", "why"),
    [
        (_order(), None, False, RefundPath.REDUCE, ""),
        (_order(is_booked=True), None, False, RefundPath.REDUCE, ""),
        (_order(is_booked=True), None, True, RefundPath.WAIT, "has a shipment"),
        (_order(is_booked=True, is_shipped=True), None, True, RefundPath.WAIT, "is shipped"),
        (_order(is_booked=True, is_partly_shipped=True), None, True, RefundPath.WAIT, "is shipped"),
        (_order(is_booked=True, is_invoiced=True), {"number": 7, "is_booked": False}, False, RefundPath.WAIT, ""),
        (_order(is_booked=True, is_invoiced=True), {"number": 7, "is_booked": True}, True, RefundPath.CREDIT, ""),
        (_order(is_booked=True, is_cancelled=True), None, False, RefundPath.CANCELLED, ""),
    ],
)
def test_what_a_refund_may_do_follows_what_rackbeat_still_allows(
    order: dict[str, Any], invoice: dict[str, Any] | None, shipments: bool, path: RefundPath, why: str
) -> None:
    # GIVEN a Rackbeat order in some state WHEN a refund asks what it may do THEN the path follows what Rackbeat allows
    state = path_for(order, invoice, shipments)
    assert state.path is path
    assert state.invoice == (7 if path is RefundPath.CREDIT else None)
    if why:
        assert state.why == why
    if invoice is not None and not invoice["is_booked"]:
        assert state.why == "has an invoice draft"


def test_refunded_units_come_off_their_lines_and_a_line_at_zero_goes(shopify_payload: Any) -> None:
    # GIVEN Shopify's example refund (one IPOD2008BLACK, one IPOD2008GREEN) and an order holding 3 black and 1 green
    refund = parse_refund(shopify_payload("2025-01/refund_1.json"))
    refunded = credit_lines(refund, taxes_included=False)
    current = [
        _line("IPOD2008BLACK", 3, "195.66", "IPod Nano - 8gb"),
        _line("IPOD2008GREEN", 1, "195.67", "IPod Nano - 8gb"),
        _line("FRAGT", 1, "40"),
    ]
    # WHEN the lines are reduced
    lines = reduced_lines(current, refunded, [line.sku for line in refunded], "#1001")
    # THEN 2 black units stay, the green line is gone, shipping is untouched, and Rackbeat's own fields are not sent
    assert [(line["item_id"], line["quantity"]) for line in lines] == [("IPOD2008BLACK", 2), ("FRAGT", 1)]
    assert all("id" not in line and "line_total" not in line and "location_id" not in line for line in lines)


def test_a_refund_larger_than_what_the_order_still_holds_is_refused_naming_the_line(shopify_payload: Any) -> None:
    # GIVEN an order changed in Rackbeat so that it no longer holds the refunded green unit
    refund = parse_refund(shopify_payload("2025-01/refund_1.json"))
    refunded = credit_lines(refund, taxes_included=False)
    current = [_line("IPOD2008BLACK", 1, "195.66")]
    # WHEN / THEN the reduction is refused, naming the item and what the order holds (nothing is guessed)
    with pytest.raises(PermanentError, match=r"IPOD2008GREEN.*holds only 0 of it"):
        reduced_lines(current, refunded, [line.sku for line in refunded], "#1001")


def _shipping(net: str) -> CreditLine:
    return CreditLine("", "Shipping", 1, Decimal(net), Decimal("0.25"), restock=False, is_shipping=True)


def test_refunded_shipping_lowers_the_shipping_line_and_all_of_it_removes_the_line() -> None:
    # GIVEN an order with 40.00 (net) shipping on item FRAGT
    current = [_line("SKU-1", 1, "100"), _line("FRAGT", 1, "40")]
    # WHEN 10.00 of the shipping is refunded THEN the shipping line is 30.00
    part = reduced_lines(current, [_shipping("10")], ["FRAGT"], "#1001")
    assert [(line["item_id"], line["line_price"]) for line in part] == [("SKU-1", "100"), ("FRAGT", "30")]
    # WHEN all of it is refunded THEN the line goes
    whole = reduced_lines(current, [_shipping("40")], ["FRAGT"], "#1001")
    assert [line["item_id"] for line in whole] == ["SKU-1"]


def test_a_line_on_the_fallback_item_is_found_by_its_title() -> None:
    # GIVEN two lines booked on the fallback item under their own titles (orders.unmapped_lines = fallback)
    current = [_line("DIV", 1, "50", "Gift wrap (no SKU)"), _line("DIV", 2, "20", "Sticker (no SKU)")]
    sticker = CreditLine("", "Sticker", 1, Decimal("20"), Decimal("0.25"), restock=False, unmapped="no SKU")
    # WHEN one sticker is refunded THEN it comes off the sticker line, not the gift wrap
    lines = reduced_lines(current, [sticker], ["DIV"], "#1001")
    assert [(line["name"], line["quantity"]) for line in lines] == [("Gift wrap (no SKU)", 1), ("Sticker (no SKU)", 1)]


class _WaitingTable:
    """The connection's waiting-refunds item, as GetItem returns it."""

    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        self.entries = entries

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": {"waiting": self.entries}}


class _Orders:
    """Rackbeat's orders as reads see them; a number it does not know is answered 404."""

    def __init__(self, orders: dict[int, dict[str, Any]], invoices: dict[int, dict[str, Any]]) -> None:
        self.orders, self.invoices = orders, invoices

    def get(self, path: str, **_: Any) -> dict[str, Any]:
        number = int(path.split("/")[1])
        if number not in self.orders:
            raise PermanentError(f"Rackbeat answered 404 on GET {path}")
        if path.endswith("/shipments"):
            return {"order_shipments": [{"id": 1}]}
        return {"order": self.orders[number]}

    def find_one(self, path: str, plural: str, field: str, value: str) -> dict[str, Any] | None:
        return self.invoices.get(int(value))


def test_the_sweep_sends_on_only_refunds_whose_order_can_take_them_now() -> None:
    # GIVEN three waiting refunds: one whose order is still shipped without invoice, one whose invoice is now
    # booked, and one whose order is gone from Rackbeat
    def waiting(since: int, order: int) -> dict[str, Any]:
        return {"order_id": "9", "rackbeat_order": order, "event_sk": "EVT#x", "since": since}

    table = _WaitingTable({"r3": waiting(30, 3), "r1": waiting(10, 1), "r2": waiting(20, 2)})
    rackbeat = _Orders(
        {1: _order(is_booked=True, is_shipped=True), 2: _order(is_booked=True, is_shipped=True, is_invoiced=True)},
        {2: {"number": 70, "is_booked": True}},
    )
    # WHEN the sweep looks at them
    found = ready_refunds("c-1", table, rackbeat)  # type: ignore[arg-type]
    # THEN the invoiced one and the gone one are sent on, longest waiting first (the gone one to end needs_attention
    # saying why)
    assert found.looked_at == 3
    assert [refund for refund, _ in found.ready] == ["r2", "r3"]
