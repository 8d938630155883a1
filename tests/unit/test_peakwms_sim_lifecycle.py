"""The PeakWMS simulator's order life cycle and the webhooks it sends (fact sheet "Behaviours a simulator must
model" 2–4 and 6): a held order released once every line is in stock, partial packing as several pick orders each
announced with only its lines, shipping, EAN changes, purchase orders closing with a new average cost, refunds full
and partial, sales history, and delivery as PeakWMS does it — the bare data object to every URL registered for the
event, unsigned, only while the message's sending is on, with duplicates, retries and an older stock total arriving
after a newer one under fault injection."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from test_peakwms_sim import CUSTOMER, ROOT, Warehouse, open_warehouse, refusal, sales_order

HOOK = "https://crossdock.test/webhooks/peakwms/conn-1/{event}?key=k"


def register(house: Warehouse, *events: int, url: str = HOOK) -> None:
    for event in events:
        house.ok("POST", "webhook", {"name": event, "url": url.format(event=event)})


def bodies(house: Warehouse, event: int) -> list[Any]:
    """The decoded bodies delivered to the URLs of `event`, in delivery order."""
    return [body for url, body in house.deliveries() if f"/{event}?" in url]


def order_of(house: Warehouse, order_id: str) -> Any:
    found = house.sim.sales_order(CUSTOMER, order_id)
    assert found is not None, order_id
    return found


def two_line_order(house: Warehouse, order_id: str = "5001") -> Any:
    house.add_product("44201", stock=10)
    house.add_product("44202", stock=10)
    return house.ok("POST", "salesOrder", sales_order(order_id, lines=[("L1", "44201", 3), ("L2", "44202", 2)]))


# ---- the hold ----------------------------------------------------------------------------------------------------


def test_a_held_order_is_released_only_when_receiving_makes_every_line_available() -> None:
    """GIVEN an order of 2 mugs and 1 plate held for want of stock WHEN the mugs arrive THEN it stays held (the
    plate is short); WHEN the plate arrives THEN it is Released, both lines reserved, and 109 says so."""
    house = open_warehouse()
    register(house, 100, 109)
    house.add_product("44201")
    house.add_product("44202")
    held = house.ok("POST", "salesOrder", sales_order(lines=[("L1", "44201", 2), ("L2", "44202", 1)]))
    assert (held["state"], [line["state"] for line in held["orderLines"]]) == (7, [4, 4])

    house.sim.receive_stock(CUSTOMER, "8011", "44201", 5)
    still = house.sim.sales_order(CUSTOMER, "5001")
    assert still is not None and still["state"] == 7 and [line["state"] for line in still["orderLines"]] == [0, 4]

    house.sim.receive_stock(CUSTOMER, "8011", "44202", 1)
    released = house.sim.sales_order(CUSTOMER, "5001")
    assert released is not None and (released["state"], released["onHoldReason"]) == (1, None)
    assert [(r["variantId"], r["quantity"], r["reservedQuantity"]) for r in house.sim.stock(CUSTOMER)] == [
        ("44201", 5, 2),
        ("44202", 1, 1),
    ]
    house.sim.deliver()
    assert [(b["orderId"], b["state"]) for b in bodies(house, 109)] == [("5001", 7), ("5001", 1)]
    assert [b["quantity"] for b in bodies(house, 100)] == [5, 1]


def test_the_oldest_held_order_that_fits_is_released_first_and_a_cancel_frees_stock_for_the_next() -> None:
    """GIVEN two held orders of 2 each WHEN 3 arrive THEN the older is released and the younger stays held; WHEN the
    older is cancelled THEN the younger is released from what that freed."""
    house = open_warehouse()
    house.add_product("44201")
    house.ok("POST", "salesOrder", sales_order("A"))
    house.ok("POST", "salesOrder", sales_order("B"))
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 3)
    assert [o["state"] for o in house.sim.sales_orders(CUSTOMER)] == [1, 7]
    house.ok("PUT", "salesOrder/A/cancel")
    assert [o["state"] for o in house.sim.sales_orders(CUSTOMER)] == [5, 1]


def test_adjusting_stock_counts_down_but_never_below_what_released_orders_hold() -> None:
    """GIVEN 5 mugs, 2 reserved WHEN a count takes 3 away THEN 2 are left and a 100 says so; WHEN it would take
    one more THEN it is refused naming quantity and nothing changes."""
    house = open_warehouse()
    register(house, 100)
    house.add_product(stock=5)
    house.ok("POST", "salesOrder", sales_order())
    row = house.sim.adjust_stock(CUSTOMER, "8011", "44201", -3, reason="Broken")
    assert (row["quantity"], row["reservedQuantity"]) == (2, 2)
    with pytest.raises(ValueError, match="quantity"):
        house.sim.adjust_stock(CUSTOMER, "8011", "44201", -1)
    house.sim.deliver()
    assert [(b["adjustedQuantity"], b["quantity"], b["adjustmentReason"]) for b in bodies(house, 100)] == [
        (5, 5, "Goods received"),
        (-3, 2, "Broken"),
    ]


# ---- packing and shipping ----------------------------------------------------------------------------------------


def test_partial_packing_makes_a_pick_order_per_call_each_announced_with_only_its_lines() -> None:
    """GIVEN a released order of 3 + 2 WHEN 2 of L1 are packed, then the rest THEN two pick orders, two 102s each
    with only its lines and quantities (110 before each), the order Picked and then Packed only with the second;
    stock leaves the shelf and the reservation as it is packed."""
    house = open_warehouse()
    register(house, 102, 109, 110)
    two_line_order(house)

    first = house.sim.pack(CUSTOMER, "5001", {"L1": 2}, tracking_number="TT1", tracking_url="https://gls.test/TT1")
    assert order_of(house, "5001")["state"] == 1
    second = house.sim.pack(CUSTOMER, "5001")
    assert first["id"] != second["id"]
    assert order_of(house, "5001")["state"] == 3
    assert [(r["quantity"], r["reservedQuantity"]) for r in house.sim.stock(CUSTOMER)] == [(7, 0), (8, 0)]

    house.sim.deliver()
    packed = bodies(house, 102)
    assert packed == [
        {"orderId": "5001", "pickOrderId": first["id"], "paymentCaptured": False, "trackingNumber": "TT1",
         "trackingUrl": "https://gls.test/TT1", "orderLines": [{"orderLineId": "L1", "quantity": 2}]},
        {"orderId": "5001", "pickOrderId": second["id"], "paymentCaptured": False,
         "trackingNumber": second["trackingNumber"], "trackingUrl": second["trackingUrl"],
         "orderLines": [{"orderLineId": "L1", "quantity": 1}, {"orderLineId": "L2", "quantity": 2}]},
    ]  # fmt: skip
    assert [b["orderLines"] for b in bodies(house, 110)] == [p["orderLines"] for p in packed]
    events = [url.split("/")[-1].split("?")[0] for url, _ in house.deliveries()]
    assert events == ["109", "110", "102", "110", "109", "102", "109"]
    assert [b["state"] for b in bodies(house, 109)] == [1, 2, 3]  # released at creation, picked, packed

    shipped = house.sim.ship(CUSTOMER, "5001")
    assert shipped["state"] == 4
    snapshot = house.sim.snapshot()["customers"][0]["orders"]["5001"]
    assert snapshot["state"] == 4 and snapshot["packed"] == {"L1": 3, "L2": 2}


def test_packing_refuses_a_held_order_an_unknown_line_and_more_than_is_left() -> None:
    """GIVEN a held order and a released one WHEN packing is asked beyond what is possible THEN each is refused
    naming what is wrong and nothing is packed."""
    house = open_warehouse()
    two_line_order(house)
    house.ok("POST", "salesOrder", sales_order("HELD", lines=[("H1", "44201", 50)]))
    with pytest.raises(ValueError, match="ONHOLD"):
        house.sim.pack(CUSTOMER, "HELD")
    with pytest.raises(ValueError, match=r"lines\.L9"):
        house.sim.pack(CUSTOMER, "5001", {"L9": 1})
    with pytest.raises(ValueError, match=r"lines\.L2"):
        house.sim.pack(CUSTOMER, "5001", {"L2": 3})
    with pytest.raises(ValueError, match="nothing packed"):
        house.sim.ship(CUSTOMER, "5001")
    assert house.sim.pick_orders(CUSTOMER, "5001") == []


def test_a_packed_order_can_no_longer_be_changed_cancelled_or_deleted() -> None:
    """GIVEN an order partly packed WHEN it is PUT or DELETEd THEN 400; GIVEN it fully packed WHEN cancelled THEN 400
    errorCode 4148 naming state PACKED."""
    house = open_warehouse()
    created = two_line_order(house)
    house.sim.pack(CUSTOMER, "5001", {"L1": 1})
    refusal(house.call("PUT", "salesOrder/5001", sales_order(lines=[("L1", "44201", 1)])), 400)
    refusal(house.call("DELETE", f"salesOrder/{created['id']}"), 400)
    house.sim.pack(CUSTOMER, "5001")
    cancel = refusal(house.call("PUT", "salesOrder/5001/cancel"), 400)
    assert cancel["errorCode"] == "4148" and "PACKED" in cancel["message"]


def test_payment_captured_by_peakwms_is_said_in_the_packed_webhook_and_the_order() -> None:
    """GIVEN a released order WHEN it is packed with PeakWMS capturing THEN 102 says `paymentCaptured: true` and the
    order's paymentStatus is 2 Captured."""
    house = open_warehouse()
    register(house, 102)
    two_line_order(house)
    house.sim.pack(CUSTOMER, "5001", payment_captured=True)
    house.sim.deliver()
    assert bodies(house, 102)[0]["paymentCaptured"] is True
    assert order_of(house, "5001")["paymentStatus"] == 2


def test_a_capture_can_also_be_said_by_109_when_the_rule_reads_the_sheet_that_way() -> None:
    """GIVEN `payment_captured_via_109` WHEN part of an order is packed with PeakWMS capturing THEN a 109 with
    paymentStatus 2 follows the 102, though the order is still Released."""
    house = open_warehouse()
    register(house, 102, 109)
    two_line_order(house)
    house.sim.rules.payment_captured_via_109 = True
    house.sim.pack(CUSTOMER, "5001", {"L1": 1}, payment_captured=True)
    house.sim.deliver()
    assert [(b["state"], b["paymentStatus"]) for b in bodies(house, 109)] == [(1, 1), (1, 2)]


def test_packing_sends_a_stock_adjust_only_when_the_rule_says_so() -> None:
    """GIVEN `stock_adjust_on_pack` on WHEN 2 are packed THEN a 100 with -2 and the new total follows."""
    house = open_warehouse()
    register(house, 100)
    house.add_product(stock=5)
    house.ok("POST", "salesOrder", sales_order())
    house.sim.rules.stock_adjust_on_pack = True
    house.sim.pack(CUSTOMER, "5001")
    house.sim.deliver()
    assert [(b["adjustedQuantity"], b["quantity"]) for b in bodies(house, 100)] == [(5, 5), (-2, 3)]


# ---- products, purchase orders, refunds --------------------------------------------------------------------------


def test_an_ean_change_on_an_existing_variant_sends_101() -> None:
    """GIVEN a variant WHEN its EAN changes in PeakWMS THEN the product has it and 101 carries productId,
    variantId and ean (guess); an unknown variant or a non-numeric EAN is refused."""
    house = open_warehouse()
    register(house, 101)
    house.add_product()
    assert house.sim.change_ean(CUSTOMER, "8011", "44201", "5709999000011")["ean"] == "5709999000011"
    with pytest.raises(ValueError, match="product"):
        house.sim.change_ean(CUSTOMER, "8011", "nope", "5709999000011")
    with pytest.raises(ValueError, match="ean"):
        house.sim.change_ean(CUSTOMER, "8011", "44201", "abc")
    house.sim.deliver()
    assert bodies(house, 101) == [{"productId": "8011", "variantId": "44201", "ean": "5709999000011"}]


def test_closing_a_purchase_order_receives_its_goods_sets_the_average_cost_and_sends_103() -> None:
    """GIVEN a held order of 2 mugs WHEN a purchase order of 4 mugs closes at average cost 31.5 THEN the stock and
    the cost are there before 103 is sent, a 100 reports the new total, and the held order is released."""
    house = open_warehouse()
    register(house, 100, 103, 105)
    house.add_product()
    house.ok("POST", "salesOrder", sales_order())
    closed = house.sim.close_purchase_order(
        CUSTOMER, [{"productId": "8011", "variantId": "44201", "quantity": 4}], {("8011", "44201"): 31.5}
    )
    assert closed["orderLines"][0]["quantityReceived"] == 4
    assert house.sim.products(CUSTOMER)[0]["averageCostPrice"] == 31.5
    assert order_of(house, "5001")["state"] == 1
    house.sim.deliver()
    events = [url.split("/")[-1].split("?")[0] for url, _ in house.deliveries()]
    assert events == ["100", "103", "105"]
    assert bodies(house, 103)[0]["purchaseOrderNumber"] == closed["purchaseOrderNumber"]
    assert bodies(house, 105)[0]["averageCostPrice"] == 31.5


def test_refunds_partial_then_full_each_send_104_and_never_more_than_the_total() -> None:
    """GIVEN a shipped order of 158.00 WHEN 58.00 of L1 is refunded and then the other 100.00 THEN two 104s with the
    amounts and lines, and the order's paymentStatus is 3 Refunded after the second; a third is refused."""
    house = open_warehouse()
    register(house, 104)
    house.add_product(stock=5)
    house.ok("POST", "salesOrder", sales_order())
    house.sim.pack(CUSTOMER, "5001")
    house.sim.ship(CUSTOMER, "5001")
    house.sim.refund(CUSTOMER, "5001", "58.00", {"9001": 1})
    assert order_of(house, "5001")["paymentStatus"] == 1
    house.sim.refund(CUSTOMER, "5001", 100)
    assert order_of(house, "5001")["paymentStatus"] == 3
    with pytest.raises(ValueError, match="amount"):
        house.sim.refund(CUSTOMER, "5001", "0.01")
    house.sim.deliver()
    assert bodies(house, 104) == [
        {"orderId": "5001", "amount": 58.0, "orderLines": [{"orderLineId": "9001", "quantity": 1}]},
        {"orderId": "5001", "amount": 100.0, "orderLines": []},
    ]


# ---- delivery ----------------------------------------------------------------------------------------------------


def test_a_webhook_is_the_bare_object_unsigned_to_every_url_of_its_event_while_sending_is_on() -> None:
    """GIVEN two URLs registered for 100 and one for 101 WHEN stock is received THEN both 100 URLs get the same bare
    StockAdjust object (no event name, no signature header); WHEN sending of 100 is switched off THEN nothing more
    is sent for it."""
    house = open_warehouse()
    register(house, 100)
    register(house, 100, 101, url="https://erp.test/peak/{event}?x=1")
    house.add_product()
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 7)
    house.sim.deliver()

    assert [url for url, _, _ in house.sink.calls] == [HOOK.format(event=100), "https://erp.test/peak/100?x=1"]
    first, second = (json.loads(body) for _, _, body in house.sink.calls)
    assert first == second
    assert set(first) == {"productId", "variantId", "adjustedQuantity", "quantity", "warehouseHostId",
                          "stockHostIdentifier", "lotNumber", "adjustmentReason", "stockItemId"}  # fmt: skip
    assert first["quantity"] == 7 and first["stockHostIdentifier"] == "MUG-44201"
    headers = {name.lower() for name in house.sink.calls[0][1]}
    assert headers == {"content-type", "user-agent"}

    house.sim.set_sending(CUSTOMER, 100, False)
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 1)
    assert house.sim.pending() == []


def test_sending_can_start_switched_off_until_the_merchant_turns_it_on_over_http() -> None:
    """GIVEN `sending_default` off WHEN stock arrives THEN nothing is sent; WHEN 100 is switched on through the
    control API THEN the next receipt is."""
    house = open_warehouse()
    house.sim.rules.sending_default = False
    register(house, 100)
    house.add_product(stock=3)
    assert house.sim.pending() == []
    control = httpx.Client(transport=transport_of(house), base_url=ROOT)
    answer = control.put(f"/_control/customers/{CUSTOMER}/sending", json={"100": True})
    assert answer.status_code == 200 and answer.json()["100"] is True and answer.json()["101"] is False
    assert control.put(f"/_control/customers/{CUSTOMER}/sending", json={"99": True}).status_code == 400
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 1)
    assert len(house.sim.pending()) == 1


def test_duplicates_and_an_older_total_after_a_newer_one_under_fault_injection() -> None:
    """GIVEN every event duplicated and every 100 followed by a replay of the one before WHEN 5 and then 3 arrive
    THEN the receiver sees totals 5, 5, 8, 8 and then the older 5 again (twice), last."""
    house = open_warehouse()
    register(house, 100)
    house.add_product()
    house.sim.delivery_faults.duplicate_rate = 1.0
    house.sim.rules.stale_stock_replay_rate = 1.0
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 5)
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 3)
    house.sim.deliver()
    assert [b["quantity"] for b in bodies(house, 100)] == [5, 5, 8, 8, 5, 5]


def test_a_refused_delivery_is_retried_three_times_and_then_given_up() -> None:
    """GIVEN a receiver answering 500 WHEN a 100 is sent THEN 4 attempts in 4 deliver() calls, then none pending;
    with `webhook_attempts` 2 the next is given up after its second."""
    house = open_warehouse(sink_status=500)
    register(house, 100)
    house.add_product(stock=2)
    reports = [house.sim.deliver() for _ in range(5)]
    assert [r.failed for r in reports] == [1, 1, 1, 1, 0]
    assert reports[3].given_up == 1 and house.sim.pending() == []

    house.sim.rules.webhook_attempts = 2
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 1)
    assert [house.sim.deliver().given_up for _ in range(2)] == [0, 1]


# ---- sales history and the control API ---------------------------------------------------------------------------


def test_sales_history_rows_are_stored_a_repeat_replaces_and_a_bad_row_refuses_the_call() -> None:
    """GIVEN rows for two days WHEN posted twice THEN stored once each (guess: a repeat replaces); WHEN a row has a
    bad date or there are 501 THEN 400 naming it and nothing of that call is stored; with the rule off rows add up."""
    house = open_warehouse()
    rows = [{"productId": "8011", "variantId": "44201", "itemNumber": "MUG-1", "date": f"2026-01-0{d}", "quantity": d}
            for d in (1, 2)]  # fmt: skip
    assert house.ok("POST", "salesHistory", rows) == {"received": 2}
    house.ok("POST", "salesHistory", rows)
    assert [(r["date"], r["quantity"]) for r in house.sim.sales_history(CUSTOMER)] == [
        ("2026-01-01", 1),
        ("2026-01-02", 2),
    ]
    bad = refusal(house.call("POST", "salesHistory", [*rows, {**rows[0], "date": "01-03-2026"}]), 400)
    assert bad["parameters"] == ["[2].date"]
    assert refusal(house.call("POST", "salesHistory", rows * 251), 400)["parameters"] == ["body"]
    house.sim.rules.history_rows_replace = False
    house.ok("POST", "salesHistory", rows)
    assert len(house.sim.sales_history(CUSTOMER)) == 4


def test_the_control_api_packs_ships_refunds_and_receives_as_the_python_side_does() -> None:
    """GIVEN an order held for want of stock WHEN goods are received, the order packed, shipped and refunded over
    `/_control/...` THEN it ends Shipped and refunded; a bad body is 400 naming the field."""
    house = open_warehouse()
    house.add_product()
    house.ok("POST", "salesOrder", sales_order())
    control = httpx.Client(transport=transport_of(house), base_url=f"{ROOT}/_control/customers/{CUSTOMER}/")
    stock = {"productId": "8011", "variantId": "44201", "quantity": 2}
    assert control.post("stock/receive", json=stock).json()["reservedQuantity"] == 2
    assert control.post("orders/5001/pack", json={"trackingNumber": "TT9"}).json()["trackingNumber"] == "TT9"
    assert control.post("orders/5001/ship", json={}).json()["state"] == 4
    assert control.post("orders/5001/refund", json={"amount": "10.00"}).status_code == 200
    assert control.post("products/ean", json={"productId": "8011", "variantId": "44201", "ean": "1"}).status_code == 200
    purchase = control.post("purchase-orders", json={"lines": [{**stock, "averageCostPrice": 29.0}]})
    assert purchase.status_code == 200
    bad = control.post("orders/5001/pack", json={"trackingNumber": ""})
    assert bad.status_code == 400 and bad.json()["parameters"] == ["trackingNumber"]
    assert control.post("stock/receive", json={**stock, "quantity": 0}).json()["parameters"] == ["quantity"]
    assert (
        httpx.Client(transport=transport_of(house), base_url=ROOT)
        .post("/_control/customers/nobody/stock/receive", json=stock)
        .status_code
        == 404
    )


def transport_of(house: Warehouse) -> httpx.BaseTransport:
    from crossdock_local.sims.base import transport

    return transport(house.sim)


def test_an_order_for_a_second_warehouse_reserves_there_and_is_held_if_only_main_has_stock() -> None:
    """GIVEN mugs only in "Main" and a warehouse "Odense" added over HTTP WHEN an order names Odense THEN it is held;
    WHEN Odense receives mugs THEN it is released with the reservation in Odense's stock item."""
    house = open_warehouse()
    control = httpx.Client(transport=transport_of(house), base_url=ROOT)
    added = control.post(f"/_control/customers/{CUSTOMER}/warehouses", json={"name": "Odense"})
    assert added.status_code == 201 and added.json()["warehouses"] == ["Main", "Odense"]
    with pytest.raises(ValueError, match="exists"):
        house.sim.add_warehouse(CUSTOMER, "Odense")
    house.add_product(stock=10)
    held = house.ok("POST", "salesOrder", sales_order(warehouseName="Odense"))
    assert held["state"] == 7
    house.sim.receive_stock(CUSTOMER, "8011", "44201", 2, warehouse="Odense")
    assert order_of(house, "5001")["state"] == 1
    assert [(r["warehouseName"], r["quantity"], r["reservedQuantity"]) for r in house.sim.stock(CUSTOMER)] == [
        ("Main", 10, 0),
        ("Odense", 2, 2),
    ]
