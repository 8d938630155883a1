"""Onboarding a Shopbox POS, end to end (issue 14, item 1 and 2): the operator's `connections create --kind
rackbeat_shopbox` and `settings set|validate`, through `crossdock.operations` as the CLI and the admin API call them,
against the embedded stack with the Rackbeat and Shopbox simulators over HTTP.

The login and the branches are tested before anything is stored; a wrong password or a missing client choice is
refused with nothing written; the secrets are KMS-encrypted; a connection whose settings' references exist is
active at once with its `sales#baskets` poll schedule, and each settings save is a version that moves it.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.flows.poll_schedules import schedule_name
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_shopbox.sales_stream import STREAM
from crossdock.operations import onboarding
from crossdock.operations import settings as connection_settings
from crossdock.operations.errors import Rejected
from crossdock.store import connections, keys
from crossdock_local import operator_cli
from crossdock_local.operator_onboarding import RACKBEAT_API_KEY_ENV, SHOPBOX_PASSWORD_ENV
from crossdock_local.stack import LocalStack

UID_FIELD, VARIANT_FIELD, CHECKBOX_FIELD = 21, 22, 23
STOCK_GROUP, TILL_CUSTOMER = 1, 900
_merchants = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=14) as running:
        yield running


@dataclass
class ShopboxMerchant:
    """A merchant set up as seed 002 asks, before onboarding: a Rackbeat account with a stock group, a location per
    shop and the two UID fields; a Shopbox client with two branches and a tag, and its login."""

    stack: LocalStack
    username: str
    password: str
    client_uid: str
    branches: list[str]
    tags: list[str]
    rackbeat_account: int
    rackbeat_api_key: str

    def settings(self, **values: Any) -> dict[str, Any]:
        return {
            "product_sync": "rackbeat",
            "uid_field_id": UID_FIELD,
            "variant_field_id": VARIANT_FIELD,
            "locations": {self.branches[0]: "L1", self.branches[1]: "L2"},
            "main_location_rackbeat": "L1",
            "categories": {self.tags[0]: STOCK_GROUP},
            "default_category_group": STOCK_GROUP,
            "sales": {"customer_number": TILL_CUSTOMER},
            **values,
        }

    def login(self, password: str | None = None, client_uid: str | None = None) -> ShopboxCredentials:
        return ShopboxCredentials(username=self.username, password=password or self.password, client_uid=client_uid)

    def create(
        self, credentials: ShopboxCredentials | None = None, **settings: Any
    ) -> onboarding.CreatedShopboxConnection:
        return onboarding.create_shopbox_connection(
            self.stack.operator,
            rackbeat_api_key=self.rackbeat_api_key,
            shopbox=credentials or self.login(),
            settings=self.settings(**settings),
        )


@pytest.fixture
def merchant(stack: LocalStack) -> ShopboxMerchant:
    number = next(_merchants)
    username, password = f"butik{number}@acme.dk", f"kodeord-{number}"
    client = stack.shopbox.seed_client(
        f"Acme Butikker {number}",
        username=username,
        password=password,
        branches={"Aarhus": ["Kasse 1"], "Odense": ["Kasse 1", "Kasse 2"]},
        tags=["Krus"],
    )
    account, api_key = stack.new_rackbeat_account()
    stack.rackbeat.seed_product_group(account, STOCK_GROUP, "Varer m/lagerstrekk")
    stack.rackbeat.seed_location(account, "L2", "Butik Odense")
    stack.rackbeat.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    stack.rackbeat.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    stack.rackbeat.seed_field(account, CHECKBOX_FIELD, "Webshop", type="checkbox")
    stack.rackbeat.seed_customer(account, TILL_CUSTOMER, "Kassesalg")
    return ShopboxMerchant(
        stack,
        username,
        password,
        str(client["uid"]),
        [str(branch["uid"]) for branch in client["branches"]],
        [str(tag["id"]) for tag in client["tags"]],
        account,
        api_key,
    )


def table_items(stack: LocalStack) -> int:
    return int(stack.table.scan(Select="COUNT")["Count"])


def poll_schedule(stack: LocalStack, connection_id: str) -> str | None:
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    group = stack.aws.function_env("ShopifyAppFunction")["POLL_SCHEDULE_GROUP"]
    try:
        found = scheduler.get_schedule(Name=schedule_name(STREAM, connection_id), GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return str(found["ScheduleExpression"])


def test_a_shopbox_pos_is_tested_stored_encrypted_and_active_with_its_sales_poll(
    stack: LocalStack, merchant: ShopboxMerchant
) -> None:
    # GIVEN a merchant whose accounts have everything the settings name
    # WHEN the operator creates the connection with the Shopbox login
    created = merchant.create()
    # THEN the login, the client and its branches were tested, and the connection is active at once
    assert created.state == "active"
    assert (created.shopbox_client_uid, created.shopbox_username, created.shopbox_branches) == (
        merchant.client_uid,
        merchant.username,
        2,
    )
    assert created.rackbeat_account_id == merchant.rackbeat_account
    assert created.missing_references == []
    # AND its sales are polled every 5 minutes (the default)
    assert created.schedules[STREAM] == "created"
    assert poll_schedule(stack, created.connection_id) == "rate(5 minutes)"
    # AND the password and the login token are stored KMS-encrypted, never as text
    assert {SHOPBOX_PASSWORD, SHOPBOX_ACCESS_TOKEN} <= set(created.secret_names)
    assert SHOPBOX_API_TOKEN not in created.secret_names
    item = stack.table.get_item(
        Key={"pk": keys.connection_pk(created.connection_id), "sk": keys.secret_sk(SHOPBOX_PASSWORD)}
    )["Item"]
    assert merchant.password not in repr(item)
    assert stack.secrets.get(created.connection_id, SHOPBOX_PASSWORD) == merchant.password
    stored = connections.load_connection(stack.table, created.connection_id)
    assert stored is not None and stored.state.value == "active"
    assert stored.claims() == {"shopbox": merchant.client_uid}
    # AND Rackbeat sends the stock changes its branches follow to the Rackbeat account's address
    assert created.rackbeat_webhooks is not None and "product.stock_changed" in created.rackbeat_webhooks
    hooks = stack.rackbeat.state(merchant.rackbeat_account).webhooks.values()
    url = stack.rackbeat_webhook_url(created.connection_id)
    assert any(hook["event"] == "product.stock_changed" and hook["url"] == url for hook in hooks)
    # AND with no initial sync chosen, none was started
    assert created.initial_sync == "none chosen"


def test_a_wrong_password_is_refused_and_nothing_is_written(stack: LocalStack, merchant: ShopboxMerchant) -> None:
    # GIVEN the table as it is
    before = table_items(stack)
    # WHEN the operator gives a wrong Shopbox password
    with pytest.raises(Rejected) as refused:
        merchant.create(merchant.login(password="forkert"))
    # THEN it is refused under the password, which the message does not show, and nothing was stored
    assert [problem.field for problem in refused.value.problems] == ["shopbox_password"]
    assert f"Shopbox refused the login for {merchant.username}" in str(refused.value)
    assert "forkert" not in str(refused.value)
    assert "nothing was saved" in str(refused.value)
    assert table_items(stack) == before


def test_a_login_for_several_clients_must_name_one(stack: LocalStack, merchant: ShopboxMerchant) -> None:
    # GIVEN the login may also act for a second client
    second = stack.shopbox.add_client("Acme Outlet")
    stack.shopbox.add_branch(second, "Outlet Vejle")
    stack.shopbox.grant(merchant.username, second)
    before = table_items(stack)
    # WHEN the operator names no client THEN refused, listing the two to choose from, and nothing is written
    with pytest.raises(Rejected) as refused:
        merchant.create()
    message = str(refused.value)
    assert [problem.field for problem in refused.value.problems] == ["shopbox_client"]
    assert "choose one" in message
    assert f"{merchant.client_uid} (" in message and f"{second} (Acme Outlet)" in message
    assert table_items(stack) == before
    # AND a client the login cannot act for is refused by name
    with pytest.raises(Rejected) as unknown:
        merchant.create(merchant.login(client_uid="999999"))
    assert "cannot act for Shopbox client 999999" in str(unknown.value)
    # WHEN it names the first THEN the connection is made for that client
    created = merchant.create(merchant.login(client_uid=merchant.client_uid))
    assert (created.shopbox_client_uid, created.state) == (merchant.client_uid, "active")


def test_settings_saves_are_versions_that_move_the_poll_and_bad_references_are_listed(
    stack: LocalStack, merchant: ShopboxMerchant
) -> None:
    created = merchant.create()
    connection_id = created.connection_id
    # WHEN the operator polls every 2 minutes
    saved = connection_settings.set_settings(
        stack.operator, connection_id, merchant.settings(sales={"customer_number": TILL_CUSTOMER, "poll_minutes": 2})
    )
    # THEN version 2 is stored, both versions are in the history (as for every kind), and the schedule moved
    assert saved.version == 2
    assert "sales.poll_minutes: 5 → 2" in saved.changes
    assert poll_schedule(stack, connection_id) == "rate(2 minutes)"
    history = connections.list_settings_versions(stack.table, connection_id)
    assert [version["version"] for version in history] == [1, 2]
    # WHEN a document names a branch, a category and a field that are not there, and changes the initial sync
    wrong = merchant.settings(
        locations={"999999": "L1"},
        categories={merchant.tags[0]: 77},
        variant_field_id=CHECKBOX_FIELD,
        initial_sync="shopbox_to_rackbeat",
        sales={"customer_number": TILL_CUSTOMER, "poll_minutes": 2},
    )
    with pytest.raises(Rejected) as refused:
        connection_settings.validate_settings(stack.operator, connection_id, wrong)
    # THEN every problem is listed at once, each under its key, and nothing changed
    assert sorted(str(problem) for problem in refused.value.problems) == [
        f"categories.{merchant.tags[0]}: product group 77 does not exist in Rackbeat",
        "initial_sync: can only be chosen when the connection is first activated; it is 'none' for good",
        "locations.999999: branch 999999 does not exist in the Shopbox client",
        f"variant_field_id: custom item field {CHECKBOX_FIELD} (Webshop) is a checkbox field, not a text field",
    ]
    with pytest.raises(Rejected):
        connection_settings.set_settings(stack.operator, connection_id, wrong)
    assert connection_settings.show_settings(stack.operator, connection_id).version == 2
    # WHEN sales are switched off THEN the poll schedule goes
    connection_settings.set_settings(stack.operator, connection_id, merchant.settings(sales={"enabled": False}))
    assert poll_schedule(stack, connection_id) is None


def test_a_connection_naming_what_rackbeat_lacks_waits_installing_until_a_save_passes(
    stack: LocalStack, merchant: ShopboxMerchant
) -> None:
    # GIVEN settings naming a location the Rackbeat account does not have yet
    created = merchant.create(main_location_rackbeat="L9")
    # THEN the connection is stored installing, what is missing reported, and nothing is polled
    assert created.state == "installing"
    assert created.missing_references == ["main_location_rackbeat: location L9 does not exist in Rackbeat"]
    assert poll_schedule(stack, created.connection_id) is None
    # WHEN the operator fixes it and chooses the initial sync (still allowed: never activated)
    saved = connection_settings.set_settings(
        stack.operator, created.connection_id, merchant.settings(initial_sync="shopbox_to_rackbeat")
    )
    # THEN the save activates the connection with its poll, and starts the initial sync it chose
    assert getattr(saved.applied, "activated", False) is True
    assert str(getattr(saved.applied, "initial_sync", "")).startswith("started")
    assert connection_settings.show_settings(stack.operator, created.connection_id).state == "active"
    assert poll_schedule(stack, created.connection_id) == "rate(5 minutes)"


def test_the_cli_creates_a_shopbox_connection_with_the_password_as_a_secret(
    stack: LocalStack, merchant: ShopboxMerchant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the secrets in the environment, never on the command line
    monkeypatch.setenv(RACKBEAT_API_KEY_ENV, merchant.rackbeat_api_key)
    monkeypatch.setenv(SHOPBOX_PASSWORD_ENV, merchant.password)
    document = merchant.settings()
    assignments = [f"{key}={json.dumps(value)}" for key, value in document.items()]
    # WHEN `crossdock connections create --kind rackbeat_shopbox --shopbox-user …` runs
    report = io.StringIO()
    argv = ["connections", "create", "--kind", "rackbeat_shopbox", "--shopbox-user", merchant.username, *assignments]
    code = operator_cli.run(argv, stack.operator, report)
    # THEN it reports the active connection, the client and its branches, and no secret
    assert code == 0, capsys.readouterr().err
    text = report.getvalue()
    assert "(rackbeat_shopbox): active" in text
    assert f"client {merchant.client_uid} (" in text and "2 branches" in text
    assert f"{STREAM} created" in text
    assert merchant.password not in text and merchant.rackbeat_api_key not in text
    # AND `settings show` and `settings set` work for it
    connection_id = text.split()[1]
    assert operator_cli.run(["settings", "show", connection_id], stack.operator, io.StringIO()) == 0
    shown = io.StringIO()
    assert operator_cli.run(["settings", "set", connection_id, "sales.poll_minutes=10"], stack.operator, shown) == 0
    assert "poll schedules      sales#baskets updated" in shown.getvalue()
