"""Routes of who is calling, the stack's status, and connections: list, detail, pause, resume, uninstall, tenant
and the manual sync of an order. Each is the CLI's operation (`crossdock.operations.*`) for the caller's own."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from crossdock.admin import audit, context, tenancy
from crossdock.admin.errors import ERROR_RESPONSES, FieldError, Invalid
from crossdock.admin.models import ConnectionHealth, ConnectionList, ConnectionShown, Me, OrderSyncRequest, TenantChange
from crossdock.connections.model import Connection, ConnectionState
from crossdock.operations import connections as connection_ops
from crossdock.operations import lifecycle, order_sync, status
from crossdock.operations.events import last_event, open_events
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections
from crossdock.store.events import EventStatus

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated

KIND_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
CONNECTION_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


@router.get("/admin/me", responses=ERROR_RESPONSES)
def me() -> Me:
    caller = context.caller(router)
    return Me(user=caller.user, email=caller.email, operator=caller.operator, tenant=caller.tenant)


@router.get("/admin/status", responses=ERROR_RESPONSES)
def stack_status() -> status.StackStatus:
    """Operators: the whole stack. A merchant: its connections only (no queues, no other tenant's events)."""
    caller = context.caller(router)
    target = context.target()
    found = status.stack_status(target)
    if caller.operator:
        return found
    mine = {connection.id for connection in tenancy.visible_connections(target, caller) or []}
    return replace(
        found,
        connections=[row for row in found.connections if row.connection_id in mine],
        dead_letters=[],
        orphaned={},
    )


@router.get("/admin/connections", responses=ERROR_RESPONSES)
def list_connections(
    kind: Annotated[str | None, Query(pattern=KIND_PATTERN)] = None,
    state: Annotated[ConnectionState | None, Query()] = None,
) -> ConnectionList:
    caller = context.caller(router)
    target = context.target()
    visible = tenancy.visible_connections(target, caller)
    listed = connections.list_connections(target.table) if visible is None else visible
    chosen = [c for c in listed if (kind is None or c.kind == kind) and (state is None or c.state is state)]
    if visible is None:  # an operator: the open events of every connection in one query of the index
        waiting = Counter(row.connection_id for row in open_events(target, EventStatus.NEEDS_ATTENTION))
    else:
        waiting = Counter({c.id: len(open_events(target, EventStatus.NEEDS_ATTENTION, c.id)) for c in chosen})
    rows = [_health(target, connection, waiting[connection.id]) for connection in chosen]
    return ConnectionList(connections=sorted(rows, key=lambda row: (row.account, row.connection_id)))


def _health(target: OperatorTarget, connection: Connection, needs_attention: int) -> ConnectionHealth:
    return ConnectionHealth(
        connection_id=connection.id,
        kind=connection.kind,
        account=connection_ops.shop_of(connection),
        state=connection.state.value,
        state_since=connection_ops.state_since(target.table, connection.id),
        tenant=connections.tenant_of(target.table, connection.id),
        settings_version=connection.settings_version,
        last_event=last_event(target, connection.id),
        needs_attention=needs_attention,
    )


@router.get("/admin/connections/<connection_id>", responses=ERROR_RESPONSES)
def show_connection(connection_id: str) -> ConnectionShown:
    target, _, _ = tenancy.on_connection(router, connection_id)
    return ConnectionShown(
        tenant=connections.tenant_of(target.table, connection_id),
        connection=connection_ops.show_connection(target, connection_id),
    )


@router.post("/admin/connections/<connection_id>/pause", responses=ERROR_RESPONSES)
def pause(connection_id: str) -> lifecycle.StateChanged:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    changed = lifecycle.pause(target, connection_id)
    audit.record(target, caller, connection_id, "connection/paused", f"paused the connection (was {changed.before})")
    return changed


@router.post("/admin/connections/<connection_id>/resume", responses=ERROR_RESPONSES)
def resume(connection_id: str) -> lifecycle.StateChanged:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    changed = lifecycle.resume(target, connection_id)
    audit.record(target, caller, connection_id, "connection/resumed", f"resumed the connection (was {changed.before})")
    return changed


@router.post("/admin/connections/<connection_id>/uninstall", responses=ERROR_RESPONSES)
def uninstall(connection_id: str) -> lifecycle.Uninstalled:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    done = lifecycle.uninstall(target, connection_id)
    audit.record(target, caller, connection_id, "connection/uninstalled", f"uninstalled the connection: {done.outcome}")
    return done


@router.put("/admin/connections/<connection_id>/tenant", responses=ERROR_RESPONSES)
def change_tenant(connection_id: str, change: TenantChange) -> ConnectionShown:
    """Operators only: gives the connection to a tenant (or to none)."""
    caller = context.caller(router).as_operator()
    target = context.target()
    tenancy.connection_for(target, caller, connection_id)
    changed = connection_ops.give_to_tenant(target, connection_id, change.tenant)
    what = f"tenant {changed.before or 'none'} → {changed.tenant or 'none'}"
    audit.record(target, caller, connection_id, "connection/tenant", what)
    return show_connection(connection_id)


@router.post("/admin/connections/<connection_id>/sync", responses=ERROR_RESPONSES)
def sync_order(connection_id: str, request: OrderSyncRequest) -> order_sync.OrderSync:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    try:
        synced = order_sync.sync_order(target, connection_id, request.external_id)
    except order_sync.InvalidId as wrong:
        raise Invalid(
            "the order id is not one of this connection's", [FieldError(field="external_id", message=str(wrong))]
        ) from None
    what = (
        f"synced {synced.described}: already transferred as {synced.transferred_as}"
        if synced.already_transferred
        else f"asked to sync {synced.described} (event {synced.event_id})"
    )
    audit.record(target, caller, connection_id, "order/sync", what)
    return synced
