"""Which connections a caller may see: an operator every one, a merchant user only its tenant's.

A connection that is another tenant's answers exactly as one that does not exist (`NotFound`, the same message), so
a merchant cannot learn which ids exist; the refusal is logged (`tenant_refused`, with the user, its tenant and the
connection id — nothing else) for whoever looks for someone probing ids.

A route on one connection starts with `on_connection`: who asks, the stack, and the connection they may see.
"""

from __future__ import annotations

from typing import NamedTuple

from aws_lambda_powertools.event_handler.api_gateway import Router

from crossdock.admin import context
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


class ConnectionRequest(NamedTuple):
    """What a route on one connection works with."""

    target: OperatorTarget
    caller: Caller
    connection: Connection


def on_connection(router: Router, connection_id: str) -> ConnectionRequest:
    """The request `router` is answering, on `connection_id`: `Forbidden` for a caller who may use no route at all
    (before the stack is touched), `NotFound` for a connection that is not there or not the caller's to see."""
    caller = context.caller(router)
    target = context.target()
    return ConnectionRequest(target, caller, connection_for(target, caller, connection_id))


def visible_connections(target: OperatorTarget, caller: Caller) -> list[Connection] | None:
    """The merchant's connections (a Query of `ByTenant`); None for an operator, who sees every connection."""
    caller.allowed()
    if caller.operator:
        return None
    assert caller.tenant is not None  # allowed(): a caller who is no operator has a tenant
    return connections.list_tenant_connections(target.table, caller.tenant)
