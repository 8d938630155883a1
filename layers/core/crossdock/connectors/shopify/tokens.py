"""A connection's Shopify access token, kept fresh: expiring offline tokens (reference/shopify.md, "App install").

An expiring token lives an hour; its refresh token rotates on every use. Two containers refreshing at once would
each spend the same refresh token, and the loser's new pair could be the one Shopify no longer honours, so a
refresh is single-flight per connection across containers: a lease item in the table, claimed with a conditional
put, admits one holder; the others poll the stored token until the holder has stored the new one.

The holder stores the new pair before anyone uses it. If Shopify's answer is lost on the way (it committed, we
never saw it), nothing new is stored and the next attempt spends the old refresh token again — Shopify keeps
honouring it until its replacement is first used (changelog, Aug 2026: "More resilient refreshes for expiring
offline access tokens") — so a lost answer never locks the shop out.

Stored pieces (KMS-encrypted secrets): refresh token, expiry, access token — written in that order and read in the
reverse one, so whoever sees a new access token also sees the refresh token and expiry that belong to it (or newer).
Non-expiring tokens have neither refresh token nor expiry and are used as they are.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from crossdock import pacing, single_flight
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.oauth import GrantRefused, ShopifyOAuth, TokenGrant
from crossdock.connectors.shopify.secret_names import (
    SHOPIFY_ACCESS_TOKEN,
    SHOPIFY_ACCESS_TOKEN_EXPIRES_AT,
    SHOPIFY_APP_SECRET,
    SHOPIFY_REFRESH_TOKEN,
)
from crossdock.errors import FailureClass, PermanentError
from crossdock.ports import Leases, Secrets

REFRESH_MARGIN = 300.0  # refresh a token that expires within 5 minutes, before a long job meets the expiry
LEASE_SECONDS = 30.0  # longer than a refresh takes (token call timeout + three encrypted writes)
# A refresh takes a fraction of a second and a poll is one read and one decrypt: waiters look often, briefly.
WAIT_POLL = 0.05
# Waiting for another holder ends inside its lease, so waiters give up (and retry later) rather than take over a
# lease that is still being used.
WAIT_LIMIT = 20.0


@dataclass(frozen=True)
class StoredToken:
    access_token: str = field(repr=False)
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)


def save_grant(secrets: Secrets, connection_id: str, grant: TokenGrant) -> None:
    """Stores a granted token; the access token last, as the sign that the whole grant is in place."""
    if grant.refresh_token is None or grant.expires_at is None:
        # A non-expiring token: no refresh token of an earlier (expiring) install may linger beside it.
        secrets.delete(connection_id, SHOPIFY_REFRESH_TOKEN)
        secrets.delete(connection_id, SHOPIFY_ACCESS_TOKEN_EXPIRES_AT)
    else:
        secrets.put(connection_id, SHOPIFY_REFRESH_TOKEN, grant.refresh_token)
        secrets.put(connection_id, SHOPIFY_ACCESS_TOKEN_EXPIRES_AT, repr(grant.expires_at))
    secrets.put(connection_id, SHOPIFY_ACCESS_TOKEN, grant.access_token)


def load_stored(secrets: Secrets, connection_id: str) -> StoredToken | None:
    """The stored token as it is now in the table, not as this container's secret cache last saw it."""
    access = _read_fresh(secrets, connection_id, SHOPIFY_ACCESS_TOKEN)
    if access is None:
        return None
    expires_at = _read_fresh(secrets, connection_id, SHOPIFY_ACCESS_TOKEN_EXPIRES_AT)
    return StoredToken(
        access_token=access,
        expires_at=float(expires_at) if expires_at else None,
        refresh_token=_read_fresh(secrets, connection_id, SHOPIFY_REFRESH_TOKEN),
    )


def _read_fresh(secrets: Secrets, connection_id: str, name: str) -> str | None:
    # A token another container refreshed a moment ago must be seen at once, not this container's copy of it.
    return secrets.fresh(connection_id, name)


class ShopifyTokens:
    """The access token of one connection's shop, for `ShopifyAdmin` (one per connection and container)."""

    def __init__(
        self,
        connection_id: str,
        account: ShopifyAccount,
        secrets: Secrets,
        leases: Leases,
        *,
        holder: str,
    ) -> None:
        self._connection_id = connection_id
        self._account = account
        self._secrets = secrets
        self._leases = leases
        self._holder = holder
        self._known: StoredToken | None = None
        self._lock = threading.Lock()  # threads of one container refresh once between them

    def load(self) -> None:
        """Reads the stored token now; PermanentError(auth) when the connection has none (never installed, or
        uninstalled)."""
        with self._lock:
            self._known = self._stored()

    def current(self) -> str:
        with self._lock:
            known = self._known or self._stored()
            if known.expires_at is not None and known.expires_at - pacing.clock.time() <= REFRESH_MARGIN:
                known = self._refreshed(known.access_token) or known
            self._known = known
            return known.access_token

    def replace_rejected(self, rejected: str) -> str | None:
        with self._lock:
            if self._known is not None and self._known.access_token != rejected:
                return self._known.access_token  # another thread here replaced it meanwhile
            replacement = self._refreshed(rejected)
            if replacement is None:
                return None
            self._known = replacement
            return replacement.access_token

    def _stored(self) -> StoredToken:
        stored = load_stored(self._secrets, self._connection_id)
        if stored is None:
            raise PermanentError(f"connection {self._connection_id} has no {SHOPIFY_ACCESS_TOKEN}", FailureClass.AUTH)
        return stored

    def _refreshed(self, seen: str) -> StoredToken | None:
        """A token other than `seen`: the one someone else stored meanwhile, or one refreshed here. None when
        `seen` is still the stored token and there is no refresh token to replace it with."""

        def renewed_elsewhere() -> StoredToken | None:
            # A poll reads the access token alone: it is stored last, so once it changed the rest has too.
            changed = _read_fresh(self._secrets, self._connection_id, SHOPIFY_ACCESS_TOKEN) != seen
            return self._stored() if changed else None

        return single_flight.renew_once(
            self._leases,
            self._lease_name,
            self._holder,
            renewed_elsewhere=renewed_elsewhere,
            renew=lambda: self._refresh_holding_lease(seen),
            lease_seconds=LEASE_SECONDS,
            poll_seconds=WAIT_POLL,
            wait_limit=WAIT_LIMIT,
            busy=f"the Shopify token of {self._account.shop_domain} is being refreshed elsewhere",
        )

    def _refresh_holding_lease(self, seen: str) -> StoredToken | None:
        # Read again under the lease: the previous holder may have stored its new token after our last read.
        stored = self._stored()
        if stored.access_token != seen:
            return stored
        if stored.refresh_token is None:
            return None  # a non-expiring token: nothing can replace it
        oauth = self._oauth()
        try:
            grant = oauth.refresh(stored.refresh_token, pacing.clock.time())
        except GrantRefused as refused:
            raise PermanentError(
                f"Shopify no longer accepts the refresh token of {self._account.shop_domain} ({refused.error}): "
                "the shop must install the app again",
                FailureClass.AUTH,
            ) from refused
        finally:
            oauth.close()
        save_grant(self._secrets, self._connection_id, grant)
        return StoredToken(grant.access_token, grant.expires_at, grant.refresh_token)

    def _oauth(self) -> ShopifyOAuth:
        account = self._account
        client_secret = self._secrets.get(self._connection_id, SHOPIFY_APP_SECRET)
        if not account.client_id or not client_secret:
            raise PermanentError(
                f"connection {self._connection_id} cannot refresh its Shopify token: no client id or client secret",
                FailureClass.AUTH,
            )
        return ShopifyOAuth(
            account.base_url,
            account.shop_domain,
            account.client_id,
            client_secret,
        )

    @property
    def _lease_name(self) -> str:
        return f"shopify-token#{self._connection_id}"
