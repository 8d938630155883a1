"""The operator's onboarding commands against the embedded stack (issue 13): `connections create`, `settings
show|validate|set`, `initial-sync start|progress`, `connections pause|resume|uninstall`.

The commands run through the CLI's own parser against `LocalStack.operator`, the target `--local` builds from a
state file (the same `target_from_resources` and onboarding resources a deployed stack's CloudFormation names give),
so they reach DynamoDB, KMS, Step Functions and the Scheduler through boto3, and Rackbeat and Shopify (here the
simulators) over HTTP. `test_over_http…` runs the installed `crossdock` in another process against the served
stack's AWS endpoint and state file.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from crossdock.connections.model import ConnectionState
from crossdock.flows.poll_schedules import schedule_name
from crossdock.integrations.rackbeat_shopify.reconciliation import ORDER_STREAM
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections, keys
from crossdock_local import operator_cli
from crossdock_local.aws.endpoint import AwsEndpoint, endpoint_state
from crossdock_local.operator_onboarding import RACKBEAT_API_KEY_ENV, SHOPIFY_CLIENT_SECRET_ENV
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalConnection, LocalInstall, LocalStack

_shops = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=31) as running:
        yield running


@pytest.fixture
def target(stack: LocalStack) -> OperatorTarget:
    return stack.operator


def cli(capsys: pytest.CaptureFixture[str], target: OperatorTarget, *argv: str) -> tuple[int, str, str]:
    """(exit code, report, errors)."""
    capsys.readouterr()
    report = io.StringIO()
    code = operator_cli.run(list(argv), target, report)
    return code, report.getvalue(), capsys.readouterr().err


def cli_json(capsys: pytest.CaptureFixture[str], target: OperatorTarget, *argv: str) -> Any:
    code, out, err = cli(capsys, target, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def connection_count(stack: LocalStack) -> int:
    return len(connections.list_connections(stack.table))


def table_items(stack: LocalStack) -> int:
    return int(stack.table.scan(Select="COUNT")["Count"])


class Merchant:
    """A merchant before onboarding: a Rackbeat account with reference data, a shop, and the app registered."""

    def __init__(self, stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stack = stack
        self.shop = f"onboard-{next(_shops)}.myshopify.com"
        self.account, self.api_key = stack.new_rackbeat_account()
        self.client_id, self.client_secret = stack.new_shop(self.shop, expiring_tokens=False)
        monkeypatch.setenv(RACKBEAT_API_KEY_ENV, self.api_key)
        monkeypatch.setenv(SHOPIFY_CLIENT_SECRET_ENV, self.client_secret)

    def create_args(self, *settings: str) -> list[str]:
        return ["connections", "create", "--shop", self.shop, "--shopify-client-id", self.client_id, *settings]

    def install(self, connection_id: str) -> LocalConnection:
        pending = LocalInstall(connection_id, self.shop, self.client_id, self.client_secret, self.account, self.api_key)
        return self.stack.install(pending)


@pytest.fixture
def merchant(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Merchant:
    return Merchant(stack, monkeypatch)


def demo_assignments(**changes: str) -> list[str]:
    """The demo settings as `key=value` pairs, with `changes` (dotted key → JSON or text value) on top."""
    pairs: dict[str, str] = {}

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                flatten(f"{prefix}{key}.", inner)
        else:
            pairs[prefix.rstrip(".")] = json.dumps(value)

    flatten("", demo_settings())
    pairs.update(changes)
    return [f"{key}={value}" for key, value in pairs.items()]


def active_connection(stack: LocalStack, capsys: pytest.CaptureFixture[str], merchant: Merchant) -> LocalConnection:
    created = cli_json(capsys, stack.operator, *merchant.create_args(*demo_assignments()))
    return merchant.install(created["connection_id"])


# ---- connections create ----------------------------------------------------------------------------------------


def test_create_stores_the_connection_installing_with_encrypted_secrets_and_prints_the_install_link(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a merchant's Rackbeat key, shop and Shopify app
    # WHEN the operator creates the connection with settings as key=value pairs
    code, report, err = cli(capsys, target, *merchant.create_args(*demo_assignments()))
    # THEN it is stored installing, for the Rackbeat company the key belongs to
    assert code == 0, err
    connection_id = report.split()[1]
    stored = connections.load_connection(stack.table, connection_id)
    assert stored is not None and stored.state is ConnectionState.INSTALLING
    assert stored.accounts.by_system()["rackbeat"].identity == str(merchant.account)
    # AND the report names the install link, the app's URLs, and the secrets by name only
    assert f"{stack.base_url}/_sim/shopify/admin/oauth/install?client_id={merchant.client_id}" in report
    assert f"App URL                  {stack.base_url}/shopify/install" in report
    assert f"Allowed redirection URL  {stack.base_url}/shopify/callback" in report
    assert "rackbeat_api_key, rackbeat_webhook_tokens, shopify_app_secret" in report
    assert merchant.api_key not in report + err and merchant.client_secret not in report + err
    # AND each secret is KMS-encrypted under the connection id as encryption context, as the functions read it
    kms = boto3.client("kms", region_name=stack.aws.region)
    item = stack.table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.secret_sk("rackbeat_api_key")}
    )["Item"]
    blob = bytes(item["ciphertext"].value)
    assert merchant.api_key.encode() not in blob
    plain = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"connection_id": connection_id})["Plaintext"]
    assert plain.decode() == merchant.api_key
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"connection_id": "another-connection"})
    # AND the link can be asked for again
    code, again, err = cli(capsys, target, "connections", "install-link", connection_id)
    assert code == 0 and f"install?client_id={merchant.client_id}" in again, err
    # AND the shop owner's install through Shopify activates it
    installed = merchant.install(connection_id)
    active = connections.load_connection(stack.table, installed.connection_id)
    assert active is not None and active.state is ConnectionState.ACTIVE


def test_a_storefront_domain_is_refused_and_nothing_is_saved(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    before = table_items(stack)
    args = merchant.create_args(*demo_assignments())
    args[args.index("--shop") + 1] = "www.acme-shop.dk"
    code, _, err = cli(capsys, target, *args)
    assert code == 1
    assert "shop_domain: 'www.acme-shop.dk' is not a shop's *.myshopify.com domain" in err
    assert "nothing was saved" in err
    assert table_items(stack) == before


def test_a_key_rackbeat_refuses_is_refused_with_the_other_problems_and_nothing_is_saved(
    stack: LocalStack,
    target: OperatorTarget,
    merchant: Merchant,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a key Rackbeat has never issued, and a setting of the wrong type
    monkeypatch.setenv(RACKBEAT_API_KEY_ENV, "rb_" + "0" * 40)
    before = table_items(stack)
    code, _, err = cli(capsys, target, *merchant.create_args(*demo_assignments(**{"employees.web": '"first"'})))
    # THEN both are named, and nothing is stored
    assert code == 1
    assert "rackbeat_api_key: Rackbeat refused the key: Rackbeat refused the API key (401)" in err
    assert "employees.web:" in err
    assert table_items(stack) == before


def test_a_reference_the_new_account_lacks_is_reported_and_the_connection_created(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN settings naming a location the merchant has not made in Rackbeat yet
    args = merchant.create_args(*demo_assignments(**{"fulfillment.rackbeat_location": '"AARHUS"'}))
    code, report, err = cli(capsys, target, *args)
    # THEN the connection waits for the install, and the report says what to fix first
    assert code == 0, err
    assert "warning: fulfillment.rackbeat_location: location AARHUS does not exist in Rackbeat (yet)" in report
    connection_id = report.split()[1]
    code, _, err = cli(capsys, target, "settings", "validate", connection_id)
    assert code == 1 and "location AARHUS does not exist in Rackbeat" in err


def test_a_shop_that_has_a_connection_already_is_refused(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    first = cli_json(capsys, target, *merchant.create_args(*demo_assignments()))
    before = table_items(stack)
    code, _, err = cli(capsys, target, *merchant.create_args(*demo_assignments()))
    assert code == 1
    assert f"shopify account {merchant.shop} already has a connection ({first['connection_id']})" in err
    assert table_items(stack) == before


def test_secrets_are_never_taken_as_arguments(
    target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RACKBEAT_API_KEY_ENV)
    code, _, err = cli(capsys, target, *merchant.create_args())
    assert code == 2
    assert f"the Rackbeat API key: give a file, set ${RACKBEAT_API_KEY_ENV}" in err


# ---- settings ----------------------------------------------------------------------------------------------------


def test_settings_validate_lists_every_problem_at_once_and_set_changes_nothing(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an active connection
    shop = active_connection(stack, capsys, merchant)
    before = cli_json(capsys, target, "settings", "show", shop.connection_id)
    # WHEN settings with an unknown key, a wrong type and a location Rackbeat has not got are validated and set
    wrong = ["colour=blue", "stock_sync.enabled=maybe", "fulfillment.rackbeat_location=NOWHERE"]
    for action in ("validate", "set"):
        code, _, err = cli(capsys, target, "settings", action, shop.connection_id, *wrong)
        # THEN each is refused listing all three, by key
        assert code == 1, action
        assert "colour: " in err and "stock_sync.enabled: " in err, err
        assert "fulfillment.rackbeat_location: location NOWHERE does not exist in Rackbeat" in err, err
    # AND nothing changed
    assert cli_json(capsys, target, "settings", "show", shop.connection_id) == before


def test_settings_set_saves_the_next_version_and_registers_the_rackbeat_webhooks_a_new_sync_needs(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an active connection without stock sync: no Rackbeat webhook
    shop = active_connection(stack, capsys, merchant)
    url = stack.rackbeat_webhook_url(shop.connection_id)

    def rackbeat_events() -> list[str]:
        hooks = stack.rackbeat.state(merchant.account).webhooks.values()
        return sorted(hook["event"] for hook in hooks if hook["url"] == url)

    assert rackbeat_events() == []
    # WHEN the operator switches stock sync on and validates first
    code, report, err = cli(capsys, target, "settings", "validate", shop.connection_id, "stock_sync.enabled=true")
    assert code == 0, err
    assert "stock_sync.enabled: false → true" in report and "nothing was saved" in report
    assert rackbeat_events() == []
    saved = cli_json(capsys, target, "settings", "set", shop.connection_id, "stock_sync.enabled=true")
    # THEN version 2 is in force and Rackbeat sends stock changes to the connection
    assert saved["version"] == 2 and saved["changes"] == ["stock_sync.enabled: false → true"]
    assert saved["applied"]["rackbeat_events"] == ["product.stock_changed"]
    assert rackbeat_events() == ["product.stock_changed"]
    # AND switching it off again removes the webhook
    off = cli_json(capsys, target, "settings", "set", shop.connection_id, "stock_sync.enabled=false")
    assert off["applied"]["rackbeat_events_removed"] == ["product.stock_changed"]
    assert rackbeat_events() == []


def test_settings_set_moves_the_reconciliation_schedule(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = active_connection(stack, capsys, merchant)
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    group = stack.aws.function_env("ShopifyAppFunction")["POLL_SCHEDULE_GROUP"]
    name = schedule_name(ORDER_STREAM, shop.connection_id)
    assert scheduler.get_schedule(Name=name, GroupName=group)["ScheduleExpression"] == "rate(15 minutes)"
    code, report, err = cli(capsys, target, "settings", "set", shop.connection_id, "reconciliation.interval_minutes=45")
    assert code == 0, err
    assert f"{ORDER_STREAM} updated" in report
    moved = scheduler.get_schedule(Name=name, GroupName=group)
    assert moved["ScheduleExpression"] == "rate(45 minutes)"
    # the schedule still invokes the poll function with the role the install gave it
    env = stack.aws.function_env("ShopifyAppFunction")
    assert (moved["Target"]["Arn"], moved["Target"]["RoleArn"]) == (
        env["POLL_FUNCTION_ARN"],
        env["POLL_SCHEDULE_ROLE_ARN"],
    )


def test_settings_set_from_a_json_file_refuses_a_stale_version_and_yaml(
    stack: LocalStack,
    target: OperatorTarget,
    merchant: Merchant,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    shop = active_connection(stack, capsys, merchant)
    code, document, err = cli(capsys, target, "settings", "show", shop.connection_id, "--document")
    assert code == 0, err
    edited = json.loads(document)
    edited["employees"]["web"] = 2
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(edited))
    saved = cli_json(
        capsys, target, "settings", "set", shop.connection_id, "--file", str(path), "--expected-version", "1"
    )
    assert saved["version"] == 2 and saved["changes"] == ["employees.web: 1 → 2"]
    # a save based on version 1 again is refused: someone (this test) saved version 2 since
    code, _, err = cli(
        capsys, target, "settings", "set", shop.connection_id, "--file", str(path), "--expected-version", "1"
    )
    assert code == 1 and "based on version 1, but version 2 is stored now" in err
    yaml = tmp_path / "settings.yaml"
    yaml.write_text("employees:\n  web: 1\n  web: 2\n")
    code, _, err = cli(capsys, target, "settings", "set", shop.connection_id, "--file", str(yaml))
    assert code == 2 and "'web' is given twice" in err
    code, _, err = cli(capsys, target, "settings", "set", shop.connection_id, "stock_sync")
    assert code == 2 and "give a setting as key=value" in err


# ---- initial sync ------------------------------------------------------------------------------------------------


def test_initial_sync_start_and_progress(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a connection created with the initial sync enabled, and a shop with a small catalog
    created = cli_json(capsys, target, *merchant.create_args(*demo_assignments(initial_sync="enabled")))
    connection_id = created["connection_id"]
    stack.shopify.seed_catalog(merchant.shop, 12, variants_per_product=3, stock=lambda index: index)
    code, report, err = cli(capsys, target, "initial-sync", "start", connection_id)
    assert code == 1 and "is installing: the initial sync runs on an active connection" in err
    merchant.install(connection_id)
    assert cli_json(capsys, target, "initial-sync", "progress", connection_id)["status"] == "not started"
    # WHEN the operator starts it
    code, report, err = cli(capsys, target, "initial-sync", "start", connection_id)
    assert code == 0, err
    assert "can no longer be deleted or converted to BOMs" in report
    # THEN a second start is refused, and once the stack has run it the progress says done
    code, _, err = cli(capsys, target, "initial-sync", "start", connection_id)
    assert code == 1 and "the initial sync runs once" in err
    stack.settle(execution_timeout=120)
    code, report, err = cli(capsys, target, "initial-sync", "progress", connection_id, "--wait", "--every", "0")
    assert code == 0, err
    assert report.startswith("initial sync done: 12 of 12 variants (12 created")
    assert err.strip() == report.strip()  # --wait off a terminal: one plain line per change, on stderr


# ---- pause, resume, uninstall ------------------------------------------------------------------------------------


def test_pause_and_resume_change_only_what_they_may(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = active_connection(stack, capsys, merchant)
    assert cli_json(capsys, target, "connections", "pause", shop.connection_id)["state"] == "paused"
    code, _, err = cli(capsys, target, "connections", "pause", shop.connection_id)
    assert code == 1 and "is paused: only an active connection can be paused" in err
    assert cli_json(capsys, target, "connections", "resume", shop.connection_id)["before"] == "paused"
    code, _, err = cli(capsys, target, "connections", "resume", shop.connection_id)
    assert code == 1 and "is active: only a paused connection can be resumed" in err
    code, _, err = cli(capsys, target, "connections", "pause", "no-such-connection")
    assert code == 1 and "no connection no-such-connection" in err


def test_uninstall_removes_webhooks_schedules_and_shopify_tokens_and_keeps_the_app_secret(
    stack: LocalStack, target: OperatorTarget, merchant: Merchant, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an active connection with stock sync on: subscriptions in Shopify, a webhook in Rackbeat, schedules
    shop = active_connection(stack, capsys, merchant)
    cli_json(capsys, target, "settings", "set", shop.connection_id, "stock_sync.enabled=true")
    uri = f"{stack.base_url}/webhooks/shopify"
    assert any(s.uri == uri for s in stack.shopify.shops[merchant.shop].subscriptions)
    account_url = stack.rackbeat_webhook_url(shop.connection_id)
    # WHEN the operator uninstalls it
    done = cli_json(capsys, target, "connections", "uninstall", shop.connection_id)
    # THEN the connection is uninstalled, its webhooks in both systems are gone, and so are its schedules
    assert (done["before"], done["state"]) == ("active", "uninstalled")
    assert "app/uninstalled" in [t.lower().replace("_", "/", 1) for t in done["webhooks_removed"]["shopify"]]
    assert not [s for s in stack.shopify.shops[merchant.shop].subscriptions if s.uri == uri]
    assert done["webhooks_removed"]["rackbeat"] == ["product.stock_changed"]
    hooks = stack.rackbeat.state(merchant.account).webhooks.values()
    assert not [h for h in hooks if h["url"].endswith(shop.connection_id) or h["url"] == account_url]
    scheduler = boto3.client("scheduler", region_name=stack.aws.region)
    group = stack.aws.function_env("ShopifyAppFunction")["POLL_SCHEDULE_GROUP"]
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    assert not [name for name in names if name.endswith(shop.connection_id)]
    # AND the Shopify token went as on app/uninstalled, the app secret and the Rackbeat key stay
    left = connections.stored_secret_names(stack.table, shop.connection_id)
    assert "shopify_access_token" not in left
    assert {"shopify_app_secret", "rackbeat_api_key"} <= set(left)
    # AND the log says who did it; a second uninstall is refused
    (event,) = [e for e in stack_events(stack, shop.connection_id) if e["topic"] == "operator/uninstall"]
    assert event["status"] == "done" and event["event_id"] == done["event_id"]
    code, _, err = cli(capsys, target, "connections", "uninstall", shop.connection_id)
    assert code == 1 and "uninstalled already" in err


def stack_events(stack: LocalStack, connection_id: str) -> list[dict[str, Any]]:
    from crossdock.store import events

    return events.list_events(stack.table, connection_id)


# ---- over HTTP ---------------------------------------------------------------------------------------------------


def test_over_http_the_cli_in_another_process_onboards_on_the_served_stack(
    stack: LocalStack, merchant: Merchant, tmp_path: Path
) -> None:
    # GIVEN the stack's AWS APIs exposed as `crossdock serve` does, with its state file
    state_file = tmp_path / "state.json"
    key_file = tmp_path / "rackbeat-key"
    key_file.write_text(merchant.api_key + "\n")
    with AwsEndpoint() as endpoint:
        url = endpoint.start()
        state_file.write_text(json.dumps({"base_url": stack.base_url, "aws": endpoint_state(stack.aws, url)}))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": "/dev/null",
            SHOPIFY_CLIENT_SECRET_ENV: merchant.client_secret,
        }

        def crossdock(*argv: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "crossdock_local.cli", *argv, "--local", str(state_file)]
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)

        # WHEN the installed CLI creates the connection and shows its settings, in a process of its own
        created = crossdock(
            *merchant.create_args(*demo_assignments()), "--rackbeat-api-key-file", str(key_file), "--json"
        )
        assert created.returncode == 0, created.stderr
        connection_id = json.loads(created.stdout)["connection_id"]
        shown = crossdock("settings", "show", connection_id, "--json")
    # THEN the connection is in the stack's table, installing, with the settings given
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "installing"
    assert json.loads(shown.stdout)["settings"]["fulfillment"]["rackbeat_location"] == "L1"
    merchant.install(connection_id)
