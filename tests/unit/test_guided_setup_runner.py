"""The guided-setup runner (`flows.guided_setup`, `store.setup_progress`): a step's chunks run until one says it is
finished, its state and progress stored after every chunk; a crash mid-chunk resumes from the last chunk stored,
never from the start; an older run never overwrites a newer one; skipping and the statuses.

The step here is a test-only step (a counter over a fixed list of items), put in the kind's setup for these tests
only: the product's steps are tested in their own modules.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from crossdock import registry
from crossdock.connections.model import ConnectionState
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.errors import PermanentError, RetryableError
from crossdock.flows import guided_setup
from crossdock.integration import GuidedSetup, SetupDeps, StepChunk
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.store import connections, setup_progress

CONNECTION = "c-setup"
ITEMS = [f"item-{number}" for number in range(7)]
CHUNK = 3


class CountingStep:
    """Handles `ITEMS` three a chunk, remembering every item it handled (to see none is handled twice); fails
    with a transient error at the chunk starting at `crash_at`, once."""

    name = "fetch_products"
    title = "Count the items (test step)"
    optional = False

    def __init__(self, crash_at: int | None = None) -> None:
        self.handled: list[str] = []
        self.crash_at = crash_at

    def run_chunk(self, connection: Any, deps: SetupDeps, state: dict[str, Any]) -> StepChunk:
        start = int(state.get("next", 0))
        if self.crash_at == start:
            self.crash_at = None
            raise RetryableError("the function died mid-chunk")
        batch = ITEMS[start : start + CHUNK]
        self.handled += batch
        following = start + len(batch)
        return StepChunk(
            finished=following >= len(ITEMS),
            done=following,
            total=len(ITEMS),
            state={"next": following},
            note=f"{following} counted",
        )


@pytest.fixture
def step(table: Any, monkeypatch: pytest.MonkeyPatch) -> CountingStep:
    counting = CountingStep()
    # Every other kind stays the registry's own (the cached connection union may be built while this stands in)
    original = registry.integration
    with_step = dataclasses.replace(original("peakwms_shopify"), guided_setup=GuidedSetup((counting,)))
    monkeypatch.setattr(
        registry, "integration", lambda kind: with_step if kind == "peakwms_shopify" else original(kind)
    )
    connections.save_connection(
        table,
        PeakwmsShopifyConnection(
            id=CONNECTION,
            accounts=PeakwmsShopifyAccounts(
                peakwms=PeakwmsAccount(account="lager-1"), shopify=ShopifyAccount(shop_domain="acme.myshopify.com")
            ),
            settings=PeakwmsShopifySettings(shop_name="Acme", country="DK"),
        ),
    )
    return counting


def _deps(table: Any) -> SetupDeps:
    return SetupDeps(table, clients=None, secrets=None, now_text=lambda: "2026-12-07T10:00:00Z", webhook_base_url="")


def _run_until_finished(table: Any, run: int) -> list[dict[str, Any]]:
    """What the workflow does: chunks until one answers finished; the progress as stored after each."""
    seen = []
    while True:
        answer = guided_setup.run_chunk(CONNECTION, "fetch_products", run, _deps(table))
        seen.append(setup_progress.load(table, CONNECTION, "fetch_products") or {})
        if answer["finished"]:
            return seen


def test_chunks_run_until_the_step_is_finished_and_progress_is_stored_after_each(
    table: Any, step: CountingStep
) -> None:
    # GIVEN a run of the step claimed
    run = setup_progress.claim_run(table, CONNECTION, "fetch_products", "2026-12-07T09:59:00Z", resume=False)
    # WHEN the workflow runs its chunks
    seen = _run_until_finished(table, run)
    # THEN each chunk's progress was stored before the next ran, and the step ended done with every item once
    assert [(p["status"], p["done"], p["total"]) for p in seen] == [
        ("running", 3, 7),
        ("running", 6, 7),
        ("done", 7, 7),
    ]
    assert step.handled == ITEMS
    assert seen[-1]["note"] == "7 counted" and seen[-1]["finished_at"] == "2026-12-07T10:00:00Z"


def test_a_crash_mid_chunk_resumes_from_the_last_chunk_stored(table: Any, step: CountingStep) -> None:
    # GIVEN a step whose function dies in its second chunk
    step.crash_at = 3
    run = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t0", resume=False)
    guided_setup.run_chunk(CONNECTION, "fetch_products", run, _deps(table))
    with pytest.raises(RetryableError):
        guided_setup.run_chunk(CONNECTION, "fetch_products", run, _deps(table))
    # THEN what is stored is the first chunk's state
    stored = setup_progress.load(table, CONNECTION, "fetch_products") or {}
    assert (stored["status"], stored["state"], stored["done"]) == ("running", {"next": 3}, 3)
    # WHEN the workflow retries the task
    _run_until_finished(table, run)
    # THEN it went on from item 3: nothing handled twice, nothing left out
    assert step.handled == ITEMS


def test_a_failed_run_keeps_its_state_and_the_next_run_resumes_from_it(table: Any, step: CountingStep) -> None:
    # GIVEN a run that stored one chunk and then failed for good (the workflow's Catch recorded it)
    first = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t0", resume=False)
    guided_setup.run_chunk(CONNECTION, "fetch_products", first, _deps(table))
    guided_setup.record_failed(
        CONNECTION, "fetch_products", first, {"Error": "X", "Cause": "PeakWMS said no"}, _deps(table)
    )
    failed = setup_progress.load(table, CONNECTION, "fetch_products") or {}
    assert (failed["status"], failed["error"], failed["state"]) == ("failed", "PeakWMS said no", {"next": 3})
    # WHEN the operator runs it again (resuming)
    second = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t1", resume=True)
    _run_until_finished(table, second)
    # THEN the second run went on where the first stopped, and the error is gone
    assert second == first + 1 and step.handled == ITEMS
    done = setup_progress.load(table, CONNECTION, "fetch_products") or {}
    assert done["status"] == "done" and "error" not in done


def test_an_older_run_never_overwrites_a_newer_one(table: Any, step: CountingStep) -> None:
    # GIVEN a run, and then a newer run claimed after it failed
    old = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t0", resume=False)
    setup_progress.record_failed(table, CONNECTION, "fetch_products", old, "gave up", "t1")
    new = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t2", resume=False)
    # WHEN a chunk of the old run's execution arrives late
    answer = guided_setup.run_chunk(CONNECTION, "fetch_products", old, _deps(table))
    # THEN it ends its workflow without running the step or writing anything
    assert answer["finished"] and step.handled == []
    stored = setup_progress.load(table, CONNECTION, "fetch_products") or {}
    assert (stored["run"], stored["status"], stored["done"]) == (new, "running", 0)
    # AND a failure it reports late is not recorded against the new run
    assert not setup_progress.record_failed(table, CONNECTION, "fetch_products", old, "late", "t3")


def test_a_second_run_is_refused_while_one_is_running(table: Any, step: CountingStep) -> None:
    setup_progress.claim_run(table, CONNECTION, "fetch_products", "t0", resume=False)
    with pytest.raises(setup_progress.StepRunning):
        setup_progress.claim_run(table, CONNECTION, "fetch_products", "t1", resume=False)


def test_a_pending_or_failed_step_is_skipped_but_a_running_or_done_one_is_not(table: Any, step: CountingStep) -> None:
    # GIVEN a step never started: skipping it records skipped
    assert setup_progress.skip(table, CONNECTION, "customs_and_cost", "t0") is None
    assert (setup_progress.load(table, CONNECTION, "customs_and_cost") or {})["status"] == "skipped"
    # GIVEN a running step: refused
    run = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t0", resume=False)
    with pytest.raises(setup_progress.StepRunning):
        setup_progress.skip(table, CONNECTION, "fetch_products", "t1")
    # GIVEN the step done: refused, there is nothing to skip
    _run_until_finished(table, run)
    with pytest.raises(ValueError, match="is done"):
        setup_progress.skip(table, CONNECTION, "fetch_products", "t2")
    # AND every stored step is listed by name
    assert {name: p["status"] for name, p in setup_progress.load_all(table, CONNECTION).items()} == {
        "customs_and_cost": "skipped",
        "fetch_products": "done",
    }


def test_a_step_of_a_paused_connection_fails_rather_than_writing(table: Any, step: CountingStep) -> None:
    run = setup_progress.claim_run(table, CONNECTION, "fetch_products", "t0", resume=False)
    connections.set_state(table, CONNECTION, ConnectionState.PAUSED, "t1")
    with pytest.raises(PermanentError, match="is paused"):
        guided_setup.run_chunk(CONNECTION, "fetch_products", run, _deps(table))
    assert step.handled == []
