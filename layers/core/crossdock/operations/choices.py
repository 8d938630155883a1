"""What a connection's settings fields may name in the live systems (issue 17: the console's drop-downs, the CLI's
`crossdock connections choices <id>`): every source of its kind's `Integration.setting_choices`, read now through
the connection's API clients.

Each system is read on its own: one that cannot be reached, or refuses (a token revoked, an uninstalled
connection's deleted secrets), leaves its fields without choices and is named in `unavailable` with the reason,
while the others' choices are still given. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock import registry
from crossdock.connections.model import Connection
from crossdock.errors import CrossdockError
from crossdock.integration import Choice, ChoicesByField, SettingChoices
from crossdock.operations import stack_access
from crossdock.operations.errors import NotFound
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections

__all__ = ["Choice", "ChoicesRead", "choices_of", "read_choices", "setting_choices"]


@dataclass(frozen=True)
class ChoicesRead:
    connection_id: str
    kind: str
    # By dotted settings field (`customer_defaults.layout`; a map's keys under the field, its values under `.*`).
    choices: ChoicesByField = field(default_factory=dict)
    # System → why its choices could not be read now.
    unavailable: dict[str, str] = field(default_factory=dict)


def read_choices(target: OperatorTarget, connection_id: str) -> ChoicesRead:
    connection = connections.load_connection(target.table, connection_id)
    if connection is None:
        raise NotFound(f"no connection {connection_id}")
    offered = registry.integration(connection.kind).setting_choices
    if offered is None:
        return ChoicesRead(connection.id, connection.kind)
    return choices_of(connection, offered, stack_access.connection_clients(target, stack_access.secret_store(target)))


def choices_of(connection: Connection, offered: SettingChoices, clients: Any) -> ChoicesRead:
    """Every source of `offered` read for `connection` through `clients` (`integrations.clients.ConnectionClients`
    or one like it), a failing one named with its reason."""
    choices: ChoicesByField = {}
    unavailable: dict[str, str] = {}
    for source in offered.sources:
        try:
            choices.update(source.read(connection, clients))
        except CrossdockError as failed:
            unavailable[source.system] = failed.reason
    return ChoicesRead(connection.id, connection.kind, choices, unavailable)


def setting_choices(target: OperatorTarget, connection_id: str) -> dict[str, list[Choice]]:
    """The choices alone (the contract's shape: dotted field → choices), whatever could be read."""
    return read_choices(target, connection_id).choices
