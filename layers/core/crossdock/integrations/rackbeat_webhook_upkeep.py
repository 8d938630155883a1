"""Rackbeat webhooks for every kind that hears Rackbeat: one webhook per Rackbeat account and event (issue 18).

A connection *follows* its Rackbeat account's webhooks: its connection item says which events it wants (the
followers index, `store.connections.follows`, written with the item itself), and the account has one webhook per
event to the account's address `/webhooks/rackbeat/account/<account key>`, which ingest fans out to every active
follower that wants the event. The first follower to want an event registers its webhook (later ones find it in the
account's list, one listing); the last one to stop wanting it removes it (`unfollow`); the self-check re-creates a
missing one (`follow` again). So Rackbeat sends each change once per account, not once per connection.

Rackbeat issues a token per webhook, shown only when it is created; the tokens of the account's webhooks are kept
as the account's secrets (`keys.account_secrets_scope`), not a follower's, so they outlive whichever connection
registered them. Webhooks registered per connection by releases before (`/webhooks/rackbeat/<connection id>`) keep
being received there with the connection's own tokens; `follow` removes them once the account's are in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Set
from typing import Any

from crossdock import registry
from crossdock.connections.model import Connection, ConnectionState
from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_WEBHOOK_TOKENS
from crossdock.ports import AccountWebhooks, Secrets
from crossdock.store import connection_lookup, connections, keys

SYSTEM = "rackbeat"


def account_webhooks(account: RackbeatAccount, events: Iterable[str]) -> AccountWebhooks | None:
    """What a connection on `account` that wants `events` follows (`Integration.account_webhooks` of each kind that
    hears Rackbeat); None while the account's company id is unknown."""
    key = own_webhooks.account_key(account)
    return None if key is None else AccountWebhooks(SYSTEM, key, tuple(sorted(set(events))))


def _followed(connection: Connection) -> AccountWebhooks | None:
    wanted = registry.integration(connection.kind).account_webhooks
    return wanted(connection) if wanted is not None else None


def webhook_url(webhook_base_url: str, connection: Connection) -> str:
    """Where the connection's Rackbeat webhooks point: its account's address (its own while the account is unknown)."""
    hooks = _followed(connection)
    if hooks is None:
        return own_webhooks.connection_webhook_url(webhook_base_url, connection.id)
    return own_webhooks.account_webhook_url(webhook_base_url, hooks.account_key)


def follow(
    connection: Connection,
    events: Iterable[str],
    rackbeat: RackbeatClient,
    secrets: Secrets,
    table: Any,
    webhook_base_url: str,
) -> list[str]:
    """Makes the connection a follower of its account's webhooks for `events` (what its settings want, as its
    `Integration.account_webhooks` says): its followers index entry is written, the account's webhooks it lacks
    (missing, or switched off) are registered, and the connection's own webhooks of releases before are removed.
    Returns the events registered now (none when the account had them all: one listing, no new token — each
    creation issues one that ingest must then accept)."""
    hooks = _followed(connection)
    if hooks is None:  # the account's company id is not known: nothing to share, so the connection's own address
        return register_per_connection(connection.id, rackbeat, secrets, webhook_base_url, events)
    connections.mark_follower(table, connection)
    url = own_webhooks.account_webhook_url(webhook_base_url, hooks.account_key)
    missing = [event for event in hooks.events if event not in own_webhooks.active_events(rackbeat, url)]
    scope = keys.account_secrets_scope(SYSTEM, hooks.account_key)
    for event in missing:
        token = rackbeat.post("webhooks", {"event": event, "url": url, "is_active": True})["webhook"].get("token")
        if token:
            # Read again right before the write, and kept after each creation: another follower may have added
            # a token meanwhile, and a failure on the next event must not lose one Rackbeat will send with.
            tokens: list[str] = json.loads(secrets.fresh(scope, RACKBEAT_WEBHOOK_TOKENS) or "[]")
            if token not in tokens:
                secrets.put(scope, RACKBEAT_WEBHOOK_TOKENS, json.dumps([*tokens, token]))
    own_webhooks.remove(rackbeat, own_webhooks.connection_webhook_url(webhook_base_url, connection.id))
    return missing


def unfollow(
    connection: Connection,
    rackbeat: RackbeatClient,
    table: Any,
    webhook_base_url: str,
    keep: Set[str] = frozenset(),
) -> list[str]:
    """The connection stops following the events but `keep` (all of them at its uninstall): the account's webhook
    of an event goes when no other follower that is not uninstalled wants it; the connection's own webhooks of
    releases before go too. Returns the events removed, sorted."""
    removed = set(
        own_webhooks.remove(rackbeat, own_webhooks.connection_webhook_url(webhook_base_url, connection.id), keep)
    )
    hooks = _followed(connection)
    if hooks is not None:
        others = [
            follower
            for follower in connection_lookup.followers(table, SYSTEM, hooks.account_key)
            if follower.connection_id != connection.id and follower.state != ConnectionState.UNINSTALLED.value
        ]
        still_wanted = set(keep).union(*(follower.events for follower in others))
        url = own_webhooks.account_webhook_url(webhook_base_url, hooks.account_key)
        removed |= set(own_webhooks.remove(rackbeat, url, still_wanted))
    return sorted(removed)


def register_per_connection(
    connection_id: str, rackbeat: RackbeatClient, secrets: Secrets, webhook_base_url: str, events: Iterable[str]
) -> list[str]:
    """What releases before issue 18 registered: `events` to the connection's own address, with the tokens kept with
    the connection's secrets; returns the events registered. Only for a connection whose account is unknown, and
    for measuring and testing the old address (bench/stock_burst.py runs both side by side)."""
    url = own_webhooks.connection_webhook_url(webhook_base_url, connection_id)
    active = own_webhooks.active_events(rackbeat, url)
    missing = [event for event in events if event not in active]
    tokens: list[str] = json.loads(secrets.get(connection_id, RACKBEAT_WEBHOOK_TOKENS) or "[]")
    for event in missing:
        token = rackbeat.post("webhooks", {"event": event, "url": url, "is_active": True})["webhook"].get("token")
        if token and token not in tokens:
            tokens.append(token)
        secrets.put(connection_id, RACKBEAT_WEBHOOK_TOKENS, json.dumps(tokens))
    return missing
