"""The PeakWMS connector's endpoint modules against the simulator in process (reference/peakwms.md "Endpoints used",
"Idempotency handles"): products upserted once per (productId, variantId) — a stale listing's create adopted, never
two —, sales orders created once per orderId (looked up first; a refused duplicate adopted, also where PeakWMS
cannot read one by orderId), held OnHold(NoStock) until stock, cancelled with 4148 read as "already" only when a
re-read shows it cancelled, stock levels, sales history in batches of 500, and webhook registrations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from peakwms_fakes import CUSTOMER, Warehouse, order, variant

from crossdock import pacing
from crossdock.connectors.peakwms import products as peak_products
from crossdock.connectors.peakwms.client import PeakwmsRejected
from crossdock.connectors.peakwms.products import delete_product, product_variants, products, upsert_product
from crossdock.connectors.peakwms.sales_orders import (
    cancel_sales_order,
    create_sales_order,
    delete_sales_order,
    get_sales_order,
    update_sales_order,
)
from crossdock.connectors.peakwms.shapes import (
    HOLD_NO_STOCK,
    LINE_NO_STOCK,
    ON_HOLD,
    PACKED,
    RELEASED,
    Address,
    SalesHistoryRow,
    Vendor,
)
from crossdock.connectors.peakwms.stock import HISTORY_BATCH, record_sales_history, stock_levels, stock_of
from crossdock.connectors.peakwms.webhooks import delete_webhook, list_webhooks, register_webhook


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    found = Warehouse()
    monkeypatch.setattr(pacing, "clock", found.clock)
    return found


# ---- products ------------------------------------------------------------------------------------------------


def test_a_variant_is_created_once_and_then_updated(warehouse: Warehouse) -> None:
    client = warehouse.client()
    # WHEN a variant is upserted twice, the second time with a new description and EAN
    first, created = upsert_product(
        client, variant(1, vendors=(Vendor("V1", "Nordic Clay"),), cost_price_piece=Decimal("30.5"))
    )
    again, created_again = upsert_product(client, variant(1, description="Mug, blue", ean="5701234567890"))
    # THEN it was created the first time only, PeakWMS holds one record with both writes (PUT keeps what it omits)
    assert (created, created_again) == (True, False)
    assert first.id is not None and again.id == first.id
    (held,) = warehouse.sim.products(CUSTOMER)
    assert (held["productId"], held["variantId"], held["itemNumber"]) == ("8000", "44001", "MUG-1")
    assert held["description"] == "Mug, blue" and held["ean"] == "5701234567890"
    assert held["vendors"] == [{"name": "V1", "vendorName": "Nordic Clay"}] and float(held["costPricePiece"]) == 30.5


def test_a_listing_saves_the_look_up_and_a_stale_one_is_adopted(warehouse: Warehouse) -> None:
    client = warehouse.client()
    upsert_product(client, variant(2))
    listing = {p.key: p for p in products(client)}
    before = client.calls
    # WHEN the listed variant is upserted with the listing THEN one call (the PUT), no look-up
    _, created = upsert_product(client, variant(2, description="new words"), known=listing)
    assert created is False and client.calls - before == 1
    # WHEN a listing from before the variant existed is used THEN PeakWMS's refused duplicate is adopted: one record
    _, created = upsert_product(client, variant(2, description="newer words"), known={})
    assert created is False
    assert [p["description"] for p in warehouse.sim.products(CUSTOMER)] == ["newer words"]


def test_a_variant_peakwms_already_holds_as_drafted_is_not_written_again(warehouse: Warehouse) -> None:
    client = warehouse.client()
    draft = variant(4, vendors=(Vendor("V1", "Nordic Clay"),), customs_tariff="691200", weight=Decimal("0.350"))
    upsert_product(client, draft)
    listing = {p.key: p for p in products(client)}
    before = client.calls
    # WHEN the same draft is upserted again with a listing THEN no call is made
    held, created = upsert_product(client, draft, known=listing)
    assert created is False and held == listing[draft.product_id, draft.variant_id]
    assert client.calls == before
    # WHEN one field the draft sets differs THEN it is written (and fields it leaves unset do not count)
    upsert_product(client, variant(4, customs_tariff="691210"), known=listing)
    assert client.calls == before + 1
    (stored,) = warehouse.sim.products(CUSTOMER)
    assert stored["customsTariffs"] == [{"code": "691210"}] and stored["vendors"] == [
        {"name": "V1", "vendorName": "Nordic Clay"}
    ]


def test_a_create_refused_for_another_reason_is_raised(warehouse: Warehouse) -> None:
    with pytest.raises(PeakwmsRejected) as refused:
        upsert_product(warehouse.client(), variant(3, country_of_origin="Denmark"))
    assert "countryOfOrigin" in refused.value.message
    assert warehouse.sim.products(CUSTOMER) == []


def test_variants_of_a_product_and_of_an_unknown_one(warehouse: Warehouse) -> None:
    client = warehouse.client()
    for number in (10, 11, 12):
        upsert_product(client, variant(number))
    assert sorted(p.variant_id or "" for p in product_variants(client, "8001")) == ["44010", "44011", "44012"]
    assert product_variants(client, "9999") == []
    warehouse.sim.rules.unknown_product_empty_list = True  # [guess] the other answer to an unknown product
    assert product_variants(client, "9999") == []


def test_a_deleted_variant_is_gone_and_deleting_it_again_is_no_error(warehouse: Warehouse) -> None:
    client = warehouse.client()
    upsert_product(client, variant(20))
    upsert_product(client, variant(21))
    assert delete_product(client, "8002", "44020") is True
    assert delete_product(client, "8002", "44020") is False
    assert [p["variantId"] for p in warehouse.sim.products(CUSTOMER)] == ["44021"]


def test_find_product_reads_only_the_products_variants(warehouse: Warehouse) -> None:
    client = warehouse.client()
    upsert_product(client, variant(30))
    before = client.calls
    assert peak_products.find_product(client, "8003", "44030") is not None
    assert client.calls - before == 1


# ---- sales orders --------------------------------------------------------------------------------------------


def test_an_order_without_stock_is_held_until_the_stock_comes(warehouse: Warehouse) -> None:
    client = warehouse.client()
    mug = variant(40)
    upsert_product(client, mug)
    # WHEN an order of 2 mugs is created while PeakWMS has none
    created, made = create_sales_order(
        client, order("5001", (mug, 2), shipping_address=Address(customer_name="Ida", country="DK"))
    )
    # THEN it is OnHold for NoStock with its line short
    assert made is True and created.order_id == "5001"
    assert (created.state, created.on_hold_reason) == (ON_HOLD, HOLD_NO_STOCK)
    assert [line.state for line in created.lines] == [LINE_NO_STOCK]
    # WHEN the stock arrives THEN PeakWMS releases it for picking
    warehouse.sim.receive_stock(CUSTOMER, mug.product_id, mug.variant_id, 5)
    released = get_sales_order(client, "5001")
    assert released is not None and released.state == RELEASED


def test_an_order_is_created_once_however_often_it_is_sent(warehouse: Warehouse) -> None:
    client = warehouse.client()
    mug = variant(41)
    upsert_product(client, mug)
    _, first = create_sales_order(client, order("5002", (mug, 1)))
    again, second = create_sales_order(client, order("5002", (mug, 1)))
    assert (first, second) == (True, False) and again.order_id == "5002"
    assert len(warehouse.sim.sales_orders(CUSTOMER)) == 1


def test_a_refused_duplicate_is_adopted_where_peakwms_cannot_read_an_order_by_its_order_id(
    warehouse: Warehouse,
) -> None:
    # GIVEN a PeakWMS without `GET /salesOrder/{orderId}` [guess], and an order made by an earlier attempt
    client = warehouse.client()
    mug = variant(42)
    upsert_product(client, mug)
    create_sales_order(client, order("5003", (mug, 1)))
    warehouse.sim.rules.get_order_by_order_id = False
    assert get_sales_order(client, "5003") is None
    # WHEN it is created again THEN PeakWMS refuses the duplicate and the listed order is adopted: still one
    adopted, created = create_sales_order(client, order("5003", (mug, 1)))
    assert created is False and adopted.order_id == "5003"
    assert len(warehouse.sim.sales_orders(CUSTOMER)) == 1


def test_an_update_changes_the_order(warehouse: Warehouse) -> None:
    client = warehouse.client()
    mug = variant(43)
    upsert_product(client, mug)
    create_sales_order(client, order("5004", (mug, 1)))
    updated = update_sales_order(client, order("5004", (mug, 3), comment="ring the bell"))
    assert [line.quantity_requested for line in updated.lines] == [3]
    held = warehouse.sim.sales_order(CUSTOMER, "5004")
    assert held is not None and held["comment"] == "ring the bell"


def test_cancelling_twice_is_one_cancellation(warehouse: Warehouse) -> None:
    client = warehouse.client()
    mug = variant(44)
    upsert_product(client, mug)
    create_sales_order(client, order("5005", (mug, 1)))
    # WHEN the order is cancelled twice THEN the first call cancelled it and the second met 4148: nothing to do
    assert cancel_sales_order(client, "5005") is True
    assert cancel_sales_order(client, "5005") is False
    cancelled = get_sales_order(client, "5005")
    assert cancelled is not None and cancelled.cancelled


def test_a_4148_for_a_packed_order_is_a_refusal_naming_its_state(warehouse: Warehouse) -> None:
    """GIVEN a sales order PeakWMS has packed (it answers a cancel with errorCode 4148 too, naming state PACKED)
    WHEN it is cancelled THEN the re-read shows it Packed: `PeakwmsRejected` with PeakWMS's status and errorCode and
    "it is Packed", never "cancelled already"; the order stays packed."""
    client = warehouse.client()
    mug = variant(46)
    upsert_product(client, mug)
    warehouse.sim.receive_stock(CUSTOMER, mug.product_id, mug.variant_id, 5)
    create_sales_order(client, order("5007", (mug, 1)))
    warehouse.sim.pack(CUSTOMER, "5007", tracking_number="00340434161234567890")

    with pytest.raises(PeakwmsRejected) as refused:
        cancel_sales_order(client, "5007")

    assert (refused.value.status, refused.value.error_code) == (400, "4148")
    assert refused.value.message == "it is Packed" and "5007" in refused.value.reason
    packed = get_sales_order(client, "5007")
    assert packed is not None and packed.state == PACKED


def test_cancelling_an_unknown_order_is_raised(warehouse: Warehouse) -> None:
    with pytest.raises(PeakwmsRejected) as refused:
        cancel_sales_order(warehouse.client(), "404404")
    assert refused.value.status == 404


def test_a_deleted_order_is_gone(warehouse: Warehouse) -> None:
    client = warehouse.client()
    mug = variant(45)
    upsert_product(client, mug)
    create_sales_order(client, order("5006", (mug, 1)))
    assert delete_sales_order(client, "5006") is True
    assert delete_sales_order(client, "5006") is False
    assert get_sales_order(client, "5006") is None


# ---- stock and sales history ---------------------------------------------------------------------------------


def test_stock_levels_and_one_variants_stock(warehouse: Warehouse) -> None:
    client = warehouse.client()
    mugs = [variant(n) for n in (50, 51)]
    for mug in mugs:
        upsert_product(client, mug)
    warehouse.sim.receive_stock(CUSTOMER, mugs[0].product_id, mugs[0].variant_id, 7)
    warehouse.sim.receive_stock(CUSTOMER, mugs[1].product_id, mugs[1].variant_id, 2)
    create_sales_order(client, order("5007", (mugs[0], 3)))
    levels = {(s.product_id, s.variant_id): s for s in stock_levels(client)}
    assert levels[("8005", "44050")].quantity == 7 and levels[("8005", "44050")].reserved_quantity == 3
    assert levels[("8005", "44051")].quantity == 2
    one = stock_of(client, "8005", "44050")
    assert one is not None and (one.quantity, one.reserved_quantity, one.item_number) == (7, 3, "MUG-50")
    assert stock_of(client, "9999", "1") is None


def test_sales_history_goes_in_batches_of_500_and_a_repeat_replaces(warehouse: Warehouse) -> None:
    # GIVEN 1,200 (variant, day) rows
    client = warehouse.client()
    mugs = [variant(n) for n in range(60, 64)]
    for mug in mugs:
        upsert_product(client, mug)
    start = date(2026, 1, 1)
    rows = [
        SalesHistoryRow(m.product_id, m.variant_id, m.item_number, start + timedelta(days=d), d % 5 + 1)
        for m in mugs
        for d in range(300)
    ]
    before = client.calls
    # WHEN they are recorded, twice THEN three calls each time and PeakWMS holds each row once
    assert record_sales_history(client, rows) == 1200
    assert client.calls - before == -(-1200 // HISTORY_BATCH)
    record_sales_history(client, rows)
    assert len(warehouse.sim.sales_history(CUSTOMER)) == 1200


# ---- webhooks ------------------------------------------------------------------------------------------------


def test_webhooks_are_registered_listed_and_deleted(warehouse: Warehouse) -> None:
    client = warehouse.client()
    url = "https://hooks.example/webhooks/peakwms/c-1/stock_adjust?key=k"
    made = register_webhook(client, 100, url)
    assert made["id"] and made["name"] == 100 and made["url"] == url
    assert list_webhooks(client) == [made]
    assert delete_webhook(client, made["id"]) is True
    assert delete_webhook(client, made["id"]) is False
    assert list_webhooks(client) == []


def test_without_a_list_endpoint_the_listing_is_none(warehouse: Warehouse) -> None:
    warehouse.sim.rules.webhook_list = False  # [guess] P1 uses no list
    assert list_webhooks(warehouse.client()) is None
