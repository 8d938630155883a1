"""PeakWMS's webhooks through the front door (issue 16, item 3), on the embedded stack: the connector registers one
address per event in the PeakWMS simulator — `/webhooks/peakwms/<connection id>/<event>?key=<the connection's
key>` —, the simulator's unsigned deliveries go through API Gateway → ingest → the inbound queue → dispatch's event
log with topic `peakwms/<event>`, a delivery PeakWMS repeats is queued once, a wrong or missing key is 401 and
queues nothing, an unknown event or connection is 404, a body that is not a JSON object is 400.

What dispatch does with the event (the Shopify write) is PW_MESSAGES's and tested with it; here only what came in is
counted."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from crossdock.connections.model import ConnectionState
from crossdock.connectors.peakwms import webhooks
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.secret_names import API_KEY, WEBHOOK_KEY
from crossdock.connectors.peakwms.shapes import EVENTS, ProductDraft
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.store import connections, events
from crossdock_local.sims.base.webhooks import DeliveryFaults
from crossdock_local.stack import LocalStack

KEY = "peakwms-webhook-key-0123456789abcdef"


def queued(stack: LocalStack) -> int:
    sqs = boto3.client("sqs", region_name=stack.aws.region)
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.aws.queue_url("InboundQueue"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def connect(stack: LocalStack) -> tuple[PeakwmsShopifyConnection, str]:
    """A peakwms_shopify connection with its PeakWMS key and webhook key, and the twelve webhooks registered by the
    connector (through ConnectionClients, over HTTP to the simulator)."""
    customer = f"lager{uuid.uuid4().hex[:8]}"
    api_key = stack.peakwms.seed_customer(customer)
    connection = PeakwmsShopifyConnection(
        id=str(uuid.uuid4()),
        state=ConnectionState.ACTIVE,
        accounts=PeakwmsShopifyAccounts(
            peakwms=PeakwmsAccount(account=customer, api_base=stack.peakwms_api(customer)),
            shopify=ShopifyAccount(shop_domain=f"{customer}.myshopify.com"),
        ),
        settings=PeakwmsShopifySettings.model_validate({"shop_name": customer, "country": "DK"}),
    )
    connections.save_connection(stack.table, connection)
    stack.secrets.put(connection.id, API_KEY, api_key)
    stack.secrets.put(connection.id, WEBHOOK_KEY, KEY)
    client = ConnectionClients(stack.secrets, stack.table).peakwms(connection)
    for name, number in EVENTS.items():
        webhooks.register_webhook(client, number, f"{stack.base_url}/webhooks/peakwms/{connection.id}/{name}?key={KEY}")
    return connection, customer


def came_in(stack: LocalStack, connection_id: str, topic: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in events.list_events(stack.table, connection_id)
        if e["source"] == "peakwms" and (topic is None or e["topic"] == topic)
    ]


@pytest.fixture(autouse=True)
def _calm_peakwms(stack: LocalStack) -> Any:
    yield
    stack.peakwms.delivery_faults = DeliveryFaults()


def test_peakwms_deliveries_reach_the_event_log_once_each_even_when_repeated(stack: LocalStack) -> None:
    """GIVEN a connection whose webhooks the connector registered, and PeakWMS delivering every webhook twice
    WHEN goods arrive at the warehouse THEN the stock adjustment is logged once for the connection as
    peakwms/stock_adjust with the new total, and every delivery was answered 200."""
    connection, customer = connect(stack)
    client = ConnectionClients(stack.secrets, stack.table).peakwms(connection)
    upsert_product(client, ProductDraft("8011", "44201", item_number="MUG-1", description="Mug"))
    stack.peakwms.delivery_faults = DeliveryFaults(duplicate_rate=1.0)
    attempts_before = len(stack.peakwms.delivery_log)
    stack.peakwms.receive_stock(customer, "8011", "44201", 12)

    stack.settle()

    (event,) = came_in(stack, connection.id, "peakwms/stock_adjust")
    assert event["event_id"].startswith("stock_adjust:8011:44201:")
    assert json.loads(event["payload"])["quantity"] == 12
    ours = [a for a in stack.peakwms.delivery_log[attempts_before:] if connection.id in a.url]
    assert len(ours) >= 2 and {a.status for a in ours} == {200}
    assert KEY not in json.dumps(event, default=str)  # the key travels in the address, never into the log


def test_every_event_is_queued_under_its_own_topic(stack: LocalStack) -> None:
    """GIVEN the twelve addresses WHEN a body arrives at each THEN each is queued once as peakwms/<event>."""
    connection, _ = connect(stack)
    for name in EVENTS:
        body = json.dumps({"orderId": "6100000001", "event": name}).encode()
        answer = stack.aws.api_request(
            "POST", f"/webhooks/peakwms/{connection.id}/{name}", {"Content-Type": "application/json"}, body,
            query={"key": KEY},
        )  # fmt: skip
        assert answer.json() == {"status": "queued"}, name
    stack.settle()
    assert sorted(e["topic"] for e in came_in(stack, connection.id)) == sorted(f"peakwms/{n}" for n in EVENTS)


def test_a_wrong_key_401_an_unknown_event_or_connection_404_a_bad_body_400_and_none_is_queued(
    stack: LocalStack,
) -> None:
    """GIVEN a delivery as PeakWMS sends it WHEN its key is wrong or missing, its event or connection unknown, or its
    body not a JSON object THEN 401, 404 or 400 and nothing reaches the queue; with the key it is queued once."""
    connection, _ = connect(stack)
    body = json.dumps({"productId": "8011", "variantId": "44201", "adjustedQuantity": 2, "quantity": 14}).encode()
    path = f"/webhooks/peakwms/{connection.id}/stock_adjust"
    headers = {"Content-Type": "application/json", "User-Agent": "PeakWMS"}
    before = queued(stack)

    def post(to: str, sent: bytes = body, key: str | None = KEY) -> Any:
        return stack.aws.api_request("POST", to, headers, sent, query={} if key is None else {"key": key})

    assert (post(path, key="not-the-key").status, post(path, key="not-the-key").json()) == (
        401,
        {"message": "invalid or missing webhook key"},
    )
    assert post(path, key=None).status == 401
    assert post(path, key="").status == 401
    assert post(f"/webhooks/peakwms/{connection.id}/stock_adjusted").status == 404
    assert post(f"/webhooks/peakwms/{uuid.uuid4()}/stock_adjust").status == 404
    assert post(path, b"[1, 2, 3]").status == 400
    assert post(path, b"not json").status == 400
    assert queued(stack) == before
    assert post(path).json() == {"status": "queued"}
    assert post(path).json() == {"status": "duplicate"}
    assert queued(stack) == before + 1
    stack.settle()
    (event,) = came_in(stack, connection.id)
    assert event["topic"] == "peakwms/stock_adjust"
