"""A connection: one configured integration between accounts of two systems (SPEC, top), of one `kind`.

The core knows connections only in this generic shape: a kind, a state, one account per system the kind joins,
and settings. Each integration (`crossdock.integrations.<kind>`) narrows it to its own subclass: which accounts it
has and which settings model applies; `crossdock.registry` picks the subclass from `kind` when a connection is
loaded (a pydantic union discriminated on `kind`), and `<Kind>Connection.of(connection)` narrows a connection
loaded generically to that subclass. Secrets are kept apart (see `store.secrets`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict

from crossdock.errors import FailureClass, PermanentError


class ConnectionState(StrEnum):
    INSTALLING = "installing"
    ACTIVE = "active"
    PAUSED = "paused"
    UNINSTALLED = "uninstalled"


class Account(BaseModel):
    """The connection's account in one system. Each connector defines its own (a shop domain, an account id …)."""

    model_config = ConfigDict(frozen=True)

    @property
    def identity(self) -> str | None:
        """What names the account in its system, for the connection's identity claim (None: not known yet, so the
        account claims nothing)."""
        raise NotImplementedError


class Accounts(BaseModel):
    """One `Account` field per system the kind joins, named after the system (`shopify`, `rackbeat`, …)."""

    model_config = ConfigDict(frozen=True)

    # The systems whose account identifies the connection within its kind, so at most one connection of the kind
    # may hold it (a shop); the other accounts may be shared (several shops on one Rackbeat account).
    claimed: ClassVar[frozenset[str]] = frozenset()

    def by_system(self) -> dict[str, Account]:
        return {name: value for name, value in self if isinstance(value, Account)}


class Settings(BaseModel):
    """Base of every kind's settings model (the integration's own, with its tabs and rules)."""


class Connection(BaseModel):
    """What every flow needs to know about a connection, whatever its kind."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    state: ConnectionState = ConnectionState.ACTIVE
    accounts: Accounts
    settings: Settings
    settings_version: int = 1
    # When the current version was saved (event-log stamp); an event received before it is handled with the
    # version that was in force when it arrived.
    settings_saved_at: str | None = None

    @classmethod
    def of(cls, connection: Connection) -> Self:
        """`connection`, loaded generically, as this kind's own (`PeakwmsShopifyConnection.of(connection)`); refused,
        as a bug, when it is of another kind: the registry parses every stored connection as its kind's subclass, so
        only code that mixed two kinds up can hand over another."""
        if not isinstance(connection, cls):
            kind = cls.model_fields["kind"].default  # each kind's subclass fixes `kind` as its Literal's default
            raise PermanentError(f"connection {connection.id} is {connection.kind}, not {kind}", FailureClass.BUG)
        return connection

    def claims(self) -> dict[str, str]:
        """(system → account identity) of the accounts this connection claims: one connection of its kind each."""
        return {
            system: account.identity
            for system, account in self.accounts.by_system().items()
            if system in self.accounts.claimed and account.identity is not None
        }

    def shared_accounts(self) -> dict[str, str]:
        """(system → account identity) of the accounts it shares with other connections of its kind (the Rackbeat
        account of several shops): what `store.connection_lookup.connections_on_account` finds it by."""
        return {
            system: account.identity
            for system, account in self.accounts.by_system().items()
            if system not in self.accounts.claimed and account.identity is not None
        }
