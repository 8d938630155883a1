"""Shopify simulator: refunds, cancellations and POS orders.

The refund webhook is compared with Shopify's own example refund (`../shared/fixtures/shopify/2025-01/refund_1.json`,
read in place); amounts are checked to the cent in both tax conventions (fact sheet `../shared/reference/shopify.md`,
"Order payload (REST shape)" and "Refund payload").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
SECRET = "shpss_refund_secret"
TOKEN = "shpat_refunds"
HOOK = "https://crossdock.example.com/shopify/webhooks"
REFUND_FIXTURE = Path(__file__).resolve().parents[2].parent / "shared/fixtures/shopify/2025-01/refund_1.json"


def tax(amount: str) -> list[dict[str, Any]]:
    return [{"price": amount, "rate": 0.25, "title": "Moms"}]


# Prices include 25 % VAT: 3 × 99.95 − 10.00 = 289.85 (VAT 57.97), 149.00 (VAT 29.80), shipping 49.00 (VAT 9.80).
ORDER_INCLUDED = {
    "email": "mette@example.com",
    "currency": "DKK",
    "taxes_included": True,
    "line_items": [
        {
            "sku": "MUG-BLU",
            "title": "Kaffekop",
            "quantity": 3,
            "price": "99.95",
            "discount_allocations": [{"amount": "10.00", "discount_application_index": 0}],
            "tax_lines": tax("57.97"),
        },
        {"sku": "TOTE-NAT", "title": "Lærredsnet", "quantity": 1, "price": "149.00", "tax_lines": tax("29.80")},
    ],
    "shipping_lines": [
        {"title": "GLS Pakkeshop", "price": "49.00", "discounted_price": "49.00", "tax_lines": tax("9.80")}
    ],
    "subtotal_price": "438.85",
    "total_tax": "97.57",
    "total_price": "487.85",
}

# VAT on top: 3 × 79.95 = 239.85 + VAT 59.96, shipping 39.00 + VAT 9.75 → 348.56.
ORDER_EXCLUDED = {
    "email": "lars@example.com",
    "currency": "DKK",
    "taxes_included": False,
    "line_items": [{"sku": "PLAID-RED", "title": "Plaid", "quantity": 3, "price": "79.95", "tax_lines": tax("59.96")}],
    "shipping_lines": [{"title": "PostNord", "price": "39.00", "discounted_price": "39.00", "tax_lines": tax("9.75")}],
    "subtotal_price": "239.85",
    "total_tax": "69.71",
    "total_price": "348.56",
}


def make_sim(sink: RecordingSink | None = None) -> ShopifySimulator:
    sim = ShopifySimulator(clock=FakeClock(), webhook_sink=sink or RecordingSink(), seed=9)
    sim.add_shop(SHOP, SECRET, TOKEN)
    for topic in ("refunds/create", "orders/cancelled"):
        sim.subscribe(SHOP, topic, HOOK)
    return sim


def client(sim: ShopifySimulator, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}", headers={"X-Shopify-Access-Token": token})


def line_ids(order: dict[str, Any]) -> list[int]:
    return [item["id"] for item in order["line_items"]]


def amounts(refund: dict[str, Any]) -> list[tuple[Decimal, Decimal]]:
    """(subtotal, tax) of each refund line, from the exact decimal strings."""
    return [
        (Decimal(r["subtotal_set"]["shop_money"]["amount"]), Decimal(r["total_tax_set"]["shop_money"]["amount"]))
        for r in refund["refund_line_items"]
    ]


def returned(refund: dict[str, Any]) -> Decimal:
    return sum((Decimal(t["amount"]) for t in refund["transactions"]), Decimal("0"))


@pytest.fixture
def fixture_refund() -> dict[str, Any]:
    refund: dict[str, Any] = json.loads(REFUND_FIXTURE.read_text())["refund"]
    return refund


# ---- amounts -------------------------------------------------------------------------------------------------------


def test_taxes_included_partial_refunds_then_the_rest_sum_exactly() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER_INCLUDED, paid=True)
    mug, tote = line_ids(order)

    first = sim.refund(SHOP, order["id"], [(mug, 1)])
    second = sim.refund(SHOP, order["id"], [(mug, 1)])
    assert sim.get_order(SHOP, order["id"])["financial_status"] == "partially_refunded"  # type: ignore[index]
    last = sim.refund(SHOP, order["id"], [(mug, 1), (tote, 1)], shipping=True)

    assert amounts(first) == amounts(second) == [(Decimal("96.62"), Decimal("19.32"))]
    assert amounts(last) == [(Decimal("96.61"), Decimal("19.33")), (Decimal("149.00"), Decimal("29.80"))]
    assert first["refund_line_items"][0]["subtotal"] == 96.62  # a JSON number, as in the fixture
    assert returned(first) == Decimal("96.62")  # VAT is inside the price: nothing added on top
    (shipping,) = last["refund_shipping_lines"]
    assert shipping["subtotal_amount_set"]["shop_money"] == {"amount": "49.00", "currency_code": "DKK"}
    assert shipping["tax_amount_set"]["shop_money"]["amount"] == "9.80"
    assert returned(last) == Decimal("294.61")
    refunds = [first, second, last]
    assert sum(sum(s for s, _ in amounts(r)) for r in refunds) == Decimal("438.85")  # the order's lines exactly
    line_tax = sum(sum(t for _, t in amounts(r)) for r in refunds)
    assert line_tax + Decimal("9.80") == Decimal("97.57")  # and its taxes
    assert sum(returned(r) for r in refunds) == Decimal("487.85")
    stored = sim.get_order(SHOP, order["id"])
    assert stored is not None
    assert stored["financial_status"] == "refunded"
    assert [r["id"] for r in stored["refunds"]] == [r["id"] for r in refunds]
    assert [item["current_quantity"] for item in stored["line_items"]] == [0, 0]
    assert (stored["current_total_price"], stored["current_total_tax"]) == ("0.00", "0.00")


def test_taxes_excluded_refund_adds_the_tax_and_updates_current_totals() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER_EXCLUDED, paid=True)
    (plaid,) = line_ids(order)

    first = sim.refund(SHOP, order["id"], [(plaid, 2)])
    middle = sim.get_order(SHOP, order["id"])
    rest = sim.refund(SHOP, order["id"], [(plaid, 1)], shipping=True)

    assert amounts(first) == [(Decimal("159.90"), Decimal("39.97"))]
    assert returned(first) == Decimal("199.87")  # subtotal + VAT charged on top
    assert middle is not None
    assert (middle["financial_status"], middle["current_total_price"]) == ("partially_refunded", "148.69")
    assert middle["current_subtotal_price"] == "79.95"
    assert amounts(rest) == [(Decimal("79.95"), Decimal("19.99"))]
    assert returned(rest) == Decimal("148.69")  # 79.95 + 19.99 + shipping 39.00 + its VAT 9.75
    assert returned(first) + returned(rest) == Decimal("348.56")
    assert sim.get_order(SHOP, order["id"])["financial_status"] == "refunded"  # type: ignore[index]


def test_shipping_is_refunded_only_once() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER_EXCLUDED, paid=True)
    (plaid,) = line_ids(order)
    first = sim.refund(SHOP, order["id"], [], shipping=True)
    assert returned(first) == Decimal("48.75") and first["refund_line_items"] == []
    second = sim.refund(SHOP, order["id"], [(plaid, 1)], shipping=True)
    assert second["refund_shipping_lines"] == []
    with pytest.raises(ValueError, match="nothing to refund"):
        sim.refund(SHOP, order["id"], [], shipping=True)


def test_over_refund_and_unknown_line_are_refused() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER_INCLUDED)
    mug, tote = line_ids(order)
    sim.refund(SHOP, order["id"], [(mug, 2)])
    with pytest.raises(ValueError, match="only 1 of 3 left"):
        sim.refund(SHOP, order["id"], [(mug, 2)])
    with pytest.raises(ValueError, match="only 1 of 1 left"):
        sim.refund(SHOP, order["id"], [(tote, 1), (tote, 1)])  # the same line twice counts twice
    with pytest.raises(ValueError, match="no line item"):
        sim.refund(SHOP, order["id"], [(12345, 1)])
    with pytest.raises(ValueError, match="positive"):
        sim.refund(SHOP, order["id"], [(tote, 0)])
    assert len(sim.get_order(SHOP, order["id"])["refunds"]) == 1  # type: ignore[index]


# ---- shape and delivery --------------------------------------------------------------------------------------------


def test_refund_webhook_has_the_fixture_shape_and_is_signed(fixture_refund: dict[str, Any]) -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    order = sim.create_order(SHOP, ORDER_INCLUDED, paid=True)
    mug, _ = line_ids(order)

    refund = sim.refund(SHOP, order["id"], [(mug, 1)], shipping=True, note="gik i stykker")
    sim.deliver()

    ((_, headers, body),) = sink.by_topic("refunds/create")
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    payload = json.loads(body)
    assert payload == json.loads(json.dumps(refund))  # the refund itself, no envelope
    assert set(payload) == set(fixture_refund)
    assert set(payload["refund_line_items"][0]) == set(fixture_refund["refund_line_items"][0])
    assert set(payload["transactions"][0]) == set(fixture_refund["transactions"][0])
    assert set(payload["total_duties_set"]) == set(fixture_refund["total_duties_set"])
    assert set(payload["refund_shipping_lines"][0]) == {
        "id",
        "shipping_line_id",
        "subtotal_amount_set",
        "tax_amount_set",
        "shipping_line",
    }
    line = payload["refund_line_items"][0]
    assert (line["line_item_id"], line["quantity"], line["restock_type"]) == (mug, 1, "return")
    assert line["location_id"] == sim.shop(SHOP).catalog.primary_location.id
    assert line["line_item"]["sku"] == "MUG-BLU"
    transaction = payload["transactions"][0]
    assert (transaction["kind"], transaction["status"], transaction["currency"]) == ("refund", "success", "DKK")
    assert (payload["order_id"], payload["note"], payload["restock"]) == (order["id"], "gik i stykker", True)
    assert payload["admin_graphql_api_id"] == f"gid://shopify/Refund/{payload['id']}"
    assert (payload["order_adjustments"], payload["duties"]) == ([], [])


def test_no_restock_and_duplicate_delivery() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    order = sim.create_order(SHOP, ORDER_INCLUDED)
    _, tote = line_ids(order)

    refund = sim.refund(SHOP, order["id"], [(tote, 1)], restock=False, duplicate=True)
    sim.deliver()

    line = refund["refund_line_items"][0]
    assert (line["restock_type"], line["location_id"], refund["restock"], refund["note"]) == (
        "no_restock",
        None,
        False,
        None,
    )
    deliveries = sink.by_topic("refunds/create")
    assert len(deliveries) == 2
    (_, first, body1), (_, second, body2) = deliveries
    assert first["X-Shopify-Event-Id"] == second["X-Shopify-Event-Id"] and body1 == body2
    assert first["X-Shopify-Webhook-Id"] != second["X-Shopify-Webhook-Id"]


def test_refund_control_route() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER_EXCLUDED, paid=True)
    (plaid,) = line_ids(order)
    path = f"/_control/shops/{SHOP}/orders/{order['id']}/refunds"
    with client(sim) as http:
        created = http.post(path, json={"lines": [{"line_item_id": plaid, "quantity": 1}], "note": "for stor"})
        too_many = http.post(path, json={"lines": [{"line_item_id": plaid, "quantity": 5}]})
        unknown = http.post(f"/_control/shops/{SHOP}/orders/77/refunds", json={"lines": []})
        malformed = http.post(path, json={"lines": [{"quantity": 1}]})
    with client(sim, "shpat_wrong") as http:
        refused = http.post(path, json={"lines": [{"line_item_id": plaid, "quantity": 1}]})

    assert created.status_code == 201
    assert created.json()["refund"]["refund_line_items"][0]["quantity"] == 1
    assert (too_many.status_code, unknown.status_code, malformed.status_code) == (422, 404, 422)
    assert refused.status_code == 401


# ---- cancellation --------------------------------------------------------------------------------------------------


def test_cancel_sets_the_fields_and_emits_orders_cancelled() -> None:
    sink = RecordingSink()
    sim = make_sim(sink)
    order = sim.create_order(SHOP, ORDER_INCLUDED)

    cancelled = sim.cancel(SHOP, order["id"], reason="inventory")
    sim.deliver()

    assert cancelled["cancel_reason"] == "inventory"
    assert cancelled["cancelled_at"] == sim.get_order(SHOP, order["id"])["cancelled_at"]  # type: ignore[index]
    assert cancelled["cancelled_at"].startswith(sim.now().astimezone(sim.shop(SHOP).tz).isoformat()[:16])
    ((_, _, body),) = sink.by_topic("orders/cancelled")
    payload = json.loads(body)
    assert payload == json.loads(json.dumps(cancelled))  # the full REST order
    assert payload["line_items"] and payload["name"] == order["name"]
    with pytest.raises(ValueError, match="already been cancelled"):
        sim.cancel(SHOP, order["id"])
    with pytest.raises(ValueError, match="reason"):
        sim.cancel(SHOP, sim.create_order(SHOP, ORDER_INCLUDED)["id"], reason="bored")


def test_cancel_control_route() -> None:
    sim = make_sim()
    order = sim.create_order(SHOP, ORDER_INCLUDED)
    path = f"/_control/shops/{SHOP}/orders/{order['id']}/cancel"
    with client(sim) as http:
        first = http.post(path, json={"reason": "fraud"})
        second = http.post(path)
        missing = http.post(f"/_control/shops/{SHOP}/orders/gid:x/cancel")
    assert first.status_code == 200 and first.json()["order"]["cancel_reason"] == "fraud"
    assert (second.status_code, missing.status_code) == (422, 404)


# ---- POS -----------------------------------------------------------------------------------------------------------


def test_pos_orders_keep_source_name_and_location() -> None:
    sim = make_sim()
    till = sim.add_location(SHOP, "Butikken på Strøget")
    pos = sim.create_order(SHOP, {**ORDER_INCLUDED, "source_name": "pos", "location_id": till["id"]})
    web = sim.create_order(SHOP, ORDER_INCLUDED)

    assert (pos["source_name"], pos["location_id"]) == ("pos", till["id"])
    assert (web["source_name"], web["location_id"]) == ("web", None)
    mug, _ = line_ids(pos)
    refund = sim.refund(SHOP, pos["id"], [(mug, 1)])
    assert refund["refund_line_items"][0]["location_id"] == till["id"]  # restocked at the till
    assert refund["transactions"][0]["location_id"] == till["id"]
