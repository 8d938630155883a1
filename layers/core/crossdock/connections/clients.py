"""API clients for a connection, built from its stored secrets and kept per container (one HTTP pool each).

Rackbeat limits per API key, so clients of connections sharing a key share one pacer: two shops on one Rackbeat
account then stay inside the account's limit together, at least within one container.
"""

from __future__ import annotations

import hashlib
import os

from crossdock.connections.model import Connection
from crossdock.connections.secret_names import RACKBEAT_API_KEY, SHOPIFY_ACCESS_TOKEN
from crossdock.errors import FailureClass, PermanentError
from crossdock.store.secrets import SecretStore
from crossdock.systems.pacing import RatePacer
from crossdock.systems.rackbeat.client import RackbeatClient
from crossdock.systems.shopify.graphql import ShopifyAdmin

# Rackbeat does not publish a limit; its own SDKs hold themselves to 480 calls a minute (reference/rackbeat.md).
# The default stays a little under it, leaving room for the order workflow's calls on the same key.
DEFAULT_RACKBEAT_CALLS_PER_MINUTE = 456.0


class ConnectionClients:
    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self._rackbeat: dict[tuple[str, bool], RackbeatClient] = {}
        self._shopify: dict[str, ShopifyAdmin] = {}
        self._pacers: dict[str, RatePacer] = {}
        self._rackbeat_rate = float(os.environ.get("RACKBEAT_CALLS_PER_MINUTE", DEFAULT_RACKBEAT_CALLS_PER_MINUTE))

    def rackbeat(self, connection: Connection, *, paced: bool = True) -> RackbeatClient:
        client = self._rackbeat.get((connection.id, paced))
        if client is None:
            api_key = self._secret(connection, RACKBEAT_API_KEY)
            pacer = None
            if paced:
                key_id = hashlib.sha256(api_key.encode()).hexdigest()
                pacer = self._pacers.setdefault(key_id, RatePacer(self._rackbeat_rate))
            client = RackbeatClient(connection.rackbeat_api_base, api_key, pacer=pacer)
            self._rackbeat[(connection.id, paced)] = client
        return client

    def shopify(self, connection: Connection) -> ShopifyAdmin:
        client = self._shopify.get(connection.id)
        if client is None:
            token = self._secret(connection, SHOPIFY_ACCESS_TOKEN)
            client = self._shopify[connection.id] = ShopifyAdmin(
                connection.shopify_base_url, connection.shop_domain, token
            )
        return client

    def _secret(self, connection: Connection, name: str) -> str:
        value = self._secrets.get(connection.id, name)
        if not value:
            raise PermanentError(f"connection {connection.id} has no {name}", FailureClass.AUTH)
        return value
