"""Installing a PeakWMS ⇄ Shopify connection end to end (issue 16, items 1 and 2's frame): `connections create
--kind peakwms_shopify` with "test connection" before anything is saved, the settings save, and the guided setup's
runner (`setup show|run|skip`) on the embedded stack — its Step Functions workflow and function — with the PeakWMS
and Shopify simulators over HTTP.

The runner is tested with a test-only step (a counter) put into the kind's setup for these tests; the product's
steps are tested by their owners.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crossdock import registry
from crossdock.connectors.peakwms import webhooks as peakwms_webhooks
from crossdock.connectors.peakwms.secret_names import API_KEY
from crossdock.connectors.shopify import webhook_subscriptions
from crossdock.connectors.shopify.access_scopes import NEEDED_SCOPES
from crossdock.connectors.shopify.secret_names import SHOPIFY_ACCESS_TOKEN, SHOPIFY_APP_SECRET
from crossdock.integration import GuidedSetup, SetupDeps, StepChunk
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.peakwms_shopify import lifecycle
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import guided_setup, peakwms_onboarding
from crossdock.operations import lifecycle as operations_lifecycle
from crossdock.operations import settings as connection_settings
from crossdock.operations.errors import Refused, Rejected
from crossdock.store import connections, setup_progress
from crossdock_local import operator_cli, operator_peakwms
from crossdock_local.aws.lambda_runtime import ProcessCrash
from crossdock_local.stack import LocalStack

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=16) as running:
        yield running


@dataclass
class Merchant:
    """A shop with a custom app of every needed scope, and a PeakWMS customer with its key."""

    stack: LocalStack
    shop: str
    access_token: str
    api_secret: str
    peakwms_account: str
    peakwms_api_key: str

    def credentials(self, **changes: str) -> PeakwmsShopifyCredentials:
        fields = {
            "web_url": f"https://{self.shop}",
            "access_token": self.access_token,
            "api_secret": self.api_secret,
            "peakwms_account": self.peakwms_account,
            "peakwms_api_key": self.peakwms_api_key,
            **changes,
        }
        return PeakwmsShopifyCredentials(**fields)

    def create(self, credentials: PeakwmsShopifyCredentials | None = None, **settings: Any) -> Any:
        return peakwms_onboarding.create_peakwms_connection(
            self.stack.operator,
            credentials=credentials or self.credentials(),
            settings={"shop_name": "Acme DK", "country": "DK", **settings},
        )

    def stored(self) -> list[str]:
        return [c.id for c in connections.list_connections(self.stack.table) if self.shop in str(c.accounts)]


def new_merchant(stack: LocalStack, scopes: frozenset[str] = NEEDED_SCOPES, account: str | None = None) -> Merchant:
    number = next(_numbers)
    shop = f"acme-{number}.myshopify.com"
    token, secret = stack.new_custom_app(shop, sorted(scopes), name=f"Acme {number}")
    account = account or f"lager-{number}"
    key = stack.peakwms.seed_customer(account)
    return Merchant(stack, shop, token, secret, account, key)


def _problems(refused: pytest.ExceptionInfo[Rejected]) -> dict[str, str]:
    return {problem.field: problem.message for problem in refused.value.problems}


# -- test connection -----------------------------------------------------------------------------------------------


def test_a_wrong_peakwms_key_is_one_clear_problem_and_nothing_is_saved(stack: LocalStack) -> None:
    merchant = new_merchant(stack)
    with pytest.raises(Rejected) as refused:
        merchant.create(merchant.credentials(peakwms_api_key="pwms_not-the-key"))
    problems = _problems(refused)
    assert set(problems) == {"peakwms_api_key", "choices"}  # the shop's locations come with the refusal
    assert "PeakWMS refused the API key" in problems["peakwms_api_key"]
    assert "pwms_not-the-key" not in str(refused.value)  # the key is never repeated
    assert merchant.stored() == []


def test_a_storefront_url_is_refused_naming_web_url(stack: LocalStack) -> None:
    merchant = new_merchant(stack)
    with pytest.raises(Rejected) as refused:
        merchant.create(merchant.credentials(web_url="https://www.acme.dk"))
    problems = _problems(refused)
    assert set(problems) == {"web_url"} and "not the storefront URL" in problems["web_url"]
    assert merchant.stored() == []


def test_a_token_without_the_needed_scopes_names_them_and_the_token(stack: LocalStack) -> None:
    # GIVEN a custom app whose merchant forgot the inventory and location scopes
    merchant = new_merchant(stack, NEEDED_SCOPES - {"write_inventory", "read_inventory", "read_locations"})
    with pytest.raises(Rejected) as refused:
        merchant.create()
    problems = _problems(refused)
    assert set(problems) == {"access_token"}
    assert "read_inventory, read_locations, write_inventory" in problems["access_token"]
    assert merchant.stored() == []


def test_every_problem_of_both_sides_is_reported_at_once(stack: LocalStack) -> None:
    merchant = new_merchant(stack, NEEDED_SCOPES - {"write_orders"})
    with pytest.raises(Rejected) as refused:
        merchant.create(merchant.credentials(peakwms_api_key="wrong"), country="Denmark")
    assert {"peakwms_api_key", "access_token", "country"} <= set(_problems(refused))


def test_a_tested_connection_is_stored_active_with_its_secrets(stack: LocalStack) -> None:
    merchant = new_merchant(stack)
    created = merchant.create()
    assert (created.state, created.shop_domain, created.peakwms_account) == (
        "active",
        merchant.shop,
        merchant.peakwms_account,
    )
    assert created.main_shop and created.currency == "DKK"
    assert created.secret_names == sorted([SHOPIFY_ACCESS_TOKEN, SHOPIFY_APP_SECRET, API_KEY])
    assert created.shopify_locations  # the shop's default location, to map to a warehouse
    # AND the stored secrets are the ones given (read back as the functions read them)
    assert stack.secrets.get(created.connection_id, SHOPIFY_APP_SECRET) == merchant.api_secret
    # AND a second connection for the same shop is refused naming the first
    with pytest.raises(Refused, match=f"shopify shop {merchant.shop} already has a connection"):
        merchant.create(main_shop=False)


def test_one_main_shop_per_peakwms_account(stack: LocalStack) -> None:
    # GIVEN the main shop of a PeakWMS account
    first = new_merchant(stack)
    first.create()
    # WHEN a second shop of the same account also asks to be main: refused naming main_shop and the first shop
    second = new_merchant(stack, account=first.peakwms_account)
    with pytest.raises(Rejected) as refused:
        second.create()
    assert first.shop in _problems(refused)["main_shop"]
    # THEN as a shop that is not main it is accepted, sharing the account
    assert not second.create(main_shop=False).main_shop
    # AND an account's first shop must be its main shop
    lonely = new_merchant(stack)
    with pytest.raises(Rejected) as refused:
        lonely.create(main_shop=False)
    assert "has no main shop yet" in _problems(refused)["main_shop"]


# -- settings ------------------------------------------------------------------------------------------------------


def test_settings_name_real_shop_locations_keep_main_shop_and_are_versioned(stack: LocalStack) -> None:
    merchant = new_merchant(stack)
    created = merchant.create()
    location = created.shopify_locations[0].split()[0]
    current = connection_settings.show_settings(stack.operator, created.connection_id).settings
    # WHEN a save names a location the shop lacks and changes main_shop: both refused at once, nothing saved
    with pytest.raises(Rejected) as refused:
        connection_settings.set_settings(
            stack.operator,
            created.connection_id,
            {**current, "main_shop": False, "locations": {"999999": "Main"}},
        )
    assert set(_problems(refused)) == {"main_shop", "locations.999999"}
    # WHEN it maps the shop's location and switches a message on
    saved = connection_settings.set_settings(
        stack.operator,
        created.connection_id,
        {**current, "locations": {location: "Main"}, "messages": {"order_refunded": True}},
    )
    # THEN it is version 2, and the history holds both
    assert saved.version == 2
    history = connections.list_settings_versions(stack.table, created.connection_id)
    assert [version["version"] for version in history] == [1, 2]
    assert not history[0]["settings"]["messages"]["order_refunded"] and history[1]["settings"]["locations"] == {
        location: "Main"
    }
    # AND `settings choices` offers the shop's locations (PeakWMS lists no warehouses, and says so)
    output = io.StringIO()
    assert operator_cli.run(["settings", "choices", created.connection_id], stack.operator, output) == 0
    assert f"shopify location {location}" in output.getvalue() and "lists no warehouses" in output.getvalue()


# -- the guided setup's runner -------------------------------------------------------------------------------------

ITEMS = 10
CHUNK = 4


class CountingStep:
    """A test-only first step: counts ITEMS a chunk of CHUNK at a time; its process dies once at `crash_at`."""

    name = "fetch_products"
    title = "Count (test step)"
    optional = False

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.crash_at: int | None = None

    def run_chunk(self, connection: Any, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        start = int(state.get("next", 0))
        batch = list(range(start, min(start + CHUNK, ITEMS)))
        self.handled += batch
        if self.crash_at is not None and self.crash_at in batch:
            self.crash_at = None
            raise ProcessCrash("killed mid-chunk")  # what it did is lost with the process: the chunk runs again
        return StepChunk(
            finished=start + len(batch) >= ITEMS,
            done=start + len(batch),
            total=ITEMS,
            state={"next": start + len(batch)},
        )


class OptionalStep(CountingStep):
    name = "customs_and_cost"
    title = "Optional (test step)"
    optional = True


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingStep:
    step = CountingStep()
    real = registry.integration("peakwms_shopify")
    with_steps = dataclasses.replace(real, guided_setup=GuidedSetup((step, OptionalStep())))
    original = registry.integration
    monkeypatch.setattr(
        registry, "integration", lambda kind: with_steps if kind == "peakwms_shopify" else original(kind)
    )
    return step


def _cli(stack: LocalStack, *argv: str) -> tuple[int, str]:
    output = io.StringIO()
    return operator_cli.run(list(argv), stack.operator, output), output.getvalue()


def test_setup_show_run_and_skip_with_counts_and_a_bar(stack: LocalStack, counting: CountingStep) -> None:
    created = new_merchant(stack).create()
    connection = created.connection_id
    # GIVEN a new connection: every step pending
    code, shown = _cli(stack, "setup", "show", connection)
    assert code == 0 and "fetch_products" in shown and "pending" in shown
    assert f"next: crossdock setup run {connection} fetch_products" in shown
    # WHEN the second step is run before the first: refused, the setup goes in order
    code, _ = _cli(stack, "setup", "run", connection, "customs_and_cost")
    assert code == 1
    # WHEN the first is run and the workflow settles
    code, ran = _cli(stack, "setup", "run", connection, "fetch_products")
    assert code == 0 and "started (run 1)" in ran
    stack.settle()
    # THEN it is done with its counts and a full bar
    code, shown = _cli(stack, "setup", "show", connection)
    assert "[##############################] 100%  10/10 done" in shown
    assert counting.handled == list(range(ITEMS))
    # AND the optional step can be skipped, which completes the setup
    code, skipped = _cli(stack, "setup", "skip", connection, "customs_and_cost")
    assert code == 0 and "skipped" in skipped
    assert guided_setup.show_setup(stack.operator, connection).next_step is None


def test_a_crash_mid_step_resumes_from_the_stored_state(stack: LocalStack, counting: CountingStep) -> None:
    created = new_merchant(stack).create()
    # GIVEN a step whose function's process dies in its second chunk
    counting.crash_at = 5
    guided_setup.run_step(stack.operator, created.connection_id, "fetch_products")
    stack.settle()
    # THEN the workflow retried the chunk from the state the first chunk stored: items 0–3 once, 4–7 twice (the
    # lost chunk and its retry), 8–9 once; the step is done
    assert counting.handled == [0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 8, 9]
    progress = setup_progress.load(stack.table, created.connection_id, "fetch_products") or {}
    assert (progress["status"], progress["done"], progress["run"]) == ("done", ITEMS, 1)


def test_the_cli_creates_a_connection_with_its_secrets_from_the_environment(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the three secrets in the environment, never on the command line
    merchant = new_merchant(stack)
    monkeypatch.setenv(operator_peakwms.ACCESS_TOKEN_ENV, merchant.access_token)
    monkeypatch.setenv(operator_peakwms.API_SECRET_ENV, merchant.api_secret)
    monkeypatch.setenv(operator_peakwms.PEAKWMS_API_KEY_ENV, merchant.peakwms_api_key)
    # WHEN the operator creates the connection
    code, output = _cli(
        stack,
        *("connections", "create", "--kind", "peakwms_shopify", "--shop-name", "AcmeDK", "--country", "DK"),
        *("--web-url", merchant.shop, "--peakwms-account", merchant.peakwms_account, "--main-shop"),
        "fulfillment.notify_customer=true",
    )
    # THEN it is active, says what it tested and what comes next, and shows no secret
    assert code == 0, output
    assert "(peakwms_shopify): active" in output and "PeakWMS answered the ping" in output
    assert "next: the guided setup" in output
    assert merchant.access_token not in output and merchant.peakwms_api_key not in output
    (stored,) = [connections.load_connection(stack.table, found) for found in merchant.stored()]
    assert stored is not None and stored.settings.model_dump()["fulfillment"]["notify_customer"] is True
    # AND the looking commands show it like any other kind
    for argv in (["connections", "list"], ["connections", "show", stored.id], ["setup", "show", stored.id]):
        code, shown = _cli(stack, *argv)
        assert code == 0 and merchant.access_token not in shown, (argv, shown)


# -- lifecycle -----------------------------------------------------------------------------------------------------


def test_pause_keeps_the_webhooks_and_uninstall_removes_only_this_connections(stack: LocalStack) -> None:
    # GIVEN two shops of one PeakWMS account, each with a PeakWMS webhook and the first with a Shopify subscription
    # (as their setup steps register them)
    first = new_merchant(stack)
    created = first.create()
    second = new_merchant(stack, account=first.peakwms_account)
    other = second.create(main_shop=False)
    base = stack.operator.onboard().webhook_base_url
    clients = ConnectionClients(stack.secrets, stack.table)
    own = connections.load_connection(stack.table, created.connection_id)
    theirs = connections.load_connection(stack.table, other.connection_id)
    assert own is not None and theirs is not None
    for connection in (own, theirs):
        url = lifecycle.peakwms_webhook_prefix(base, connection.id) + "stock_adjust?key=k"
        peakwms_webhooks.register_webhook(clients.peakwms(connection), 100, url)
    webhook_subscriptions.subscribe_missing(
        clients.shopify(own), lifecycle.shopify_webhook_uri(base), ["orders/create"]
    )
    # WHEN the first is paused and resumed: nothing is removed
    paused = operations_lifecycle.pause(stack.operator, created.connection_id)
    assert paused.state == "paused" and "stay registered" in paused.notes[0]
    assert operations_lifecycle.resume(stack.operator, created.connection_id).state == "active"
    # WHEN it is uninstalled
    done = operations_lifecycle.uninstall(stack.operator, created.connection_id)
    # THEN its own webhooks went in both systems, the other shop's PeakWMS webhook stayed
    assert done.state == "uninstalled"
    assert done.webhooks_removed == {"peakwms": ["stock_adjust"], "shopify": ["orders/create"]}
    remaining = peakwms_webhooks.list_webhooks(clients.peakwms(theirs)) or []
    assert [hook["url"] for hook in remaining] == [
        lifecycle.peakwms_webhook_prefix(base, theirs.id) + "stock_adjust?key=k"
    ]
    # AND its secrets are deleted; the connection and its event log stay
    assert connections.stored_secret_names(stack.table, created.connection_id) == []
    kept = connections.load_connection(stack.table, created.connection_id)
    assert kept is not None and kept.state.value == "uninstalled" and done.event_id


def test_the_first_real_step_runs_in_the_workflow_on_the_embedded_stack(stack: LocalStack) -> None:
    """The product's own fetch_products through the guided-setup function and workflow, with the stack's IAM:
    what the step reads and writes is allowed to the function."""
    # GIVEN a shop with three products and its new connection
    merchant = new_merchant(stack)
    for sku in ("MUG-1", "MUG-2", "CUP-1"):
        product = {"title": sku, "variants": [{"title": "Default Title", "sku": sku, "price": "50.00"}]}
        stack.shopify.create_product(merchant.shop, product, emit=False)
    created = merchant.create()
    # WHEN the operator runs the first step and the workflow settles
    code, _ = _cli(stack, "setup", "run", created.connection_id, "fetch_products")
    assert code == 0
    stack.settle()
    # THEN it is done with its counts, and the products are in PeakWMS
    step = guided_setup.step_progress(stack.operator, created.connection_id, "fetch_products")
    assert (step.status, step.done, step.total) == ("done", 3, 3), step
    assert sorted(str(p["itemNumber"]) for p in stack.peakwms.products(merchant.peakwms_account)) == [
        "CUP-1",
        "MUG-1",
        "MUG-2",
    ]
