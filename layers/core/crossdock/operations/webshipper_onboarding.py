"""Creating a `rackbeat_webshipper` connection (issue 15, item 1): tested against Rackbeat and Webshipper, stored,
and activated at once when its settings' references all exist (`integrations.rackbeat_webshipper.activation`:
its webhooks in both systems, then the state).

Nothing is stored until everything has been tested (`operations.new_connection`): the settings, the Rackbeat key,
the Webshipper account and login (a wrong password: one clear problem, nothing saved). The account's order
channels and shipping rates come back with the new connection, and with a refusal for want of `order_channel`, so
the operator sees what the settings choose from. The channels and rates of an existing connection are read again
by `choices`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connections.settings_rules import SettingProblem
from crossdock.connectors.rackbeat.account import RACKBEAT_API
from crossdock.connectors.webshipper.account import WEBSHIPPER_API
from crossdock.integrations.rackbeat_webshipper import activation, install, onboarding
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.install import ConnectorSignIn, WebshipperCredentials
from crossdock.operations import new_connection, stack_access
from crossdock.operations.errors import NotFound, Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections


@dataclass(frozen=True)
class CreatedWebshipperConnection:
    connection_id: str
    kind: str
    state: str  # active, or installing while the settings name what an account lacks
    rackbeat_account_id: int | None
    webshipper_account: str
    webshipper_username: str | None  # None: an API token
    settings_version: int
    secret_names: list[str]  # stored encrypted; their values are never shown
    # The account's order channels and shipping rates (`id name`), what `order_channel` and `delivery_term_rates`
    # choose from.
    order_channels: list[str] = field(default_factory=list)
    shipping_rates: list[str] = field(default_factory=list)
    # What the settings name that an account lacks: fix it there or in the settings (settings set activates).
    missing_references: list[str] = field(default_factory=list)
    # At activation: the webhooks registered in each system.
    webshipper_webhooks: list[str] = field(default_factory=list)
    rackbeat_webhooks: list[str] = field(default_factory=list)
    # At activation: each poll stream's schedule (`webshipper#orders`).
    schedules: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebshipperChoices:
    connection_id: str
    order_channels: list[str]
    shipping_rates: list[str]  # `id name (channel c)`
    lines: list[str]  # channels with the rates each may use, for a person


def create_webshipper_connection(
    target: OperatorTarget,
    *,
    rackbeat_api_key: str,
    webshipper: WebshipperCredentials,
    settings: dict[str, Any] | None = None,
    tenant: str | None = None,
    check_only: bool = False,
) -> CreatedWebshipperConnection:
    """Stores a new `rackbeat_webshipper` connection and activates it when its settings' references all exist.
    Refuses (`Rejected`, every problem listed, with the account's channels and rates when Webshipper accepted the
    credentials) and stores nothing when the input is wrong or either platform refuses it."""
    stack = target.onboard()
    new = onboarding.NewWebshipperConnection(
        rackbeat_api_key=rackbeat_api_key,
        webshipper=webshipper,
        settings=settings or {},
        rackbeat_api_base=stack.api_bases.get("rackbeat", RACKBEAT_API),
        webshipper_api_base=stack.api_bases.get("webshipper", WEBSHIPPER_API),
    )
    connection_id = new_connection.new_connection_id()
    sign_in = ConnectorSignIn(timeout_seconds=new_connection.PLATFORM_TIMEOUT_SECONDS)
    try:
        prepared = new_connection.tested(
            new.rackbeat_api_base,
            new.rackbeat_api_key,
            "testing the Rackbeat key and the Webshipper login",
            lambda rackbeat: _prepared(connection_id, new, rackbeat, sign_in),
            _NotPrepared,
        )
    finally:
        sign_in.close()
    new_connection.store(target, prepared, tenant=tenant, check_only=check_only)
    connection = prepared.connection
    state = connection.state
    applied = activation.Applied()
    if prepared.ready:
        secrets = stack_access.secret_store(target)
        with stack_access.platform_calls(
            f"connection {connection.id} is saved (installing), but making its poll schedule and webhooks "
            "(run `settings set` without changes to activate it)"
        ):
            applied = activation.activate(
                target.table,
                connection,
                stack_access.connection_clients(target, secrets),
                secrets,
                stack.webhook_base_url,
                stack_access.poll_schedules(target),
            )
        state = ConnectionState.ACTIVE
    account = connection.accounts.webshipper
    return CreatedWebshipperConnection(
        connection_id=connection.id,
        kind=connection.kind,
        state=state.value,
        rackbeat_account_id=connection.accounts.rackbeat.account_id,
        webshipper_account=account.account,
        webshipper_username=account.username,
        settings_version=connection.settings_version,
        secret_names=sorted(prepared.secrets),
        order_channels=[str(channel) for channel in prepared.channels],
        shipping_rates=[str(rate) for rate in prepared.rates],
        missing_references=[str(problem) for problem in prepared.missing_references],
        webshipper_webhooks=applied.webshipper_topics,
        rackbeat_webhooks=applied.rackbeat_events,
        schedules=applied.schedules,
    )


class _NotPrepared(Exception):
    """`onboarding.ConnectionRefused` with the choices folded into its problems, for the operator's refusal."""

    def __init__(self, refused: onboarding.ConnectionRefused) -> None:
        super().__init__(str(refused))
        self.problems = list(refused.problems)
        choices = install.channel_choices(refused.channels, refused.rates)
        if choices:
            # Not a problem of a field but what fixes the likeliest one (no order_channel chosen yet).
            self.problems.append(SettingProblem("choices", "the account offers:\n    " + "\n    ".join(choices)))


def _prepared(
    connection_id: str, new: onboarding.NewWebshipperConnection, rackbeat: Any, sign_in: ConnectorSignIn
) -> onboarding.PreparedConnection:
    try:
        return onboarding.prepare(connection_id, new, rackbeat, sign_in)
    except onboarding.ConnectionRefused as refused:
        raise _NotPrepared(refused) from None


def webshipper_choices(target: OperatorTarget, connection_id: str) -> WebshipperChoices:
    """The connection's Webshipper order channels and shipping rates, read now."""
    found = connections.load_connection(target.table, connection_id)
    if found is None:
        raise NotFound(f"no connection {connection_id}")
    if not isinstance(found, RackbeatWebshipperConnection):
        raise Refused(f"connection {connection_id} is {found.kind}: choices are a rackbeat_webshipper connection's")
    secrets = stack_access.secret_store(target)
    client = stack_access.connection_clients(target, secrets).webshipper(found)
    with stack_access.platform_calls("reading the Webshipper order channels and shipping rates"):
        catalog = install.ConnectorCatalog(client)
        channels, rates = install.channels_of(catalog), install.rates_of(catalog)
    return WebshipperChoices(
        found.id,
        [str(channel) for channel in channels],
        [str(rate) for rate in rates],
        install.channel_choices(channels, rates),
    )
