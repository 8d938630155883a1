"""Orders and refunds read through the Admin GraphQL API come out in the REST shape of their webhooks, so Crossdock
maps them exactly as it maps the webhook: checked on Shopify's own example payloads (`../shared/fixtures/shopify/`),
run through the Shopify simulator's GraphQL with the very documents the sweep sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sim_fakes import FakeClock

from crossdock.connectors.shopify import order_query
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.orders import parse_order, to_canonical
from crossdock.connectors.shopify.refunds import credit_lines, ignored_adjustments, parse_refund
from crossdock.model.order import Order
from crossdock.store.outcome import first_error
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "fixtures.myshopify.com"
TOKEN = "shpat_fixtures"
CURRENT_ORDERS = [f"2025-01/order_{n}.json" for n in range(3)]  # the REST shape webhooks carry today
OLDER_ORDERS = ["order.json", "orders.json"]


def _fixture_orders(loaded: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = loaded["orders"] if "orders" in loaded else [loaded["order"]]
    return found


@pytest.fixture
def sim() -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), webhook_sink=lambda url, headers, body: 200, seed=3)
    simulator.add_shop(SHOP, "secret", TOKEN)
    simulator.subscribe(SHOP, "orders/create", "https://hooks.example.com/shopify")
    return simulator


@pytest.fixture
def admin(sim: ShopifySimulator) -> Iterator[ShopifyAdmin]:
    client = ShopifyAdmin("https://fixtures.myshopify.com", SHOP, TOKEN, transport=transport(sim))
    yield client
    client.close()


def _mapped(payload: dict[str, Any]) -> Order | str:
    try:
        return to_canonical(parse_order(payload), "FRAGT")
    except ValidationError as refused:
        return first_error(refused)


def _as_webhook(sim: ShopifySimulator, order: dict[str, Any]) -> dict[str, Any]:
    """The order stored (ids assigned) and the REST body its `orders/create` webhook carries."""
    created = sim.create_order(SHOP, order)
    (delivery,) = [d for d in sim.pending(SHOP) if json.loads(d.body)["id"] == created["id"]]
    webhook: dict[str, Any] = json.loads(delivery.body)
    return webhook


@pytest.mark.parametrize("name", CURRENT_ORDERS + OLDER_ORDERS)
def test_a_fetched_fixture_order_maps_exactly_like_its_webhook(
    sim: ShopifySimulator, admin: ShopifyAdmin, shopify_payload: Any, name: str
) -> None:
    for fixture in _fixture_orders(shopify_payload(name)):
        webhook = _as_webhook(sim, fixture)

        fetched = order_query.fetch_order(admin, str(webhook["id"]))

        assert fetched is not None
        # Both read alike, or are refused alike (an excerpt of a listing without line items is no order to book)
        assert _mapped(fetched) == _mapped(webhook)
        ids = ("id", "admin_graphql_api_id", "name", "order_number", "financial_status", "fulfillment_status")
        assert {key: fetched[key] for key in ids} == {key: webhook[key] for key in ids}
        assert [(i["id"], i["variant_id"], i["product_exists"], i["sku"]) for i in fetched["line_items"]] == [
            (i["id"], i["variant_id"], i["product_exists"], i["sku"]) for i in webhook["line_items"]
        ]
        assert (fetched["cancelled_at"] is None) == (webhook["cancelled_at"] is None)


def test_varied_danish_orders_keep_vat_discounts_gift_cards_and_guests(
    sim: ShopifySimulator, admin: ShopifyAdmin
) -> None:
    for plan in varied_orders(25, seed=9, skus=["SOCK", "MUG", "TOTE"]):
        webhook = _as_webhook(sim, plan.order)

        fetched = order_query.fetch_order(admin, str(webhook["id"]))

        assert fetched is not None
        assert to_canonical(parse_order(fetched), "FRAGT") == to_canonical(parse_order(webhook), "FRAGT")


def test_an_order_with_more_lines_than_a_page_is_read_whole(sim: ShopifySimulator, admin: ShopifyAdmin) -> None:
    line = {"sku": "MUG", "title": "Mug", "quantity": 1, "price": "10.00", "variant_id": 1, "tax_lines": []}
    count = order_query.LINE_PAGE * 2 + 3
    order = {
        "currency": "DKK",
        "line_items": [{**line, "sku": f"MUG-{n}"} for n in range(count)],
        "total_price": str(10 * count),
    }
    webhook = _as_webhook(sim, order)

    fetched = order_query.fetch_order(admin, webhook["admin_graphql_api_id"])

    assert fetched is not None
    assert [item["sku"] for item in fetched["line_items"]] == [f"MUG-{n}" for n in range(count)]
    assert admin.calls == 3  # the order with its first page, then two more pages


def test_an_unknown_order_is_none(admin: ShopifyAdmin) -> None:
    assert order_query.fetch_order(admin, "1") is None


def test_the_documents_stay_under_shopifys_single_query_limit(sim: ShopifySimulator, fixture_order: Any) -> None:
    """Shopify refuses a query whose requested cost exceeds 1,000 before running it, whatever the order."""
    webhook = _as_webhook(sim, fixture_order)
    refund_id = webhook["refunds"][0]["id"]
    variables = {
        order_query.ORDERS_UPDATED: {"query": "", "first": order_query.SUMMARY_PAGE},
        order_query.ORDER: {"id": webhook["admin_graphql_api_id"], "lines": order_query.LINE_PAGE},
        order_query.ORDER_REFUNDS: {"id": webhook["admin_graphql_api_id"]},
        order_query.REFUND: {"id": f"gid://shopify/Refund/{refund_id}", "lines": order_query.REFUND_LINE_PAGE},
    }
    with httpx.Client(base_url="https://fixtures.myshopify.com", transport=transport(sim)) as http:
        for document, values in variables.items():
            body = http.post(  # a raw call, to read the cost Shopify reports
                "/admin/api/2026-04/graphql.json",
                json={"query": document, "variables": values},
                headers={"X-Shopify-Access-Token": TOKEN},
            ).json()
            assert "errors" not in body, body
            assert body["extensions"]["cost"]["requestedQueryCost"] <= 1000


@pytest.mark.parametrize("name", CURRENT_ORDERS)
def test_a_fetched_fixture_refund_credits_exactly_like_its_webhook(
    sim: ShopifySimulator, admin: ShopifyAdmin, shopify_payload: Any, name: str
) -> None:
    (fixture,) = _fixture_orders(shopify_payload(name))
    webhook = _as_webhook(sim, fixture)
    order_id = str(webhook["id"])

    refunds = order_query.order_refunds(admin, order_id)

    assert [r.refund_id for r in refunds] == [str(r["id"]) for r in webhook["refunds"]]
    for summary, delivered in zip(refunds, webhook["refunds"], strict=True):
        fetched = order_query.fetch_refund(admin, order_id, summary.refund_id)
        assert fetched is not None
        ours, theirs = parse_refund(fetched), parse_refund({**delivered, "order_id": webhook["id"]})
        assert (ours.id, ours.order_id, ours.note) == (theirs.id, theirs.order_id, theirs.note)
        taxes_included = bool(webhook["taxes_included"])
        assert credit_lines(ours, taxes_included) == credit_lines(theirs, taxes_included)
        assert ours.refunded_amount == theirs.refunded_amount
        assert ignored_adjustments(ours) == ignored_adjustments(theirs)
        assert [row.line_item_id for row in ours.refund_line_items] == [
            row.line_item_id for row in theirs.refund_line_items
        ]


def test_a_refund_made_in_the_shop_credits_like_its_webhook(sim: ShopifySimulator, admin: ShopifyAdmin) -> None:
    plan = varied_orders(1, seed=4, skus=["SOCK", "MUG"])[0]
    order = sim.create_order(SHOP, plan.order, paid=True)
    first = order["line_items"][0]
    refund = sim.refund(SHOP, order["id"], [(first["id"], 1)], shipping=True, restock=False)

    fetched = order_query.fetch_refund(admin, str(order["id"]), str(refund["id"]))

    assert fetched is not None
    ours, theirs = parse_refund(fetched), parse_refund(refund)
    assert credit_lines(ours, bool(order["taxes_included"])) == credit_lines(theirs, bool(order["taxes_included"]))
    assert ours.refunded_amount == theirs.refunded_amount > 0
    assert [row.restock_type for row in ours.refund_line_items] == ["no_restock"]


def test_orders_are_listed_by_update_within_the_window_across_pages(sim: ShopifySimulator, admin: ShopifyAdmin) -> None:
    clock = sim.clock
    assert isinstance(clock, FakeClock)
    start = sim.now().timestamp()
    created = []
    for index, plan in enumerate(varied_orders(order_query.SUMMARY_PAGE + 5, seed=2, skus=["SOCK"])):
        clock.now += 1
        created.append(sim.create_order(SHOP, plan.order, paid=index % 2 == 0))
    clock.now += 1
    sim.mark_paid(SHOP, created[1]["id"])  # updated last, so listed last
    clock.now += 5
    end = sim.now().timestamp()
    clock.now += 5
    sim.mark_paid(SHOP, created[3]["id"])  # after the window

    listed: list[order_query.OrderSummary] = []
    cursor = None
    while True:
        page = order_query.orders_updated(admin, start, end, cursor)
        listed.extend(page.orders)
        cursor = page.next_cursor
        if cursor is None:
            break

    ids = [summary.order_id for summary in listed]
    expected = [str(o["id"]) for o in created if o["id"] not in (created[1]["id"], created[3]["id"])]
    assert ids == [*expected, str(created[1]["id"])]
    assert [summary.updated_at for summary in listed] == sorted(summary.updated_at for summary in listed)
    assert listed[-1].financial_status == "paid"
    assert {summary.financial_status for summary in listed[:4]} == {"paid", "pending"}
