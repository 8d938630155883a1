"""Order-tab and Advanced-tab settings end to end (issue #4): numbering, POS, customer prices, country locations
and the policy for lines that cannot be matched to a Rackbeat item."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.integrations.rackbeat_shopify.settings_save import SettingsRejected
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalStack

FALLBACK = "DIVERSE"


def _needs_attention(merchant: Any) -> dict[str, Any]:
    (event,) = [e for e in merchant.events() if e["status"] == "needs_attention"]
    return event


def test_shopify_numbering_gives_the_rackbeat_order_shopifys_number(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(orders={"numbering": "shopify"})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    assert merchant.only_rackbeat_order(placed)["number"] == placed["order_number"]


def test_a_taken_number_is_reported_and_never_overwritten(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN Rackbeat already has an order with the number Shopify will give the next order
    merchant = merchant_with(orders={"numbering": "shopify"})
    shop_next = stack.shopify.shop(merchant.domain).next_order_number
    customer = stack.rackbeat.seed_customer(merchant.account, company_name="Phone order")
    line = {"item_id": "FRAGT", "quantity": 1, "line_price": "10"}
    merchant.rackbeat_api(
        "POST", "orders/drafts", json={"customer_id": customer["number"], "number": shop_next, "lines": [line]}
    )
    before = dict(stack.rackbeat.state(merchant.account).orders[shop_next])
    # WHEN that order arrives
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    # THEN it needs attention, names the number, and the existing order is untouched
    assert placed["order_number"] == shop_next
    assert merchant.rackbeat_orders(placed) == []
    event = _needs_attention(merchant)
    assert f"number {shop_next} is already taken" in event["reason"] and event["failure_class"] == "validation"
    assert stack.rackbeat.state(merchant.account).orders[shop_next] == before


def test_two_shops_on_one_account_both_send_1001_in_ranges_of_their_own(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a shop numbering as Shopify does with prefix 1, and a second shop on its Rackbeat account
    first = merchant_with(orders={"numbering": "shopify", "number_prefix": 1})
    connection = stack.create_connection(
        demo_settings(), shop_domain=f"second-{first.domain}", rackbeat_account=first.connection
    )
    second = type(first)(stack, connection, demo_settings())
    shopify_numbering = {**second.settings, "orders": {"numbering": "shopify"}}
    # WHEN the second shop saves Shopify numbering without a prefix, or with the first shop's, THEN it is refused
    # naming the prefix and the shop it would meet, and nothing is saved
    for orders in ({"numbering": "shopify"}, {"numbering": "shopify", "number_prefix": 1}):
        with pytest.raises(SettingsRejected) as refused:
            stack.update_settings(second.connection, {**shopify_numbering, "orders": orders})
        (problem,) = refused.value.problems
        assert problem.field == "orders.number_prefix" and first.domain in problem.message
    assert stack.connection(second.connection).settings.orders.numbering == "rackbeat_next"
    # WHEN it saves a prefix of its own and both shops send their first order
    stack.update_settings(
        second.connection, {**shopify_numbering, "orders": {"numbering": "shopify", "number_prefix": 2}}
    )
    placed = [shop.stack.shopify.create_order(shop.domain, shop.order(0), paid=True) for shop in (first, second)]
    stack.settle()
    # THEN both are #1001 in Shopify and each is in Rackbeat in its shop's range; nothing needs attention
    assert [order["order_number"] for order in placed] == [1001, 1001]
    assert first.only_rackbeat_order(placed[0])["number"] == 1_001_001
    assert second.only_rackbeat_order(placed[1])["number"] == 2_001_001
    assert "needs_attention" not in first.statuses() + second.statuses()


def test_pos_orders_follow_the_pos_settings(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(
        orders={"rackbeat_status": "invoiced_and_shipped"},
        pos={"rackbeat_status": "booked", "customer_number": 900, "rackbeat_location": "BUTIK"},
    )
    stack.rackbeat.seed_location(merchant.account, "BUTIK", "Butikken")
    stack.rackbeat.seed_customer(merchant.account, number=900, company_name="Kontantkunde")
    web = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    pos = stack.shopify.create_order(merchant.domain, merchant.order(1, source_name="pos"), paid=True)
    stack.settle()
    pos_order, web_order = merchant.only_rackbeat_order(pos), merchant.only_rackbeat_order(web)
    assert merchant.stage_of(pos_order) == "booked" and merchant.stage_of(web_order) == "invoiced_and_shipped"
    assert pos_order["customer_id"] == 900 and web_order["customer_id"] != 900
    assert (pos_order["our_reference_id"], web_order["our_reference_id"]) == (2, 1)  # employees.pos / .web
    product_lines = [line for line in pos_order["lines"] if line["item_id"] not in ("FRAGT", "ORE")]
    assert {line["location_id"] for line in product_lines} == {"BUTIK"}


def test_delivery_country_chooses_the_location(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with(advanced={"country_locations": {"SE": "SE1"}})
    stack.rackbeat.seed_location(merchant.account, "SE1", "Lager Malmö")
    swedish = merchant.order(0)
    swedish["shipping_address"] = {**(swedish.get("shipping_address") or {}), "country_code": "SE"}
    danish = merchant.order(1)
    placed_se = stack.shopify.create_order(merchant.domain, swedish, paid=True)
    placed_dk = stack.shopify.create_order(merchant.domain, danish, paid=True)
    stack.settle()

    def locations(placed: dict[str, Any]) -> set[str]:
        lines = merchant.only_rackbeat_order(placed)["lines"]
        return {line["location_id"] for line in lines if line["item_id"] not in ("FRAGT", "ORE")}

    assert locations(placed_se) == {"SE1"}
    assert locations(placed_dk) == {"L1"}  # fulfillment.rackbeat_location


def test_country_locations_follow_the_delivery_country_of_web_orders_only(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN Sweden mapped to its own location, and a POS location for the shop's counter
    merchant = merchant_with(advanced={"country_locations": {"SE": "SE1"}}, pos={"rackbeat_location": "BUTIK"})
    stack.rackbeat.seed_location(merchant.account, "SE1", "Lager Malmö")
    stack.rackbeat.seed_location(merchant.account, "BUTIK", "Butikken")
    # WHEN a POS sale to a Swedish customer and a web order billed in Sweden but shipped to nobody arrive
    pos = merchant.order(0, source_name="pos")
    pos["shipping_address"] = {**(pos.get("shipping_address") or {}), "country_code": "SE"}
    billed_only = merchant.order(1)
    billed_only["billing_address"] = {**(billed_only.get("billing_address") or {}), "country_code": "SE"}
    billed_only["shipping_address"] = None
    placed_pos = stack.shopify.create_order(merchant.domain, pos, paid=True)
    placed_billed = stack.shopify.create_order(merchant.domain, billed_only, paid=True)
    stack.settle()

    def locations(placed: dict[str, Any]) -> set[str]:
        lines = merchant.only_rackbeat_order(placed)["lines"]
        return {line["location_id"] for line in lines if line["item_id"] not in ("FRAGT", "ORE")}

    # THEN the POS sale keeps the POS location and the billing country chooses nothing
    assert locations(placed_pos) == {"BUTIK"}
    assert locations(placed_billed) == {"L1"}  # fulfillment.rackbeat_location


def test_customer_prices_replace_shopifys_and_the_difference_is_noted(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a Rackbeat customer with her own price for one item
    merchant = merchant_with(advanced={"use_customer_prices": True})
    order = merchant.order(0)
    sku = order["line_items"][0]["sku"]
    customer = stack.rackbeat.seed_customer(merchant.account, company_name="B2B", contact_email=order["email"])
    stack.rackbeat.seed_customer_price(merchant.account, customer["number"], sku, "12.50")
    # WHEN her order arrives
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    # THEN that line has her price and no Shopify discount; the event says how far the totals are apart
    rackbeat_order = merchant.only_rackbeat_order(placed)
    (line,) = [line for line in rackbeat_order["lines"] if line["item_id"] == sku][:1]
    assert Decimal(str(line["line_price"])) == Decimal("12.50")
    assert Decimal(str(line["discount_percentage"])) == 0
    (done,) = [e for e in merchant.events() if e["status"] == "done"]
    difference = Decimal(placed["total_price"]) - Decimal(str(rackbeat_order["total"]))
    assert "own prices" in done["reason"] and str(-difference) in done["reason"]


def test_customer_prices_off_keeps_shopifys(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    order = merchant.order(0)
    customer = stack.rackbeat.seed_customer(merchant.account, company_name="B2B", contact_email=order["email"])
    stack.rackbeat.seed_customer_price(merchant.account, customer["number"], order["line_items"][0]["sku"], "12.50")
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    assert Decimal(str(merchant.only_rackbeat_order(placed)["total"])) == Decimal(placed["total_price"])


def _odd_lines(order: dict[str, Any]) -> dict[str, Any]:
    """A gift card, a line of a deleted product and a line whose SKU Rackbeat does not know."""
    lines = order["line_items"]
    assert len(lines) >= 1
    gift = {**lines[0], "id": lines[0]["id"] + 1 if lines[0].get("id") else None, "gift_card": True, "sku": ""}
    return {**order, "line_items": [*lines, gift]}


def test_unmapped_lines_fail_the_order_naming_them(stack: LocalStack, merchant_with: Any) -> None:
    merchant = merchant_with()
    order = merchant.order(0)
    order["line_items"][0] = {**order["line_items"][0], "product_exists": False, "variant_id": None}
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    assert merchant.rackbeat_orders(placed) == []
    event = _needs_attention(merchant)
    assert event["failure_class"] == "unmapped"
    assert "deleted product" in event["reason"] and "orders.unmapped_lines is 'fail'" in event["reason"]


def test_unmapped_lines_go_on_the_fallback_item(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN the fallback policy, and an order with a gift card line, a deleted product and an unknown SKU
    merchant = merchant_with(orders={"unmapped_lines": "fallback", "fallback_product_number": FALLBACK})
    stack.rackbeat.seed_product(merchant.account, FALLBACK, "Diverse", "0", inventory_enabled=False, location_stock={})
    order = merchant.order(3)
    lines = order["line_items"]
    lines[0] = {**lines[0], "gift_card": True}
    if len(lines) > 1:
        lines[1] = {**lines[1], "sku": "NOT-IN-RACKBEAT"}
    placed = stack.shopify.create_order(merchant.domain, order, paid=True)
    stack.settle()
    # THEN the order is booked whole: those lines on the fallback item, under their own titles, same total
    rackbeat_order = merchant.only_rackbeat_order(placed)
    fallback_lines = [line for line in rackbeat_order["lines"] if line["item_id"] == FALLBACK]
    assert len(fallback_lines) == min(len(lines), 2)
    assert "(gift card)" in fallback_lines[0]["name"]
    assert Decimal(str(rackbeat_order["total"])) == Decimal(placed["total_price"])
    assert [e["status"] for e in merchant.events() if e["status"] != "skipped"] == ["done"]
