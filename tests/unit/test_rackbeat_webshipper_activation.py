"""A `rackbeat_webshipper` connection's Webshipper webhooks kept registered (`activation.repair_webshipper_webhooks`):
the three topics to the connection's address, one secret made once and reused, a healthy account costing one
listing, a switched-off webhook replaced rather than left beside a new one. Webshipper is its simulator behind the
connector's client."""

from __future__ import annotations

from flow_fakes import FakeSecrets
from test_webshipper_sim import ACCOUNT, API, Account, open_account

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.secret_names import API_TOKEN, WEBHOOK_SECRET
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.integrations.install_credentials import OnlyHolder
from crossdock.integrations.rackbeat_webshipper.activation import repair_webshipper_webhooks, webhook_url
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock_local.sims.base import transport

BASE = "https://crossdock.example"


def _connection() -> RackbeatWebshipperConnection:
    return RackbeatWebshipperConnection(
        id="c-ws",
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=1),
            webshipper=WebshipperAccount(account=ACCOUNT, api_base=API),
        ),
        settings=RackbeatWebshipperSettings.model_validate({"order_transfer": "webshipper_to_rackbeat"}),
    )


def _client(shipper: Account, secrets: FakeSecrets) -> WebshipperClient:
    secrets.put("c-ws", API_TOKEN, shipper.sim.add_api_token(ACCOUNT))
    account = WebshipperAccount(account=ACCOUNT, api_base=API)
    tokens = WebshipperTokens("c-ws", account, secrets, OnlyHolder(), holder="me")
    return WebshipperClient(account, tokens, transport=transport(shipper.sim))


def _ours(shipper: Account) -> list[dict[str, object]]:
    url = webhook_url(BASE, "c-ws")
    return [hook for hook in shipper.sim.account(ACCOUNT).of("webhooks").values() if hook["url"] == url]


def test_the_three_topics_are_registered_once_with_one_secret() -> None:
    # GIVEN an account with none of our webhooks
    shipper, secrets = open_account(), FakeSecrets()
    client = _client(shipper, secrets)
    # WHEN repaired twice
    first = repair_webshipper_webhooks(_connection(), client, secrets, BASE)
    second = repair_webshipper_webhooks(_connection(), client, secrets, BASE)
    # THEN the three topics were registered the first time only, signed with the secret kept for the connection
    assert first == ["order/created", "order/updated", "shipment/created"] and second == []
    assert sorted(str(hook["topic"]) for hook in _ours(shipper)) == first
    secret = secrets.get("c-ws", WEBHOOK_SECRET)
    assert secret and set(shipper.sim.account(ACCOUNT).webhook_secrets.values()) == {secret}


def test_a_switched_off_webhook_is_replaced_with_the_same_secret() -> None:
    shipper, secrets = open_account(), FakeSecrets()
    client = _client(shipper, secrets)
    repair_webshipper_webhooks(_connection(), client, secrets, BASE)
    secret = secrets.get("c-ws", WEBHOOK_SECRET)
    # GIVEN a user switched our shipment webhook off in Webshipper
    (off,) = [hook for hook in _ours(shipper) if hook["topic"] == "shipment/created"]
    off["enabled"] = False
    # WHEN repaired THEN only that topic is registered again, the old one removed, the secret unchanged
    assert repair_webshipper_webhooks(_connection(), client, secrets, BASE) == ["shipment/created"]
    hooks = _ours(shipper)
    assert sorted(str(hook["topic"]) for hook in hooks) == ["order/created", "order/updated", "shipment/created"]
    assert all(hook["enabled"] for hook in hooks) and off["_id"] not in {hook["_id"] for hook in hooks}
    assert secrets.get("c-ws", WEBHOOK_SECRET) == secret
