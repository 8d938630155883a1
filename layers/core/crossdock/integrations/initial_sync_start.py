"""What every kind's one-time initial sync does alike before its own steps (`integration.InitialSync`): the
workflow's name, and the start — refused when the settings did not choose a sync, else the connection's one sync
claimed (`store.sync_progress.claim`: a second start is refused there) and its workflow started. A kind subclasses
`ClaimedInitialSync` and says when its settings choose the sync, what the refusal says, its warning and its steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossdock.connections.model import Connection
from crossdock.errors import FailureClass, PermanentError
from crossdock.integration import InitialSyncDeps
from crossdock.store import sync_progress

NAME_LIMIT = 80  # Step Functions execution names


def execution_name(connection_id: str) -> str:
    """One name per connection: Step Functions refuses a second execution of it, as the claim does."""
    return f"{connection_id}-initial-sync"[:NAME_LIMIT]


class ClaimedInitialSync:
    """`integration.InitialSync` but the kind's own parts: `warning`, `chosen`, `not_chosen` and `run_step`."""

    warning: str = ""

    def execution_name(self, connection_id: str) -> str:
        return execution_name(connection_id)

    def chosen(self, connection: Connection) -> bool:
        raise NotImplementedError

    def not_chosen(self, connection: Connection) -> str:
        """Why the sync cannot start, for the refusal (the settings' value and the one that chooses it)."""
        raise NotImplementedError

    def start(
        self,
        connection: Connection,
        table: Any,
        start_workflow: Callable[[str, dict[str, Any]], str],
        now_text: str,
    ) -> dict[str, Any]:
        """Claims the connection's one sync and starts its workflow; `PermanentError` (validation) when the
        settings did not choose one, before anything is claimed."""
        if not self.chosen(connection):
            raise PermanentError(self.not_chosen(connection), FailureClass.VALIDATION)
        progress = sync_progress.claim(table, connection.id, now_text)
        start_workflow(self.execution_name(connection.id), {"connection_id": connection.id})
        return {**progress, "warning": self.warning}

    def run_step(self, step: str, connection: Connection, deps: InitialSyncDeps) -> dict[str, Any]:
        raise NotImplementedError
