"""The progress the admin API answers for the console's bars (`routes_progress`): the operations' progress mirrored
field by field, with a `percent` that is full only when the work is finished, unknown (None: an indeterminate
bar) while it is not counted, and never claims 100 % for work still going."""

from __future__ import annotations

from crossdock.admin.routes_progress import percent_of, setup_model, sync_model
from crossdock.operations.guided_setup import SetupProgress, StepProgress
from crossdock.operations.initial_sync import InitialSyncProgress


def sync(status: str, done: int = 0, total: int | None = None, **fields: object) -> InitialSyncProgress:
    values: dict[str, object] = {
        "connection_id": "c-1",
        "status": status,
        "done": done,
        "total": total,
        "created": 0,
        "existing": 0,
        "skipped": 0,
        "started_at": None,
        "finished_at": None,
        "error": None,
        **fields,
    }
    return InitialSyncProgress(**values)  # type: ignore[arg-type]


def test_the_percent_is_full_only_when_finished_and_unknown_until_counted() -> None:
    # GIVEN work at various points  THEN its percent
    assert percent_of(0, None, finished=False) is None  # not counted yet
    assert percent_of(0, 0, finished=False) == 0  # counted: nothing to do, not finished yet
    assert percent_of(1, 3, finished=False) == 33  # rounded down
    assert percent_of(999, 1000, finished=False) == 99
    assert percent_of(1000, 1000, finished=False) == 99  # all counted but not yet finished: not full
    assert percent_of(0, None, finished=True) == 100
    assert percent_of(0, 0, finished=True) == 100  # an empty catalogue, done


def test_an_initial_sync_is_mirrored_with_its_state_and_bar() -> None:
    # GIVEN the sync before it starts, while the catalogue is read, halfway, failed and done
    # THEN the state is the operation's status, and the bar follows
    before = sync_model(sync("not started"), chosen=True)
    assert (before.state, before.percent, before.finished, before.chosen) == ("not started", 0, False, True)
    exporting = sync_model(sync("exporting", warning="stock is registered in Rackbeat"), chosen=True)
    assert (exporting.percent, exporting.warning) == (None, "stock is registered in Rackbeat")
    assert sync_model(sync("importing", 120, 240), chosen=True).percent == 50
    failed = sync_model(
        sync("failed", 60, 240, error="Rackbeat refused item X", not_synced=("X: refused",)), chosen=True
    )
    assert (failed.percent, failed.finished, failed.error, failed.not_synced) == (
        25,
        True,
        "Rackbeat refused item X",
        ["X: refused"],
    )
    done = sync_model(sync("done", 240, 240, created=200, existing=30, skipped=10), chosen=True)
    assert (done.percent, done.finished, done.created, done.existing, done.skipped) == (100, True, 200, 30, 10)


def test_a_setup_is_mirrored_step_by_step_with_its_share_of_steps_finished() -> None:
    # GIVEN a setup of four steps: done, skipped, running halfway, pending
    progress = SetupProgress(
        "c-1",
        "peakwms_shopify",
        [
            StepProgress("fetch_products", "Fetch products", False, "done", 10, 10, run=1),
            StepProgress("customs_and_cost", "Customs", True, "skipped"),
            StepProgress("receive_orders", "Orders", False, "running", 5, 10, note="5 of 10", run=2),
            StepProgress("stock_and_history", "Stock", False, "pending"),
        ],
    )
    # WHEN it is answered
    shown = setup_model(progress)
    # THEN each step keeps its state and counts with its own bar, and the setup's bar counts finished steps
    assert [(step.name, step.state, step.percent) for step in shown.steps] == [
        ("fetch_products", "done", 100),
        ("customs_and_cost", "skipped", 100),
        ("receive_orders", "running", 50),
        ("stock_and_history", "pending", 0),
    ]
    assert (shown.percent, shown.next_step) == (50, "receive_orders")
    assert (shown.steps[2].note, shown.steps[2].run) == ("5 of 10", 2)
