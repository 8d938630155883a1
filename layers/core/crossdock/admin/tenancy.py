"""Which connections a caller may see: an operator every one, a merchant user only its tenant's.

A connection that is another tenant's answers exactly as one that does not exist (`NotFound`, the same message), so
a merchant cannot learn which ids exist; the refusal is logged (`tenant_refused`, with the user, its tenant and the
connection id — nothing else) for whoever looks for someone probing ids.
"""

from __future__ import annotations

from crossdock.admin.caller import Caller
from crossdock.aws.observability import logger
from crossdock.connections.model import Connection
from crossdock.operations.errors import NotFound
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections


def unknown(connection_id: str) -> NotFound:
    """What an id that is not there answers; another tenant's answers the same."""
    return NotFound(f"no connection {connection_id}")


def connection_for(target: OperatorTarget, caller: Caller, connection_id: str) -> Connection:
    """The connection, when `caller` may see it; `NotFound` otherwise."""
    caller.allowed()
    found = connections.load_connection(target.table, connection_id)
    if found is None:
        raise unknown(connection_id)
    if caller.operator:
        return found
    owner = connections.tenant_of(target.table, connection_id)
    if owner is None or owner != caller.tenant:
        logger.warning(
            "tenant_refused",
            extra={"user": caller.user, "tenant": caller.tenant, "connection_id": connection_id},
        )
        raise unknown(connection_id)
    return found


def visible_connections(target: OperatorTarget, caller: Caller) -> list[Connection] | None:
    """The merchant's connections (a Query of `ByTenant`); None for an operator, who sees every connection."""
    caller.allowed()
    if caller.operator:
        return None
    assert caller.tenant is not None  # allowed(): a caller who is no operator has a tenant
    return connections.list_tenant_connections(target.table, caller.tenant)
