"""Item keys of the single table (DESIGN §3). One place, so every repository agrees on the shapes."""

from __future__ import annotations


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


META = "META"


def claim_pk(kind: str, system: str, identity: str) -> str:
    """An account's claim: one connection of a kind per account of a system (a shop may be in a `rackbeat_shopify`
    and in a `peakwms_shopify` connection, never in two of one kind)."""
    return f"CLAIM#{kind}#{system}#{identity.lower()}"


def member_pk(kind: str, system: str, identity: str) -> str:
    """The connections of a kind that share an account (the Rackbeat account of several shops): one item each, sort
    key `connection_sk`, so they are found with one Query of the partition."""
    return f"MEMBER#{kind}#{system}#{identity.lower()}"


def account_pk(system: str, identity: str) -> str:
    """What belongs to an external account shared by several connections, not to one of them (the SKU map of a
    PeakWMS stock that several shops sell from: `store.mappings` account mappings)."""
    return f"ACCT#{system}#{identity.lower()}"


def connection_sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def shop_pk(shop_domain: str) -> str:
    """The claim releases before the generic connection wrote: a shop's, for the one kind there was."""
    return f"SHOP#{shop_domain.lower()}"


# (kind, system) whose claims earlier releases wrote as `shop_pk`: still honoured, read and released.
LEGACY_CLAIM = ("rackbeat_shopify", "shopify")


def secret_sk(name: str) -> str:
    return f"SECRET#{name}"


def mapping_sk(entity: str, system: str, external_id: str) -> str:
    return f"MAP#{entity}#{system}#{external_id}"


def event_sk(received_at: str, event_id: str) -> str:
    return f"EVT#{received_at}#{event_id}"


def delivery_pk(source: str, delivery_id: str) -> str:
    return f"DLV#{source}#{delivery_id}"


NO_SORT = "-"


def stock_dirty_sk(item_number: str) -> str:
    return f"STOCKDIRTY#{item_number}"


STOCK_DIRTY_PREFIX = "STOCKDIRTY#"
INITIAL_SYNC = "SYNC#initial"

# Every saved version of a connection's settings, zero-padded so the sort key orders them by version.
SETTINGS_VERSION_PREFIX = "SETTINGS#"


def settings_version_sk(version: int) -> str:
    return f"{SETTINGS_VERSION_PREFIX}{version:06d}"


def oauth_state_pk(state_digest: str) -> str:
    return f"OAUTHSTATE#{state_digest}"


# Refunds that wait for their order's invoice (`store.waiting_refunds`): one item per connection, a map by refund.
WAITING_REFUNDS = "WAITREFUNDS"


def attempt_sk(first_execution_name: str) -> str:
    return f"ATTEMPT#{first_execution_name}"


def cursor_sk(stream: str) -> str:
    return f"{CURSOR_PREFIX}{stream}"


def lock_pk(name: str) -> str:
    return f"LOCK#{name}"


def rate_limit_pk(system: str, account_digest: str) -> str:
    """One shared rate limiter per external account (`store.rate_limits`), sort key `NO_SORT`. The account is named
    by a digest (of its API key, say), never by a secret."""
    return f"RATE#{system}#{account_digest}"


CONNECTION_PREFIX = "CONN#"
SECRET_PREFIX = "SECRET#"
EVENT_PREFIX = "EVT#"
CURSOR_PREFIX = "CUR#"
# What remains of a connection once Shopify's shop/redact has erased it: ids and dates, nothing about the shop.
# Not `META`, so nothing that loads connections finds it.
TOMBSTONE = "TOMBSTONE"

# A sparse index of the connection items: only they carry `listed` (always "connection") and `listed_id` (the
# connection id), so every connection is listed with a Query of the index instead of a Scan of the whole table,
# whose events and their payloads would be read (and billed) to find a few connections (template.yaml, Table).
CONNECTIONS_INDEX = "Connections"
LISTED = "listed"
LISTED_ID = "listed_id"
LISTED_CONNECTION = "connection"
# Sparse: only the connection items of a tenant (a merchant's, issue 17) carry `tenant`, so the admin API lists a
# merchant's connections with a Query of this index, never a Scan.
TENANT_INDEX = "ByTenant"
TENANT = "tenant"
# Sparse: only the connection items that follow a shared account's webhooks (issue 18: one Rackbeat webhook per
# account and event) carry `hook_account` (`<system>#<account key>`); ingest finds the followers of a delivery to
# the account's address with one Query of this index, which projects what it filters on (kind, state, events).
FOLLOWERS_INDEX = "ByHookAccount"
HOOK_ACCOUNT = "hook_account"
HOOK_EVENTS = "hook_events"


def hook_account(system: str, account_key: str) -> str:
    return f"{system}#{account_key}"


def account_secrets_scope(system: str, account_key: str) -> str:
    """Where the secrets of an account's own webhooks are kept (`store.secrets`, as if a connection's): their
    tokens belong to the account, not to the follower that happened to register them."""
    return f"ACCOUNT-{system}-{account_key}"
