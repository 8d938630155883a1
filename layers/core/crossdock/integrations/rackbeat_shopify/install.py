"""Installing a shop: Shopify's OAuth authorization-code grant for an offline token (SPEC §1.1, reference/shopify.md
"App install").

The operator has created the connection in state `installing` with the app's client id and secret. Shopify then
sends the shop owner's browser to `begin_install`, which checks that Shopify signed the request recently and sends
the browser on to Shopify's approval page with a one-time `state`. Shopify sends it back to `complete_install`,
which checks the signature again, consumes the state (a replayed callback finds it gone), trades the code for the
token, checks the granted scopes cover what the settings need, stores the token encrypted, registers the webhooks,
makes its poll schedules and only then marks the connection `active` (its state alone: settings saved
meanwhile stay) — a connection is never active without a working token, webhooks and the sweep that heals them.
A connection that was uninstalled installs again the same way.

Every answer is for a person's browser: a status and a sentence saying what happened, never a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify import oauth
from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET
from crossdock.connectors.shopify.tokens import save_grant
from crossdock.errors import CrossdockError, RetryableError
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.rackbeat_shopify import activation, scopes
from crossdock.integrations.rackbeat_shopify.connection import KIND, RackbeatShopifyConnection
from crossdock.ports import ConnectionSchedules
from crossdock.store import connections, events, oauth_states
from crossdock.store.secrets import SecretStore

INSTALLABLE = frozenset({ConnectionState.INSTALLING, ConnectionState.UNINSTALLED})
CALLBACK_PATH = "/shopify/callback"


@dataclass(frozen=True)
class InstallAnswer:
    status: int
    message: str
    location: str | None = None  # where a 302 sends the browser


@dataclass(frozen=True)
class InstallDeps:
    table: Any
    secrets: SecretStore
    clients: ConnectionClients
    now: Callable[[], float]
    # The connection's poll schedules; None where none are kept (a test of the OAuth steps alone).
    schedules: ConnectionSchedules | None = None


@dataclass(frozen=True)
class _App:
    """The connection being installed and the credentials of its Shopify app."""

    connection: RackbeatShopifyConnection
    client_id: str
    secrets: list[str]  # current client secret first; the previous one too while a rotation is under way


def _verified_request(
    params: Mapping[str, str], deps: InstallDeps, *, installable_only: bool
) -> tuple[_App, str, float] | InstallAnswer:
    """Both routes start alike: a known shop whose request Shopify signed just now; else the refusal."""
    found = _app_for(params, deps, installable_only=installable_only)
    if isinstance(found, InstallAnswer):
        return found
    now = deps.now()
    refused = _unsigned_or_stale(params, found, now)
    if refused is not None:
        return refused
    return found, params["shop"].lower(), now


def begin_install(params: Mapping[str, str], public_base_url: str, deps: InstallDeps) -> InstallAnswer:
    """`GET /shopify/install?shop&timestamp&hmac&host`: on to Shopify's approval page, or a refusal."""
    verified = _verified_request(params, deps, installable_only=True)
    if isinstance(verified, InstallAnswer):
        return verified
    found, shop, now = verified
    connection = found.connection
    state = oauth_states.issue(deps.table, connection.id, shop, now)
    url = oauth.authorize_url(
        connection.accounts.shopify.base_url,
        found.client_id,
        scopes.required_scopes(connection.settings),
        public_base_url.rstrip("/") + CALLBACK_PATH,
        state,
    )
    return InstallAnswer(302, f"Continue in Shopify to approve Crossdock for {shop}.", location=url)


def complete_install(params: Mapping[str, str], public_base_url: str, deps: InstallDeps) -> InstallAnswer:
    """`GET /shopify/callback?code&hmac&host&shop&state&timestamp`: the token stored and the connection active."""
    verified = _verified_request(params, deps, installable_only=False)
    if isinstance(verified, InstallAnswer):
        return verified
    found, shop, now = verified
    connection = found.connection
    if not params.get("code"):
        return InstallAnswer(400, "code: the callback carries no authorization code")
    # The state is spent before the code is: a replayed callback stops here and never reaches Shopify.
    if oauth_states.consume(deps.table, params.get("state", ""), shop, now) != connection.id:
        return InstallAnswer(401, "state is unknown, expired or already used: start the install again from Shopify")
    # A second install started while the first was waiting (two states for one shop) must not trade a second code
    # on a connection that is installed by now: its state is spent (it can never complete), nothing else changes.
    if connection.state not in INSTALLABLE:
        return InstallAnswer(
            409, f"the connection for {shop} is {connection.state.value}: Crossdock is already installed for it"
        )
    client = oauth.ShopifyOAuth(connection.accounts.shopify.base_url, shop, found.client_id, found.secrets[0])
    try:
        grant = client.exchange_code(params["code"], now)
    except oauth.GrantRefused as refused_code:
        return InstallAnswer(
            400,
            f"Shopify did not accept the authorization code ({refused_code.error}): it was already used or has "
            "expired. Start the install again from Shopify.",
        )
    except RetryableError as unreachable:
        return InstallAnswer(502, f"Shopify could not be reached to finish the install ({unreachable.reason}).")
    finally:
        client.close()
    missing = oauth.missing_scopes(scopes.required_scopes(connection.settings), grant.scope)
    if missing:
        return InstallAnswer(
            403,
            f"Shopify granted too few permissions: missing {', '.join(missing)}. Approve every permission Crossdock "
            "asks for to install it.",
        )
    save_grant(deps.secrets, connection.id, grant)
    try:
        activation.register_webhooks(
            connection,
            deps.clients.rackbeat(connection, paced=False),
            deps.clients.shopify(connection),
            deps.secrets,
            public_base_url,
            deps.table,
        )
        if deps.schedules is not None:
            deps.schedules.follow(connection, activating=True)
    except CrossdockError as failed:
        # The connection stays installable; opening the app in Shopify again repeats the install.
        return InstallAnswer(
            502, f"Crossdock could not register its webhooks or schedule ({failed.reason}). Install again."
        )
    connections.set_state(deps.table, connection.id, ConnectionState.ACTIVE, events.received_stamp(now))
    return InstallAnswer(200, f"Crossdock is installed for {shop}.")


def _app_for(params: Mapping[str, str], deps: InstallDeps, *, installable_only: bool) -> _App | InstallAnswer:
    shop = params.get("shop") or ""
    # Before anything else: nothing may be looked up or called for a host that is not a Shopify shop.
    if not oauth.is_shop_domain(shop):
        return InstallAnswer(400, "shop: must be the shop's *.myshopify.com domain")
    connection_id = connections.connection_for_account(deps.table, KIND, "shopify", shop)
    loaded = connections.load_connection(deps.table, connection_id) if connection_id else None
    if loaded is None:
        return InstallAnswer(404, f"no connection is waiting for {shop.lower()} to install Crossdock")
    connection = RackbeatShopifyConnection.of(loaded)
    if installable_only and connection.state not in INSTALLABLE:
        return InstallAnswer(409, f"the connection for {shop.lower()} is {connection.state.value}, not installing")
    names = (SHOPIFY_APP_SECRET, SHOPIFY_PREVIOUS_APP_SECRET)
    secrets = [s for s in (deps.secrets.get(connection.id, name) for name in names) if s]
    if not connection.accounts.shopify.client_id or not secrets:
        return InstallAnswer(409, f"the connection for {shop.lower()} has no Shopify app client id and secret")
    return _App(connection, connection.accounts.shopify.client_id, secrets)


def _unsigned_or_stale(params: Mapping[str, str], app: _App, now: float) -> InstallAnswer | None:
    if not oauth.query_is_signed(params, app.secrets):
        return InstallAnswer(401, "hmac: the request is not signed by Shopify for this app")
    if not oauth.timestamp_is_fresh(params.get("timestamp"), now):
        return InstallAnswer(401, "timestamp: the request is too old (or from the future); start again from Shopify")
    return None
