"""API clients for a connection, built from its stored secrets and kept per container (one HTTP pool each).

Rackbeat limits per account, so every Rackbeat client of one API key, in every container of every function, takes
its calls from one limiter kept in the table (`store.rate_limits`): three shops on one Rackbeat account, each
scaled out, stay inside the account's limit together.

Webshipper limits per account [guess] too: its clients share one table limiter per account at about a call a second.

PeakWMS limits each customer to 240 requests a minute (reference/peakwms.md "Rate limits"); several shops share one
PeakWMS stock, so every client of the PeakWMS account, of every connection and container, takes its calls from one
table limiter per account, a little under the limit.

Shopify clients take their token from a `ShopifyTokens` source, which refreshes expiring tokens (single-flight
across containers through a lease in the table) and picks up a token another container refreshed.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, TypeVar

from crossdock.connections.model import Connection
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.secret_names import API_KEY as PEAKWMS_API_KEY
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import DEFAULT_READ_TIMEOUT, RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.connectors.shopbox.tokens import ShopboxTokens
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.tokens import ShopifyTokens
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.errors import FailureClass, PermanentError
from crossdock.pacing import Pacer, PacerChain, RatePacer
from crossdock.store import keys, rate_limits
from crossdock.store.leases import TableLeases
from crossdock.store.secrets import SecretStore

# Rackbeat does not publish a limit; its own SDKs hold themselves to 480 calls a minute (reference/rackbeat.md).
# The default stays a little under it, leaving room for the order workflow's calls on the same key.
DEFAULT_RACKBEAT_CALLS_PER_MINUTE = 456.0
# The account's budget (RACKBEAT_ACCOUNT_CALLS_PER_MINUTE) is shared by all callers; a function's own rate
# (RACKBEAT_CALLS_PER_MINUTE) below it is that function's share (the poll function takes a quarter). Unset, the
# account's budget is the function's rate.
# The longest a caller sleeps for its slot before it hands the wait to its queue's or workflow's backoff (raising
# RateLimited): bulk work may wait behind a deep queue; an order stage waits less, in a 30-second Lambda.
PACED_MAX_WAIT_SECONDS = 10.0
# Shopbox publishes no limit [guess: 5 calls a second per token, as the simulator answers]; one client per
# connection and container keeps a little under it.
SHOPBOX_CALLS_PER_SECOND = 4.5
ORDER_STAGE_MAX_WAIT_SECONDS = 5.0
# Webshipper publishes no limit (reference/webshipper.md "Rate limits" [guess: the simulator's 2 a second, burst
# 40]); the sheet's client keeps ~1 a second per account. Shared by every container through the table, as
# Rackbeat's budget is: the import, the export and the tracking all call the same account.
WEBSHIPPER_CALLS_PER_MINUTE = 60.0
# PeakWMS's documented 240 a minute per customer [seen P2], less a call in sixty: the slots come from each
# container's clock (NTP: a few ms apart) and a sliding minute counted to the millisecond would take a 241st call
# in a window that pacing at exactly 240 grazes. 236 a minute keeps a quarter-second step and that margin.
PEAKWMS_LIMIT_PER_MINUTE = 240.0
PEAKWMS_CALLS_PER_MINUTE = 236.0


class ConnectionClients:
    def __init__(
        self,
        secrets: SecretStore,
        table: Any,
        *,
        rackbeat_calls_per_minute: float | None = None,
        rackbeat_account_calls_per_minute: float | None = None,
        rackbeat_timeout_seconds: float | None = None,
    ) -> None:
        self._secrets = secrets
        self._table = table
        self._holder = uuid.uuid4().hex  # this container, as the holder of token refresh leases
        self._rackbeat: dict[tuple[str, bool], RackbeatClient] = {}
        self._shopify: dict[str, ShopifyAdmin] = {}
        self._shopbox: dict[str, ShopboxClient] = {}
        self._webshipper: dict[str, WebshipperClient] = {}
        self._peakwms: dict[str, PeakwmsClient] = {}
        self._pacers: dict[str, RatePacer] = {}
        self._rackbeat_rate = rackbeat_calls_per_minute or DEFAULT_RACKBEAT_CALLS_PER_MINUTE
        self._rackbeat_account_rate = rackbeat_account_calls_per_minute or self._rackbeat_rate
        self._rackbeat_timeout = rackbeat_timeout_seconds or DEFAULT_READ_TIMEOUT

    def rackbeat(self, connection: Connection, *, paced: bool = True) -> RackbeatClient:
        client = self._rackbeat.get((connection.id, paced))
        if client is None:
            api_key = self._secret(connection, RACKBEAT_API_KEY)
            pacer = self._rackbeat_pacer(hashlib.sha256(api_key.encode()).hexdigest(), paced)
            base = _account(connection, "rackbeat", RackbeatAccount).api_base
            client = RackbeatClient(base, api_key, pacer=pacer, timeout_seconds=self._rackbeat_timeout)
            self._rackbeat[(connection.id, paced)] = client
        return client

    def _rackbeat_pacer(self, key_id: str, paced: bool) -> Pacer:
        """The account's shared limiter. Order stages (`paced=False`) take their slots from it too: their calls count
        against the same per-account limit as bulk work, and a 429 they meet holds bulk work back; they only wait
        less for a slot. A function's own share below the account's rate is kept per container on top."""
        shared = rate_limits.AccountRateLimiter(
            self._table,
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
            shop = _account(connection, "shopify", ShopifyAccount)
            tokens = ShopifyTokens(connection.id, shop, self._secrets, TableLeases(self._table), holder=self._holder)
            tokens.load()  # a connection without a token fails here, before any call is attempted
            client = self._shopify[connection.id] = ShopifyAdmin(shop.base_url, shop.shop_domain, tokens)
        return client

    def shopbox(self, connection: Connection) -> ShopboxClient:
        client = self._shopbox.get(connection.id)
        if client is None:
            account = _account(connection, "shopbox", ShopboxAccount)
            tokens = ShopboxTokens(connection.id, account, self._secrets, TableLeases(self._table), holder=self._holder)
            client = ShopboxClient(account, tokens, pacer=RatePacer(SHOPBOX_CALLS_PER_SECOND * 60))
            self._shopbox[connection.id] = client
        return client

    def webshipper(self, connection: Connection) -> WebshipperClient:
        """The connection's Webshipper client: its token renewed single-flight across containers (`tokens`), its
        calls paced per Webshipper account (the account's name is no secret; it is digested like an API key)."""
        client = self._webshipper.get(connection.id)
        if client is None:
            account = _account(connection, "webshipper", WebshipperAccount)
            leases = TableLeases(self._table)
            tokens = WebshipperTokens(connection.id, account, self._secrets, leases, holder=self._holder)
            pacer = rate_limits.AccountRateLimiter(
                self._table,
                keys.rate_limit_pk("webshipper", hashlib.sha256(account.account.encode()).hexdigest()),
                WEBSHIPPER_CALLS_PER_MINUTE,
                max_wait=PACED_MAX_WAIT_SECONDS,
            )
            client = self._webshipper[connection.id] = WebshipperClient(account, tokens, pacer=pacer)
        return client

    def peakwms(self, connection: Connection) -> PeakwmsClient:
        """The connection's PeakWMS client: its static API key, its calls paced per PeakWMS account — the customer at
        its API base, whichever connections (shops) share it (the name is no secret; it is digested like a key)."""
        client = self._peakwms.get(connection.id)
        if client is None:
            account = _account(connection, "peakwms", PeakwmsAccount)
            api_key = self._secret(connection, PEAKWMS_API_KEY)
            identity = f"{account.api_base.rstrip('/')}|{account.account}"
            pacer = rate_limits.AccountRateLimiter(
                self._table,
                keys.rate_limit_pk("peakwms", hashlib.sha256(identity.encode()).hexdigest()),
                PEAKWMS_CALLS_PER_MINUTE,
                max_wait=PACED_MAX_WAIT_SECONDS,
            )
            client = self._peakwms[connection.id] = PeakwmsClient(account, api_key, pacer=pacer)
        return client

    def _secret(self, connection: Connection, name: str) -> str:
        value = self._secrets.get(connection.id, name)
        if not value:
            raise PermanentError(f"connection {connection.id} has no {name}", FailureClass.AUTH)
        return value


_Account = TypeVar("_Account")


def _account(connection: Connection, system: str, shape: type[_Account]) -> _Account:
    account = connection.accounts.by_system().get(system)
    if not isinstance(account, shape):
        raise PermanentError(
            f"connection {connection.id} ({connection.kind}) has no {system} account", FailureClass.BUG
        )
    return account
