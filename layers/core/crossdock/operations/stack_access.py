"""What the onboarding operations build from a target: its secret store, the connections' API clients, the poll
schedules, and a connection loaded as its kind's own.

The operator's process talks to Rackbeat and Shopify itself for these operations (a key is tested, references are
looked up, webhooks registered), with the connection's secrets decrypted through the stack's KMS key, exactly as
the functions read them. Failures of those calls (`CrossdockError`) become refusals that say what failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from crossdock import registry
from crossdock.errors import CrossdockError
from crossdock.flows.poll_schedules import PollSchedules
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.peakwms_shopify.connection import KIND as PEAKWMS_KIND
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.rackbeat_shopbox.connection import KIND as SHOPBOX_KIND
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopify.connection import KIND, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_webshipper.connection import KIND as WEBSHIPPER_KIND
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections
from crossdock.store.secrets import SecretStore

# The kinds these operations can onboard; another kind's connection is refused by name.
ONBOARDED_KINDS = (KIND, SHOPBOX_KIND, WEBSHIPPER_KIND, PEAKWMS_KIND)
# A connection of one of them, as its kind's own (the settings commands take any).
OnboardedConnection = (
    RackbeatShopifyConnection | RackbeatShopboxConnection | RackbeatWebshipperConnection | PeakwmsShopifyConnection
)


def secret_store(target: OperatorTarget) -> SecretStore:
    onboarding = target.onboard()
    return SecretStore(target.table, onboarding.kms, onboarding.key_id)


def connection_clients(target: OperatorTarget, secrets: SecretStore) -> ConnectionClients:
    return ConnectionClients(secrets, target.table)


def poll_schedules(target: OperatorTarget) -> PollSchedules:
    """The connections' poll schedules, made as the install function makes them."""
    return PollSchedules(target.table, target.onboard().poll_schedules(), registry.poll_streams)


def load(target: OperatorTarget, connection_id: str) -> RackbeatShopifyConnection:
    """A `rackbeat_shopify` connection, for the commands only that kind has (install link, initial sync, pause …)."""
    found = load_onboarded(target, connection_id)
    if not isinstance(found, RackbeatShopifyConnection):
        raise Refused(f"connection {connection_id} is {found.kind}: this command is for {KIND} connections only")
    return found


def load_onboarded(target: OperatorTarget, connection_id: str) -> OnboardedConnection:
    found = connections.load_connection(target.table, connection_id)
    if found is None:
        raise NotFound(f"no connection {connection_id}")
    if not isinstance(
        found,
        RackbeatShopifyConnection | RackbeatShopboxConnection | RackbeatWebshipperConnection | PeakwmsShopifyConnection,
    ):
        raise Refused(
            f"connection {connection_id} is {found.kind}: only {', '.join(ONBOARDED_KINDS)} is onboarded here"
        )
    return found


@contextmanager
def platform_calls(doing: str) -> Iterator[None]:
    """A Rackbeat, Shopify or Scheduler call that failed, as a refusal naming what was being done."""
    try:
        yield
    except CrossdockError as failed:
        raise Refused(f"{doing} failed: {failed.reason}") from failed
