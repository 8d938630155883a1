"""One chunk of a connection's guided-setup step, run by the kind's own step (`Integration.guided_setup`).

The workflow (statemachines/guided_setup.asl.json) is the same for every kind and step: run a chunk, and again
until one says the step is finished. Each chunk starts from the state the last one stored and its result is
stored before the workflow goes on (`store.setup_progress`), so a function that dies mid-chunk — the workflow
retries the task — or a run that failed and is started again resumes from the last chunk stored, never from the
start. Every write is conditional on the run's number: an execution of an older run (the operator started the
step again) ends quietly instead of overwriting the newer run's progress.
"""

from __future__ import annotations

from typing import Any

from crossdock import registry
from crossdock.connections.model import ConnectionState
from crossdock.errors import FailureClass, PermanentError
from crossdock.integration import SetupDeps
from crossdock.store import connections, setup_progress

FAILED = "failed"


def run_chunk(connection_id: str, step_name: str, run: int, deps: SetupDeps) -> dict[str, Any]:
    """`{"finished": bool}`: whether the workflow stops (the step is done, or this run is no longer the step's)."""
    progress = setup_progress.load(deps.table, connection_id, step_name)
    if progress is None or progress.get("run") != run or progress.get("status") != setup_progress.RUNNING:
        return {"finished": True, "superseded": True}
    connection = connections.load_connection(deps.table, connection_id)
    if connection is None:
        raise PermanentError(f"connection {connection_id} does not exist", FailureClass.VALIDATION)
    if connection.state is not ConnectionState.ACTIVE:
        raise PermanentError(
            f"connection {connection_id} is {connection.state.value}: its setup runs while it is active",
            FailureClass.VALIDATION,
        )
    setup = registry.integration(connection.kind).guided_setup
    step = setup.step(step_name) if setup is not None else None
    if step is None:
        raise PermanentError(f"a {connection.kind} connection has no setup step {step_name!r}", FailureClass.BUG)
    chunk = step.run_chunk(connection, deps, dict(progress.get("state") or {}))
    try:
        stored = setup_progress.save_chunk(
            deps.table,
            connection_id,
            step_name,
            run,
            finished=chunk.finished,
            done=chunk.done,
            total=chunk.total,
            state=chunk.state,
            note=chunk.note,
            now_text=deps.now_text(),
        )
    except setup_progress.StateTooLarge as too_large:
        raise PermanentError(str(too_large), FailureClass.BUG) from None
    return {"finished": chunk.finished or not stored, "done": chunk.done, "total": chunk.total}


def record_failed(connection_id: str, step_name: str, run: int, error: dict[str, Any] | None, deps: SetupDeps) -> None:
    """What the workflow caught, kept as the step's error (its state stays: running the step again resumes)."""
    cause = str((error or {}).get("Cause") or (error or {}).get("Error") or "unknown")
    setup_progress.record_failed(deps.table, connection_id, step_name, run, cause, deps.now_text())
