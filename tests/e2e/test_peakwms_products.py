"""PeakWMS products end to end (issue 16, item 2 step 1): a `peakwms_shopify` connection made as the merchant makes
it, setup step `fetch_products` run by the guided setup's workflow, and then the shop's product webhooks — signed
with the custom app's secret, through ingest, the queue and dispatch — keeping PeakWMS current."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crossdock.connectors.shopify.access_scopes import NEEDED_SCOPES
from crossdock.integrations.peakwms_shopify import product_map
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.integrations.peakwms_shopify.product_map import PeakKey
from crossdock.operations import guided_setup, peakwms_onboarding
from crossdock.store import connections, events, setup_progress
from crossdock_local.stack import LocalStack

SHOP = "produkthuset.myshopify.com"
ACCOUNT = "produktlager"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=17) as running:
        yield running


@pytest.fixture(scope="module")
def connection_id(stack: LocalStack) -> str:
    token, secret = stack.new_custom_app(SHOP, sorted(NEEDED_SCOPES), name="Produkthuset")
    key = stack.peakwms.seed_customer(ACCOUNT)
    credentials = PeakwmsShopifyCredentials(
        web_url=f"https://{SHOP}", access_token=token, api_secret=secret, peakwms_account=ACCOUNT, peakwms_api_key=key
    )
    created = peakwms_onboarding.create_peakwms_connection(
        stack.operator, credentials=credentials, settings={"shop_name": "Produkthuset", "country": "DK"}
    )
    stack.shopify.seed_catalog(SHOP, 9, variants_per_product=3, sku=lambda i: f"PH-{i:02d}")
    return created.connection_id


def in_peakwms(stack: LocalStack) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["productId"], p["variantId"]): p for p in stack.peakwms.products(ACCOUNT)}


def test_fetch_products_by_the_workflow_then_product_webhooks_keep_peakwms_current(
    stack: LocalStack, connection_id: str
) -> None:
    # WHEN the merchant runs step 1
    guided_setup.run_step(stack.operator, connection_id, "fetch_products")
    stack.settle()
    # THEN the step is done with every variant counted, and each is a PeakWMS product
    progress = setup_progress.load(stack.table, connection_id, "fetch_products") or {}
    assert (progress.get("status"), progress.get("done"), progress.get("total")) == ("done", 9, 9), progress
    products = stack.shopify.products(SHOP)
    assert len(in_peakwms(stack)) == 9
    subscribed = {s.topic for s in stack.shopify.shop(SHOP).subscriptions}
    assert {"products/create", "products/update", "products/delete"} <= subscribed

    # WHEN the merchant renames a product and changes a variant's barcode in Shopify
    first = products[0]
    variant = first["variants"][0]
    stack.shopify.update_product(
        SHOP, first["id"], {"title": "Hørhåndklæde"}, variant_changes={variant["id"]: {"barcode": "5701111111111"}}
    )
    stack.settle()
    # THEN PeakWMS has the new name and EAN, through the shop's signed webhook
    record = in_peakwms(stack)[(str(first["id"]), str(variant["id"]))]
    assert record["ean"] == "5701111111111" and record["description"].startswith("Hørhåndklæde")
    logged = [e for e in events.list_events(stack.table, connection_id) if e.get("topic") == "products/update"]
    assert logged and logged[-1]["status"] == "done", logged

    # WHEN the merchant deletes another product
    gone = products[1]
    stack.shopify.delete_product(SHOP, gone["id"])
    stack.settle()
    # THEN its variants leave PeakWMS, the others stay
    remaining = in_peakwms(stack)
    assert not [key for key in remaining if key[0] == str(gone["id"])] and len(remaining) == 6


def test_a_second_shop_on_the_same_peakwms_stock_is_matched_by_sku_also_from_its_webhooks(
    stack: LocalStack, connection_id: str
) -> None:
    # GIVEN the main shop's products in PeakWMS (the test above, or here) and a second shop on the same account
    if not setup_progress.load(stack.table, connection_id, "fetch_products"):
        guided_setup.run_step(stack.operator, connection_id, "fetch_products")
        stack.settle()
    second = "produkthuset-se.myshopify.com"
    token, secret = stack.new_custom_app(second, sorted(NEEDED_SCOPES), name="Produkthuset SE")
    credentials = PeakwmsShopifyCredentials(
        web_url=f"https://{second}",
        access_token=token,
        api_secret=secret,
        peakwms_account=ACCOUNT,
        peakwms_api_key=stack.peakwms.seed_customer(ACCOUNT),  # the customer exists: another key of it
    )
    created = peakwms_onboarding.create_peakwms_connection(
        stack.operator,
        credentials=credentials,
        settings={"shop_name": "Produkthuset SE", "country": "SE", "main_shop": False},
    )
    stack.shopify.seed_catalog(second, 2, variants_per_product=1, sku=lambda i: ["PH-08", "SE-ONLY"][i])
    before = in_peakwms(stack)
    # WHEN its fetch_products runs
    guided_setup.run_step(stack.operator, created.connection_id, "fetch_products")
    stack.settle()
    progress = setup_progress.load(stack.table, created.connection_id, "fetch_products") or {}
    assert progress.get("status") == "done", progress
    # THEN nothing is written to PeakWMS and its PH-08 is the main shop's PH-08
    assert in_peakwms(stack) == before
    theirs = stack.shopify.products(second)
    main_ph08 = next(k for k, p in before.items() if p["itemNumber"] == "PH-08")
    loaded = connections.load_connection(stack.table, created.connection_id)
    assert loaded is not None
    connection = PeakwmsShopifyConnection.of(loaded)
    first = theirs[0]
    found = product_map.peak_product_for(stack.table, connection, str(first["id"]), str(first["variants"][0]["id"]))
    assert found == PeakKey(*main_ph08)
    # WHEN the second shop gives its other variant the SKU PH-07, through its signed products/update
    other = theirs[1]
    changed = {other["variants"][0]["id"]: {"sku": "PH-07"}}
    stack.shopify.update_product(second, other["id"], {}, variant_changes=changed)
    stack.settle()
    # THEN the dispatch function bound it by SKU too
    main_ph07 = next(k for k, p in before.items() if p["itemNumber"] == "PH-07")
    bound = product_map.peak_product_for(stack.table, connection, str(other["id"]), str(other["variants"][0]["id"]))
    assert bound == PeakKey(*main_ph07)
