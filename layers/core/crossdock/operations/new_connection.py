"""The "test, then store" of every kind's `connections create`, written once.

A new connection's input is tested against the platforms first (the kind's `prepare`, given a Rackbeat client
with the key the operator gave): a refusal is every problem at once, and nothing is stored. Only then are its
secrets encrypted with the stack's KMS key under the connection id (`store.secrets`, what every function decrypts
with) and the connection, its claims on its accounts and its secrets written in one transaction; a connection
already holding one of those accounts is named, and nothing is stored either.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.operations import stack_access
from crossdock.operations.errors import Problem, Refused, Rejected
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections

# An operator waits at a prompt; a platform's answer to a key test and a few reference lists comes quickly or not.
PLATFORM_TIMEOUT_SECONDS = 20.0


class Prepared(Protocol):
    @property
    def connection(self) -> Connection: ...

    @property
    def secrets(self) -> dict[str, str]: ...


class Refusal(Protocol):
    @property
    def problems(self) -> Sequence[Problem]: ...


_Prepared = TypeVar("_Prepared", bound=Prepared)


def new_connection_id() -> str:
    return str(uuid.uuid4())


def tested(
    rackbeat_api_base: str,
    rackbeat_api_key: str,
    doing: str,
    prepare: Callable[[RackbeatClient], _Prepared],
    refused: type[Exception],
) -> _Prepared:
    """The kind's `prepare` with a Rackbeat client of the key given; its `refused` (an exception with `problems`)
    as `Rejected`, and a platform failing as `Refused` naming `doing`. Nothing is stored either way."""
    rackbeat = RackbeatClient(
        rackbeat_api_base, rackbeat_api_key.strip() or "-", timeout_seconds=PLATFORM_TIMEOUT_SECONDS
    )
    try:
        with stack_access.platform_calls(f"{doing}; nothing was saved"):
            return prepare(rackbeat)
    except refused as refusal:
        problems: Sequence[Problem] = getattr(refusal, "problems", [])
        raise Rejected("the connection was not created, nothing was saved", problems) from None
    finally:
        rackbeat.close()


class CheckedOnly(Exception):  # not a failure: how a check-only create stops before its first write
    """A create asked to check only (`check_only`) got as far as storing: every test passed and nothing was
    written. Carries what would have been stored, for `operations.connection_check`."""

    def __init__(self, prepared: Prepared) -> None:
        super().__init__("checked only: nothing was stored")
        self.prepared = prepared


def store(
    target: OperatorTarget,
    prepared: Prepared,
    noun: str = "account",
    tenant: str | None = None,
    *,
    check_only: bool = False,
) -> None:
    """The prepared connection and its secrets (KMS-encrypted) in one write, with the tenant it belongs to (the
    admin API's merchants see only their tenant's); `Refused` naming the connection that already holds one of its
    accounts (`noun`: what an account is called, "client", "shop" …). With `check_only`, `CheckedOnly` instead of
    any write: every create stores before anything else it writes, so its "test connection" is the create itself
    stopped here."""
    if check_only:
        raise CheckedOnly(prepared)
    connection = prepared.connection
    secrets = stack_access.secret_store(target)
    sealed = [secrets.sealed(connection.id, name, value) for name, value in prepared.secrets.items()]
    try:
        connections.save_connection(target.table, connection, with_items=sealed, tenant=tenant)
    except connections.AccountTaken as taken:
        existing = connections.connection_for_account(target.table, connection.kind, taken.system, taken.identity)
        raise Refused(
            f"{taken.system} {noun} {taken.identity} already has a connection ({existing}); nothing was saved"
        ) from None
