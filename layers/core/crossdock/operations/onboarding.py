"""Creating a connection (issue 13): checked against Rackbeat, stored `installing` with its secrets encrypted, and
the Shopify install link the shop owner opens; or, for a Shopbox POS (issue 14), checked against Rackbeat and
Shopbox, stored, and activated at once (`create_shopbox_connection`: it has no install to wait for).

Nothing is stored until everything has been checked: the shop domain, the app's credentials, the settings, and
the API key, with Rackbeat itself (the settings' Rackbeat references are looked up too, and what the account lacks
is reported with the new connection: see `integrations.rackbeat_shopify.onboarding`). The secrets are encrypted
with the stack's KMS key under the connection id as encryption context (`store.secrets`, what every function
decrypts with) before anything is written; then the connection, its claim on the shop and its secrets go into the
table in one transaction (`operations.new_connection`, every kind's). A refusal, or a failure anywhere before that
write, leaves the table as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RACKBEAT_API
from crossdock.connectors.shopbox.account import SHOPBOX_API
from crossdock.integrations.rackbeat_shopbox import activation as shopbox_activation
from crossdock.integrations.rackbeat_shopbox import install as shopbox_install
from crossdock.integrations.rackbeat_shopbox import onboarding as shopbox_onboarding
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_shopify import onboarding
from crossdock.integrations.rackbeat_shopify.connection import KIND
from crossdock.operations import new_connection, stack_access
from crossdock.operations import shopbox_activation as shopbox_follow_up
from crossdock.operations.errors import Refused
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections


@dataclass(frozen=True)
class CreatedConnection:
    connection_id: str
    kind: str
    shop_domain: str
    state: str
    rackbeat_account_id: int | None
    settings_version: int
    install_link: str  # for the shop owner
    app_url: str  # the app's configuration in Shopify's Partner dashboard: App URL …
    redirect_url: str  # … and an allowed redirection URL
    secret_names: list[str]  # stored encrypted; their values are never shown
    # Rackbeat objects the settings name that the account does not have yet: fix them before the install.
    missing_references: list[str] = field(default_factory=list)


def create_connection(
    target: OperatorTarget,
    kind: str,
    *,
    shop_domain: str,
    rackbeat_api_key: str,
    shopify_client_id: str,
    shopify_client_secret: str,
    settings: dict[str, Any] | None = None,
    tenant: str | None = None,
    check_only: bool = False,
) -> CreatedConnection:
    """Stores a new connection `installing`; refuses (`Rejected`, every problem listed) and stores nothing when the
    input is wrong or Rackbeat refuses the key. Settings naming what the Rackbeat account lacks are stored, and
    reported in `missing_references`."""
    if kind not in stack_access.ONBOARDED_KINDS:
        raise Refused(f"kind {kind!r}: connections of kind {', '.join(stack_access.ONBOARDED_KINDS)} can be created")
    if kind != KIND:
        # Each kind asks for its own accounts; a Shopbox POS is created with its login (`create_shopbox_connection`).
        raise Refused(f"kind {kind!r}: a shop's domain and Shopify app are for {KIND} connections")
    stack = target.onboard()
    new = onboarding.NewConnection(
        shop_domain=shop_domain,
        shopify_client_id=shopify_client_id,
        shopify_client_secret=shopify_client_secret,
        rackbeat_api_key=rackbeat_api_key,
        settings=settings or {},
        shopify_api_base=stack.api_bases.get("shopify"),
        rackbeat_api_base=stack.api_bases.get("rackbeat", RACKBEAT_API),
    )
    connection_id = new_connection.new_connection_id()
    prepared = new_connection.tested(
        new.rackbeat_api_base,
        new.rackbeat_api_key,
        "asking Rackbeat about the API key",
        lambda rackbeat: onboarding.prepare(connection_id, new, rackbeat),
        onboarding.ConnectionRefused,
    )
    new_connection.store(target, prepared, tenant=tenant, check_only=check_only)
    connection = prepared.connection
    links = onboarding.install_links(connection, stack.webhook_base_url)
    return CreatedConnection(
        connection_id=connection.id,
        kind=connection.kind,
        shop_domain=connection.shop_domain,
        state=connection.state.value,
        rackbeat_account_id=connection.accounts.rackbeat.account_id,
        settings_version=connection.settings_version,
        install_link=links.install_link,
        app_url=links.app_url,
        redirect_url=links.redirect_url,
        secret_names=sorted(prepared.secrets),
        missing_references=[str(problem) for problem in prepared.missing_references],
    )


@dataclass(frozen=True)
class CreatedShopboxConnection:
    connection_id: str
    kind: str
    state: str  # active, or installing while the settings name what an account lacks
    rackbeat_account_id: int | None
    shopbox_client_uid: str
    shopbox_client_name: str | None
    shopbox_username: str | None  # None: an API token
    shopbox_branches: int  # read with the chosen client, the connection's last test
    settings_version: int
    secret_names: list[str]  # stored encrypted; their values are never shown
    schedules: dict[str, str] = field(default_factory=dict)  # poll stream → created (when activated)
    # What the settings name that an account lacks: fix it there or in the settings (settings set activates).
    missing_references: list[str] = field(default_factory=list)
    # At activation: the Rackbeat webhooks registered, the initial sync started (`operations.shopbox_activation`).
    rackbeat_webhooks: str | None = None
    initial_sync: str | None = None


def create_shopbox_connection(
    target: OperatorTarget,
    *,
    rackbeat_api_key: str,
    shopbox: ShopboxCredentials,
    settings: dict[str, Any] | None = None,
    tenant: str | None = None,
    check_only: bool = False,
) -> CreatedShopboxConnection:
    """Stores a new `rackbeat_shopbox` connection and activates it when its settings' references all exist.
    Refuses (`Rejected`, every problem listed: a wrong password, a Shopbox client to choose with the choices, the
    settings' rules) and stores nothing when the input is wrong or either platform refuses it."""
    stack = target.onboard()
    new = shopbox_onboarding.NewShopboxConnection(
        rackbeat_api_key=rackbeat_api_key,
        shopbox=shopbox,
        settings=settings or {},
        rackbeat_api_base=stack.api_bases.get("rackbeat", RACKBEAT_API),
        shopbox_api_base=stack.api_bases.get("shopbox", SHOPBOX_API),
    )
    connection_id = new_connection.new_connection_id()
    sign_in = shopbox_install.ConnectorSignIn(
        new.shopbox_api_base, timeout_seconds=new_connection.PLATFORM_TIMEOUT_SECONDS
    )
    try:
        prepared = new_connection.tested(
            new.rackbeat_api_base,
            new.rackbeat_api_key,
            "testing the Rackbeat key and the Shopbox login",
            lambda rackbeat: shopbox_onboarding.prepare(connection_id, new, rackbeat, sign_in),
            shopbox_onboarding.ConnectionRefused,
        )
    finally:
        sign_in.close()
    new_connection.store(target, prepared, noun="client", tenant=tenant, check_only=check_only)
    connection = prepared.connection
    state, schedules = connection.state, {}
    webhooks: str | None = None
    initial_sync: str | None = None
    if prepared.ready:
        with stack_access.platform_calls(
            f"connection {connection.id} is saved (installing), but making its poll schedules "
            "(run `settings set` without changes to activate it)"
        ):
            applied = shopbox_activation.activate(target.table, connection, stack_access.poll_schedules(target))
        applied = shopbox_follow_up.follow_up(target, connection, applied)
        state, schedules = ConnectionState.ACTIVE, applied.schedules
        webhooks, initial_sync = applied.webhooks, applied.initial_sync
    shopbox_account = connection.accounts.shopbox
    return CreatedShopboxConnection(
        connection_id=connection.id,
        kind=connection.kind,
        state=state.value,
        rackbeat_account_id=connection.accounts.rackbeat.account_id,
        shopbox_client_uid=shopbox_account.client_uid,
        shopbox_client_name=shopbox_account.client_name,
        shopbox_username=shopbox_account.username,
        shopbox_branches=prepared.branch_count,
        settings_version=connection.settings_version,
        secret_names=sorted(prepared.secrets),
        schedules=schedules,
        missing_references=[str(problem) for problem in prepared.missing_references],
        rackbeat_webhooks=webhooks,
        initial_sync=initial_sync,
    )


def install_link(target: OperatorTarget, connection_id: str) -> CreatedConnection:
    """The install link of a connection created before (it is the same whenever it is asked for). Only a Shopify
    app is installed by a link: a connection of another kind is refused saying how it becomes active."""
    found = connections.load_connection(target.table, connection_id)
    if found is not None and found.kind != KIND:
        raise Refused(
            f"connection {connection_id} is {found.kind}: an install link is a Shopify app's, and this kind has none "
            f"(it is active once its settings' references exist: `crossdock settings set {connection_id} …`)"
        )
    connection = stack_access.load(target, connection_id)
    links = onboarding.install_links(connection, target.onboard().webhook_base_url)
    return CreatedConnection(
        connection_id=connection.id,
        kind=connection.kind,
        shop_domain=connection.shop_domain,
        state=connection.state.value,
        rackbeat_account_id=connection.accounts.rackbeat.account_id,
        settings_version=connection.settings_version,
        install_link=links.install_link,
        app_url=links.app_url,
        redirect_url=links.redirect_url,
        secret_names=connections.stored_secret_names(target.table, connection_id),
    )
