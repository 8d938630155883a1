"""A connection's next settings version stored, whatever its kind: the version before it kept in the history, the
write conditional on the version the save was based on (`SettingsConflict` when someone saved in between).

Every kind's save checks its own model and references first, then hands the checked settings here, so the history
and the optimistic concurrency are one piece of code (`store.connections` holds the items).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from crossdock.connections.model import Connection, Settings
from crossdock.connections.settings_rules import ConnectionNotFound, SettingsConflict
from crossdock.store import connections
from crossdock.store.events import received_stamp

_Connection = TypeVar("_Connection", bound=Connection)


def current_for_save(
    table: Any, connection_id: str, expected_version: int, own: Callable[[Connection], _Connection]
) -> _Connection:
    """The stored connection a save is based on, as its kind's own (`own`: the kind's `Connection.of`):
    `ConnectionNotFound`, or `SettingsConflict` when it is no longer at `expected_version` — checked again by the
    write itself; failing here spares the platform calls of a save that cannot succeed."""
    loaded = connections.load_connection(table, connection_id)
    if loaded is None:
        raise ConnectionNotFound(connection_id)
    current = own(loaded)
    if current.settings_version != expected_version:
        raise SettingsConflict(connection_id, expected_version, current.settings_version)
    return current


def save_next_version(table: Any, current: _Connection, settings: Settings, *, expected_version: int) -> _Connection:
    """`current` with `settings` as version `expected_version + 1`, stored; the version it replaces is recorded in
    the history with the moment it was saved. `SettingsConflict` when the stored version is not `expected_version`."""
    saved_at = received_stamp()
    updated = current.model_copy(
        update={"settings": settings, "settings_version": expected_version + 1, "settings_saved_at": saved_at}
    )
    connections.record_settings_version(table, current, saved_at=current.settings_saved_at)
    if not connections.save_settings(table, updated, expected_version=expected_version, saved_at=saved_at):
        stored = connections.load_connection(table, current.id)
        raise SettingsConflict(current.id, expected_version, stored.settings_version if stored else None)
    return updated
