"""A connection's Webshipper bearer token for a call, and a new one when Webshipper answers 401.

A connection holds either a stored API token (never renewed: a 401 with it is the merchant's to fix) or the user's
password and the current password-grant token. The grant's lifetime is not documented [guess: 2 h, the
simulator's default]; a 401 is the sign. The new grant is single-flight per connection across containers, as the
Shopbox login is (`connectors/shopbox/tokens.py`): a lease admits one holder; the others poll the stored token
until the holder has stored the new one, so a burst of 401s does not become a burst of grants.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from crossdock import single_flight
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.login import LoginRefused, authenticate
from crossdock.connectors.webshipper.secret_names import ACCESS_TOKEN, API_TOKEN, PASSWORD
from crossdock.errors import FailureClass, PermanentError
from crossdock.ports import Leases, Secrets

LEASE_SECONDS = 30.0  # longer than a grant takes (its timeout + an encrypted write)
WAIT_POLL = 0.05
WAIT_LIMIT = 20.0


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    renewable: bool  # a grant's token (renewed on 401), not a stored API token


class WebshipperTokens:
    """The token of one connection's Webshipper client (one per connection and container)."""

    def __init__(
        self,
        connection_id: str,
        account: WebshipperAccount,
        secrets: Secrets,
        leases: Leases,
        *,
        holder: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._connection_id = connection_id
        self._account = account
        self._secrets = secrets
        self._leases = leases
        self._holder = holder
        self._transport = transport
        self._known: Token | None = None
        self._lock = threading.Lock()
        self.renewals = 0  # grants this object made (a test sees one for many callers)

    def current(self) -> Token:
        with self._lock:
            if self._known is None:
                self._known = self._stored()
            return self._known

    def replace_rejected(self, rejected: Token) -> Token:
        """A token other than `rejected`: one another container stored meanwhile, or a new grant."""
        if not rejected.renewable:
            raise PermanentError(
                f"Webshipper refused the API token of account {self._account.account} (401): "
                "the merchant must issue a new one",
                FailureClass.AUTH,
            )
        with self._lock:
            if self._known is not None and self._known.value != rejected.value:
                return self._known  # another thread here replaced it meanwhile
            self._known = self._renewed(rejected.value)
            return self._known

    def _stored(self) -> Token:
        api_token = self._secrets.get(self._connection_id, API_TOKEN)
        if api_token:
            return Token(api_token, renewable=False)
        token = self._secrets.fresh(self._connection_id, ACCESS_TOKEN)
        if token:
            return Token(token, renewable=True)
        if self._secrets.get(self._connection_id, PASSWORD):
            return self._renewed(None)
        raise PermanentError(f"connection {self._connection_id} has no Webshipper credentials", FailureClass.AUTH)

    def _renewed(self, seen: str | None) -> Token:
        def renewed_elsewhere() -> Token | None:
            stored = self._secrets.fresh(self._connection_id, ACCESS_TOKEN)
            return Token(stored, renewable=True) if stored and stored != seen else None

        return single_flight.renew_once(
            self._leases,
            f"webshipper-token#{self._connection_id}",
            self._holder,
            renewed_elsewhere=renewed_elsewhere,
            renew=lambda: self._grant_holding_lease(seen),
            lease_seconds=LEASE_SECONDS,
            poll_seconds=WAIT_POLL,
            wait_limit=WAIT_LIMIT,
            busy=f"the Webshipper token of account {self._account.account} is being renewed elsewhere",
        )

    def _grant_holding_lease(self, seen: str | None) -> Token:
        # Read again under the lease: the previous holder may have stored its token after our last read.
        stored = self._secrets.fresh(self._connection_id, ACCESS_TOKEN)
        if stored and stored != seen:
            return Token(stored, renewable=True)
        password = self._secrets.get(self._connection_id, PASSWORD)
        username = self._account.username
        if not password or not username:
            raise PermanentError(
                f"connection {self._connection_id} cannot log in to Webshipper again: no e-mail or password stored",
                FailureClass.AUTH,
            )
        try:
            grant = authenticate(self._account.api_base, username, password, transport=self._transport)
        except LoginRefused as refused:
            raise PermanentError(
                f"Webshipper no longer accepts the login for account {self._account.account} ({refused.reason}): "
                "the user may have been deleted or its password changed; the merchant must reconnect",
                FailureClass.AUTH,
            ) from None
        self.renewals += 1
        self._secrets.put(self._connection_id, ACCESS_TOKEN, grant.access_token)
        return Token(grant.access_token, renewable=True)
