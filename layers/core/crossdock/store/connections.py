"""Connections and their settings. Every write goes through the settings model, so nothing invalid is stored."""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.store import keys

# Defined where ingest finds it without importing the settings models; still part of this module's interface.
from crossdock.store.connection_lookup import connection_for_account as connection_for_account


class AccountTaken(Exception):
    """Another connection of the same kind already claims one of this connection's accounts."""

    def __init__(self, system: str, identity: str) -> None:
        super().__init__(f"{system} account {identity}")
        self.system = system
        self.identity = identity


def _claims(connection: Connection) -> list[tuple[str, str, str]]:
    """(system, identity, claim key) of each account the connection claims, and the claim key of earlier releases
    where one may still be stored for it (it must not belong to another connection either)."""
    found = []
    for system, identity in sorted(connection.claims().items()):
        found.append((system, identity, keys.claim_pk(connection.kind, system, identity)))
        if (connection.kind, system) == keys.LEGACY_CLAIM:
            found.append((system, identity, keys.shop_pk(identity)))
    return found


def save_connection(
    table: Any, connection: Connection, *, with_items: Sequence[dict[str, Any]] = (), tenant: str | None = None
) -> None:
    """Stores the connection and claims its accounts, all in one transaction: an account claimed by another
    connection of the kind is refused (AccountTaken) and nothing is written. `with_items` (its sealed secrets) are
    put in the same transaction, so a new connection is never stored without them, nor they without it. `tenant`
    (the merchant it belongs to, for the admin API) is stored with it, so it is never visible without its tenant."""
    item = connection.model_dump(mode="json")
    listing: dict[str, Any] = {keys.LISTED: keys.LISTED_CONNECTION, keys.LISTED_ID: connection.id}
    listing.update(follows(connection))
    if tenant:
        listing[keys.TENANT] = tenant
    claims = _claims(connection)
    ours = {":id": connection.id}
    writes: list[dict[str, Any]] = []
    for _, _, pk in claims:
        key = {"pk": pk, "sk": keys.META}
        condition = {
            "ConditionExpression": "attribute_not_exists(pk) OR connection_id = :id",
            "ExpressionAttributeValues": ours,
        }
        if pk.startswith("SHOP#"):  # an earlier release's claim is checked, never written again
            writes.append({"ConditionCheck": {"TableName": table.name, "Key": key, **condition}})
        else:
            writes.append(
                {"Put": {"TableName": table.name, "Item": {**key, "connection_id": connection.id}, **condition}}
            )
    for pk in _memberships(connection):
        member = {"pk": pk, "sk": keys.connection_sk(connection.id), "connection_id": connection.id}
        writes.append({"Put": {"TableName": table.name, "Item": member}})
    stored = {STORED_AS: uuid.uuid4().hex}
    connection_item = {"pk": keys.connection_pk(connection.id), "sk": keys.META, **item, **listing, **stored}
    writes.append({"Put": {"TableName": table.name, "Item": connection_item}})
    writes += [{"Put": {"TableName": table.name, "Item": dict(item)}} for item in with_items]
    try:
        table.meta.client.transact_write_items(TransactItems=writes)
    except table.meta.client.exceptions.TransactionCanceledException as cancelled:
        reasons = cancelled.response.get("CancellationReasons") or []
        for (system, identity, _), reason in zip(claims, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                raise AccountTaken(system, identity) from cancelled
        raise


def follows(connection: Connection) -> dict[str, Any]:
    """The followers index's attributes of the connection item (`keys.FOLLOWERS_INDEX`): the shared account whose
    webhooks it follows and the events it wants, as its kind says (`Integration.account_webhooks`); {} for none.
    Written with the connection item itself (save, settings save), so the index never shows a half-written state."""
    wanted = registry.integration(connection.kind).account_webhooks
    hooks = wanted(connection) if wanted is not None else None
    if hooks is None:
        return {}
    return {
        keys.HOOK_ACCOUNT: keys.hook_account(hooks.system, hooks.account_key),
        keys.HOOK_EVENTS: sorted(hooks.events),
    }


def mark_follower(table: Any, connection: Connection) -> bool:
    """Writes the followers index's attributes of a connection stored before they existed (or whose settings want
    other events now) onto its item; False when the connection is gone or follows nothing."""
    attributes = follows(connection)
    if not attributes:
        return False
    try:
        table.update_item(
            Key={"pk": keys.connection_pk(connection.id), "sk": keys.META},
            UpdateExpression="SET #account = :account, #events = :events",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#account": keys.HOOK_ACCOUNT, "#events": keys.HOOK_EVENTS},
            ExpressionAttributeValues={
                ":account": attributes[keys.HOOK_ACCOUNT],
                ":events": attributes[keys.HOOK_EVENTS],
            },
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _memberships(connection: Connection) -> list[str]:
    """The membership partitions of the accounts the connection shares with others of its kind."""
    return [
        keys.member_pk(connection.kind, system, identity)
        for system, identity in sorted(connection.shared_accounts().items())
    ]


def _connection(item: dict[str, Any]) -> Connection:
    fields = {k: v for k, v in item.items() if k not in _STORAGE_ATTRIBUTES}
    return registry.parse_connection(_plain(fields))


# A token each `save_connection` writes anew: a connection item put again under the same id (a test's, or an
# operator's repair) is never taken for the one a container kept (`load_connection`).
STORED_AS = "stored_as"
# Attributes of a connection item that are where it is stored and how it is found, not part of the connection.
_STORAGE_ATTRIBUTES = frozenset(
    {"pk", "sk", keys.LISTED, keys.LISTED_ID, keys.TENANT, STORED_AS, keys.HOOK_ACCOUNT, keys.HOOK_EVENTS}
)


def load_connection(table: Any, connection_id: str) -> Connection | None:
    """The connection as stored now. A container keeps the connections it loaded and reads only their state,
    settings version and `stored_as` token again: every write of the connection item changes one of the three
    (`save_connection` a new token, `save_settings` the version, `set_state`/`change_state` the state), so a kept
    connection whose three match is the stored one."""
    key = {"pk": keys.connection_pk(connection_id), "sk": keys.META}
    kept = _known.get(table, connection_id)
    if kept is not None:
        item = table.get_item(Key=key, **_VERSION_READ).get("Item")
        if item is None:
            _known.forget(table, connection_id)
            return None
        token, connection = kept
        if item.get(STORED_AS) == token and int(item["settings_version"]) == connection.settings_version:
            state = ConnectionState(item["state"])
            return connection if state is connection.state else connection.model_copy(update={"state": state})
    item = table.get_item(Key=key).get("Item")
    if item is None:
        return None
    connection = _connection(item)
    _known.keep(table, item.get(STORED_AS), connection)
    return connection


# What tells a kept connection from the stored one. Only these come back (a projection): the item's settings are
# most of its size, and reading and parsing them again for every event and every order stage was about a tenth of
# a busy stack's work (docs/measurements.md, issue 12).
_VERSION_READ: dict[str, Any] = {
    "ProjectionExpression": "#state, settings_version, " + STORED_AS,
    "ExpressionAttributeNames": {"#state": "state"},
}


class _KnownConnections:
    """The connections this container loaded, per table object (a container's `services.table()`; a test's own
    table starts with nothing kept) and id, with the token they were stored with. A few hundred at most: a
    container serves the connections whose work reaches it, and starts afresh when full."""

    LIMIT = 512

    def __init__(self) -> None:
        self._tables: weakref.WeakKeyDictionary[Any, dict[str, tuple[str | None, Connection]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self, table: Any, connection_id: str) -> tuple[str | None, Connection] | None:
        with self._lock:
            return self._tables.get(table, {}).get(connection_id)

    def keep(self, table: Any, token: str | None, connection: Connection) -> None:
        with self._lock:
            kept = self._tables.setdefault(table, {})
            if len(kept) >= self.LIMIT:
                kept.clear()
            kept[connection.id] = (token, connection)

    def forget(self, table: Any, connection_id: str) -> None:
        with self._lock:
            self._tables.get(table, {}).pop(connection_id, None)


_known = _KnownConnections()


def save_settings(table: Any, connection: Connection, *, expected_version: int, saved_at: str) -> bool:
    """Stores `connection.settings` as version `connection.settings_version`, provided the stored connection is still
    at `expected_version`; False when another save got there first.

    The connection item and the version's history item are written in one transaction, so a version is never in
    force without its history entry, nor recorded without being in force. Only the settings attributes of the
    connection item change: a concurrent state change (pause, uninstall) is not overwritten with a stale copy.
    """
    history = _settings_version_item(connection, saved_at)
    update = "SET #settings = :settings, #version = :version, #saved = :saved"
    names = {"#settings": "settings", "#version": "settings_version", "#saved": "settings_saved_at"}
    values: dict[str, Any] = {
        ":settings": history["settings"],
        ":version": connection.settings_version,
        ":expected": expected_version,
        ":saved": saved_at,
    }
    followed = follows(connection)
    if followed:  # the events the new settings want, in the followers index at once
        update += ", #account = :account, #events = :events"
        names.update({"#account": keys.HOOK_ACCOUNT, "#events": keys.HOOK_EVENTS})
        values.update({":account": followed[keys.HOOK_ACCOUNT], ":events": followed[keys.HOOK_EVENTS]})
    # The table's client takes plain Python values (boto3's resource layer serializes them), not typed JSON.
    try:
        table.meta.client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": {"pk": keys.connection_pk(connection.id), "sk": keys.META},
                        "UpdateExpression": update,
                        "ConditionExpression": "#version = :expected",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                },
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": history,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except table.meta.client.exceptions.TransactionCanceledException as cancelled:
        reasons = cancelled.response.get("CancellationReasons") or []
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
            return False
        raise
    return True


def record_settings_version(table: Any, connection: Connection, saved_at: str | None) -> None:
    """Adds the connection's current settings to its history unless that version is there already: connections
    stored before settings had a history (or by `save_connection`, which writes none) get their first entry when
    they are next saved. `saved_at` is None where the moment is not known."""
    try:
        table.put_item(
            Item=_settings_version_item(connection, saved_at), ConditionExpression="attribute_not_exists(pk)"
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return


def list_settings_versions(table: Any, connection_id: str) -> list[dict[str, Any]]:
    """Every recorded version, oldest first: `version`, `saved_at` and the `settings` then in force."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(keys.connection_pk(connection_id))
        & Key("sk").begins_with(keys.SETTINGS_VERSION_PREFIX)
    }
    versions: list[dict[str, Any]] = []
    while True:
        page = table.query(**query)
        versions.extend(
            {
                "version": int(item["version"]),
                "saved_at": item.get("saved_at"),
                "saved_by": item.get("saved_by"),
                "settings": _plain(item["settings"]),
            }
            for item in page["Items"]
        )
        if "LastEvaluatedKey" not in page:
            return versions
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def note_saved_by(table: Any, connection_id: str, version: int, who: str) -> None:
    """Names who saved a settings version (the admin API's user) on its history item, once it is stored: the kinds'
    saves know nothing of users, and a version's settings never change after it is saved."""
    table.update_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.settings_version_sk(version)},
        UpdateExpression="SET saved_by = :who",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":who": who},
    )


def _settings_version_item(connection: Connection, saved_at: str | None) -> dict[str, Any]:
    return {
        "pk": keys.connection_pk(connection.id),
        "sk": keys.settings_version_sk(connection.settings_version),
        "version": connection.settings_version,
        "saved_at": saved_at,
        "settings": connection.settings.model_dump(mode="json"),
    }


def _plain(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; settings hold ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    return value


def set_state(table: Any, connection_id: str, state: ConnectionState, changed_at: str) -> ConnectionState | None:
    """Sets the connection's state and nothing else (settings saved meanwhile stay); returns the state it had, or
    None when there is no such connection (nothing is created)."""
    try:
        answer = table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": keys.META},
            UpdateExpression="SET #state = :state, state_changed_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":state": state.value, ":at": changed_at},
            # The whole item as it was: "updated attributes" may leave out one set to the value it already had.
            ReturnValues="ALL_OLD",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return None
    return ConnectionState(answer["Attributes"]["state"])


def change_state(
    table: Any, connection_id: str, allowed: Collection[ConnectionState], state: ConnectionState, changed_at: str
) -> ConnectionState | None:
    """`set_state`, provided the connection is in one of the `allowed` states now (checked by the write itself, so
    a concurrent uninstall is never undone by a resume); None when it is not, or does not exist."""
    values: dict[str, Any] = {":state": state.value, ":at": changed_at}
    values.update({f":from{index}": allowed_state.value for index, allowed_state in enumerate(allowed)})
    try:
        answer = table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": keys.META},
            UpdateExpression="SET #state = :state, state_changed_at = :at",
            ConditionExpression="attribute_exists(pk) AND #state IN ("
            + ", ".join(f":from{index}" for index in range(len(allowed)))
            + ")",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return None
    return ConnectionState(answer["Attributes"]["state"])


def list_connections(table: Any) -> list[Connection]:
    """Every connection, whatever its state: a Query of the sparse `Connections` index (see `store.keys`), page by
    page, reading the connection items only."""
    query: dict[str, Any] = {
        "IndexName": keys.CONNECTIONS_INDEX,
        "KeyConditionExpression": Key(keys.LISTED).eq(keys.LISTED_CONNECTION),
    }
    found: list[Connection] = []
    while True:
        page = table.query(**query)
        found.extend(_connection(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def tenant_of(table: Any, connection_id: str) -> str | None:
    """The tenant the connection belongs to, None when it belongs to none (an operator's only) or does not exist."""
    item = table.get_item(
        Key={"pk": keys.connection_pk(connection_id), "sk": keys.META},
        ProjectionExpression="#tenant",
        ExpressionAttributeNames={"#tenant": keys.TENANT},
    ).get("Item")
    return str(item[keys.TENANT]) if item and item.get(keys.TENANT) else None


def set_tenant(table: Any, connection_id: str, tenant: str | None) -> bool:
    """Gives the connection to `tenant` (None: to no tenant); False when there is no such connection. Only the
    tenant attribute changes, so a concurrent save or state change is never overwritten."""
    update: dict[str, Any] = (
        {"UpdateExpression": "SET #tenant = :tenant", "ExpressionAttributeValues": {":tenant": tenant}}
        if tenant
        else {"UpdateExpression": "REMOVE #tenant"}
    )
    try:
        table.update_item(
            Key={"pk": keys.connection_pk(connection_id), "sk": keys.META},
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#tenant": keys.TENANT},
            **update,
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def list_tenant_connections(table: Any, tenant: str) -> list[Connection]:
    """The tenant's connections, whatever their state: a Query of the sparse `ByTenant` index, page by page."""
    query: dict[str, Any] = {"IndexName": keys.TENANT_INDEX, "KeyConditionExpression": Key(keys.TENANT).eq(tenant)}
    found: list[Connection] = []
    while True:
        page = table.query(**query)
        found.extend(_connection(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def stored_secret_names(table: Any, connection_id: str) -> list[str]:
    """The names of the secrets stored for the connection (names only: values stay with `store.secrets`)."""
    prefix = keys.SECRET_PREFIX
    return [sk[len(prefix) :] for sk in connection_sort_keys(table, connection_id) if sk.startswith(prefix)]


def connection_sort_keys(table: Any, connection_id: str) -> list[str]:
    """The sort key of every item in the connection's partition (keys only, however large the items are)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(keys.connection_pk(connection_id)),
        "ProjectionExpression": "sk",
    }
    sort_keys: list[str] = []
    while True:
        page = table.query(**query)
        sort_keys.extend(str(item["sk"]) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return sort_keys
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_connection_items(table: Any, connection_id: str, sort_keys: list[str]) -> None:
    """Deletes those items of the connection's partition, 25 to a request (the batch writer resends what DynamoDB
    left unprocessed)."""
    with table.batch_writer() as batch:
        for sk in sort_keys:
            batch.delete_item(Key={"pk": keys.connection_pk(connection_id), "sk": sk})


def replace_with_tombstone(table: Any, connection: Connection, redacted_at: str) -> None:
    """After an erasure: a tombstone (ids and dates only) takes the connection's place, so an operator can see the
    erasure happened, and the accounts are released — unless a reinstall has claimed one for a new connection."""
    table.put_item(
        Item={
            "pk": keys.connection_pk(connection.id),
            "sk": keys.TOMBSTONE,
            "connection_id": connection.id,
            "kind": connection.kind,
            "accounts": connection.claims(),
            "state": ConnectionState.UNINSTALLED.value,
            "redacted_at": redacted_at,
        }
    )
    release_accounts(table, connection)
    # Last: until the connection item is gone, a retry of an interrupted erasure still finds the connection.
    table.delete_item(Key={"pk": keys.connection_pk(connection.id), "sk": keys.META})


def release_accounts(table: Any, connection: Connection) -> None:
    """Deletes the connection's claims on its accounts (a claim that names another connection now stays) and its
    memberships of the accounts it shares."""
    for pk in _memberships(connection):
        table.delete_item(Key={"pk": pk, "sk": keys.connection_sk(connection.id)})
    for _, _, pk in _claims(connection):
        try:
            table.delete_item(
                Key={"pk": pk, "sk": keys.META},
                ConditionExpression=Attr("connection_id").eq(connection.id),
            )
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            continue


def load_tombstone(table: Any, connection_id: str) -> dict[str, Any] | None:
    item = table.get_item(Key={"pk": keys.connection_pk(connection_id), "sk": keys.TOMBSTONE}).get("Item")
    return {k: v for k, v in item.items() if k not in ("pk", "sk")} if item else None
