"""A connection's credential for a platform that takes either a stored API token or a login (e-mail and password)
whose token is renewed when the platform answers 401 — Shopbox's login and Webshipper's password grant.

An API token is never renewed: a 401 with it is the merchant's to fix. A login token is renewed single-flight per
connection across containers (`single_flight.renew_once`): a lease in the table admits one holder, which logs in and
stores the new token; the others poll the stored token until it is there. Logging in twice would do the platforms no
harm, but a burst of 401s on every container of every function would become a burst of logins.

Each connector says what differs — its secret names, how a credential is carried, how it logs in, and how its
refusals are worded — in a subclass; the renewal itself is written here once.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from crossdock import single_flight
from crossdock.errors import FailureClass, PermanentError
from crossdock.ports import Leases, Secrets

LEASE_SECONDS = 30.0  # longer than a login takes (its timeout + an encrypted write)
WAIT_POLL = 0.05
WAIT_LIMIT = 20.0


@dataclass(frozen=True)
class LoginSecrets:
    """The names under which a connection keeps its API token, its current login token and its password."""

    api_token: str
    access_token: str
    password: str


class LoginFailed(Exception):
    """A login the platform refused; `reason` is the platform's own words, naming neither e-mail nor password."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


C = TypeVar("C")


class LoginTokens(ABC, Generic[C]):
    """The credential of one connection's client (one per connection and container)."""

    system: str  # the platform's name in messages: "Shopbox"
    secret_names: LoginSecrets
    lease_prefix: str  # the lease's name before `#<connection>`
    # What the merchant must do when the platform no longer takes the stored login.
    reconnect_hint: str

    def __init__(
        self, connection_id: str, secrets: Secrets, leases: Leases, *, holder: str, username: str | None, owner: str
    ) -> None:
        self._connection_id = connection_id
        self._secrets = secrets
        self._leases = leases
        self._holder = holder
        self._username = username
        self._owner = owner  # whose credential, in messages: "client 4711", "account acme"
        self._known: C | None = None
        self._lock = threading.Lock()
        self.renewals = 0  # logins this object made (a test sees one for many callers)

    @abstractmethod
    def api_token(self, value: str) -> C:
        """A stored API token as the credential a call carries."""

    @abstractmethod
    def login_token(self, value: str) -> C:
        """A login token as the credential a call carries."""

    @abstractmethod
    def renewable(self, credential: C) -> bool:
        """Whether a 401 with `credential` is answered by logging in again (a login token, not an API token)."""

    @abstractmethod
    def value(self, credential: C) -> str:
        """The secret a credential carries (to tell a replaced one from the rejected one)."""

    @abstractmethod
    def log_in(self, username: str, password: str) -> str:
        """A new login token; raises `LoginFailed` when the platform refuses the login."""

    def current(self) -> C:
        with self._lock:
            if self._known is None:
                self._known = self._stored()
            return self._known

    def sent(self, send: Callable[[C], httpx.Response], what: str) -> httpx.Response:
        """`send`'s answer with the current credential; a 401 is sent once more with a replaced credential
        (`replace_rejected`), and a second 401 is `PermanentError` AUTH naming `what` (the call: "GET products")."""
        credential = self.current()
        answer = send(credential)
        if answer.status_code != 401:
            return answer
        answer = send(self.replace_rejected(credential))
        if answer.status_code == 401:
            raise PermanentError(
                f"{self.system} refused a new login token of {self._owner} on {what}", FailureClass.AUTH
            )
        return answer

    def replace_rejected(self, rejected: C) -> C:
        """A credential other than `rejected`: one another container stored meanwhile, or a new login."""
        if not self.renewable(rejected):
            raise PermanentError(
                f"{self.system} refused the API token of {self._owner} (401): the merchant must issue a new one",
                FailureClass.AUTH,
            )
        with self._lock:
            if self._known is not None and self.value(self._known) != self.value(rejected):
                return self._known  # another thread here replaced it meanwhile
            self._known = self._renewed(self.value(rejected))
            return self._known

    def _stored(self) -> C:
        names = self.secret_names
        api_token = self._secrets.get(self._connection_id, names.api_token)
        if api_token:
            return self.api_token(api_token)
        token = self._secrets.fresh(self._connection_id, names.access_token)
        if token:
            return self.login_token(token)
        if self._secrets.get(self._connection_id, names.password):
            return self._renewed(None)
        raise PermanentError(f"connection {self._connection_id} has no {self.system} credentials", FailureClass.AUTH)

    def _stored_other_than(self, seen: str | None) -> C | None:
        stored = self._secrets.fresh(self._connection_id, self.secret_names.access_token)
        return self.login_token(stored) if stored and stored != seen else None

    def _renewed(self, seen: str | None) -> C:
        return single_flight.renew_once(
            self._leases,
            f"{self.lease_prefix}#{self._connection_id}",
            self._holder,
            renewed_elsewhere=lambda: self._stored_other_than(seen),
            renew=lambda: self._log_in_holding_lease(seen),
            lease_seconds=LEASE_SECONDS,
            poll_seconds=WAIT_POLL,
            wait_limit=WAIT_LIMIT,
            busy=f"the {self.system} login of {self._owner} is being renewed elsewhere",
        )

    def _log_in_holding_lease(self, seen: str | None) -> C:
        # Read again under the lease: the previous holder may have stored its token after our last read.
        stored = self._stored_other_than(seen)
        if stored is not None:
            return stored
        password = self._secrets.get(self._connection_id, self.secret_names.password)
        if not password or not self._username:
            raise PermanentError(
                f"connection {self._connection_id} cannot log in to {self.system} again: no e-mail or password stored",
                FailureClass.AUTH,
            )
        try:
            token = self.log_in(self._username, password)
        except LoginFailed as refused:
            raise PermanentError(
                f"{self.system} no longer accepts the login of {self._owner} ({refused.reason}): {self.reconnect_hint}",
                FailureClass.AUTH,
            ) from None
        self.renewals += 1
        self._secrets.put(self._connection_id, self.secret_names.access_token, token)
        return self.login_token(token)
