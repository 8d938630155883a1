"""Shopify orders → PeakWMS sales orders through the route handlers (issue 16, item 2 step 3): a Shopify order
webhook as dispatch hands it over, Crossdock's real PeakWMS and Shopify clients, both simulators in process behind
them and the table in moto. The order is Shopify's own example (`../shared/fixtures/shopify/2025-01/order_0.json`,
read in place), admitted by the Shopify simulator as a new order (its ids assigned there); its three variants are
products in PeakWMS, as setup step 1 leaves them. Calls to each system are counted (docs/peakwms.md "Orders")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from peakwms_fakes import Warehouse
from peakwms_message_fakes import Clients, Ports
from sim_fakes import FakeClock, RecordingSink

from crossdock import pacing
from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.shapes import CANCELLED, ProductDraft
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.refund_create import RefundLine, create_refund
from crossdock.errors import RetryableError
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.message_refund import (
    OUR_NOTE,
    REFUND,
    SYSTEM,
    is_own_refund,
    refund_key,
)
from crossdock.integrations.peakwms_shopify.product_map import PeakKey, bind_variant
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.integrations.peakwms_shopify.shopify_webhooks import ROUTES
from crossdock.ports import InboundEvent
from crossdock.store import leases, mappings
from crossdock.store.events import EventStatus
from crossdock.store.outcome import Outcome
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "lagerhuset.myshopify.com"
SHOPIFY_TOKEN = "shpat_orders"
CONNECTION = "c-orders"


@dataclass
class World:
    shopify_sim: ShopifySimulator
    warehouse: Warehouse
    ports: Ports
    template: dict[str, Any]

    def connection(self, **settings: Any) -> PeakwmsShopifyConnection:
        chosen = {"shop_name": "Lagerhuset", "country": "DK", **settings}
        return PeakwmsShopifyConnection(
            id=CONNECTION,
            accounts=PeakwmsShopifyAccounts(
                peakwms=self.warehouse.client().account, shopify=ShopifyAccount(shop_domain=SHOP)
            ),
            settings=PeakwmsShopifySettings.model_validate(chosen),
        )

    def new_order(
        self,
        change: Callable[[dict[str, Any]], None] | None = None,
        *,
        paid: bool = False,
        authorized: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """The fixture order admitted by the Shopify simulator as a new one: pending (nothing to read about its
        payment), not cancelled, refunded or fulfilled (the example shows an order at the end of its life)."""
        order = json.loads(json.dumps(self.template))
        order.update(financial_status="pending", cancelled_at=None, cancel_reason=None, refunds=[], fulfillments=[])
        order.update({"fulfillment_status": None, "closed_at": None, **fields})
        for item in order["line_items"]:
            item.update(current_quantity=item["quantity"], fulfillable_quantity=item["quantity"])
        if change is not None:
            change(order)
        return self.shopify_sim.create_order(SHOP, order, paid=paid, authorized=authorized)

    def deliver(
        self, topic: str, body: dict[str, Any], connection: PeakwmsShopifyConnection | None = None, **event: Any
    ) -> Outcome:
        """Shopify's webhook, as dispatch hands it to the route for its topic."""
        event_fields = {"redrive": None, **event}
        inbound = InboundEvent(
            connection or self.connection(),
            "shopify",
            topic,
            json.dumps(body),
            "EVT#1",
            "2026-12-07T12:00:00Z",
            event_fields["redrive"],
        )
        (route,) = [route for route in ROUTES if topic in route.topics]
        return route.handle(inbound, self.ports)

    def sales_orders(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.warehouse.sim.sales_orders("nordlager")
        return found

    def sales_order(self, order: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] | None = self.warehouse.sim.sales_order("nordlager", str(order["id"]))
        assert found is not None, f"no sales order {order['id']} in PeakWMS"
        return found

    def calls(self) -> tuple[int, int]:
        return self.ports.clients.peakwms_client.calls, self.ports.clients.shopify_client.calls


def _variants(template: dict[str, Any]) -> list[ProductDraft]:
    return [
        ProductDraft(
            product_id=str(line["product_id"]),
            variant_id=str(line["variant_id"]),
            item_number=line["sku"],
            description=line["name"],
        )
        for line in template["line_items"]
    ]


@pytest.fixture
def world(table: Any, shopify_payload: Callable[[str], Any]) -> Iterator[World]:
    template = shopify_payload("2025-01/order_0.json")["order"]
    warehouse = Warehouse()
    peakwms = warehouse.client()
    for draft in _variants(template):
        upsert_product(peakwms, draft)
    peakwms.calls = 0
    shopify_sim = ShopifySimulator(clock=FakeClock(), webhook_sink=RecordingSink(), seed=16)
    shopify_sim.add_shop(SHOP, "shpss_orders", SHOPIFY_TOKEN)
    shopify = ShopifyAdmin(f"https://{SHOP}", SHOP, SHOPIFY_TOKEN, transport=transport(shopify_sim))
    yield World(shopify_sim, warehouse, Ports(table, Clients(peakwms, shopify)), template)


def test_an_order_becomes_one_sales_order_on_hold_until_stock_and_a_repeat_changes_nothing(world: World) -> None:
    """GIVEN the shop's order of three variants PeakWMS has no stock of WHEN `orders/create` arrives, and again
    (Shopify delivers at least once) THEN there is one PeakWMS sales order with `orderId` = the Shopify order id,
    each line's `orderLineId`, `productId`/`variantId` and quantity, prices ex VAT, the addresses and currency; it
    is on hold for no stock and the outcome says so; the first delivery costs PeakWMS 1 look-up + 1 create and the
    shop nothing (pending, no locations mapped), the repeat nothing at all."""
    order = world.new_order()

    first = world.deliver("orders/create", order)
    after_first = world.calls()
    again = world.deliver("orders/create", order)

    assert first.status is EventStatus.DONE, first.reason
    assert "on hold in PeakWMS until every line is in stock" in first.reason
    assert after_first == (2, 0)
    assert again.status is EventStatus.SKIPPED and "nothing PeakWMS keeps" in again.reason
    assert world.calls() == after_first
    (sent,) = world.sales_orders()
    assert sent["orderId"] == str(order["id"])
    assert sent["state"] == 7 and sent["onHoldReason"] == 7
    assert [
        (line["orderLineId"], line["productId"], line["variantId"], line["quantityRequested"])
        for line in sent["orderLines"]
    ] == [
        (str(item["id"]), str(item["product_id"]), str(item["variant_id"]), item["quantity"])
        for item in order["line_items"]
    ]
    # Taxes are not included in this shop's prices: the price is the net; VAT 3.98 on the line; the 10.00 code shared.
    assert [Decimal(str(line["salesPricePiece"])) for line in sent["orderLines"]] == [Decimal("199.00")] * 3
    assert [Decimal(str(line["salesPriceTaxPiece"])) for line in sent["orderLines"]] == [Decimal("3.98")] * 3
    assert sum(Decimal(str(line["salesDiscountPiece"])) for line in sent["orderLines"]) == Decimal("10.00")
    assert sent["salesCurrency"] == "USD"
    assert sent["shippingAddress"]["postalCode"] == order["shipping_address"]["zip"]
    assert sent["shippingAddress"]["country"] == order["shipping_address"]["country_code"]
    assert sent["billingAddress"]["email"] == order["email"]
    assert sent["paymentStatus"] == 0


def test_stock_received_releases_the_held_order(world: World) -> None:
    """GIVEN an order held for no stock WHEN the goods of every line arrive in PeakWMS THEN PeakWMS releases it
    for picking (the hold is PeakWMS's own; Crossdock sent the order whatever the stock)."""
    order = world.new_order()
    world.deliver("orders/create", order)

    for item in order["line_items"]:
        world.warehouse.sim.receive_stock("nordlager", str(item["product_id"]), str(item["variant_id"]), 5)

    assert world.sales_order(order)["state"] == 1


def test_a_lost_answer_to_the_create_is_adopted_on_the_retry(world: World) -> None:
    """GIVEN PeakWMS commits the create and the answer is lost WHEN the queue retries the event THEN the sales
    order the lost call made is adopted: still one, found by the look-up."""
    order = world.new_order()
    world.warehouse.sim.faults.drop_response_rate = 1.0

    with pytest.raises(RetryableError):
        world.deliver("orders/create", order)
    world.warehouse.sim.faults.drop_response_rate = 0.0
    retried = world.deliver("orders/create", order)

    assert retried.status is EventStatus.DONE and "adopted" in retried.reason
    assert len(world.sales_orders()) == 1


def test_an_update_overtaking_its_create_creates_and_the_late_create_is_older(world: World) -> None:
    """GIVEN an order edited at once (its `orders/updated` newer than its `orders/create`) WHEN the update arrives
    first and the create after it THEN the update creates the sales order with the edited quantity and the late
    create is skipped as older: it never overwrites the newer version."""
    order = world.new_order()
    edited = json.loads(json.dumps(order))
    edited["line_items"][0]["current_quantity"] = 3
    edited["line_items"][0]["quantity"] = 3
    edited["updated_at"] = "2099-01-01T10:00:00+01:00"

    first = world.deliver("orders/updated", edited)
    late = world.deliver("orders/create", order)

    assert first.status is EventStatus.DONE, first.reason
    assert late.status is EventStatus.SKIPPED and "older" in late.reason
    assert world.sales_order(order)["orderLines"][0]["quantityRequested"] == 3


def test_an_order_without_a_variant_needs_attention_naming_the_line_and_nothing_is_sent(world: World) -> None:
    """GIVEN an order whose second line has no variant (a custom line) WHEN it arrives THEN the event needs
    attention naming `line_items[1].variant_id` and PeakWMS has no sales order of it."""

    def custom_line(order: dict[str, Any]) -> None:
        order["line_items"][1].update(variant_id=None, product_id=None)

    order = world.new_order(custom_line)

    outcome = world.deliver("orders/create", order)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "line_items[1].variant_id" in outcome.reason
    assert world.sales_orders() == []
    assert world.calls() == (0, 0)


def test_a_change_before_picking_updates_the_sales_order(world: World) -> None:
    """GIVEN a sales order not picked yet WHEN Shopify's order changes (a line's quantity, the shipping address)
    THEN PeakWMS's sales order is updated (1 read + 1 update) and the outcome names what changed."""
    order = world.new_order()
    world.deliver("orders/create", order)
    changed = json.loads(json.dumps(order))
    changed["line_items"][2]["current_quantity"] = 0  # removed by an order edit
    changed["shipping_address"]["address1"] = "Nørregade 7"
    changed["updated_at"] = "2099-01-01T10:00:00+01:00"
    before = world.calls()

    outcome = world.deliver("orders/updated", changed)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert f"{order['line_items'][2]['id']} removed" in outcome.reason and "shipping_address" in outcome.reason
    assert world.calls()[0] - before[0] == 2
    sent = world.sales_order(order)
    assert len(sent["orderLines"]) == 2
    assert sent["shippingAddress"]["address1"] == "Nørregade 7"


def test_a_change_after_packing_needs_attention_naming_what_changed(world: World) -> None:
    """GIVEN a sales order PeakWMS has packed WHEN Shopify's order changes a line THEN PeakWMS is not changed and
    the event needs attention naming `line_items`; a later echo of our own (only the payment) is skipped."""
    order = world.new_order()
    world.deliver("orders/create", order)
    for item in order["line_items"]:
        world.warehouse.sim.receive_stock("nordlager", str(item["product_id"]), str(item["variant_id"]), 5)
    world.warehouse.sim.pack("nordlager", str(order["id"]), tracking_number="00340434161234567890")
    changed = json.loads(json.dumps(order))
    changed["line_items"][0]["current_quantity"] = 2
    changed["line_items"][0]["quantity"] = 2
    changed["updated_at"] = "2099-01-01T10:00:00+01:00"

    outcome = world.deliver("orders/updated", changed)
    paid = json.loads(json.dumps(changed))
    paid.update(financial_status="paid", updated_at="2099-01-01T11:00:00+01:00")
    echo = world.deliver("orders/updated", paid)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "line_items" in outcome.reason and "Packed" in outcome.reason
    assert world.sales_order(order)["orderLines"][0]["quantityRequested"] == 1
    assert echo.status is EventStatus.SKIPPED and "only the payment" in echo.reason


def test_cancelled_then_deleted_cancels_once(world: World) -> None:
    """GIVEN a sales order WHEN the order is cancelled in Shopify, the cancellation comes twice and the order is
    then deleted THEN PeakWMS's sales order is cancelled once (1 call); the repeat and the delete end skipped
    without a call."""
    order = world.new_order()
    world.deliver("orders/create", order)
    cancelled = {**order, "cancelled_at": "2099-01-01T10:00:00+01:00", "cancel_reason": "customer"}

    before = world.calls()
    first = world.deliver("orders/cancelled", cancelled)
    cancel_calls = world.calls()[0] - before[0]
    again = world.deliver("orders/cancelled", cancelled)
    deleted = world.deliver("orders/delete", {"id": order["id"]})

    assert first.status is EventStatus.DONE and "cancelled" in first.reason, first.reason
    assert again.status is EventStatus.SKIPPED
    assert deleted.status is EventStatus.SKIPPED
    assert world.sales_order(order)["state"] == 5
    assert cancel_calls == 1 and world.calls()[0] - before[0] == 1  # the repeat and the delete cost nothing


def test_a_cancellation_before_its_order_keeps_it_out_of_peakwms(world: World) -> None:
    """GIVEN an order deleted in Shopify WHEN its `orders/delete` arrives before its `orders/create` THEN the delete
    leaves a mark (one look-up in PeakWMS finds nothing) and the late create is skipped: PeakWMS never gets it."""
    order = world.new_order()

    deleted = world.deliver("orders/delete", {"id": order["id"]})
    late = world.deliver("orders/create", order)

    assert deleted.status is EventStatus.DONE and "before it reached PeakWMS" in deleted.reason
    assert late.status is EventStatus.SKIPPED and "cancelled or deleted before" in late.reason
    assert world.sales_orders() == []


def test_an_order_already_cancelled_in_peakwms_is_done(world: World) -> None:
    """GIVEN a sales order a warehouse worker cancelled in PeakWMS WHEN Shopify's cancellation arrives THEN
    PeakWMS's 4148 is success: done, "cancelled in PeakWMS already"."""
    order = world.new_order()
    world.deliver("orders/create", order)
    world.ports.clients.peakwms_client.put(f"salesOrder/{order['id']}/cancel")

    outcome = world.deliver("orders/cancelled", {**order, "cancelled_at": "2099-01-01T10:00:00+01:00"})

    assert outcome.status is EventStatus.DONE and "already" in outcome.reason, outcome.reason


def test_a_cancellation_after_packing_needs_attention(world: World) -> None:
    """GIVEN a sales order PeakWMS has packed WHEN the order is cancelled in Shopify THEN PeakWMS does not cancel
    it, and the event needs attention saying it is Packed (goods are on their way to the customer)."""
    order = world.new_order()
    world.deliver("orders/create", order)
    for item in order["line_items"]:
        world.warehouse.sim.receive_stock("nordlager", str(item["product_id"]), str(item["variant_id"]), 5)
    world.warehouse.sim.pack("nordlager", str(order["id"]), tracking_number="00340434161234567890")

    outcome = world.deliver("orders/cancelled", {**order, "cancelled_at": "2099-01-01T10:00:00+01:00"})

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "did not cancel" in outcome.reason and "Packed" in outcome.reason
    assert world.sales_order(order)["state"] == 3


def test_pos_orders_follow_use_shopify_pos(world: World) -> None:
    """GIVEN a POS sale WHEN it arrives with `use_shopify_pos` off THEN it is skipped with the reason and PeakWMS
    gets nothing; with it on the sale becomes a sales order."""
    order = world.new_order(source_name="pos")

    off = world.deliver("orders/create", order)
    on = world.deliver("orders/create", order, world.connection(use_shopify_pos=True))

    assert off.status is EventStatus.SKIPPED and "use_shopify_pos is off" in off.reason
    assert on.status is EventStatus.DONE, on.reason
    assert len(world.sales_orders()) == 1


def test_an_order_at_an_unmapped_location_needs_attention_naming_locations(world: World) -> None:
    """GIVEN `locations` mapping another Shopify location only WHEN an order assigned to the shop's primary location
    arrives THEN the event needs attention naming `locations` and the location; nothing is sent."""
    order = world.new_order()

    outcome = world.deliver("orders/create", order, world.connection(locations={"999": "Main"}))

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "locations" in outcome.reason
    assert world.sales_orders() == []


def test_an_order_at_a_mapped_location_goes_to_its_warehouse(world: World) -> None:
    """GIVEN `locations` mapping the shop's primary location to PeakWMS warehouse "Main" WHEN an order arrives THEN
    its fulfillment order's location is read (1 Shopify call) and the sales order is in that warehouse."""
    primary = world.shopify_sim.shop(SHOP).catalog.primary_location.id
    world.warehouse.sim.customer("nordlager").warehouses.append("Odense")  # a second warehouse of the customer
    order = world.new_order()

    outcome = world.deliver("orders/create", order, world.connection(locations={str(primary): "Odense"}))

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert "in warehouse Odense" in outcome.reason
    assert world.calls()[1] == 1
    assert world.sales_order(order)["warehouseName"] == "Odense"


def _transactions(world: World, order: dict[str, Any]) -> list[dict[str, Any]]:
    answer = world.ports.clients.shopify_client.run(
        "query($id: ID!) { order(id: $id) { transactions { id kind status } } }",
        {"id": f"gid://shopify/Order/{order['id']}"},
    )
    transactions: list[dict[str, Any]] = answer["order"]["transactions"]
    return transactions


def test_an_authorised_order_names_its_authorisation_for_peakwms_to_capture(world: World) -> None:
    """GIVEN an order whose payment was only authorised at checkout WHEN it arrives THEN the sales order's payment
    status is 1 (Authorized) and `transactionNumber` is the authorisation's id (what PeakWMS may capture); the
    transactions cost one Shopify read."""
    order = world.new_order(authorized=True)
    (authorisation,) = [t for t in _transactions(world, order) if t["kind"] == "AUTHORIZATION"]
    before = world.calls()[1]

    outcome = world.deliver("orders/create", order)

    assert outcome.status is EventStatus.DONE, outcome.reason
    assert world.calls()[1] - before == 1
    sent = world.sales_order(order)
    assert sent["paymentStatus"] == 1
    assert sent["transactionNumber"] == authorisation["id"].rsplit("/", 1)[-1]


def test_a_paid_order_names_its_sale_and_is_captured(world: World) -> None:
    """GIVEN an order paid at checkout WHEN it arrives THEN the payment status is 2 (Captured) and
    `transactionNumber` is the sale's id (what a refund is made against)."""
    order = world.new_order(paid=True)
    (sale,) = [t for t in _transactions(world, order) if t["kind"] == "SALE"]

    outcome = world.deliver("orders/create", order)

    assert outcome.status is EventStatus.DONE, outcome.reason
    sent = world.sales_order(order)
    assert sent["paymentStatus"] == 2
    assert sent["transactionNumber"] == sale["id"].rsplit("/", 1)[-1]


def test_prices_including_vat_go_to_peakwms_without_it(world: World) -> None:
    """GIVEN a Danish shop whose prices include 25 % VAT (a line of 99.00 with 19.80 VAT in it, shipping 49.00 with
    9.80) WHEN the order arrives THEN PeakWMS gets 79.20 a piece ex VAT with 19.80 VAT beside it, and shipping
    39.20 with 9.80 tax."""

    def danish(order: dict[str, Any]) -> None:
        order.update(taxes_included=True, currency="DKK", total_price="148.00", total_discounts="0.00")
        line = order["line_items"][0]
        line.update(price="99.00", quantity=1, discount_allocations=[], total_discount="0.00")
        line["tax_lines"] = [{"price": "19.80", "rate": 0.25, "title": "Moms"}]
        order["line_items"] = [line]
        order["shipping_lines"] = [
            {"title": "GLS Pakkeshop", "code": "gls_parcelshop:95558", "price": "49.00", "source": "shopify",
             "tax_lines": [{"price": "9.80", "rate": 0.25, "title": "Moms"}]}
        ]  # fmt: skip

    order = world.new_order(danish)

    outcome = world.deliver("orders/create", order)

    assert outcome.status is EventStatus.DONE, outcome.reason
    sent = world.sales_order(order)
    (line,) = sent["orderLines"]
    assert Decimal(str(line["salesPricePiece"])) == Decimal("79.20")
    assert Decimal(str(line["salesPriceTaxPiece"])) == Decimal("19.80")
    assert Decimal(str(sent["shippingCost"])) == Decimal("39.20")
    assert Decimal(str(sent["shippingTaxCost"])) == Decimal("9.80")
    assert sent["parcelShopId"] == "95558"
    assert sent["salesCurrency"] == "DKK"


def test_a_shop_sharing_the_main_shops_stock_needs_its_skus_matched(world: World) -> None:
    """GIVEN a shop that is not the main shop and whose variants are not matched to PeakWMS products yet WHEN an
    order arrives THEN it needs attention naming each line's `sku`: nothing is sent under the wrong product."""
    order = world.new_order()

    outcome = world.deliver("orders/create", order, world.connection(main_shop=False))

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "line_items[0].sku" in outcome.reason and "line_items[2].sku" in outcome.reason
    assert world.sales_orders() == []


def test_a_shop_sharing_the_stock_sends_the_main_shops_product_keys(world: World) -> None:
    """GIVEN a shop that is not the main shop, whose variants setup step 1 matched by SKU to the main shop's WHEN an
    order arrives THEN each line names the main shop's product and variant ids, which PeakWMS keys products by."""
    order = world.new_order()
    main_keys: dict[str, tuple[str, str]] = {}
    for index, item in enumerate(order["line_items"]):
        key = PeakKey(str(item["product_id"]), str(item["variant_id"]))
        own_variant = str(900000 + index)
        main_keys[own_variant] = (key.product_id, key.variant_id)
        item.update(variant_id=int(own_variant), product_id=77)
        bind_variant(world.ports.table, CONNECTION, own_variant, key, item["sku"], "77")

    outcome = world.deliver("orders/create", order, world.connection(main_shop=False))

    assert outcome.status is EventStatus.DONE, outcome.reason
    sent = [(line["productId"], line["variantId"]) for line in world.sales_order(order)["orderLines"]]
    assert sent == list(main_keys.values())


def test_an_update_showing_the_order_cancelled_cancels_it(world: World) -> None:
    """GIVEN a sales order WHEN an `orders/updated` arrives that shows the order cancelled (before or without its
    `orders/cancelled`) THEN the sales order is cancelled."""
    order = world.new_order()
    world.deliver("orders/create", order)

    outcome = world.deliver("orders/updated", {**order, "cancelled_at": "2099-01-01T10:00:00+01:00"})

    assert outcome.status is EventStatus.DONE and "cancelled" in outcome.reason, outcome.reason
    assert world.sales_order(order)["state"] == 5


def test_an_order_the_shop_fulfilled_itself_is_not_sent(world: World) -> None:
    """GIVEN an order fulfilled in Shopify that PeakWMS never had (from before the setup, edited later) WHEN its
    `orders/updated` arrives THEN it is skipped: nothing for the warehouse to ship."""
    order = world.new_order(fulfillment_status="fulfilled")

    outcome = world.deliver("orders/updated", order)

    assert outcome.status is EventStatus.SKIPPED and "fulfilled in Shopify already" in outcome.reason
    assert world.sales_orders() == []


def test_an_event_of_an_order_being_sent_at_this_moment_is_retried(world: World) -> None:
    """GIVEN another dispatcher holding the order's lease (its `orders/create` being sent this instant) WHEN the
    order's `orders/updated` is handled THEN it is retried later (RetryableError) and PeakWMS is not called: two
    events of one order never both create."""
    order = world.new_order()
    name = f"peakwms-order#{CONNECTION}#{order['id']}"
    held = leases.claim(world.ports.table, name, "other", pacing.clock.time(), 60)
    assert held is not None

    with pytest.raises(RetryableError):
        world.deliver("orders/updated", order)

    assert world.calls() == (0, 0)
    leases.release(world.ports.table, held)
    assert world.deliver("orders/updated", order).status is EventStatus.DONE


def test_an_order_of_a_product_peakwms_lacks_needs_attention_in_peakwms_words(world: World) -> None:
    """GIVEN an order of a variant that is not a PeakWMS product (products not fetched for it) WHEN it arrives THEN
    PeakWMS refuses it and the event needs attention with PeakWMS's words naming the line's product; nothing is
    made."""

    def unknown_variant(order: dict[str, Any]) -> None:
        order["line_items"][2].update(variant_id=123456789, product_id=987654321)

    order = world.new_order(unknown_variant)

    outcome = world.deliver("orders/create", order)

    assert outcome.status is EventStatus.NEEDS_ATTENTION
    assert "PeakWMS refused Shopify order" in outcome.reason and "987654321" in outcome.reason
    assert world.sales_orders() == []


def test_after_shipping_a_refund_is_nothing_for_the_warehouse_but_an_added_item_is(world: World) -> None:
    """GIVEN a sales order PeakWMS has shipped WHEN a return is refunded in Shopify (a line's `current_quantity` down,
    as the refund PeakWMS's 104 becomes) THEN the event is skipped: nothing more to ship; WHEN an item is then added
    to the order THEN the event needs attention naming the new line."""
    order = world.new_order()
    world.deliver("orders/create", order)
    for item in order["line_items"]:
        world.warehouse.sim.receive_stock("nordlager", str(item["product_id"]), str(item["variant_id"]), 5)
    world.warehouse.sim.pack("nordlager", str(order["id"]), tracking_number="00340434161234567890")
    world.warehouse.sim.ship("nordlager", str(order["id"]))
    refunded = json.loads(json.dumps(order))
    refunded["line_items"][1]["current_quantity"] = 0
    refunded.update(financial_status="partially_refunded", updated_at="2099-01-01T10:00:00+01:00")
    added = json.loads(json.dumps(refunded))
    extra = {**added["line_items"][0], "id": 990001, "quantity": 1, "current_quantity": 1}
    added["line_items"].append(extra)
    added["updated_at"] = "2099-01-01T11:00:00+01:00"

    returned = world.deliver("orders/updated", refunded)
    grown = world.deliver("orders/updated", added)

    assert returned.status is EventStatus.SKIPPED and "nothing more to ship" in returned.reason, returned.reason
    assert grown.status is EventStatus.NEEDS_ATTENTION and "990001 added" in grown.reason, grown.reason


def _refunded_in_shopify(
    world: World, order: dict[str, Any], units: dict[int, int], *, note: str | None = None
) -> dict[str, Any]:
    """Shopify refunds `units` (line index → quantity, not restocked) of the order; the order as its
    `orders/updated` echo carries it (with `refunds[]` and each line's `current_quantity`)."""
    lines = [
        RefundLine(str(order["line_items"][index]["id"]), quantity, "NO_RESTOCK") for index, quantity in units.items()
    ]
    create_refund(world.ports.clients.shopify_client, order["id"], lines, [], f"test-{len(units)}-{note}", note=note)
    echo: dict[str, Any] = json.loads(json.dumps(world.shopify_sim.shops[SHOP].orders[order["id"]]))
    return echo


def _packed(world: World, order: dict[str, Any]) -> None:
    for item in order["line_items"]:
        world.warehouse.sim.receive_stock("nordlager", str(item["product_id"]), str(item["variant_id"]), 5)
    world.warehouse.sim.pack("nordlager", str(order["id"]), tracking_number="00340434161234567890")


def test_a_refund_of_a_packed_order_is_skipped_as_nothing_for_the_warehouse(world: World) -> None:
    """GIVEN a sales order PeakWMS has packed, not shipped WHEN the merchant refunds one item in Shopify and its
    `orders/updated` echo arrives THEN the event is skipped saying only refunds changed it (it needed attention as
    'changed after Packed' before), and PeakWMS's sales order is as it was."""
    order = world.new_order()
    world.deliver("orders/create", order)
    _packed(world, order)

    outcome = world.deliver("orders/updated", _refunded_in_shopify(world, order, {0: 1}))

    assert outcome.status is EventStatus.SKIPPED, outcome.reason
    assert "only by refunds" in outcome.reason and "Packed" in outcome.reason
    assert [line["quantityRequested"] for line in world.sales_order(order)["orderLines"]] == [1, 1, 1]


def test_a_merchants_refund_of_every_item_before_picking_cancels_the_sales_order(world: World) -> None:
    """GIVEN a sales order PeakWMS holds for stock (nothing picked) WHEN the merchant refunds every item in Shopify
    THEN the echo cancels the PeakWMS sales order (it needed attention as 'nothing for the warehouse to ship'
    before), and a repeat of the echo is skipped."""
    order = world.new_order()
    world.deliver("orders/create", order)
    echo = _refunded_in_shopify(world, order, {0: 1, 1: 1, 2: 1})

    outcome = world.deliver("orders/updated", echo)
    again = world.deliver("orders/updated", echo)

    assert outcome.status is EventStatus.DONE and "refunded whole before it was picked" in outcome.reason, (
        outcome.reason
    )
    assert world.sales_order(order)["state"] == CANCELLED
    assert again.status is EventStatus.SKIPPED, again.reason


def test_our_own_refund_of_every_item_never_cancels_the_sales_order(world: World) -> None:
    """GIVEN a released sales order WHEN Shopify echoes the refund of every item that a PeakWMS 104 made (its note
    names the refund's idempotency key, whose plan is stored) THEN the echo is skipped as PeakWMS's own refund and
    the sales order is not cancelled; the same refund with a merchant's note of that shape but no stored plan is not
    taken for ours."""
    order = world.new_order()
    world.deliver("orders/create", order)
    key = refund_key(str(order["id"]), {"orderId": order["id"]})
    mappings.put_mapping(world.ports.table, CONNECTION, REFUND, SYSTEM, key, "", plan="{}")
    echo = _refunded_in_shopify(world, order, {0: 1, 1: 1, 2: 1}, note=OUR_NOTE.format(key=key))

    outcome = world.deliver("orders/updated", echo)

    assert outcome.status is EventStatus.SKIPPED and "PeakWMS's own refund" in outcome.reason, outcome.reason
    assert world.sales_order(order)["state"] != CANCELLED
    assert not is_own_refund(world.ports.table, CONNECTION, OUR_NOTE.format(key=key.replace("104-", "104-9")))
