"""Connections as an operator sees them: state, accounts, settings version, last event; never a secret's value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Key

from crossdock.connections.model import Connection
from crossdock.operations.errors import NotFound
from crossdock.operations.events import EventRow, last_event, open_events
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections, keys, sync_progress
from crossdock.store.events import EventStatus


@dataclass(frozen=True)
class ConnectionSummary:
    connection_id: str
    shop_domain: str
    state: str
    state_since: str | None  # when it became what it is (installed, uninstalled, …); None if never changed
    rackbeat_account_id: int | None
    settings_version: int
    settings_saved_at: str | None
    last_event: EventRow | None


@dataclass(frozen=True)
class ConnectionDetail:
    summary: ConnectionSummary
    kind: str
    shopify_api_base: str
    rackbeat_api_base: str
    shopify_client_id: str | None
    settings: dict[str, Any]
    settings_history: list[dict[str, Any]]  # version and saved_at of every saved version
    secret_names: list[str]  # names only: the values stay encrypted in the table
    needs_attention: int
    in_progress: int
    initial_sync: dict[str, Any] | None
    # Crossdock keeps no copy of the webhook subscriptions: the hourly self-check compares them with Shopify's
    # and records a `shopify/self_check` event when it re-creates one.
    webhooks: str = field(default="not stored; see shopify/self_check events for repairs")


@dataclass(frozen=True)
class TenantChanged:
    connection_id: str
    before: str | None
    tenant: str | None  # None: the connection belongs to no tenant (operators only see it)


def give_to_tenant(target: OperatorTarget, connection_id: str, tenant: str | None) -> TenantChanged:
    """Gives the connection to `tenant` (the admin API's merchants of that tenant see it), or to none."""
    before = connections.tenant_of(target.table, connection_id)
    wanted = tenant.strip() if tenant and tenant.strip() else None
    if not connections.set_tenant(target.table, connection_id, wanted):
        raise NotFound(f"no connection {connection_id}")
    return TenantChanged(connection_id, before, wanted)


def list_connections(target: OperatorTarget) -> list[ConnectionSummary]:
    """Every connection, by shop domain (a Query of the Connections index, `store.connections.list_connections`)."""
    found = connections.list_connections(target.table)
    return sorted((_summary(target, connection) for connection in found), key=lambda s: s.shop_domain)


def show_connection(target: OperatorTarget, connection_id: str) -> ConnectionDetail:
    connection = connections.load_connection(target.table, connection_id)
    if connection is None:
        tombstone = connections.load_tombstone(target.table, connection_id)
        if tombstone is not None:
            raise NotFound(
                f"connection {connection_id} ({_tombstone_name(tombstone)}) was erased on Shopify's shop/redact "
                f"at {tombstone.get('redacted_at')}"
            )
        raise NotFound(f"no connection {connection_id}")
    history = [
        {"version": version["version"], "saved_at": version["saved_at"]}
        for version in connections.list_settings_versions(target.table, connection_id)
    ]
    return ConnectionDetail(
        summary=_summary(target, connection),
        kind=connection.kind,
        shopify_api_base=str(_account_field(connection, "shopify", "base_url") or "-"),
        rackbeat_api_base=str(_account_field(connection, "rackbeat", "api_base") or "-"),
        shopify_client_id=_account_field(connection, "shopify", "client_id"),
        settings=connection.settings.model_dump(mode="json"),
        settings_history=history,
        secret_names=_secret_names(target.table, connection_id),
        needs_attention=len(open_events(target, EventStatus.NEEDS_ATTENTION, connection_id)),
        in_progress=len(open_events(target, EventStatus.RECEIVED, connection_id)),
        initial_sync=sync_progress.load(target.table, connection_id),
    )


def _summary(target: OperatorTarget, connection: Connection) -> ConnectionSummary:
    return ConnectionSummary(
        connection_id=connection.id,
        shop_domain=shop_of(connection),
        state=connection.state.value,
        state_since=state_since(target.table, connection.id),
        rackbeat_account_id=_account_field(connection, "rackbeat", "account_id"),
        settings_version=connection.settings_version,
        settings_saved_at=connection.settings_saved_at,
        last_event=last_event(target, connection.id),
    )


def shop_of(connection: Connection) -> str:
    """What operators call a connection by today: its shop (the account of the first system it names, for a kind
    without a shop)."""
    claims = connection.claims()
    return claims.get("shopify") or next(iter(claims.values()), "-")


def _account_field(connection: Connection, system: str, name: str) -> Any:
    account = connection.accounts.by_system().get(system)
    return getattr(account, name, None) if account is not None else None


def _tombstone_name(tombstone: dict[str, Any]) -> str:
    # Tombstones of earlier releases name the shop; newer ones every claimed account.
    accounts = tombstone.get("accounts") or {}
    return str(tombstone.get("shop_domain") or accounts.get("shopify") or next(iter(accounts.values()), "-"))


def state_since(table: Any, connection_id: str) -> str | None:
    item = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.META}, ProjectionExpression="state_changed_at"
    ).get("Item")
    return str(item["state_changed_at"]) if item and item.get("state_changed_at") else None


def _secret_names(table: Any, connection_id: str) -> list[str]:
    """The names of the stored secrets, reading only the secret items' keys."""
    answer = table.query(
        KeyConditionExpression=Key("pk").eq(keys.connection_pk(connection_id))
        & Key("sk").begins_with(keys.SECRET_PREFIX),
        ProjectionExpression="sk",
    )
    return sorted(str(item["sk"]).removeprefix(keys.SECRET_PREFIX) for item in answer["Items"])
