"""Pausing, resuming and uninstalling a connection, as an operator (issue 13; issue 14 for Shopbox).

What each kind does beyond the state is its own (`integration.Lifecycle`, the `lifecycle` of its `Integration`):
this module names no kind. It changes the state conditionally on the state it starts from, so a resume never undoes
an uninstall that came in between; `paused` is a state every flow already honours (dispatch, the order steps and
the poll runs work only for an active connection, so what arrives while paused ends `skipped`).

- pause: the state, then the kind's `paused` (the Shopbox kind suspends its poll schedules);
- resume: the kind's `resuming` first (schedules put back, webhooks repaired), then the state: a connection is
  never active without what brings its work;
- uninstall: the kind's webhooks removed first (a failure stops it before anything changed), then the event
  `crossdock operator/uninstall` in the connection's log and the kind's `uninstall` (state, secrets, schedules;
  the history stays).

A kind without a `lifecycle` is refused by name.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.integration import Lifecycle, LifecycleDeps
from crossdock.operations import stack_access
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections, events

OPERATOR_SOURCE = "crossdock"
UNINSTALL_TOPIC = "operator/uninstall"
_WEBHOOKS_KEPT_BY = frozenset({ConnectionState.ACTIVE, ConnectionState.PAUSED})


@dataclass(frozen=True)
class StateChanged:
    connection_id: str
    kind: str
    account: str  # what names the connection: a shop domain, a Shopbox client
    before: str
    state: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Uninstalled:
    connection_id: str
    kind: str
    account: str
    before: str
    state: str
    outcome: str
    # Per system, the webhook topics or events removed ("shopify", "rackbeat").
    webhooks_removed: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    event_id: str | None = None


def _lifecycle_of(target: OperatorTarget, connection_id: str) -> tuple[Connection, Lifecycle]:
    found = connections.load_connection(target.table, connection_id)
    if found is None:
        raise NotFound(f"no connection {connection_id}")
    lifecycle = registry.integration(found.kind).lifecycle
    if lifecycle is None:
        raise Refused(f"connection {connection_id} is {found.kind}: that kind cannot be paused or uninstalled yet")
    return found, lifecycle


def _deps(target: OperatorTarget) -> LifecycleDeps:
    secrets = stack_access.secret_store(target)
    return LifecycleDeps(
        table=target.table,
        secrets=secrets,
        clients=stack_access.connection_clients(target, secrets),
        schedules=stack_access.poll_schedules(target),
        webhook_base_url=target.onboard().webhook_base_url,
    )


def pause(target: OperatorTarget, connection_id: str) -> StateChanged:
    connection, lifecycle = _lifecycle_of(target, connection_id)
    before = _change(target, connection_id, ConnectionState.ACTIVE, ConnectionState.PAUSED, "an active", "paused")
    with stack_access.platform_calls("pausing (the connection is paused)"):
        notes = lifecycle.paused(connection, _deps(target))
    account = lifecycle.account_name(connection)
    return StateChanged(connection_id, connection.kind, account, before, ConnectionState.PAUSED.value, notes)


def resume(target: OperatorTarget, connection_id: str) -> StateChanged:
    connection, lifecycle = _lifecycle_of(target, connection_id)
    if connection.state is not ConnectionState.PAUSED:
        raise Refused(
            f"connection {connection_id} is {connection.state.value}: only a paused connection can be resumed"
        )
    with stack_access.platform_calls("resuming (the connection is still paused)"):
        notes = lifecycle.resuming(connection, _deps(target))
    before = _change(target, connection_id, ConnectionState.PAUSED, ConnectionState.ACTIVE, "a paused", "resumed")
    account = lifecycle.account_name(connection)
    return StateChanged(connection_id, connection.kind, account, before, ConnectionState.ACTIVE.value, notes)


def _change(
    target: OperatorTarget, connection_id: str, start: ConnectionState, end: ConnectionState, which: str, done: str
) -> str:
    before = connections.change_state(target.table, connection_id, {start}, end, events.received_stamp())
    if before is None:
        now = connections.load_connection(target.table, connection_id)
        if now is None:
            raise NotFound(f"no connection {connection_id}")
        raise Refused(f"connection {connection_id} is {now.state.value}: only {which} connection can be {done}")
    return before.value


def uninstall(target: OperatorTarget, connection_id: str) -> Uninstalled:
    connection, lifecycle = _lifecycle_of(target, connection_id)
    if connection.state is ConnectionState.UNINSTALLED:
        raise Refused(f"connection {connection_id} is uninstalled already")
    deps = _deps(target)
    removed: dict[str, list[str]] = {}
    notes: list[str] = []
    if connection.state in _WEBHOOKS_KEPT_BY:
        with stack_access.platform_calls(f"removing the webhooks (the connection is still {connection.state.value})"):
            webhooks = lifecycle.remove_webhooks(connection, deps)
        removed, notes = webhooks.by_system, webhooks.notes
    event_id = f"operator-uninstall-{uuid.uuid4()}"
    now = events.received_stamp()
    event_sk = events.record_received(
        target.table, connection.id, event_id, OPERATOR_SOURCE, UNINSTALL_TOPIC, json.dumps({}), now
    )
    with stack_access.platform_calls("removing the poll schedules"):
        outcome = lifecycle.uninstall(connection, deps, event_sk)
    # The log only: the functions' metrics count what the functions did, not an operator's process.
    events.finish_event(target.table, connection.id, event_sk, outcome.status, outcome.reason)
    return Uninstalled(
        connection_id=connection.id,
        kind=connection.kind,
        account=lifecycle.account_name(connection),
        before=connection.state.value,
        state=ConnectionState.UNINSTALLED.value,
        outcome=outcome.reason,
        webhooks_removed=removed,
        notes=notes,
        event_id=event_id,
    )
