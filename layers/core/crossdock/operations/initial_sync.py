"""The connection's one initial sync (SPEC §1.2), started and watched by an operator.

Starting claims the sync in the table (it runs once per connection, ever) and starts its Step Functions execution,
named after the connection, so a second start cannot run a second sync. A claim whose execution never started (the
operator's process stopped between the two) is started by the next `start`; Step Functions refuses the name if it
did start after all, and that is reported as running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.errors import PermanentError
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import Onboarding, OperatorTarget
from crossdock.store import connections, sync_progress
from crossdock.store.events import received_stamp

FINISHED = frozenset({"done", "failed"})
_STARTING = "starting"  # claimed; the workflow's first step has not reported yet


@dataclass(frozen=True)
class InitialSyncProgress:
    connection_id: str
    status: str  # not started, starting, exporting (reading the source's catalogue), importing, done, failed
    done: int
    total: int | None  # variants in the source's catalogue; None until it is read
    created: int
    existing: int  # already in Rackbeat: left as they are
    skipped: int
    started_at: str | None
    finished_at: str | None
    error: str | None
    warning: str | None = None  # on start: what registering stock does in Rackbeat (SPEC §1.2)
    execution_arn: str | None = None
    # The variants not synced, then the stock not synced (a kind that reports it), each with the reason (the first
    # few of each: the kind's sync keeps a bounded list, and counts the rest).
    not_synced: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def start_initial_sync(target: OperatorTarget, connection_id: str) -> InitialSyncProgress:
    connection = _connection(target, connection_id)
    if connection.state is not ConnectionState.ACTIVE:
        raise Refused(
            f"connection {connection_id} is {connection.state.value}: the initial sync runs on an active connection "
            "(once the shop has installed the app, and not while paused)"
        )
    initial_sync = registry.integration(connection.kind).initial_sync
    if initial_sync is None:
        raise Refused(f"connection {connection_id}: a {connection.kind} connection has no initial sync")
    stack = target.onboard()
    started: list[str] = []

    def start_workflow(name: str, data: dict[str, Any]) -> str:
        sfn = stack.stepfunctions
        try:
            arn = str(
                sfn.start_execution(
                    stateMachineArn=stack.initial_sync_state_machine_arn, name=name, input=json.dumps(data)
                )["executionArn"]
            )
        except sfn.exceptions.ExecutionAlreadyExists:
            arn = _execution_arn(stack, name)
        started.append(arn)
        return arn

    try:
        progress = initial_sync.start(connection, target.table, start_workflow, received_stamp())
    except PermanentError as refused:
        raise Refused(f"connection {connection_id}: {refused.reason}") from None
    except sync_progress.InitialSyncAlreadyClaimed as claimed:
        name = initial_sync.execution_name(connection.id)
        if claimed.progress.get("status") != _STARTING or _execution_exists(stack, name):
            raise Refused(
                f"connection {connection_id}: the initial sync runs once, and it was started at "
                f"{claimed.progress.get('started_at')} ({claimed.progress.get('status')}); see `initial-sync progress`"
            ) from None
        start_workflow(name, {"connection_id": connection.id})
        progress = {**claimed.progress, "warning": initial_sync.warning}
    return _progress(connection_id, progress, started[-1] if started else None)


def start_chosen_initial_sync(target: OperatorTarget, connection_id: str) -> InitialSyncProgress | None:
    """What activating a connection does last (SPEC §2: a Shopbox connection's `initial_sync` runs "once, at
    activation"): the sync its settings chose, started; None when they chose none, or it was started before (a
    second activation after a pause must not be refused for it)."""
    connection = _connection(target, connection_id)
    initial_sync = registry.integration(connection.kind).initial_sync
    if initial_sync is None or not initial_sync.chosen(connection):
        return None
    if sync_progress.load(target.table, connection_id) is not None:
        return None
    return start_initial_sync(target, connection_id)


def _connection(target: OperatorTarget, connection_id: str) -> Connection:
    """The connection, of whichever kind: each kind's own sync decides what it needs."""
    found = connections.load_connection(target.table, connection_id)
    if found is None:
        raise NotFound(f"no connection {connection_id}")
    return found


def _execution_arn(stack: Onboarding, name: str) -> str:
    return stack.initial_sync_state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def _execution_exists(stack: Onboarding, name: str) -> bool:
    """Whether the claimed sync's execution was started (the claim is written first, the start second)."""
    sfn = stack.stepfunctions
    try:
        sfn.describe_execution(executionArn=_execution_arn(stack, name))
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True


def initial_sync_progress(target: OperatorTarget, connection_id: str) -> InitialSyncProgress:
    _connection(target, connection_id)
    found = sync_progress.load(target.table, connection_id)
    return _progress(connection_id, found or {"status": "not started"}, None)


def _progress(connection_id: str, found: dict[str, Any], execution_arn: str | None) -> InitialSyncProgress:
    total = found.get("total")
    return InitialSyncProgress(
        connection_id=connection_id,
        status=str(found.get("status")),
        done=int(found.get("done") or 0),
        total=int(total) if total is not None else None,
        created=int(found.get("created") or 0),
        existing=int(found.get("existing") or 0),
        skipped=int(found.get("skipped") or 0),
        started_at=found.get("started_at"),
        finished_at=found.get("finished_at"),
        error=found.get("error"),
        warning=found.get("warning"),
        execution_arn=execution_arn,
        not_synced=tuple(
            str(reason) for key in ("skipped_variants", "stock_not_synced") for reason in found.get(key) or ()
        ),
    )
