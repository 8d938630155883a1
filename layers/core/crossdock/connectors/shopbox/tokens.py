"""A connection's Shopbox credential for a call, and a new login token when Shopbox answers 401.

A connection holds either a long-lived `api-token` (never refreshed: a 401 with it is the merchant's to fix) or the
login's password and its current login token. Shopbox does not document how long a login token lives [guess: the
simulator expires it after 24 h]; a 401 is the sign. The new login is single-flight per connection across
containers, as the Shopify token refresh is (`connectors/shopify/tokens.py`): a lease in the table admits one
holder; the others poll the stored token until the holder has stored the new one. Logging in twice would do no harm
to Shopbox, but a burst of 401s on every container of every function would turn into a burst of logins.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from crossdock import single_flight
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.login import LoginRefused, authenticate
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.errors import FailureClass, PermanentError
from crossdock.ports import Leases, Secrets

LEASE_SECONDS = 30.0  # longer than a login takes (its timeout + an encrypted write)
WAIT_POLL = 0.05
WAIT_LIMIT = 20.0


@dataclass(frozen=True)
class Credential:
    """The query parameter a call carries: `accessToken` (a login token) or `api-token`."""

    parameter: str
    value: str = field(repr=False)

    @property
    def renewable(self) -> bool:
        return self.parameter == "accessToken"


class ShopboxTokens:
    """The credential of one connection's Shopbox client (one per connection and container)."""

    def __init__(
        self,
        connection_id: str,
        account: ShopboxAccount,
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
        self._known: Credential | None = None
        self._lock = threading.Lock()

    def current(self) -> Credential:
        with self._lock:
            if self._known is None:
                self._known = self._stored()
            return self._known

    def replace_rejected(self, rejected: Credential) -> Credential:
        """A credential other than `rejected`: one another container stored meanwhile, or a new login."""
        if not rejected.renewable:
            raise PermanentError(
                f"Shopbox refused the API token of client {self._account.client_uid} (401): "
                "the merchant must issue a new one",
                FailureClass.AUTH,
            )
        with self._lock:
            if self._known is not None and self._known.value != rejected.value:
                return self._known  # another thread here replaced it meanwhile
            self._known = self._renewed(rejected.value)
            return self._known

    def _stored(self) -> Credential:
        api_token = self._secrets.get(self._connection_id, SHOPBOX_API_TOKEN)
        if api_token:
            return Credential("api-token", api_token)
        token = self._secrets.fresh(self._connection_id, SHOPBOX_ACCESS_TOKEN)
        if token:
            return Credential("accessToken", token)
        if self._secrets.get(self._connection_id, SHOPBOX_PASSWORD):
            return self._renewed(None)
        raise PermanentError(f"connection {self._connection_id} has no Shopbox credentials", FailureClass.AUTH)

    def _renewed(self, seen: str | None) -> Credential:
        def renewed_elsewhere() -> Credential | None:
            stored = self._secrets.fresh(self._connection_id, SHOPBOX_ACCESS_TOKEN)
            return Credential("accessToken", stored) if stored and stored != seen else None

        return single_flight.renew_once(
            self._leases,
            self._lease_name,
            self._holder,
            renewed_elsewhere=renewed_elsewhere,
            renew=lambda: self._log_in_holding_lease(seen),
            lease_seconds=LEASE_SECONDS,
            poll_seconds=WAIT_POLL,
            wait_limit=WAIT_LIMIT,
            busy=f"the Shopbox login of client {self._account.client_uid} is being renewed elsewhere",
        )

    def _log_in_holding_lease(self, seen: str | None) -> Credential:
        # Read again under the lease: the previous holder may have stored its token after our last read.
        stored = self._secrets.fresh(self._connection_id, SHOPBOX_ACCESS_TOKEN)
        if stored and stored != seen:
            return Credential("accessToken", stored)
        password = self._secrets.get(self._connection_id, SHOPBOX_PASSWORD)
        username = self._account.username
        if not password or not username:
            raise PermanentError(
                f"connection {self._connection_id} cannot log in to Shopbox again: no e-mail or password stored",
                FailureClass.AUTH,
            )
        try:
            login = authenticate(self._account.api_base, username, password, transport=self._transport)
        except LoginRefused as refused:
            raise PermanentError(
                f"Shopbox no longer accepts the login of client {self._account.client_uid} ({refused.reason}): "
                "the merchant must give the new password",
                FailureClass.AUTH,
            ) from None
        self._secrets.put(self._connection_id, SHOPBOX_ACCESS_TOKEN, login.access_token)
        return Credential("accessToken", login.access_token)

    @property
    def _lease_name(self) -> str:
        return f"shopbox-token#{self._connection_id}"
