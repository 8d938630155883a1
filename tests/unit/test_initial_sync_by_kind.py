"""The initial-sync function's flow (`flows.initial_sync`) runs the step of the connection's own kind: the registry's
`Integration.initial_sync`, one workflow for every kind; a failure the workflow caught is recorded as the
progress' reason."""

from __future__ import annotations

from typing import Any

import pytest
from shopbox_catalog_fakes import connection

from crossdock import registry
from crossdock.errors import PermanentError
from crossdock.flows import initial_sync
from crossdock.integration import InitialSyncDeps
from crossdock.integrations.rackbeat_shopbox import initial_sync as shopbox_sync
from crossdock.integrations.rackbeat_shopify import initial_sync as shopify_sync
from crossdock.store import connections, sync_progress


def test_each_kind_describes_its_own_initial_sync() -> None:
    # GIVEN the registered kinds
    # THEN each names its own sync, and what it warns the operator about
    assert registry.integration("rackbeat_shopify").initial_sync is shopify_sync.INITIAL_SYNC
    shopbox = registry.integration("rackbeat_shopbox").initial_sync
    assert shopbox is shopbox_sync.INITIAL_SYNC
    assert "set to Shopbox's count" in shopbox.warning
    assert shopbox.chosen(connection()) and not shopbox.chosen(connection(initial_sync="none"))


def test_a_step_runs_the_sync_of_the_connections_kind(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a stored Shopbox connection
    stored = connection("c-by-kind")
    connections.save_connection(table, stored)
    ran: list[tuple[str, str]] = []
    monkeypatch.setattr(
        shopbox_sync.INITIAL_SYNC, "run_step", lambda step, conn, deps: ran.append((step, conn.id)) or {"ok": 1}
    )
    deps = InitialSyncDeps(table, clients=None, now_text=lambda: "2026-12-07T06:30:00Z")
    # WHEN the workflow's step arrives for it
    answer = initial_sync.run_step("import_chunk", "c-by-kind", deps)
    # THEN the Shopbox sync ran it
    assert ran == [("import_chunk", "c-by-kind")] and answer == {"ok": 1}


def test_a_failure_the_workflow_caught_is_kept_in_the_progress(table: Any) -> None:
    sync_progress.claim(table, "c-failing", "2026-12-07T06:00:00Z")
    deps = InitialSyncDeps(table, clients=None, now_text=lambda: "2026-12-07T06:31:00Z")
    initial_sync.run_step("failed", "c-failing", deps, {"Error": "PermanentError", "Cause": "Rackbeat refused"})
    progress = sync_progress.load(table, "c-failing") or {}
    assert (progress["status"], progress["error"], progress["finished_at"]) == (
        "failed",
        "Rackbeat refused",
        "2026-12-07T06:31:00Z",
    )


def test_a_step_for_a_connection_that_is_gone_is_refused(table: Any) -> None:
    deps = InitialSyncDeps(table, clients=None, now_text=lambda: "now")
    with pytest.raises(PermanentError, match="does not exist"):
        initial_sync.run_step("import_chunk", "c-gone", deps)
