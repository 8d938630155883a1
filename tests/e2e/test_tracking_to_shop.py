"""Tracking to the shop, end to end on the embedded stack (issue 15, item 6): a Shopify order becomes a Rackbeat
order through the `rackbeat_shopify` connection; a `rackbeat_webshipper` connection on the same Rackbeat account
hands over the Webshipper shipment of that order; the tracking reaches Shopify as exactly one fulfilment.

The first test ships the order in the Webshipper simulator: its signed `shipment/created` goes through ingest →
the inbound queue → dispatch → INBOUND's handler (the Rackbeat order shipped) → the tracking step → the Shopify
outbound queue → the Shopify push function → the Shopify simulator. The others put the step's own message
(`crossdock` / `tracking/shopify`) on the inbound queue, to repeat and retry it. The Webshipper connection is put in
place as activation leaves it (stored active, its secrets KMS-sealed, its Webshipper webhooks registered by the
connector).
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.webshipper import webhooks
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.secret_names import API_TOKEN, WEBHOOK_SECRET
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.operations import events as operator_events
from crossdock.operations import inbound
from crossdock.store import connections, events
from crossdock.topics import CROSSDOCK_SOURCE, TRACKING_TOPIC
from crossdock_local.sims.base.webhooks import DeliveryFaults
from crossdock_local.stack import LocalStack

_accounts = itertools.count(1)
RATE = "PostNord MyPack"
SECRET = "webshipper-webhook-secret-tracking-0123"
TRACKING = {"carrier": "PostNord", "tracking_number": "00370730253447781234"}
TRACKING_URL = "https://tracking.postnord.com/da/?id=00370730253447781234"


def webshipper_connection(stack: LocalStack, merchant: Any, **settings: Any) -> RackbeatWebshipperConnection:
    """A Webshipper account connected to the merchant's Rackbeat account, as activation leaves it: active, its
    secrets stored, its Webshipper webhooks registered by the connector to the connection's address."""
    account = f"lager{next(_accounts)}{uuid.uuid4().hex[:6]}"
    seeded = stack.webshipper.seed_account(
        account,
        carriers=[{"name": "PostNord", "alias": "postnord"}],
        channels=[{"channel_label": "Rackbeat"}],
        rates=[{"name": RATE, "carrier": "postnord", "channel": "Rackbeat"}],
    )
    connection = RackbeatWebshipperConnection(
        id=f"ws-{uuid.uuid4().hex[:12]}",
        state=ConnectionState.ACTIVE,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=stack.connection(merchant.connection).accounts.rackbeat,
            webshipper=WebshipperAccount(account=account, api_base=stack.webshipper_api(account)),
        ),
        settings=RackbeatWebshipperSettings.model_validate(
            {"order_channel": str(seeded["channels"]["Rackbeat"]), **settings}
        ),
    )
    connections.save_connection(stack.table, connection)
    stack.secrets.put(connection.id, RACKBEAT_API_KEY, merchant.connection.rackbeat_api_key)
    stack.secrets.put(connection.id, API_TOKEN, stack.webshipper.add_api_token(account))
    stack.secrets.put(connection.id, WEBHOOK_SECRET, SECRET)
    client = ConnectionClients(stack.secrets, stack.table).webshipper(connection)
    for topic in webhooks.TOPICS:
        webhooks.register_webhook(client, f"{stack.base_url}/webhooks/webshipper/{connection.id}", topic, SECRET)
    _rates[connection.id] = int(seeded["rates"][RATE])
    return connection


_rates: dict[str, int] = {}  # connection id → its account's shipping rate


def exported_order(stack: LocalStack, connection: RackbeatWebshipperConnection, rackbeat: dict[str, Any]) -> int:
    """The Webshipper order our export makes of the Rackbeat order (ext_ref rackbeat-<number> in order_channel, its
    lines' items as SKUs)."""
    channel = int(str(connection.settings.order_channel))
    lines = [
        {"sku": line["item_id"], "description": str(line["item_id"]), "quantity": int(float(line["quantity"])),
         "unit_price": float(line["line_price"])}
        for line in rackbeat["lines"]
    ]  # fmt: skip
    document = {
        "data": {
            "type": "orders",
            "attributes": {
                "ext_ref": f"rackbeat-{rackbeat['number']}",
                "visible_ref": str(rackbeat["number"]),
                "currency": "DKK",
                "delivery_address": {"att_contact": "Anna Jensen", "address_1": "Vestergade 12", "zip": "8000",
                                     "city": "Aarhus C", "country_code": "DK"},
                "order_lines": lines,
            },
            "relationships": {
                "order_channel": {"data": {"type": "order_channels", "id": channel}},
                "shipping_rate": {"data": {"type": "shipping_rates", "id": _rates[connection.id]}},
            },
        }
    }  # fmt: skip
    placed = stack.webshipper.place_order(connection.accounts.webshipper.account, document)  # ours: not imported
    return int(placed["data"]["id"])


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


def test_a_webshipper_shipment_of_a_shopify_order_becomes_one_fulfilment_of_it(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a paid Shopify order booked in Rackbeat through the rackbeat_shopify connection
    merchant = merchant_with(orders={"rackbeat_status": "booked"})
    placed = stack.shopify.create_order(merchant.domain, merchant.order(3), paid=True)  # three lines to ship
    stack.settle()
    # AND a Webshipper connection on the same Rackbeat account, and the Webshipper order our export made of it
    webshipper = webshipper_connection(stack, merchant)
    order_id = exported_order(stack, webshipper, merchant.only_rackbeat_order(placed))
    stack.settle()
    # WHEN the warehouse ships it in Webshipper, and Webshipper delivers every webhook twice
    stack.webshipper.delivery_faults = DeliveryFaults(duplicate_rate=1.0)
    try:
        stack.webshipper.ship(
            webshipper.accounts.webshipper.account,
            order_id,
            tracking_number=TRACKING["tracking_number"],
            tracking_url=TRACKING_URL,
        )
        stack.settle()
    finally:
        stack.webshipper.delivery_faults = DeliveryFaults()
    # THEN the Rackbeat order is shipped with the tracking in its note (INBOUND's part)
    shipped = merchant.only_rackbeat_order(placed)
    assert TRACKING["tracking_number"] in str(shipped.get("note"))
    # AND the Shopify order has exactly one fulfilment with Webshipper's carrier, tracking number and URL
    (fulfilment,) = fulfilments(stack, merchant, placed)
    assert fulfilment["tracking_company"] == "PostNord"
    assert fulfilment["tracking_numbers"] == [TRACKING["tracking_number"]]
    assert fulfilment["tracking_urls"] == [TRACKING_URL]
    assert fulfilment["notify_customer"] is False  # fulfillment.notify_customer's default
    (event,) = tracking_events(stack, webshipper.id)
    assert event["status"] == "done" and placed["name"] in event["reason"]


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
