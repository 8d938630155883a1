"""Pausing, resuming and uninstalling a connection, as an operator (issue 13).

`paused` (connections/model.py) is a state every flow already honours: dispatch and the order steps work only for
an active connection, so events that arrive while paused end `skipped` with the reason; its poll schedules stay
and their runs skip, so once resumed, reconciliation's next sweep catches up on the orders of the pause
(`flows.poll_schedules`). Webhooks stay registered. Each change is conditional on the state it starts from, so a
resume never undoes an uninstall that came in between.

Uninstall does what Shopify's `app/uninstalled` does (`integrations.rackbeat_shopify.lifecycle.uninstall`: state
`uninstalled`, every Shopify token deleted, the app secret kept for the privacy webhooks still to come, the
Rackbeat API key kept, poll schedules and cursors removed), after removing the webhooks: the app stays installed in
the shop, so its Shopify subscriptions would keep coming, and Rackbeat's would keep sending stock changes.
It is recorded in the connection's event log as `crossdock operator/uninstall`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from crossdock.connections.model import ConnectionState
from crossdock.errors import CrossdockError, FailureClass
from crossdock.integrations.rackbeat_shopify import deactivation
from crossdock.integrations.rackbeat_shopify import lifecycle as shop_lifecycle
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.operations import stack_access
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections, events
from crossdock.store.secrets import SecretStore

OPERATOR_SOURCE = "crossdock"
UNINSTALL_TOPIC = "operator/uninstall"
_WEBHOOKS_KEPT_BY = frozenset({ConnectionState.ACTIVE, ConnectionState.PAUSED})


@dataclass(frozen=True)
class StateChanged:
    connection_id: str
    shop_domain: str
    before: str
    state: str


@dataclass(frozen=True)
class Uninstalled:
    connection_id: str
    shop_domain: str
    before: str
    state: str
    outcome: str
    shopify_subscriptions_removed: list[str] = field(default_factory=list)
    rackbeat_webhooks_removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    event_id: str | None = None


def pause(target: OperatorTarget, connection_id: str) -> StateChanged:
    return _change(target, connection_id, ConnectionState.ACTIVE, ConnectionState.PAUSED, "an active", "paused")


def resume(target: OperatorTarget, connection_id: str) -> StateChanged:
    return _change(target, connection_id, ConnectionState.PAUSED, ConnectionState.ACTIVE, "a paused", "resumed")


def _change(
    target: OperatorTarget, connection_id: str, start: ConnectionState, end: ConnectionState, which: str, done: str
) -> StateChanged:
    connection = stack_access.load(target, connection_id)
    before = connections.change_state(target.table, connection_id, {start}, end, events.received_stamp())
    if before is None:
        now = connections.load_connection(target.table, connection_id)
        if now is None:
            raise NotFound(f"no connection {connection_id}")
        raise Refused(f"connection {connection_id} is {now.state.value}: only {which} connection can be {done}")
    return StateChanged(connection_id, connection.shop_domain, before.value, end.value)


def uninstall(target: OperatorTarget, connection_id: str) -> Uninstalled:
    connection = stack_access.load(target, connection_id)
    if connection.state is ConnectionState.UNINSTALLED:
        raise Refused(f"connection {connection_id} is uninstalled already")
    secrets = stack_access.secret_store(target)
    removed_topics: list[str] = []
    removed_events: list[str] = []
    notes: list[str] = []
    if connection.state in _WEBHOOKS_KEPT_BY:
        removed_topics, removed_events, notes = _remove_webhooks(target, connection, secrets)
    event_id = f"operator-uninstall-{uuid.uuid4()}"
    now = events.received_stamp()
    event_sk = events.record_received(
        target.table, connection.id, event_id, OPERATOR_SOURCE, UNINSTALL_TOPIC, json.dumps({}), now
    )
    with stack_access.platform_calls("removing the poll schedules"):
        outcome = shop_lifecycle.uninstall(
            target.table, secrets, connection, event_sk, stack_access.poll_schedules(target)
        )
    # The log only: the functions' metrics count what the functions did, not an operator's process.
    events.finish_event(target.table, connection.id, event_sk, outcome.status, outcome.reason)
    return Uninstalled(
        connection_id=connection.id,
        shop_domain=connection.shop_domain,
        before=connection.state.value,
        state=ConnectionState.UNINSTALLED.value,
        outcome=outcome.reason,
        shopify_subscriptions_removed=removed_topics,
        rackbeat_webhooks_removed=removed_events,
        notes=notes,
        event_id=event_id,
    )


def _remove_webhooks(
    target: OperatorTarget, connection: RackbeatShopifyConnection, secrets: SecretStore
) -> tuple[list[str], list[str], list[str]]:
    """Both systems' webhooks of the connection. A Shopify token refused means the shop removed the app already,
    and its subscriptions went with it; anything else stops the uninstall before the state changes."""
    base = target.onboard().webhook_base_url
    clients = stack_access.connection_clients(target, secrets)
    notes = []
    topics: list[str] = []
    try:
        topics = deactivation.remove_shopify_subscriptions(connection, clients.shopify(connection), base)
    except CrossdockError as failed:
        if failed.failure_class is not FailureClass.AUTH:
            raise Refused(f"removing the Shopify subscriptions failed ({failed.reason}); nothing changed") from failed
        notes.append(f"Shopify refused the shop's token ({failed.reason}): the app's subscriptions went with it")
    with stack_access.platform_calls("removing the Rackbeat webhooks; the connection is still " + connection.state):
        rackbeat_events = deactivation.remove_rackbeat_webhooks(
            connection, clients.rackbeat(connection, paced=False), base
        )
    return topics, rackbeat_events, notes
