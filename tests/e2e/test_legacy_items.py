"""Items written by the release before the generic connection (issue 11) still load and behave the same.

The fixtures in tests/fixtures/legacy/ were captured from that release's code (commit c2087cd): a connection item
with flat `shop_domain`/`rackbeat_*`/`shopify_*` fields, its `SHOP#` claim, and an order workflow's input as its
dispatch built it. Here they take the place of a connection the stack made, with the stack's own ids, shop and
simulator addresses, so only their shape is the old one.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.store import connections, events, keys
from crossdock_local.stack import LocalStack

LEGACY = Path(__file__).parent.parent / "fixtures" / "legacy"


def _legacy(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((LEGACY / name).read_text())
    return loaded


def _replace_with_legacy_item(stack: LocalStack, merchant: Any) -> RackbeatShopifyConnection:
    """The merchant's connection stored as the old release stored it: flat fields, and its claim under `SHOP#`."""
    current = stack.connection(merchant.connection)
    fixture = _legacy("connection_item.json")
    item = {
        **fixture["connection_item"],
        "pk": keys.connection_pk(current.id),
        "id": current.id,
        "listed_id": current.id,
        "shop_domain": current.accounts.shopify.shop_domain,
        "rackbeat_account_id": current.accounts.rackbeat.account_id,
        "shopify_api_base": current.accounts.shopify.api_base,
        "rackbeat_api_base": current.accounts.rackbeat.api_base,
        # Connections are created with their Shopify app (`connections create`) and installed through it.
        "shopify_client_id": current.accounts.shopify.client_id,
        "settings": current.settings.model_dump(mode="json"),
        "settings_version": current.settings_version,
        "settings_saved_at": None,
    }
    assert "accounts" not in item and "shop_domain" in fixture["connection_item"]
    stack.table.put_item(Item=item)
    stack.table.delete_item(Key={"pk": keys.claim_pk("rackbeat_shopify", "shopify", current.shop_domain), "sk": "META"})
    stack.table.put_item(
        Item={**fixture["shop_claim_item"], "pk": keys.shop_pk(current.shop_domain), "connection_id": current.id}
    )
    return current


def test_a_connection_item_of_the_earlier_release_loads_with_its_accounts(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a connection stored in the earlier release's shape
    merchant = merchant_with()
    current = _replace_with_legacy_item(stack, merchant)
    # WHEN it is loaded
    loaded = connections.load_connection(stack.table, current.id)
    # THEN it is the same connection, its flat fields lifted into accounts
    assert isinstance(loaded, RackbeatShopifyConnection)
    assert loaded.kind == "rackbeat_shopify"
    assert loaded.accounts == current.accounts
    assert loaded.settings == current.settings
    assert (
        connections.connection_for_account(stack.table, "rackbeat_shopify", "shopify", current.shop_domain)
        == current.id
    )


def test_a_webhook_for_a_connection_of_the_earlier_release_becomes_one_rackbeat_order(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a connection (and its shop claim) in the earlier release's shape
    merchant = merchant_with(orders={"rackbeat_status": "invoiced_and_shipped"})
    _replace_with_legacy_item(stack, merchant)
    # WHEN a paid order arrives
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    # THEN ingest found the connection through the old claim, and exactly one Rackbeat order exists, invoiced
    rackbeat_order = merchant.only_rackbeat_order(placed)
    assert merchant.stage_of(rackbeat_order) == "invoiced_and_shipped"
    assert Decimal(rackbeat_order["total"]) == Decimal(placed["total_price"])


def test_an_order_workflow_started_by_the_earlier_release_finishes(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN an order whose event is in the log and a workflow input built by the earlier release's dispatch
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    current = stack.connection(merchant.connection)
    order = stack.shopify.create_order(merchant.domain, merchant.order(1), paid=False)
    stack.settle()  # unpaid: skipped, nothing in Rackbeat yet
    assert merchant.rackbeat_orders(order) == []
    sk = events.record_received(
        stack.table, current.id, "legacy-event", "shopify", "orders/paid", json.dumps(order), events.received_stamp()
    )
    workflow_input = {
        **_legacy("order_workflow_input.json")["workflow_input"],
        "connection_id": current.id,
        "event_sk": sk,
        "order_id": str(order["id"]),
        "order_name": order["name"],
        "target": "booked",
        "settings": current.settings.model_dump(mode="json"),
    }
    # WHEN the workflow runs with it (as an execution in flight across the upgrade would)
    sfn = boto3.client("stepfunctions", region_name=stack.aws.region)
    sfn.start_execution(
        stateMachineArn=stack.aws.state_machine_arn("OrderStateMachine"),
        name="legacy-1",
        input=json.dumps(workflow_input),
    )
    stack.settle()
    # THEN the order is in Rackbeat once, booked, and the event is done
    assert merchant.stage_of(merchant.only_rackbeat_order(order)) == "booked"
    assert events.load_event(stack.table, current.id, sk)["status"] == "done"
