"""Shopify orders into PeakWMS end to end (issue 16, item 2 step 3): a `peakwms_shopify` connection made as the
merchant makes it (a custom app's token and secret, a PeakWMS key), setup step `receive_orders` run by the guided
setup's workflow, and then a Shopify order as the shop sends it — signed with the custom app's secret, through
ingest, the queue and dispatch — held in PeakWMS until its stock arrives, then released. The order is Shopify's own
example (`../shared/fixtures/shopify/2025-01/order_0.json`, read in place) admitted as a new one."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.shapes import ProductDraft
from crossdock.connectors.shopify.access_scopes import NEEDED_SCOPES
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import guided_setup, peakwms_onboarding
from crossdock.store import events, setup_progress
from crossdock_local.stack import LocalStack

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=16) as running:
        yield running


@dataclass
class Shop:
    stack: LocalStack
    domain: str
    account: str
    connection_id: str
    template: dict[str, Any]

    def place_order(self) -> dict[str, Any]:
        order = copy.deepcopy(self.template)
        order.update(financial_status="pending", cancelled_at=None, cancel_reason=None, refunds=[], fulfillments=[])
        order.update(fulfillment_status=None, closed_at=None)
        for item in order["line_items"]:
            item.update(current_quantity=item["quantity"], fulfillable_quantity=item["quantity"])
        placed: dict[str, Any] = self.stack.shopify.create_order(self.domain, order)
        return placed

    def sales_order(self, order: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.stack.peakwms.sales_order(self.account, str(order["id"]))
        return found

    def order_events(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        logged = events.list_events(self.stack.table, self.connection_id)
        return [e for e in logged if e.get("topic") == "orders/create" and str(order["id"]) in e.get("payload", "")]


def _connected_shop(stack: LocalStack, template: dict[str, Any]) -> Shop:
    number = next(_numbers)
    domain = f"lagerhuset-{number}.myshopify.com"
    token, secret = stack.new_custom_app(domain, sorted(NEEDED_SCOPES), name=f"Lagerhuset {number}")
    account = f"nordlager-{number}"
    key = stack.peakwms.seed_customer(account)
    credentials = PeakwmsShopifyCredentials(
        web_url=f"https://{domain}",
        access_token=token,
        api_secret=secret,
        peakwms_account=account,
        peakwms_api_key=key,
    )
    created = peakwms_onboarding.create_peakwms_connection(
        stack.operator, credentials=credentials, settings={"shop_name": "Lagerhuset", "country": "DK"}
    )
    # Setup step 1's result, made here: the order's variants are PeakWMS products (keyed by the main shop's ids).
    client = PeakwmsClient(PeakwmsAccount(account=account, api_base=stack.peakwms_api(account)), key)
    for line in template["line_items"]:
        draft = ProductDraft(str(line["product_id"]), str(line["variant_id"]), item_number=line["sku"])
        upsert_product(client, draft)
    return Shop(stack, domain, account, created.connection_id, template)


@pytest.fixture
def shop(stack: LocalStack, shopify_payload: Callable[[str], Any]) -> Shop:
    return _connected_shop(stack, shopify_payload("2025-01/order_0.json")["order"])


def _receive_orders(stack: LocalStack, shop: Shop) -> None:
    steps = [step.name for step in guided_setup.show_setup(stack.operator, shop.connection_id).steps]
    for earlier in steps[: steps.index("receive_orders")]:
        guided_setup.skip_step(stack.operator, shop.connection_id, earlier)
    guided_setup.run_step(stack.operator, shop.connection_id, "receive_orders")
    stack.settle()


def test_receive_orders_then_an_order_is_held_until_its_stock_arrives_and_then_released(
    stack: LocalStack, shop: Shop
) -> None:
    # GIVEN the setup steps before it declined and `receive_orders` run by the setup's workflow
    _receive_orders(stack, shop)
    progress = setup_progress.load(stack.table, shop.connection_id, "receive_orders") or {}
    assert progress.get("status") == "done", progress
    subscribed = {s.topic for s in stack.shopify.shop(shop.domain).subscriptions}
    assert {"orders/create", "orders/updated", "orders/cancelled", "orders/delete"} <= subscribed

    # WHEN the shop takes an order of three variants PeakWMS has none of
    order = shop.place_order()
    stack.settle()

    # THEN PeakWMS has one sales order for it, on hold for no stock, and the event's outcome says so
    held = shop.sales_order(order)
    assert held is not None, [(e.get("topic"), e.get("status"), e.get("reason")) for e in shop.order_events(order)]
    assert (held["state"], held["onHoldReason"]) == (7, 7)
    assert len(stack.peakwms.sales_orders(shop.account)) == 1
    (logged,) = shop.order_events(order)
    assert logged["status"] == "done", logged
    assert "on hold in PeakWMS until every line is in stock" in logged["reason"]

    # WHEN the goods of every line arrive at the warehouse
    for item in order["line_items"]:
        stack.peakwms.receive_stock(shop.account, str(item["product_id"]), str(item["variant_id"]), 10)
    stack.settle()

    # THEN PeakWMS releases the order for picking
    released = shop.sales_order(order)
    assert released is not None and released["state"] == 1
    assert len(stack.peakwms.sales_orders(shop.account)) == 1


def test_an_order_cancelled_twice_and_deleted_is_cancelled_once_in_peakwms(stack: LocalStack, shop: Shop) -> None:
    # GIVEN a connection receiving orders, and an order in PeakWMS (its orders/create delivered twice)
    _receive_orders(stack, shop)
    order = shop.place_order()
    stack.settle()
    assert shop.sales_order(order) is not None
    # WHEN the merchant cancels it (Shopify delivering the cancellation twice) and then deletes it
    stack.shopify.cancel(shop.domain, order["id"], duplicate=True)
    stack.settle()
    stack.shopify.delete_order(shop.domain, order["id"])
    stack.settle()
    # THEN PeakWMS has the one sales order, cancelled; the cancellation's work ended done once, the rest skipped
    cancelled = shop.sales_order(order)
    assert cancelled is not None and cancelled["state"] == 5
    assert len(stack.peakwms.sales_orders(shop.account)) == 1
    logged = events.list_events(stack.table, shop.connection_id)
    outcomes = sorted(
        (e["topic"], e["status"]) for e in logged if e.get("topic") in ("orders/cancelled", "orders/delete")
    )
    assert ("orders/cancelled", "done") in outcomes
    assert ("orders/delete", "skipped") in outcomes
    assert outcomes.count(("orders/cancelled", "done")) == 1
