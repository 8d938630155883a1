"""The admin API's choices, initial-sync and guided-setup routes (`crossdock.admin.routes_progress`, issue 17) on
the embedded stack: the resolver handles API Gateway REST events carrying the Cognito authorizer's claims, as the
AdminApiFunction does behind the authorizer; the operations reach the simulators over HTTP and the workflows run
on the stack's Step Functions.

A merchant user sees and drives only its tenant's connections (another tenant's id is 404 with the very body of
an unknown one); each start, run and skip is in the connection's event log with who did it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from embedded_merchants import peakwms_connection

from crossdock import registry
from crossdock.admin import context
from crossdock.admin.app import resolver
from crossdock.integration import GuidedSetup, SetupDeps, StepChunk
from crossdock.integrations.rackbeat_shopify import initial_sync
from crossdock.store import connections, events
from crossdock_local.stack import LocalStack

TENANT, OTHER_TENANT = "acme", "globex"
MERCHANT = {"sub": "u-merchant", "email": "anna@acme.dk", "custom:tenant": TENANT, "token_use": "id"}
STRANGER = {"sub": "u-stranger", "email": "bo@globex.dk", "custom:tenant": OTHER_TENANT, "token_use": "id"}
VARIANTS = 30
STEP_ITEMS = 10
_shops = itertools.count(1)


@pytest.fixture(autouse=True)
def _stack_target(stack: LocalStack) -> Iterator[None]:
    """The routes act on this stack, as the function's `context.use` makes them act on its own."""
    context.use(lambda: stack.operator)
    yield


def call(method: str, path: str, claims: dict[str, str], body: Any = None) -> tuple[int, Any, dict[str, str]]:
    """One request as API Gateway hands it to the function after its Cognito authorizer: (status, JSON, headers)."""
    event = {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-progress", "stage": "test", "authorizer": {"claims": claims}},
    }
    answer = resolver.resolve(event, cast(LambdaContext, None))
    # A REST API's proxy answer may carry its headers in either map (Powertools uses multiValueHeaders).
    headers = {name.lower(): value for name, value in (answer.get("headers") or {}).items()}
    headers.update({name.lower(): ",".join(values) for name, values in (answer.get("multiValueHeaders") or {}).items()})
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else None, headers


def tenants(stack: LocalStack, connection_id: str, tenant: str = TENANT) -> str:
    assert connections.set_tenant(stack.table, connection_id, tenant)
    return connection_id


def admin_events(stack: LocalStack, connection_id: str) -> list[dict[str, Any]]:
    return [event for event in events.list_events(stack.table, connection_id) if event.get("source") == "admin"]


def assert_hidden_from_a_stranger(method: str, path: str, connection_id: str) -> None:
    """Another tenant's id answers exactly as an id that does not exist."""
    status, body, _ = call(method, path, STRANGER)
    unknown_status, unknown_body, _ = call(method, path.replace(connection_id, "c-no-such-connection"), STRANGER)
    assert status == unknown_status == 404
    assert body == {"message": f"no connection {connection_id}"}
    assert unknown_body == {"message": "no connection c-no-such-connection"}


# ---- choices ------------------------------------------------------------------------------------------------------


def test_a_merchant_reads_the_choices_of_its_connection_from_the_live_systems(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN the merchant's rackbeat_shopify connection (layout 1 "Standard", location L1 in Rackbeat)
    merchant = merchant_with()
    connection_id = tenants(stack, merchant.connection.connection_id)
    stack.rackbeat.seed_customer_group(merchant.account, 7, "Forhandlere")
    # WHEN the merchant asks for its choices
    status, body, headers = call("GET", f"/admin/connections/{connection_id}/choices", MERCHANT)
    # THEN every field that names something in Rackbeat or the shop is offered as {value, label}, values as the
    # settings hold them, and no system is named unavailable
    assert status == 200
    assert {"value": 1, "label": "Standard (1)"} in body["customer_defaults.layout"]
    assert {"value": 7, "label": "Forhandlere (7)"} in body["customer_defaults.customer_group"]
    assert {"value": "L1", "label": "Lager København (L1)"} in body["fulfillment.rackbeat_location"]
    assert body["fulfillment.shopify_location"] and all(
        isinstance(choice["value"], str) for choice in body["fulfillment.shopify_location"]
    )
    assert "crossdock-choices-unavailable" not in headers
    # AND another tenant's user learns nothing of it
    assert_hidden_from_a_stranger("GET", f"/admin/connections/{connection_id}/choices", connection_id)


def test_a_system_that_cannot_be_read_is_named_and_the_others_still_answer(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a connection whose shop uninstalled the app (its token is refused from now on)
    merchant = merchant_with()
    connection_id = tenants(stack, merchant.connection.connection_id)
    stack.shopify.uninstall(merchant.domain)
    # WHEN the merchant asks for its choices
    status, body, headers = call("GET", f"/admin/connections/{connection_id}/choices", MERCHANT)
    # THEN Rackbeat's choices are there, the shop's field is not, and the header names Shopify
    assert status == 200
    assert "customer_defaults.layout" in body and "fulfillment.shopify_location" not in body
    assert headers["crossdock-choices-unavailable"] == "shopify"


# ---- initial sync -------------------------------------------------------------------------------------------------


def test_a_merchant_starts_the_initial_sync_and_follows_it_to_100_percent(
    stack: LocalStack, merchant_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(initial_sync, "CHUNK", 10)  # several chunks: the bar moves between them
    # GIVEN a connection whose settings chose the initial sync, and a shop catalogue of 30 variants
    merchant = merchant_with(
        initial_sync="enabled",
        product_sync={"master": "none", "default_product_group": 10},
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 10, "Import"),
    )
    connection_id = tenants(stack, merchant.connection.connection_id)
    stack.shopify.seed_catalog(merchant.domain, VARIANTS, variants_per_product=3, stock=lambda index: index % 5)
    path = f"/admin/connections/{connection_id}/initial-sync"
    # WHEN nothing has started: not started, at 0 %
    status, before, _ = call("GET", path, MERCHANT)
    assert status == 200
    assert (before["state"], before["percent"], before["finished"], before["chosen"]) == ("not started", 0, False, True)
    # WHEN the merchant starts it
    status, started, _ = call("POST", path, MERCHANT)
    # THEN 202 with its progress and the warning of what it does to Rackbeat, recorded with who started it
    assert status == 202
    assert started["state"] == "starting" and started["percent"] is None and started["warning"]
    (audit,) = admin_events(stack, connection_id)
    assert audit["topic"] == "initial-sync/started" and "anna@acme.dk" in audit["reason"]
    # AND once the workflow has run, the bar is full with the counts
    stack.settle()
    status, done, _ = call("GET", path, MERCHANT)
    assert status == 200
    assert (done["state"], done["done"], done["total"], done["percent"], done["finished"]) == (
        "done",
        VARIANTS,
        VARIANTS,
        100,
        True,
    )
    # AND a second start is refused (the sync runs once), a stranger sees neither
    status, again, _ = call("POST", path, MERCHANT)
    assert status == 409 and "runs once" in again["message"]
    assert_hidden_from_a_stranger("GET", path, connection_id)
    assert_hidden_from_a_stranger("POST", path, connection_id)
    assert len(admin_events(stack, connection_id)) == 1


def test_an_initial_sync_the_settings_did_not_choose_is_refused(stack: LocalStack, merchant_with: Any) -> None:
    # GIVEN a connection whose settings leave the initial sync disabled
    merchant = merchant_with()
    connection_id = tenants(stack, merchant.connection.connection_id)
    # WHEN the merchant looks  THEN the progress says the settings do not choose it (the console offers no start)
    status, shown, _ = call("GET", f"/admin/connections/{connection_id}/initial-sync", MERCHANT)
    assert status == 200 and (shown["state"], shown["chosen"]) == ("not started", False)
    # WHEN the merchant starts it anyway  THEN 409 saying why, and nothing is recorded
    status, body, _ = call("POST", f"/admin/connections/{connection_id}/initial-sync", MERCHANT)
    assert status == 409 and connection_id in body["message"]
    assert admin_events(stack, connection_id) == []


# ---- guided setup -------------------------------------------------------------------------------------------------


class CountingStep:
    """A test-only first step that counts `STEP_ITEMS` four at a time (the real steps are the kind's own tests)."""

    name = "fetch_products"
    title = "Count (test step)"
    optional = False

    def run_chunk(self, connection: Any, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        start = int(state.get("next", 0))
        end = min(start + 4, STEP_ITEMS)
        return StepChunk(finished=end >= STEP_ITEMS, done=end, total=STEP_ITEMS, state={"next": end})


class OptionalStep(CountingStep):
    name = "customs_and_cost"
    title = "Optional (test step)"
    optional = True


@pytest.fixture
def counting_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.integration("peakwms_shopify")
    with_steps = dataclasses.replace(real, guided_setup=GuidedSetup((CountingStep(), OptionalStep())))
    original = registry.integration
    monkeypatch.setattr(
        registry, "integration", lambda kind: with_steps if kind == "peakwms_shopify" else original(kind)
    )


def test_a_merchant_runs_and_skips_the_setup_steps_in_order_with_their_bars(
    stack: LocalStack, counting_setup: None
) -> None:
    # GIVEN a new peakwms_shopify connection of the merchant: every step pending, nothing done
    connection_id = peakwms_connection(stack, TENANT, name="Progress")
    base = f"/admin/connections/{connection_id}/setup"
    status, shown, _ = call("GET", base, MERCHANT)
    assert status == 200 and shown["percent"] == 0 and shown["next_step"] == "fetch_products"
    assert [(step["name"], step["state"], step["percent"]) for step in shown["steps"]] == [
        ("fetch_products", "pending", 0),
        ("customs_and_cost", "pending", 0),
    ]
    # WHEN the second step is run first  THEN 409: the setup goes in order
    status, refused, _ = call("POST", f"{base}/customs_and_cost/run", MERCHANT)
    assert status == 409 and "fetch_products" in refused["message"]
    # WHEN the first is run  THEN 202 with the step's progress, recorded with who ran it
    status, started, _ = call("POST", f"{base}/fetch_products/run", MERCHANT)
    assert status == 202 and started["resumed"] is False
    assert started["step"]["name"] == "fetch_products" and started["step"]["run"] == 1
    # AND once its workflow has run, its bar is full and the setup half done
    stack.settle()
    status, shown, _ = call("GET", base, MERCHANT)
    first = shown["steps"][0]
    assert (first["state"], first["done"], first["total"], first["percent"]) == ("done", STEP_ITEMS, STEP_ITEMS, 100)
    assert shown["percent"] == 50 and shown["next_step"] == "customs_and_cost"
    # WHEN the optional step is skipped  THEN the setup is complete
    status, skipped, _ = call("POST", f"{base}/customs_and_cost/skip", MERCHANT)
    assert status == 200 and (skipped["state"], skipped["percent"]) == ("skipped", 100)
    status, shown, _ = call("GET", base, MERCHANT)
    assert shown["percent"] == 100 and shown["next_step"] is None
    reasons = [(event["topic"], event["reason"]) for event in admin_events(stack, connection_id)]
    assert sorted(topic for topic, _ in reasons) == ["setup/step-run", "setup/step-skipped"]
    assert all("anna@acme.dk" in reason for _, reason in reasons)


def test_setup_routes_refuse_a_stranger_an_unknown_step_and_a_kind_without_a_setup(
    stack: LocalStack, counting_setup: None, merchant_with: Any
) -> None:
    connection_id = peakwms_connection(stack, TENANT, name="Progress")
    base = f"/admin/connections/{connection_id}/setup"
    # another tenant: 404 on every setup route, nothing recorded
    for method, path in (
        ("GET", base),
        ("POST", f"{base}/fetch_products/run"),
        ("POST", f"{base}/fetch_products/skip"),
    ):
        assert_hidden_from_a_stranger(method, path, connection_id)
    assert admin_events(stack, connection_id) == []
    # a step the kind does not have: 404 naming the steps there are
    status, body, _ = call("POST", f"{base}/no_such_step/run", MERCHANT)
    assert status == 404 and "fetch_products" in body["message"]
    # a kind without a guided setup: 409 saying so
    shop_connection = tenants(stack, merchant_with().connection.connection_id)
    status, body, _ = call("GET", f"/admin/connections/{shop_connection}/setup", MERCHANT)
    assert status == 409 and "no guided setup" in body["message"]
