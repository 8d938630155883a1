"""PeakWMS's records and webhook payloads read leniently from the fact sheet's own examples (reference/peakwms.md),
and drafts written as PeakWMS's bodies. Webhook payloads missing what names their subject are refused naming it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossdock.connectors.peakwms.shapes import (
    EVENT_NAMES,
    EVENTS,
    HOLD_NO_STOCK,
    ON_HOLD,
    PAYMENT_AUTHORIZED,
    Address,
    EanUpdated,
    OrderPacked,
    OrderRefunded,
    PeakProduct,
    PeakSalesOrder,
    ProductDraft,
    PurchaseOrderClosed,
    SalesOrderDraft,
    SalesOrderLine,
    StockAdjusted,
    StockLevel,
    product_body,
    sales_order_body,
)
from crossdock.connectors.peakwms.webhook_events import event_number, topic
from crossdock.errors import PermanentError


def test_the_twelve_events_by_name_and_number() -> None:
    assert len(EVENTS) == 12 and set(EVENTS.values()) == set(range(100, 112))
    assert EVENTS["stock_adjust"] == 100 and EVENTS["pick_order_packed"] == 102 and EVENTS["order_refunded"] == 104
    assert EVENT_NAMES[103] == "inbound_order_closed"
    assert topic("stock_adjust") == "peakwms/stock_adjust"
    assert [event_number(v) for v in (100, "101", "PickOrderPacked", "order_refunded", 99, True, "x")] == [
        100, 101, 102, 104, None, None, None,
    ]  # fmt: skip


def test_the_sheets_product_example() -> None:
    product = PeakProduct.parse(
        {"id": 17, "productId": "8011", "variantId": "44201", "itemNumber": "MUG-1", "description": "Mug",
         "ean": "5701234567890", "countryOfOrigin": "DK", "customsTariffs": [{"code": "691200"}],
         "costPricePiece": 30.0, "salesPricePerPiece": 63.2, "availableToSell": "4"}
    )  # fmt: skip
    assert (product.id, product.key, product.item_number) == ("17", ("8011", "44201"), "MUG-1")
    assert product.customs_tariffs == ("691200",) and product.sales_price_per_piece == Decimal("63.2")
    assert product.available_to_sell == Decimal(4)


def test_ids_as_numbers_are_kept_as_text() -> None:
    assert PeakProduct.parse({"productId": 8011, "variantId": 44201.0}).key == ("8011", "44201")


def test_a_product_body_leaves_out_what_the_draft_does_not_set() -> None:
    draft = ProductDraft("8011", "44201", item_number="MUG-1", customs_tariff="691200", weight=Decimal("0.350"))
    assert product_body(draft, "17") == {
        "id": 17, "productId": "8011", "variantId": "44201", "itemNumber": "MUG-1",
        "customsTariffs": [{"code": "691200"}], "weight": 0.35,
    }  # fmt: skip


def test_a_sales_order_body_and_its_answer() -> None:
    draft = SalesOrderDraft(
        order_id="6100000001",
        order_number="#1001",
        lines=(SalesOrderLine("13000001", "8011", "44201", 2, sales_price_piece=Decimal("50.56")),),
        shipping_address=Address(customer_name="Ida Jensen", address1="Vestergade 1", postal_code="8000",
                                 city="Aarhus", country="DK", email="ida@example.dk"),
        payment_status=PAYMENT_AUTHORIZED,
        sales_currency="DKK",
        shipping_cost=Decimal("39"),
        warehouse="Main",
    )  # fmt: skip
    body = sales_order_body(draft)
    assert body["orderId"] == "6100000001" and body["paymentStatus"] == 1 and body["shippingCost"] == 39
    assert body["orderLines"] == [
        {"orderLineId": "13000001", "productId": "8011", "variantId": "44201", "quantityRequested": 2,
         "salesPricePiece": 50.56}
    ]  # fmt: skip
    assert body["shippingAddress"]["postalCode"] == "8000" and "billingAddress" not in body
    assert body["warehouseName"] == "Main"
    answer = PeakSalesOrder.parse({**body, "id": 9, "state": 7, "onHoldReason": 7, "orderLines": [
        {**body["orderLines"][0], "state": 4}]})  # fmt: skip
    assert (answer.id, answer.state, answer.on_hold_reason, answer.lines[0].state) == ("9", ON_HOLD, HOLD_NO_STOCK, 4)


def test_states_by_name_are_read_too() -> None:
    # [guess] an API that serialises enums by name
    answer = PeakSalesOrder.parse({"orderId": "1", "state": "OnHold", "onHoldReason": "NoStock"})
    assert (answer.state, answer.on_hold_reason) == (ON_HOLD, HOLD_NO_STOCK)


def test_a_stock_level_row() -> None:
    row = StockLevel.parse(
        {
            "id": 3,
            "productId": "8011",
            "variantId": "44201",
            "itemNumber": "MUG-1",
            "quantity": 12,
            "reservedQuantity": 2,
        }
    )
    assert (row.quantity, row.reserved_quantity, row.id) == (12, 2, "3")


def test_the_sheets_stock_adjust_payload_carries_the_new_total() -> None:
    adjusted = StockAdjusted.parse(
        {"productId": "8011", "variantId": "44201", "adjustedQuantity": -2, "quantity": 10, "warehouseHostId": "1",
         "stockHostIdentifier": None, "lotNumber": None, "adjustmentReason": "Count", "stockItemId": 55}
    )  # fmt: skip
    assert (adjusted.quantity, adjusted.adjusted_quantity, adjusted.stock_item_id) == (10, -2, "55")


def test_a_stock_adjust_without_its_total_is_refused_naming_it() -> None:
    with pytest.raises(PermanentError, match="quantity"):
        StockAdjusted.parse({"productId": "8011", "variantId": "44201", "adjustedQuantity": -2})


def test_the_sheets_pick_order_packed_payload() -> None:
    packed = OrderPacked.parse(
        {"orderId": "6100000001", "pickOrderId": 77, "paymentCaptured": False, "trackingNumber": "00370712345",
         "trackingUrl": "https://track.example/00370712345", "orderLines": [{"orderLineId": "13000001", "quantity": 1}]}
    )  # fmt: skip
    assert packed.lines == (("13000001", 1),) and packed.pick_order_id == "77" and packed.payment_captured is False


def test_a_packed_order_without_its_order_id_is_refused_naming_it() -> None:
    with pytest.raises(PermanentError, match="orderId"):
        OrderPacked.parse({"pickOrderId": 77, "orderLines": []})


def test_guessed_payloads_ean_refund_and_purchase_order() -> None:
    assert EanUpdated.parse({"productId": 8011, "variantId": "44201", "ean": "5701234567890"}).ean == "5701234567890"
    refund = OrderRefunded.parse(
        {"orderId": "61", "amount": "25.50", "orderLines": [{"orderLineId": "1", "quantity": 1}]}
    )
    assert refund.amount == Decimal("25.50") and refund.lines == (("1", 1),)
    assert OrderRefunded.parse({"orderId": "61"}).amount is None
    with pytest.raises(PermanentError):
        OrderRefunded.parse({"orderId": "61", "amount": -1})
    closed = PurchaseOrderClosed.parse(
        {"purchaseOrderId": 4, "number": "PO-4", "orderLines": [{"productId": "8011", "variantId": "44201",
         "quantityReceived": 10, "averageCostPrice": 31.25}]}
    )  # fmt: skip
    assert closed.purchase_order_id == "4" and closed.lines[0].average_cost_price == Decimal("31.25")
    assert closed.raw["number"] == "PO-4"
