"""The admin API's choices, initial-sync and setup routes through the embedded stack's endpoint (issue 17): a
merchant user signs in with Cognito, sends the id token, and the AdminApiFunction (behind the Cognito authorizer,
under the IAM its role has in template.yaml) reads the live systems, starts the workflows and answers their
progress; another tenant's user gets 404, a request without a token 401."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from embedded_merchants import SignedIn, peakwms_connection, signed_in

from crossdock import registry
from crossdock.integration import GuidedSetup, SetupDeps, StepChunk
from crossdock.integrations.rackbeat_shopify import initial_sync
from crossdock.store import connections
from crossdock_local.stack import LocalStack

VARIANTS = 12


class CountingStep:
    """A test-only first step that counts ten items four at a time (the real steps are the kind's own tests). It
    does not finish before the test lets it (`go`): the workflows run on the stack's own threads, and the second
    click must come while the first run is still going, whatever the threads' timing — its chunks go on meanwhile."""

    name = "fetch_products"
    title = "Count (test step)"
    optional = False

    def __init__(self) -> None:
        self.go = threading.Event()

    def run_chunk(self, connection: Any, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        end = min(int(state.get("next", 0)) + 4, 10)
        return StepChunk(finished=end >= 10 and self.go.is_set(), done=end, total=10, state={"next": end})


def test_a_signed_in_merchant_reads_choices_and_runs_the_initial_sync_to_100_percent(
    stack: LocalStack, merchant_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(initial_sync, "CHUNK", 5)
    # GIVEN a merchant of tenant "acme" whose connection chose the initial sync, a catalogue of 12 variants, and a
    # user of another tenant
    merchant = merchant_with(
        initial_sync="enabled",
        product_sync={"master": "none", "default_product_group": 10},
        rackbeat_seed=lambda rackbeat, account: rackbeat.seed_product_group(account, 10, "Import"),
    )
    connection_id = merchant.connection.connection_id
    assert connections.set_tenant(stack.table, connection_id, "acme")
    stack.shopify.seed_catalog(merchant.domain, VARIANTS, variants_per_product=3, stock=lambda index: index % 4)
    anna, stranger = signed_in(stack, "anna", tenant="acme"), signed_in(stack, "bo", tenant="globex")
    # WHEN the merchant reads the choices  THEN they come from the connection's Rackbeat account and shop
    choices = anna.call("GET", f"/admin/connections/{connection_id}/choices")
    assert choices.status_code == 200, choices.text
    assert {"value": 10, "label": "Import (10)"} in choices.json()["product_sync.default_product_group"]
    assert "crossdock-choices-unavailable" not in choices.headers
    # WHEN the merchant starts the initial sync and the stack runs it
    started = anna.call("POST", f"/admin/connections/{connection_id}/initial-sync")
    assert started.status_code == 202, started.text
    stack.settle()
    # THEN its progress is full
    progress = anna.call("GET", f"/admin/connections/{connection_id}/initial-sync").json()
    assert (progress["state"], progress["done"], progress["total"], progress["percent"]) == (
        "done",
        VARIANTS,
        VARIANTS,
        100,
    )
    # AND the other tenant's user sees none of it, and a request without a token is the authorizer's 401
    for method, path in (("GET", "choices"), ("GET", "initial-sync"), ("POST", "initial-sync")):
        answer = stranger.call(method, f"/admin/connections/{connection_id}/{path}")
        assert (answer.status_code, answer.json()) == (404, {"message": f"no connection {connection_id}"})
    unsigned = SignedIn(stack, "", "").call("GET", f"/admin/connections/{connection_id}/choices")
    assert unsigned.status_code == 401


def test_a_signed_in_merchant_runs_a_setup_step_through_the_endpoint(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a peakwms_shopify connection of tenant "nordlys" (its first step a counting one) and its user
    real = registry.integration("peakwms_shopify")
    step = CountingStep()
    with_steps = dataclasses.replace(real, guided_setup=GuidedSetup((step,)))
    original = registry.integration
    monkeypatch.setattr(registry, "integration", lambda kind: with_steps if kind == real.kind else original(kind))
    connection_id = peakwms_connection(stack, "nordlys", name="Nordlys")
    user = signed_in(stack, "anna", tenant="nordlys")
    base = f"/admin/connections/{connection_id}/setup"
    # WHEN the user runs the step and the stack runs its workflow
    started = user.call("POST", f"{base}/fetch_products/run")
    assert started.status_code == 202, started.text
    # AND runs it again before its workflow has run (a second click): refused while it runs, nothing started twice
    again = user.call("POST", f"{base}/fetch_products/run")
    assert again.status_code == 409, again.text
    assert "is running" in again.json()["message"]
    step.go.set()
    stack.settle()
    # THEN the setup shows it done, its bar full; and the PeakWMS warehouses are offered for its locations
    shown = user.call("GET", base).json()
    assert (shown["steps"][0]["state"], shown["steps"][0]["percent"], shown["percent"]) == ("done", 100, 100)
    choices = user.call("GET", f"/admin/connections/{connection_id}/choices")
    assert choices.status_code == 200, choices.text
    assert choices.json()["locations"], "the shop's locations are the keys of `locations`"
