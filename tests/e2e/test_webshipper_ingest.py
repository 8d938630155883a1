"""Webshipper's webhooks through the front door (issue 15, item 7), on the embedded stack: the connector registers
the connection's webhooks in the Webshipper simulator at `/webhooks/webshipper/<connection id>`, the simulator's
signed deliveries go through API Gateway → ingest → the inbound queue → dispatch's event log, a delivery repeated
by Webshipper is queued once, a bad signature is 401 and queues nothing, an unknown connection is 404.

What dispatch does with the event (the import into Rackbeat) is INBOUND's and tested with it; here only what came
in is counted."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.webshipper import webhooks
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.inbound import signature
from crossdock.connectors.webshipper.secret_names import API_TOKEN, WEBHOOK_SECRET
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.store import connections, events
from crossdock_local.sims.base.webhooks import DeliveryFaults
from crossdock_local.stack import LocalStack

SECRET = "webshipper-webhook-secret-0123456789"


def queued(stack: LocalStack) -> int:
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.aws.queue_url("InboundQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def connect(stack: LocalStack) -> tuple[RackbeatWebshipperConnection, str, int]:
    """A rackbeat_webshipper connection as activation leaves it, with an API token and the webhook secret; its
    three webhooks registered by the connector (through ConnectionClients, over HTTP to the simulator)."""
    account, api_key = stack.new_rackbeat_account()
    name = f"ingestlager{uuid.uuid4().hex[:8]}"
    seeded = stack.webshipper.seed_account(
        name,
        carriers=[{"name": "GLS", "alias": "gls"}],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[{"name": "GLS Privat", "carrier": "gls", "channel": "Rackbeat"}],
    )
    connection = RackbeatWebshipperConnection(
        id=str(uuid.uuid4()),
        state=ConnectionState.ACTIVE,
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=account, api_base=f"{stack.base_url}/_sim/rackbeat/api/"),
            webshipper=WebshipperAccount(account=name, api_base=stack.webshipper_api(name)),
        ),
        settings=RackbeatWebshipperSettings.model_validate({"order_channel": str(seeded["channels"]["Rackbeat"])}),
    )
    connections.save_connection(stack.table, connection)
    stack.secrets.put(connection.id, RACKBEAT_API_KEY, api_key)
    stack.secrets.put(connection.id, API_TOKEN, stack.webshipper.add_api_token(name))
    stack.secrets.put(connection.id, WEBHOOK_SECRET, SECRET)
    client = ConnectionClients(stack.secrets, stack.table).webshipper(connection)
    for topic in webhooks.TOPICS:
        webhooks.register_webhook(client, f"{stack.base_url}/webhooks/webshipper/{connection.id}", topic, SECRET)
    return connection, name, int(seeded["channels"]["Webshop"])


def shop_order(name: str, ext_ref: str, channel: int) -> dict[str, Any]:
    """An order a web shop put into Webshipper (not one of ours)."""
    return {
        "data": {
            "type": "orders",
            "attributes": {
                "ext_ref": ext_ref,
                "visible_ref": ext_ref,
                "currency": "DKK",
                "delivery_address": {"att_contact": "Bo Holm", "address_1": "Torvet 3", "zip": "8000",
                                     "city": "Aarhus", "country_code": "DK"},
                "order_lines": [{"sku": "BELL-1", "description": "Ringeklokke", "quantity": 1, "unit_price": 79.2}],
            },
            "relationships": {"order_channel": {"data": {"type": "order_channels", "id": channel}}},
        }
    }  # fmt: skip


def came_in(stack: LocalStack, connection_id: str, topic: str) -> list[dict[str, Any]]:
    return [
        e for e in events.list_events(stack.table, connection_id) if e["source"] == "webshipper" and e["topic"] == topic
    ]


@pytest.fixture(autouse=True)
def _calm_webshipper(stack: LocalStack) -> Any:
    yield
    stack.webshipper.delivery_faults = DeliveryFaults()


def test_webshippers_deliveries_reach_the_event_log_once_each_even_when_repeated(stack: LocalStack) -> None:
    """GIVEN a connection whose webhooks the connector registered, and Webshipper delivering every webhook twice
    WHEN a web shop's order is placed in Webshipper THEN its order/created is logged once for the connection,
    with Webshipper's id, and every delivery was answered 200."""
    connection, name, webshop = connect(stack)
    stack.webshipper.delivery_faults = DeliveryFaults(duplicate_rate=1.0)
    attempts_before = len(stack.webshipper.delivery_log)
    placed = stack.webshipper.place_order(name, shop_order(name, "SHOP-1001", webshop))

    stack.settle()

    (event,) = came_in(stack, connection.id, "order/created")
    updated_at = placed["data"]["attributes"]["updated_at"]
    assert event["event_id"] == f"order/created:{placed['data']['id']}:{updated_at}"
    assert json.loads(event["payload"])["data"]["attributes"]["ext_ref"] == "SHOP-1001"
    ours = [a for a in stack.webshipper.delivery_log[attempts_before:] if connection.id in a.url]
    assert len(ours) >= 2 and {a.status for a in ours} == {200}


def test_a_bad_signature_is_401_an_unknown_connection_404_and_neither_is_queued(stack: LocalStack) -> None:
    """GIVEN a delivery as Webshipper sends it WHEN it is signed with another secret, or addressed to a connection
    that does not exist THEN 401 or 404, and nothing reaches the queue; signed rightly it is queued."""
    connection, _, _ = connect(stack)
    body = json.dumps({"data": {"type": "orders", "id": "77", "attributes": {"updated_at": "2026-12-07T10:00:00.0Z"}},
                       "meta": {}}).encode()  # fmt: skip
    path = f"/webhooks/webshipper/{connection.id}"
    headers = {"X-Webshipper-Topic": "order/updated", "Content-Type": "application/vnd.api+json;charset=utf-8",
               "User-Agent": "Webshipper"}  # fmt: skip
    before = queued(stack)
    forged = stack.aws.api_request(
        "POST", path, {**headers, "X-Webshipper-Hmac-Sha256": signature("other", body)}, body
    )
    assert (forged.status, forged.json()) == (401, {"message": "invalid webhook signature"})
    nobody = f"/webhooks/webshipper/{uuid.uuid4()}"
    unknown = stack.aws.api_request(
        "POST", nobody, {**headers, "X-Webshipper-Hmac-Sha256": signature(SECRET, body)}, body
    )
    assert unknown.status == 404
    assert queued(stack) == before
    signed = {**headers, "X-Webshipper-Hmac-Sha256": signature(SECRET, body)}
    assert stack.aws.api_request("POST", path, signed, body).json() == {"status": "queued"}
    assert stack.aws.api_request("POST", path, signed, body).json() == {"status": "duplicate"}
    assert queued(stack) == before + 1
    stack.settle()
