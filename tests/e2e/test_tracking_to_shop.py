"""Tracking to the shop, end to end on the embedded stack (issue 15, item 6): a Shopify order becomes a Rackbeat
order through the `rackbeat_shopify` connection; a `rackbeat_webshipper` connection on the same Rackbeat account
hands over the Webshipper shipment of that order; the tracking reaches Shopify as exactly one fulfilment.

The hand-over is the message the tracking step records (`crossdock` / `tracking/shopify`), put on the inbound queue
as dispatch receives it: inbound queue → dispatch → the step's route → the Shopify outbound queue → the Shopify push
function → the Shopify simulator. (INBOUND's `shipment/created` handling calls the same step in dispatch once it
lands; until then the message stands for it.) The Webshipper connection is stored as its onboarding would store it,
with the Rackbeat account's key, since its `connections create` was not committed when this was written.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.operations import events as operator_events
from crossdock.operations import inbound
from crossdock.store import connections, events
from crossdock.topics import CROSSDOCK_SOURCE, TRACKING_TOPIC
from crossdock_local.stack import LocalStack

_accounts = itertools.count(1)
TRACKING = {"carrier": "PostNord", "tracking_number": "00370730253447781234"}
TRACKING_URL = "https://tracking.postnord.com/da/?id=00370730253447781234"


def webshipper_connection(stack: LocalStack, merchant: Any, **settings: Any) -> RackbeatWebshipperConnection:
    """A Webshipper account connected to the merchant's Rackbeat account, active."""
    number = next(_accounts)
    account = f"lager-{number}"
    stack.webshipper.seed_account(account)
    connection = RackbeatWebshipperConnection(
        id=f"ws-{uuid.uuid4().hex[:12]}",
        state=ConnectionState.ACTIVE,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=stack.connection(merchant.connection).accounts.rackbeat,
            webshipper=WebshipperAccount(account=account, api_base=stack.webshipper_api(account)),
        ),
        settings=RackbeatWebshipperSettings.model_validate({"order_channel": "1", **settings}),
    )
    connections.save_connection(stack.table, connection)
    stack.secrets.put(connection.id, RACKBEAT_API_KEY, merchant.connection.rackbeat_api_key)
    return connection


def hand_over(stack: LocalStack, connection_id: str, rackbeat_order: int, shipment: str) -> None:
    """The shipment's hand-over, as the tracking step records it in dispatch, put on the inbound queue."""
    detail = {"rackbeat_order": rackbeat_order, "shipment_id": shipment, **TRACKING, "tracking_url": TRACKING_URL}
    message = inbound.operator_message(
        connection_id, CROSSDOCK_SOURCE, TRACKING_TOPIC, json.dumps(detail), f"tracking-{shipment}"
    )
    inbound.enqueue(stack.operator, {**message, "redrive": None})


def fulfilments(stack: LocalStack, merchant: Any, order: dict[str, Any]) -> list[dict[str, Any]]:
    stored = stack.shopify.get_order(merchant.domain, order["id"])
    assert stored is not None
    found: list[dict[str, Any]] = stored.get("fulfillments") or []
    return found


def tracking_events(stack: LocalStack, connection_id: str) -> list[dict[str, Any]]:
    found = [e for e in events.list_events(stack.table, connection_id) if e["topic"] == TRACKING_TOPIC]
    return sorted(found, key=lambda e: str(e["sk"]))


def test_a_shipment_of_a_shopify_order_becomes_one_fulfilment_however_often_it_arrives(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a shop whose customers are told of fulfilments, and its paid order transferred to Rackbeat
    merchant = merchant_with(fulfillment={"notify_customer": True})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(0), paid=True)
    stack.settle()
    rackbeat_order = int(merchant.only_rackbeat_order(placed)["number"])
    # AND a Webshipper connection on the same Rackbeat account, tracking_to_shopify on (the default)
    webshipper = webshipper_connection(stack, merchant)
    # WHEN the Webshipper shipment of that order is handed over
    hand_over(stack, webshipper.id, rackbeat_order, "7001")
    stack.settle()
    # THEN the Shopify order has exactly one fulfilment with the carrier, tracking number and URL, customer notified
    (fulfilment,) = fulfilments(stack, merchant, placed)
    assert fulfilment["tracking_company"] == TRACKING["carrier"]
    assert fulfilment["tracking_numbers"] == [TRACKING["tracking_number"]]
    assert fulfilment["tracking_urls"] == [TRACKING_URL]
    assert fulfilment["notify_customer"] is True
    (event,) = tracking_events(stack, webshipper.id)
    assert event["status"] == "done" and placed["name"] in event["reason"]
    # WHEN the same shipment arrives again, and an operator retries its event too
    hand_over(stack, webshipper.id, rackbeat_order, "7001")
    stack.settle()
    operator_events.retry_event(stack.operator, str(event["event_id"]), webshipper.id, force=True)
    stack.settle()
    # THEN the order still has one fulfilment: the repeat was skipped, the retry found the tracking already there
    assert len(fulfilments(stack, merchant, placed)) == 1
    first, repeat, retried = tracking_events(stack, webshipper.id)
    assert first["status"] == "skipped" and "retried as" in first["reason"]
    assert repeat["status"] == "skipped" and "handed to the shop already" in repeat["reason"]
    assert retried["status"] == "done" and "already has a fulfilment" in retried["reason"]
    # AND the shop's own connection took the fulfilment webhooks Shopify sent without anything needing attention
    assert "needs_attention" not in merchant.statuses()


def test_no_fulfilment_when_tracking_to_shopify_is_off(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a Shopify order in Rackbeat and a Webshipper connection with tracking_to_shopify off
    merchant = merchant_with()
    placed = stack.shopify.create_order(merchant.domain, merchant.order(1), paid=True)
    stack.settle()
    webshipper = webshipper_connection(stack, merchant, tracking_to_shopify=False)
    # WHEN its shipment is handed over
    hand_over(stack, webshipper.id, int(merchant.only_rackbeat_order(placed)["number"]), "7002")
    stack.settle()
    # THEN Shopify has no fulfilment and the event says why
    assert fulfilments(stack, merchant, placed) == []
    (event,) = tracking_events(stack, webshipper.id)
    assert event["status"] == "skipped" and "tracking_to_shopify is off" in event["reason"]
