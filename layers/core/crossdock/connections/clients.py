"""API clients for a connection, built from its stored secrets and kept per container (one HTTP pool each).

Rackbeat limits per account, so every Rackbeat client of one API key, in every container of every function, takes
its calls from one limiter kept in the table (`store.rate_limits`): three shops on one Rackbeat account, each
scaled out, stay inside the account's limit together.

Shopify clients take their token from a `ShopifyTokens` source, which refreshes expiring tokens (single-flight
across containers through a lease in the table) and picks up a token another container refreshed.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connections.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.tokens import ShopifyTokens
from crossdock.errors import FailureClass, PermanentError
from crossdock.pacing import Pacer, PacerChain, RatePacer
from crossdock.store import keys, rate_limits
from crossdock.store.secrets import SecretStore

# Rackbeat does not publish a limit; its own SDKs hold themselves to 480 calls a minute (reference/rackbeat.md).
# The default stays a little under it, leaving room for the order workflow's calls on the same key.
DEFAULT_RACKBEAT_CALLS_PER_MINUTE = 456.0
# The account's budget, shared by all callers; RACKBEAT_CALLS_PER_MINUTE below it is one function's own share (the
# reconciliation sweep takes a quarter). Unset, the account's budget is the function's rate.
RACKBEAT_ACCOUNT_RATE_ENV = "RACKBEAT_ACCOUNT_CALLS_PER_MINUTE"
# The longest a caller sleeps for its slot before it hands the wait to its queue's or workflow's backoff (raising
# RateLimited): bulk work may wait behind a deep queue; an order stage waits less, in a 30-second Lambda.
PACED_MAX_WAIT_SECONDS = 10.0
ORDER_STAGE_MAX_WAIT_SECONDS = 5.0


class ConnectionClients:
    def __init__(self, secrets: SecretStore, table: Any = None) -> None:
        self._secrets = secrets
        self._table = table
        self._holder = uuid.uuid4().hex  # this container, as the holder of token refresh leases
        self._rackbeat: dict[tuple[str, bool], RackbeatClient] = {}
        self._shopify: dict[str, ShopifyAdmin] = {}
        self._pacers: dict[str, RatePacer] = {}
        self._rackbeat_rate = float(os.environ.get("RACKBEAT_CALLS_PER_MINUTE", DEFAULT_RACKBEAT_CALLS_PER_MINUTE))
        self._rackbeat_account_rate = float(os.environ.get(RACKBEAT_ACCOUNT_RATE_ENV, self._rackbeat_rate))

    def rackbeat(self, connection: Connection, *, paced: bool = True) -> RackbeatClient:
        client = self._rackbeat.get((connection.id, paced))
        if client is None:
            api_key = self._secret(connection, RACKBEAT_API_KEY)
            pacer = self._rackbeat_pacer(hashlib.sha256(api_key.encode()).hexdigest(), paced)
            client = RackbeatClient(connection.rackbeat_api_base, api_key, pacer=pacer)
            self._rackbeat[(connection.id, paced)] = client
        return client

    def _rackbeat_pacer(self, key_id: str, paced: bool) -> Pacer:
        """The account's shared limiter. Order stages (`paced=False`) take their slots from it too: their calls count
        against the same per-account limit as bulk work, and a 429 they meet holds bulk work back; they only wait
        less for a slot. A function's own share below the account's rate is kept per container on top."""
        shared = rate_limits.AccountRateLimiter(
            self._lease_table(),
            keys.rate_limit_pk("rackbeat", key_id),
            self._rackbeat_account_rate,
            max_wait=PACED_MAX_WAIT_SECONDS if paced else ORDER_STAGE_MAX_WAIT_SECONDS,
        )
        if not paced or self._rackbeat_rate >= self._rackbeat_account_rate:
            return shared
        return PacerChain((self._pacers.setdefault(key_id, RatePacer(self._rackbeat_rate)), shared))

    def shopify(self, connection: Connection) -> ShopifyAdmin:
        client = self._shopify.get(connection.id)
        if client is None:
            tokens = ShopifyTokens(connection, self._secrets, self._lease_table, holder=self._holder)
            tokens.load()  # a connection without a token fails here, before any call is attempted
            client = self._shopify[connection.id] = ShopifyAdmin(
                connection.shopify_base_url, connection.shop_domain, tokens
            )
        return client

    def _lease_table(self) -> Any:
        if self._table is None:
            # `services.clients()` builds this from the secrets alone; the functions' table is the one to lease in.
            # Looked up only when a refresh needs it: non-expiring tokens never do.
            from crossdock.aws import services

            self._table = services.table()
        return self._table

    def _secret(self, connection: Connection, name: str) -> str:
        value = self._secrets.get(connection.id, name)
        if not value:
            raise PermanentError(f"connection {connection.id} has no {name}", FailureClass.AUTH)
        return value
