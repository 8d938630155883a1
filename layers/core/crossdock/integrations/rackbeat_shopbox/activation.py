"""Activating a `rackbeat_shopbox` connection, and what a saved settings version sets in motion.

A Shopbox connection has no OAuth install: it is activated once it is stored with settings whose references all
exist (`onboarding`), or by the first settings save that passes while it is still `installing`. Activating makes
its poll schedules first (`sales#baskets` every `sales.poll_minutes`: the sales stream's own schedule, made from
scratch) and only then marks it `active`, as the Shopify install does: a connection is never active without the
poll that brings its sales. If the schedules cannot be made, it stays `installing` and the next save tries again.

Once active, every save moves the schedules to the new interval, or removes them when sales are switched off
(`ConnectionSchedules.follow`); a paused connection has none (`lifecycle`), and gets them from its settings as they
are when it is resumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.ports import ConnectionSchedules
from crossdock.store import connections, events


@dataclass(frozen=True)
class Applied:
    """What a save or an activation did: each poll stream's schedule (created, updated, unchanged, removed,
    absent), whether the connection was activated by it, or why nothing was done."""

    schedules: dict[str, str] = field(default_factory=dict)
    activated: bool = False
    not_applied: str | None = None
    # What the operations did next (`operations.shopbox_activation`): the Rackbeat webhooks, the initial sync.
    webhooks: str | None = None
    initial_sync: str | None = None


def activate(table: Any, connection: RackbeatShopboxConnection, schedules: ConnectionSchedules) -> Applied:
    """`installing` → `active`: the poll schedules, then the state (its settings as stored stay)."""
    made = schedules.follow(connection, activating=True)
    connections.set_state(table, connection.id, ConnectionState.ACTIVE, events.received_stamp())
    return Applied(schedules=made, activated=True)


def apply_saved_settings(table: Any, connection: RackbeatShopboxConnection, schedules: ConnectionSchedules) -> Applied:
    """After a save whose references were all found: an installing connection is activated, an active or paused
    one's schedules follow the new settings; an uninstalled one has none."""
    if connection.state is ConnectionState.INSTALLING:
        return activate(table, connection, schedules)
    if connection.state is ConnectionState.PAUSED:
        # Its schedules were suspended with the pause (`lifecycle`); the resume makes them from these settings.
        return Applied(not_applied="connection is paused: its schedules follow the settings when it is resumed")
    if connection.state is not ConnectionState.ACTIVE:
        return Applied(not_applied=f"connection is {connection.state.value}: it has no schedules")
    return Applied(schedules=schedules.follow(connection))
