"""Onboarding a Webshipper account, end to end (issue 15, items 1 and 2): the operator's `connections create --kind
rackbeat_webshipper` and `settings validate|set`, through `crossdock.operations` as the CLI calls them, against the
embedded stack with the Rackbeat and Webshipper simulators over HTTP.

The login is tested before anything is stored (a wrong password: refused, nothing written); the account's channels
and rates are offered; a connection whose settings' references exist is active at once with its webhooks in both
simulators; settings naming what an account lacks are refused with every problem listed; good settings are the
next version and register what they need; the scheduled self-check re-creates a webhook a user deleted.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crossdock.connectors.webshipper.secret_names import ACCESS_TOKEN, PASSWORD, WEBHOOK_SECRET
from crossdock.integrations.rackbeat_webshipper import activation
from crossdock.integrations.rackbeat_webshipper.install import WebshipperCredentials
from crossdock.operations import settings as connection_settings
from crossdock.operations import webshipper_onboarding
from crossdock.operations.errors import Rejected
from crossdock.store import connections, keys
from crossdock_local import operator_cli
from crossdock_local.operator_onboarding import RACKBEAT_API_KEY_ENV
from crossdock_local.operator_webshipper import WEBSHIPPER_PASSWORD_ENV
from crossdock_local.stack import LocalStack

_merchants = itertools.count(1)
GLS_TERM, PICKUP_TERM = 10, 11


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=15) as running:
        yield running


@dataclass
class Shipper:
    """A merchant set up as seed 003 asks: a Webshipper account with a user that stays, two order channels and
    their rates; a Rackbeat account with delivery terms for the rates."""

    stack: LocalStack
    account: str
    email: str
    password: str
    channel: str  # the channel for Rackbeat's orders
    webshop: str
    home: str  # a rate of `channel`
    parcel_shop: str
    webshop_rate: str  # a rate of the web shop's channel
    rackbeat_account: int
    rackbeat_api_key: str

    def settings(self, **values: Any) -> dict[str, Any]:
        return {
            "order_channel": self.channel,
            "delivery_term_rates": {str(GLS_TERM): self.home, str(PICKUP_TERM): self.parcel_shop},
            "default_payment_terms": 1,
            "default_customer_group": 1,
            "default_employee": 1,
            "default_layout": 1,
            **values,
        }

    def login(self, password: str | None = None) -> WebshipperCredentials:
        return WebshipperCredentials(self.account, self.email, password or self.password)

    def create(
        self, credentials: WebshipperCredentials | None = None, settings: dict[str, Any] | None = None
    ) -> webshipper_onboarding.CreatedWebshipperConnection:
        return webshipper_onboarding.create_webshipper_connection(
            self.stack.operator,
            rackbeat_api_key=self.rackbeat_api_key,
            webshipper=credentials or self.login(),
            settings=self.settings() if settings is None else settings,
        )

    def webshipper_hooks(self) -> list[dict[str, Any]]:
        return list(self.stack.webshipper.account(self.account).of("webhooks").values())

    def rackbeat_hooks(self, connection_id: str) -> list[str]:
        hooks = self.stack.rackbeat.state(self.rackbeat_account).webhooks.values()
        url = self.stack.rackbeat_webhook_url(connection_id)  # the Rackbeat account's, since issue 18
        return sorted(str(hook["event"]) for hook in hooks if hook["url"] == url)


@pytest.fixture
def shipper(stack: LocalStack) -> Shipper:
    return new_shipper(stack)


def new_shipper(stack: LocalStack) -> Shipper:
    """A new merchant in both simulators (a fresh Webshipper account name each time)."""
    number = next(_merchants)
    name, email, password = f"lager{number}", f"lager{number}@acme.dk", f"kodeord-{number}"
    ids = stack.webshipper.seed_account(
        name,
        users=[{"email": email, "password": password}],
        carriers=[{"name": "GLS", "alias": "gls"}, {"name": "PostNord", "alias": "postnord"}],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[
            {"name": "GLS Privat", "carrier": "gls", "channel": "Rackbeat"},
            {"name": "PostNord Pakkeshop", "carrier": "postnord", "channel": "Rackbeat", "require_drop_point": True},
            {"name": "GLS Webshop", "carrier": "gls", "channel": "Webshop"},
        ],
    )
    account, api_key = stack.new_rackbeat_account()
    stack.rackbeat.seed_delivery_terms(account, GLS_TERM, "GLS")
    stack.rackbeat.seed_delivery_terms(account, PICKUP_TERM, "Pakkeshop")
    return Shipper(
        stack,
        name,
        email,
        password,
        str(ids["channels"]["Rackbeat"]),
        str(ids["channels"]["Webshop"]),
        str(ids["rates"]["GLS Privat"]),
        str(ids["rates"]["PostNord Pakkeshop"]),
        str(ids["rates"]["GLS Webshop"]),
        account,
        api_key,
    )


def table_items(stack: LocalStack) -> int:
    return int(stack.table.scan(Select="COUNT")["Count"])


def test_a_wrong_password_is_refused_and_nothing_is_written(stack: LocalStack, shipper: Shipper) -> None:
    before = table_items(stack)
    # WHEN the operator gives a wrong Webshipper password
    with pytest.raises(Rejected) as refused:
        shipper.create(shipper.login(password="forkert"))
    # THEN it is refused under the password, which the message does not show, and nothing was stored
    assert [problem.field for problem in refused.value.problems] == ["webshipper_password"]
    assert f"Webshipper refused the login of {shipper.email}" in str(refused.value)
    assert "forkert" not in str(refused.value) and "nothing was saved" in str(refused.value)
    assert table_items(stack) == before
    assert shipper.webshipper_hooks() == []


def test_without_a_channel_the_refusal_lists_the_channels_and_rates(stack: LocalStack, shipper: Shipper) -> None:
    before = table_items(stack)
    with pytest.raises(Rejected) as refused:
        shipper.create(settings={})
    message = str(refused.value)
    assert [problem.field for problem in refused.value.problems] == ["order_channel", "choices"]
    assert (
        f"order channel {shipper.channel} Rackbeat" in message and f"shipping rate {shipper.home} GLS Privat" in message
    )
    assert f"order channel {shipper.webshop} Webshop" in message
    assert table_items(stack) == before


def test_a_webshipper_account_is_tested_stored_encrypted_and_active_with_webhooks_in_both_systems(
    stack: LocalStack, shipper: Shipper
) -> None:
    # WHEN the operator creates the connection with the Webshipper login and settings naming what both accounts have
    created = shipper.create()
    # THEN it is active at once, and the account's channels and rates came back as the choices
    assert created.state == "active" and created.missing_references == []
    assert (created.webshipper_account, created.webshipper_username) == (shipper.account, shipper.email)
    assert f"{shipper.channel} Rackbeat" in created.order_channels
    assert any(rate.startswith(f"{shipper.webshop_rate} GLS Webshop") for rate in created.shipping_rates)
    # AND the password, its grant and the webhook secret are stored KMS-encrypted, never as text
    assert {PASSWORD, ACCESS_TOKEN} <= set(created.secret_names)
    assert WEBHOOK_SECRET in connections.stored_secret_names(stack.table, created.connection_id)
    item = stack.table.get_item(Key={"pk": keys.connection_pk(created.connection_id), "sk": keys.secret_sk(PASSWORD)})[
        "Item"
    ]
    assert shipper.password not in repr(item)
    stored = connections.load_connection(stack.table, created.connection_id)
    assert stored is not None and stored.state.value == "active"
    assert stored.claims() == {"webshipper": shipper.account}
    # AND Webshipper sends the three topics to the connection's own address, signed with its secret
    url = activation.webhook_url(stack.base_url, created.connection_id)
    hooks = shipper.webshipper_hooks()
    assert sorted(hook["topic"] for hook in hooks if hook["url"] == url) == sorted(created.webshipper_webhooks)
    assert sorted(created.webshipper_webhooks) == ["order/created", "order/updated", "shipment/created"]
    assert stack.secrets.get(created.connection_id, WEBHOOK_SECRET)
    # AND Rackbeat sends the booked and shipped events transfer_when=order_booked needs
    assert shipper.rackbeat_hooks(created.connection_id) == ["order.booked", "order_shipment.shipped"]
    # AND a second connection for the same Webshipper account is refused by name
    with pytest.raises(Exception, match=f"webshipper account {shipper.account} already has a connection"):
        shipper.create()


def test_bad_references_are_all_listed_and_good_settings_are_the_next_version(
    stack: LocalStack, shipper: Shipper
) -> None:
    created = shipper.create(settings=shipper.settings(order_transfer="webshipper_to_rackbeat"))
    assert shipper.rackbeat_hooks(created.connection_id) == []  # nothing goes out: Rackbeat is not heard
    target = stack.operator
    # WHEN the operator sets settings naming a rate of another channel, a missing delivery term, layout and location
    bad = shipper.settings(
        delivery_term_rates={str(GLS_TERM): shipper.webshop_rate, "99": shipper.home},
        default_layout=42,
        use_product_default_location=False,
        default_location="L9",
        transfer_when="sometime",
    )
    with pytest.raises(Rejected) as refused:
        connection_settings.set_settings(target, created.connection_id, bad)
    # THEN every problem is listed at once, and nothing was saved
    assert {problem.field for problem in refused.value.problems} == {
        f"delivery_term_rates.{GLS_TERM}",
        "delivery_term_rates.99",
        "default_layout",
        "default_location",
        "transfer_when",
    }
    assert connection_settings.show_settings(target, created.connection_id).version == 1
    # WHEN good settings sending orders out at shipment are saved
    saved = connection_settings.set_settings(
        target,
        created.connection_id,
        shipper.settings(order_transfer="both", transfer_when="shipment_shipped"),
        expected_version=1,
    )
    # THEN they are version 2, the change is listed, and Rackbeat now sends the shipped event
    assert saved.version == 2 and any("order_transfer" in change for change in saved.changes)
    assert isinstance(saved.applied, activation.Applied)
    assert saved.applied.rackbeat_events == ["order_shipment.shipped"] and saved.applied.webshipper_topics == []
    assert shipper.rackbeat_hooks(created.connection_id) == ["order_shipment.shipped"]
    history = [entry["version"] for entry in connections.list_settings_versions(stack.table, created.connection_id)]
    assert history == [1, 2]


def test_the_cli_creates_a_webshipper_connection_with_the_password_as_a_secret(
    stack: LocalStack, shipper: Shipper, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the secrets in the environment, never on the command line
    monkeypatch.setenv(RACKBEAT_API_KEY_ENV, shipper.rackbeat_api_key)
    monkeypatch.setenv(WEBSHIPPER_PASSWORD_ENV, shipper.password)
    assignments = [f"{key}={json.dumps(value)}" for key, value in shipper.settings().items()]
    # WHEN `crossdock connections create --kind rackbeat_webshipper --webshipper-account … --webshipper-user …` runs
    report = io.StringIO()
    argv = [
        "connections",
        "create",
        "--kind",
        "rackbeat_webshipper",
        "--webshipper-account",
        shipper.account,
        "--webshipper-user",
        shipper.email,
        *assignments,
    ]
    code = operator_cli.run(argv, stack.operator, report)
    # THEN it reports the active connection, the channels and rates, the webhooks, and no secret
    assert code == 0, capsys.readouterr().err
    text = report.getvalue()
    assert "(rackbeat_webshipper): active" in text
    assert f"webshipper      account {shipper.account} with user {shipper.email}" in text
    assert f"{shipper.channel} Rackbeat" in text and "GLS Privat" in text
    assert "webshipper webhooks registered  order/created, order/updated, shipment/created" in text
    assert shipper.password not in text and shipper.rackbeat_api_key not in text
    connection_id = text.split()[1]
    # AND `settings choices` reads the channels with the rates each may use
    shown = io.StringIO()
    assert operator_cli.run(["settings", "choices", connection_id], stack.operator, shown) == 0
    assert f"order channel {shipper.channel} Rackbeat\n  shipping rate {shipper.home} GLS Privat" in shown.getvalue()
    # AND `settings set` reports what it registered
    shown = io.StringIO()
    assert operator_cli.run(["settings", "set", connection_id, "default_layout=1"], stack.operator, shown) == 0
    assert "webshipper webhooks registered  none (all there)" in shown.getvalue()


def test_the_self_check_re_creates_webhooks_deleted_in_both_systems(stack: LocalStack, shipper: Shipper) -> None:
    # GIVEN an active connection whose shipment webhook a Webshipper user deleted and whose booked event was
    # switched off in Rackbeat
    created = shipper.create()
    url = activation.webhook_url(stack.base_url, created.connection_id)
    hooks = stack.webshipper.account(shipper.account).of("webhooks")
    (shipment_hook,) = [
        key for key, hook in hooks.items() if hook["url"] == url and hook["topic"] == "shipment/created"
    ]
    del hooks[shipment_hook]
    rackbeat_url = stack.rackbeat_webhook_url(created.connection_id)
    for hook in stack.rackbeat.state(shipper.rackbeat_account).webhooks.values():
        if hook["url"] == rackbeat_url and hook["event"] == "order.booked":
            hook["is_active"] = False
    # WHEN the scheduled self-check runs
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()
    # THEN both are back, with the connection's one secret, and an event says what was re-created
    topics = sorted(hook["topic"] for hook in hooks.values() if hook["url"] == url)
    assert topics == ["order/created", "order/updated", "shipment/created"]
    active = [
        hook["event"]
        for hook in stack.rackbeat.state(shipper.rackbeat_account).webhooks.values()
        if hook["url"] == rackbeat_url and hook.get("is_active", True)
    ]
    assert sorted(active) == ["order.booked", "order_shipment.shipped"]
    recorded = self_checks(stack, created.connection_id)
    assert len(recorded) == 1
    assert "webshipper:shipment/created" in recorded[0]["reason"] and "rackbeat:order.booked" in recorded[0]["reason"]
    # AND a second run finds everything there and records nothing more
    stack.aws.fire_schedule("SelfCheckSchedule")
    stack.settle()
    assert sorted(hook["topic"] for hook in hooks.values() if hook["url"] == url) == topics
    assert len(self_checks(stack, created.connection_id)) == 1


def self_checks(stack: LocalStack, connection_id: str) -> list[dict[str, Any]]:
    """The self-check events recorded for the connection."""
    items = stack.table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": keys.connection_pk(connection_id)}
    )["Items"]
    return [item for item in items if item.get("topic") == activation.SELF_CHECK_TOPIC]
