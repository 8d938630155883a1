"""Finding a connection without loading it: which connection claims an account (a shop …), and whether one exists.

This is all ingest asks of the connections on every webhook. It lives apart from `store.connections` so that ingest's
cold start does without the settings models (pydantic), which `store.connections` needs to load and save a
connection and which would otherwise be most of ingest's import time (bench/cold_import.py, DESIGN §8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.ports import Follower
from crossdock.store import keys


def connection_for_account(table: Any, kind: str, system: str, identity: str) -> str | None:
    """The connection of `kind` that claims the account (e.g. a shop domain); one read, two for a connection saved
    by a release before claims were per kind (its claim is under the old key until it is saved again)."""
    item = table.get_item(Key={"pk": keys.claim_pk(kind, system, identity), "sk": keys.META}).get("Item")
    if item is None and (kind, system) == keys.LEGACY_CLAIM:
        item = table.get_item(Key={"pk": keys.shop_pk(identity), "sk": keys.META}).get("Item")
    return str(item["connection_id"]) if item else None


def connections_on_account(table: Any, kind: str, system: str, identity: str) -> list[str]:
    """The ids of the connections of `kind` that share the account (e.g. every `rackbeat_shopify` connection of one
    Rackbeat account), whatever their state: one Query of the account's membership partition, written with each
    connection (`store.connections.save_connection`). A connection last saved by a release before memberships is not
    among them until it is saved again (docs/known-limits.md)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": keys.member_pk(kind, system, identity)},
        "ProjectionExpression": "connection_id",
    }
    found: list[str] = []
    while True:
        page = table.query(**query)
        found += [str(item["connection_id"]) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def followers(table: Any, system: str, account_key: str) -> list[Follower]:
    """The connections that follow the account's webhooks, whatever their state: one Query of the sparse followers
    index (`keys.FOLLOWERS_INDEX`), which projects the kind, state and wanted events (so no connection is loaded).
    The index is eventually consistent: a connection saved a moment ago may be missing for about a second."""
    query: dict[str, Any] = {
        "IndexName": keys.FOLLOWERS_INDEX,
        "KeyConditionExpression": "#account = :account",
        "ExpressionAttributeNames": {"#account": keys.HOOK_ACCOUNT, "#state": "state", "#events": keys.HOOK_EVENTS},
        "ExpressionAttributeValues": {":account": keys.hook_account(system, account_key)},
        "ProjectionExpression": f"{keys.LISTED_ID}, kind, #state, #events",
    }
    found: list[Follower] = []
    while True:
        page = table.query(**query)
        found += [
            Follower(
                connection_id=str(item[keys.LISTED_ID]),
                kind=str(item.get("kind", "")),
                state=str(item.get("state", "")),
                events=frozenset(str(event) for event in item.get(keys.HOOK_EVENTS) or ()),
            )
            for item in page["Items"]
        ]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def connection_exists(table: Any, connection_id: str) -> bool:
    """True when the connection is stored (an erased one leaves only a tombstone, which does not count)."""
    key = {"pk": keys.connection_pk(connection_id), "sk": keys.META}
    return "Item" in table.get_item(Key=key, ProjectionExpression="pk")


@dataclass(frozen=True)
class TableAccountClaims:
    """`ports.AccountClaims` in the table (here, not in `store.repositories`, for ingest's cold start)."""

    table: Any

    def connection_exists(self, connection_id: str) -> bool:
        return connection_exists(self.table, connection_id)

    def connection_for_account(self, kind: str, system: str, account: str) -> str | None:
        return connection_for_account(self.table, kind, system, account)

    def followers(self, system: str, account_key: str) -> list[Follower]:
        return followers(self.table, system, account_key)
