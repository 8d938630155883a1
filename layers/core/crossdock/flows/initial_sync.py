"""One step of a connection's initial sync, run by the kind's own sync (`Integration.initial_sync`).

The workflow (statemachines/initial_sync.asl.json) is the same for every kind: read the source's catalogue, wait
until it is read, import it a chunk per step. What each step does is the kind's; this flow only finds the
connection, asks the registry for its kind's sync, and records a failure the workflow caught.
"""

from __future__ import annotations

from typing import Any

from crossdock import registry
from crossdock.errors import FailureClass, PermanentError
from crossdock.integration import InitialSyncDeps
from crossdock.store import connections, sync_progress

FAILED = "failed"


def run_step(
    step: str, connection_id: str, deps: InitialSyncDeps, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    if step == FAILED:
        cause = str((error or {}).get("Cause") or (error or {}).get("Error") or "unknown")[:1000]
        sync_progress.update(deps.table, connection_id, status=FAILED, error=cause, finished_at=deps.now_text())
        return {}
    connection = connections.load_connection(deps.table, connection_id)
    if connection is None:
        raise PermanentError(f"connection {connection_id} does not exist", FailureClass.VALIDATION)
    sync = registry.integration(connection.kind).initial_sync
    if sync is None:
        raise PermanentError(f"a {connection.kind} connection has no initial sync", FailureClass.BUG)
    return sync.run_step(step, connection, deps)
