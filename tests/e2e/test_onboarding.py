"""Onboarding's side effects, end to end (issue 13): what an operator's `settings set` sets in motion reaches the
merchant's systems.

Every connection here is made as production makes it (`LocalStack.create_connection`: the operator's `connections
create`, then the owner's OAuth install) and every save is the operator's `settings set`
(`crossdock.operations.settings`), so the webhooks and schedules come from product code
(`integrations/rackbeat_shopify/settings_effects.py`), not from the harness.
"""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest

from crossdock.connectors.rackbeat.products import ITEM_EVENTS
from crossdock.flows.poll_schedules import schedule_name
from crossdock.integrations.rackbeat_shopify.reconciliation import ORDER_STREAM
from crossdock.operations.settings import SettingsRefused
from crossdock_local.stack import LocalStack

JACKETS = 10


def hooks_of(merchant: Any) -> list[str]:
    url = merchant.stack.rackbeat_webhook_url(merchant.connection.connection_id)
    state = merchant.stack.rackbeat.state(merchant.account)
    return sorted(hook["event"] for hook in state.webhooks.values() if hook["url"] == url)


def create_item(merchant: Any, number: str) -> None:
    """The merchant creates an item in Rackbeat through its API (Rackbeat then sends its webhooks)."""
    body = {"number": number, "name": "Regnjakke", "sales_price": "400.00", "group": {"number": JACKETS}}
    answer = httpx.post(
        f"{merchant.stack.base_url}/_sim/rackbeat/api/products",
        headers={"Authorization": f"Bearer {merchant.connection.rackbeat_api_key}"},
        json=body,
        timeout=10,
    )
    assert answer.status_code < 300, answer.text


def test_enabling_product_sync_registers_rackbeats_item_webhooks_and_items_then_reach_the_shop(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a connection that takes no products from Rackbeat: no item webhook, an item created stays in Rackbeat
    merchant = merchant_with(
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, JACKETS, "Jakker")
    )
    assert not set(ITEM_EVENTS) & set(hooks_of(merchant))
    create_item(merchant, "JAKKE-1")
    stack.settle()
    assert not [p for p in stack.shopify.products(merchant.domain) if p["variants"][0].get("sku") == "JAKKE-1"]
    # WHEN the operator makes Rackbeat the product master
    wanted = {**merchant.settings, "product_sync": {"master": "rackbeat", "default_product_group": JACKETS}}
    updated = stack.update_settings(merchant.connection, wanted)
    # THEN Rackbeat sends the item events to the connection, and the next item created arrives in the shop
    assert updated.settings_version == 2
    assert set(ITEM_EVENTS) <= set(hooks_of(merchant))
    create_item(merchant, "JAKKE-2")
    stack.settle()
    skus = [v.get("sku") for p in stack.shopify.products(merchant.domain) for v in p["variants"]]
    assert "JAKKE-2" in skus


def test_a_new_interval_moves_the_reconciliation_schedule_and_switching_off_removes_it(
    stack: LocalStack, merchant_with: Any
) -> None:
    merchant = merchant_with()
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    group = stack.aws.function_env("ShopifyAppFunction")["POLL_SCHEDULE_GROUP"]
    name = schedule_name(ORDER_STREAM, merchant.connection.connection_id)
    assert scheduler.get_schedule(Name=name, GroupName=group)["ScheduleExpression"] == "rate(15 minutes)"
    stack.update_settings(merchant.connection, {**merchant.settings, "reconciliation": {"interval_minutes": 60}})
    assert scheduler.get_schedule(Name=name, GroupName=group)["ScheduleExpression"] == "rate(60 minutes)"
    stack.update_settings(merchant.connection, {**merchant.settings, "reconciliation": {"enabled": False}})
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=name, GroupName=group)


def test_a_refused_save_changes_nothing_and_lists_every_problem(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an active connection with stock sync off
    merchant = merchant_with()
    before = stack.connection(merchant.connection)
    hooks = hooks_of(merchant)
    # WHEN a save has an unknown key, a wrong type and a location Rackbeat has not got, and switches stock sync on
    broken = {
        **merchant.settings,
        "colour": "blue",
        "employees": {"web": "first"},
        "fulfillment": {"rackbeat_location": "NOWHERE"},
        "stock_sync": {"enabled": True},
    }
    with pytest.raises(SettingsRefused) as refused:
        stack.update_settings(merchant.connection, broken)
    # THEN all three are named, and neither the settings nor Rackbeat's webhooks changed
    assert {problem.field for problem in refused.value.problems} == {
        "colour",
        "employees.web",
        "fulfillment.rackbeat_location",
    }
    assert stack.connection(merchant.connection) == before
    assert hooks_of(merchant) == hooks
