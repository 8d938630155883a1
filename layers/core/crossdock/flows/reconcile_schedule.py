"""Each connection's reconciliation schedule follows its state and settings (SPEC §5 "Reconciliation").

An active (or paused) connection with `reconciliation.enabled` has one EventBridge Scheduler schedule,
`reconcile-<connection>`, firing every `reconciliation.interval_minutes` with `{"connection_id": …}` as the sweep's
event. It is made when the connection is activated (the install's callback; `LocalStack.create_connection`), brought
in line whenever the settings are saved, and removed with the connection's sweep cursors when the app is uninstalled
or reconciliation is switched off: a later re-install or re-enable starts afresh instead of catching up on orders
from a time Crossdock was not looking after the shop. A paused connection keeps its schedule and cursors: its sweeps
skip while it is paused and catch up once it is active again. The sweep itself removes a schedule it finds has no
business running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from crossdock.connections.model import Connection, ConnectionState
from crossdock.store import cursors

ORDER_STREAM = "reconcile#orders"
STOCK_STREAM = "reconcile#stock"
STREAMS = [ORDER_STREAM, STOCK_STREAM]
KEEPS_SCHEDULE = frozenset({ConnectionState.ACTIVE, ConnectionState.PAUSED})


class Schedules(Protocol):
    """A schedule group (`crossdock.aws.schedules.ScheduleGroup`)."""

    def put(self, name: str, expression: str, event: dict[str, Any], description: str) -> str: ...

    def delete(self, name: str) -> bool: ...


def schedule_name(connection_id: str) -> str:
    # Names are unique per group and at most 64 characters: 10 + a 36-character connection id.
    return f"reconcile-{connection_id}"


def rate(minutes: int) -> str:
    return f"rate({minutes} minute{'s' if minutes != 1 else ''})"


@dataclass(frozen=True)
class ReconcileSchedules:
    table: Any
    schedules: Schedules

    def follow(self, connection: Connection, *, activating: bool = False) -> str:
        """After an activation (`activating`: the connection becomes active right after this) or a settings save:
        the schedule as the settings say. Returns "created", "updated", "unchanged", "removed" or "absent"."""
        # A paused connection keeps its schedule: its sweeps skip while it is paused and catch up once it is active.
        active = activating or connection.state in KEEPS_SCHEDULE
        settings = connection.settings.reconciliation
        if not (active and settings.enabled):
            return "removed" if self.stop(connection.id) else "absent"
        if activating:
            # A re-install must not catch up on what happened while the app was gone.
            cursors.forget(self.table, connection.id, STREAMS)
        return self.schedules.put(
            schedule_name(connection.id),
            rate(settings.interval_minutes),
            {"connection_id": connection.id},
            f"Crossdock reconciliation sweep of {connection.shop_domain}",
        )

    def stop(self, connection_id: str) -> bool:
        """Removes the schedule and the sweep's cursors; False when there was no schedule."""
        removed = self.schedules.delete(schedule_name(connection_id))
        cursors.forget(self.table, connection_id, STREAMS)
        return removed
