"""Shopify's side of an app's life in a shop: install (OAuth authorization-code grant), expiring offline tokens,
uninstall and the mandatory privacy webhooks.

Follows the fact sheet `../shared/reference/shopify.md`:

- "App install" step 1: the install request carries `shop`, `timestamp`, `host` and a **hex** HMAC-SHA256 with the
  client secret over the other params sorted by key and joined `k=v` with `&`. The callback after approval is
  signed the same way and echoes `state`.
- "App install" step 4: `POST /admin/oauth/access_token {client_id, client_secret, code}` → `{access_token, scope}`.
- "App install" step 5: expiring offline tokens add `expires_in` (3600) and `refresh_token`; refreshing with
  `grant_type=refresh_token` rotates the refresh token. Shopify's changelog "More resilient refreshes for expiring
  offline access tokens" (Aug 2026): the refresh token just used stays valid until the app begins using its
  replacement (an access token issued with it, or the replacement refresh token itself), at most 30 days from its
  first use and never beyond its 90-day lifetime; then it is retired. So a client whose refresh answer was lost can
  retry with the refresh token it still holds.
- "Webhooks": `app/uninstalled` and the privacy topics `customers/data_request`, `customers/redact`, `shop/redact`
  go through the simulator's signed outbox like every other webhook. Privacy webhooks have no subscription: they go
  to the app's compliance URI from its configuration.

Every issued access token is registered in the simulator's token → shop map, so it works on the Admin API at once;
`admit()` is consulted on every Admin API request and refuses revoked and expired tokens (HTTP 401, as Shopify).
Tokens the simulator got from `add_shop` are not known here and never expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from crossdock_local.sims.base import ResponseDropped, SimRequest, SimResponse, json_response
from crossdock_local.sims.shopify import (
    PendingDelivery,
    Shop,
    _compact_json,
    _normalise_topic,
    _uuid,
    _valid_callback,
)

if TYPE_CHECKING:
    from crossdock_local.sims.shopify import ShopifySimulator

AUTHORIZATION_CODE_TTL = 600.0  # Guess: Shopify documents no lifetime for the one-time code; ten minutes is common.
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600.0  # changelog: "its normal 90-day lifetime"
REFRESH_RETRY_WINDOW = 30 * 24 * 3600.0  # changelog: "limited to 30 days from the original refresh token's first use"
ONLINE_TOKEN_LIFETIME = 24 * 3600.0  # Guess: online (per-user) tokens last a day, like a staff session.
SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")  # fact sheet, "App install" step 2
AUTHORIZE_PATH = "/admin/oauth/authorize"
GRANT_CODE = "authorization_code"
GRANT_REFRESH = "refresh_token"


# --------------------------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class App:
    """The app as configured in the Partner dashboard."""

    client_id: str
    client_secret: str
    scopes: str  # granted by default when the authorize URL asks for none
    expiring_tokens: bool
    token_lifetime: float
    compliance_uri: str | None
    redirect_uris: list[str] | None  # None: any callback URL is allowed


@dataclass
class AuthorizationCode:
    code: str
    domain: str
    client_id: str
    scope: str
    expires_at: float
    online: bool  # `grant_options[]=per-user` asked for an online token
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    domain: str
    client_id: str
    scope: str
    expires_at: float
    predecessor: str | None = None  # the refresh token this one replaces, retired once this one is in use
    first_used_at: float | None = None
    replacements: list[str] = field(default_factory=list)  # refresh tokens issued by using this one
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    domain: str
    client_id: str
    expires_at: float | None  # None: a non-expiring offline token
    refresh_token: str | None  # issued together with this one; using this token puts that one in use
    revoked: bool = False


class TokenError(Exception):
    """A refused token request: OAuth's `{"error", "error_description"}` with HTTP 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def response(self) -> SimResponse:
        # Guess: Shopify answers every refusal with 400 and these OAuth error codes; the exact codes are undocumented.
        return json_response(400, {"error": self.error, "error_description": self.description})


# --------------------------------------------------------------------------------------------------------------------
# Signatures and small helpers
# --------------------------------------------------------------------------------------------------------------------


def query_hmac(secret: str, params: Mapping[str, str]) -> str:
    """The hex HMAC-SHA256 of an install request or callback: `hmac`/`signature` dropped, the rest sorted, `k=v&…`."""
    message = "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def host_param(domain: str) -> str:
    """`host`: base64 of the shop's admin URL without scheme (Guess: standard alphabet, padding kept)."""
    store = domain.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode()


def shop_id(domain: str) -> int:
    # Guess: a stable 11-digit id derived from the domain, so payloads agree without storing one more field.
    return 50_000_000_000 + zlib.crc32(domain.encode())


def _scopes(text: str) -> str:
    """Comma-separated scopes, trimmed and de-duplicated in their order."""
    seen: list[str] = []
    for scope in text.split(","):
        scope = scope.strip()
        if scope and scope not in seen:
            seen.append(scope)
    return ",".join(seen)


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _token_params(request: SimRequest) -> dict[str, str]:
    """The token request's parameters: query string, then a JSON or form-encoded body (the body wins)."""
    params = {key: values[0] for key, values in request.query.items() if values}
    if not request.body:
        return params
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        form = parse_qs(request.body.decode(), keep_blank_values=True)
        return {**params, **{key: values[0] for key, values in form.items() if values}}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise TokenError("invalid_request", "The request body is neither JSON nor form-encoded.") from None
    if not isinstance(body, dict):
        raise TokenError("invalid_request", "The request body must be an object.")
    return {**params, **{key: str(value) for key, value in body.items() if value is not None}}


# --------------------------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------------------------


class AppInstalls:
    """Apps, their authorization codes and tokens; shares the simulator's lock, clock, ids and outbox."""

    def __init__(self, sim: ShopifySimulator, seed: int | None) -> None:
        self.sim = sim
        self.apps: dict[str, App] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        # Own stream, so tokens are reproducible with a seed and installing changes no other ids.
        self._rng = random.Random(None if seed is None else f"app:{seed}")
        self._compliance_deliveries = 0

    # ---- the Partner dashboard -------------------------------------------------------------------------------------

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        *,
        scopes: str = "",
        expiring_tokens: bool = True,
        token_lifetime: float = 3600.0,
        compliance_uri: str | None = None,
        redirect_uris: list[str] | None = None,
    ) -> None:
        """Configure (or reconfigure) an app; tokens already issued keep their terms."""
        if compliance_uri is not None and not _valid_callback(compliance_uri):
            raise ValueError(f"compliance URI must be https: {compliance_uri!r}")
        with self.sim._lock:
            self.apps[client_id] = App(
                client_id,
                client_secret,
                _scopes(scopes),
                expiring_tokens,
                token_lifetime,
                compliance_uri,
                list(redirect_uris) if redirect_uris is not None else None,
            )

    def _app(self, client_id: str | None) -> App:
        app = self.apps.get(client_id or "")
        if app is None:
            # Guess: the wording of Shopify's error page for an unknown API key.
            raise ValueError(
                f"Oauth error invalid_request: Could not find Shopify API application with api_key {client_id}"
            )
        return app

    # ---- the merchant: install and approve -------------------------------------------------------------------------

    def install_request(self, domain: str, client_id: str) -> dict[str, str]:
        """The query Shopify appends to the app URL when a merchant clicks install (fact sheet, step 1)."""
        with self.sim._lock:
            app = self._app(client_id)
            self._shop_for_install(domain, app)
            params = {"host": host_param(domain), "shop": domain, "timestamp": str(self._timestamp())}
            return {"hmac": query_hmac(app.client_secret, params), **params}

    def approve(self, domain: str, authorize_url: str, *, grant_scopes: str | None = None) -> str:
        """The merchant approves on the authorize page; returns the callback URL the browser is sent to."""
        with self.sim._lock:
            parts = urlsplit(authorize_url)
            if not parts.path.rstrip("/").endswith(AUTHORIZE_PATH):
                raise ValueError(f"not a Shopify authorize URL (path must end with {AUTHORIZE_PATH}): {authorize_url}")
            if parts.hostname and parts.hostname.endswith(".myshopify.com") and parts.hostname != domain:
                raise ValueError(f"the authorize URL is for {parts.hostname}, not {domain}")
            query = parse_qs(parts.query, keep_blank_values=True)
            app = self._app(_first(query, "client_id"))
            redirect_uri = self._allowed_redirect(app, _first(query, "redirect_uri"))
            self._shop_for_install(domain, app)
            code = self._new_code(domain, app, query, grant_scopes)
            params = {"code": code, "host": host_param(domain), "shop": domain, "timestamp": str(self._timestamp())}
            state = _first(query, "state")
            if state is not None:
                params["state"] = state
            params["hmac"] = query_hmac(app.client_secret, params)
            separator = "&" if "?" in redirect_uri else "?"
            return f"{redirect_uri}{separator}{urlencode(sorted(params.items()))}"

    def _allowed_redirect(self, app: App, redirect_uri: str | None) -> str:
        if not redirect_uri:
            # Guess: Shopify would fall back to the app URL; the simulator insists on an explicit callback.
            raise ValueError("Oauth error invalid_request: The redirect_uri is missing")
        if app.redirect_uris is not None:
            # Guess: compared without the query string, which apps use to carry their own parameters.
            allowed = {_without_query(uri) for uri in app.redirect_uris}
            if _without_query(redirect_uri) not in allowed:
                raise ValueError("Oauth error invalid_request: The redirect_uri is not whitelisted")
        return redirect_uri

    def _new_code(self, domain: str, app: App, query: dict[str, list[str]], grant_scopes: str | None) -> str:
        # What the merchant grants: what they chose, else what the URL asked for, else the app's configured scopes.
        asked = _first(query, "scope")
        scope = _scopes(grant_scopes if grant_scopes is not None else asked if asked is not None else app.scopes)
        online = "per-user" in query.get("grant_options[]", [])
        code = self._random_hex(16)
        expires_at = self.sim.clock() + AUTHORIZATION_CODE_TTL
        self.codes[code] = AuthorizationCode(code, domain, app.client_id, scope, expires_at, online)
        return code

    def _shop_for_install(self, domain: str, app: App) -> Shop:
        """The shop being installed into; a domain the simulator does not know yet becomes a new shop."""
        shop = self.sim.shops.get(domain)
        if shop is not None:
            return shop
        if not SHOP_DOMAIN.match(domain):
            raise ValueError(f"not a myshopify.com shop domain: {domain!r}")
        # Guess (simulator convenience): a merchant installing from a store the simulator has not seen gets one, with
        # no access token until the OAuth grant issues it.
        shop = Shop(domain, app.client_secret, "")
        shop.catalog = self.sim.catalog.open_shop(shop)
        self.sim.shops[domain] = shop
        return shop

    def _timestamp(self) -> int:
        return int(self.sim.now().timestamp())

    def _random_hex(self, size: int) -> str:
        return self._rng.getrandbits(size * 8).to_bytes(size, "big").hex()

    # ---- the app: POST /admin/oauth/access_token -------------------------------------------------------------------

    def token_endpoint(self, request: SimRequest) -> SimResponse:
        fault = self.sim._server_fault()
        if fault is not None:
            return fault
        try:
            params = _token_params(request)
            kind, payload = self._grant(params)
        except TokenError as refused:
            return refused.response()
        self.sim.token_requests[kind] += 1
        response = json_response(200, payload)
        if self._lose_answer():
            raise ResponseDropped("shopify token grant committed, response dropped")
        return response

    def _lose_answer(self) -> bool:
        if self.sim.drop_token_responses > 0:  # the deterministic switch goes first, so tests need no seed
            self.sim.drop_token_responses -= 1
            return True
        return self.sim.faults.roll(self.sim.faults.drop_response_rate)

    def _grant(self, params: dict[str, str]) -> tuple[str, dict[str, Any]]:
        app = self._client(params)
        grant_type = params.get("grant_type") or GRANT_CODE  # Shopify's code exchange sends no grant_type
        if grant_type == GRANT_CODE:
            return GRANT_CODE, self._redeem_code(app, params.get("code"))
        if grant_type == GRANT_REFRESH:
            return GRANT_REFRESH, self._refresh(app, params.get("refresh_token"))
        raise TokenError("unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")  # Guess

    def _client(self, params: dict[str, str]) -> App:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if not client_id or not secret:
            raise TokenError("invalid_request", "client_id and client_secret are required.")
        app = self.apps.get(client_id)
        if app is None or not hmac.compare_digest(app.client_secret.encode(), secret.encode()):
            raise TokenError("invalid_client", "Client authentication failed: unknown client or wrong secret.")
        return app

    def _redeem_code(self, app: App, code: str | None) -> dict[str, Any]:
        if not code:
            raise TokenError("invalid_request", "code is required.")
        record = self.codes.get(code)
        if record is None or record.client_id != app.client_id or record.used or self.sim.clock() >= record.expires_at:
            raise TokenError("invalid_grant", "The authorization code was not found, was already used or expired.")
        record.used = True
        shop = self.sim.shop(record.domain)
        self._install(shop, app)
        return self._issue(shop, app, record.scope, online=record.online)

    def _install(self, shop: Shop, app: App) -> None:
        shop.app_client_id = app.client_id
        shop.app_secret = app.client_secret  # webhooks of an installed app are signed with its client secret
        shop.uninstalled_at = None

    def _refresh(self, app: App, token: str | None) -> dict[str, Any]:
        if not token:
            raise TokenError("invalid_request", "refresh_token is required.")
        record = self.refresh_tokens.get(token)
        if record is None or record.client_id != app.client_id or not self._refreshable(record):
            raise TokenError("invalid_grant", "The refresh token is invalid, expired or revoked.")
        self._start_using(record)  # refreshing with a replacement retires the token it replaced
        if record.first_used_at is None:
            record.first_used_at = self.sim.clock()
        payload = self._issue(self.sim.shop(record.domain), app, record.scope, predecessor=record.token)
        if "refresh_token" in payload:
            record.replacements.append(payload["refresh_token"])
        return payload

    def _refreshable(self, record: RefreshToken) -> bool:
        now = self.sim.clock()
        if record.revoked or now >= record.expires_at:
            return False
        return record.first_used_at is None or now < record.first_used_at + REFRESH_RETRY_WINDOW

    def _start_using(self, refresh: RefreshToken) -> None:
        """The app uses `refresh` (or an access token issued with it): the refresh token it replaced is retired."""
        if refresh.predecessor is None:
            return
        retired = self.refresh_tokens.get(refresh.predecessor)
        refresh.predecessor = None
        if retired is None:
            return
        retired.revoked = True
        # Guess: replacements issued by earlier retries with the retired token are abandoned by the app; revoke them
        # so only the lineage in use can refresh.
        for sibling in retired.replacements:
            if sibling != refresh.token and sibling in self.refresh_tokens:
                self.refresh_tokens[sibling].revoked = True

    def _issue(
        self, shop: Shop, app: App, scope: str, *, online: bool = False, predecessor: str | None = None
    ) -> dict[str, Any]:
        """A new access token (with a refresh token when the app's offline tokens expire); the token answer."""
        expiring = app.expiring_tokens or online
        lifetime = ONLINE_TOKEN_LIFETIME if online else app.token_lifetime
        access = self._new_access(shop, app, lifetime if expiring else None)
        payload: dict[str, Any] = {"access_token": access.token, "scope": scope}
        if expiring:
            payload["expires_in"] = int(lifetime)
        if online:
            payload.update(self._online_user(scope))
        elif app.expiring_tokens:
            refresh = self._new_refresh(shop, app, scope, predecessor)
            access.refresh_token = refresh.token
            payload.update(refresh_token=refresh.token, refresh_token_expires_in=int(REFRESH_TOKEN_LIFETIME))
        return payload

    def _new_access(self, shop: Shop, app: App, lifetime: float | None) -> AccessToken:
        expires_at = self.sim.clock() + lifetime if lifetime is not None else None
        # Guess: the "shpat_" prefix of Admin API tokens for OAuth tokens too.
        access = AccessToken(f"shpat_{self._random_hex(16)}", shop.domain, app.client_id, expires_at, None)
        self.access_tokens[access.token] = access
        self.sim._tokens[access.token] = shop.domain  # valid on the Admin API at once
        shop.access_token = access.token  # the shop's newest token, for operators looking at the simulator
        return access

    def _new_refresh(self, shop: Shop, app: App, scope: str, predecessor: str | None) -> RefreshToken:
        refresh = RefreshToken(
            f"shprt_{self._random_hex(16)}",  # Guess: the prefix of Shopify's refresh tokens
            shop.domain,
            app.client_id,
            scope,
            self.sim.clock() + REFRESH_TOKEN_LIFETIME,
            predecessor=predecessor,
        )
        self.refresh_tokens[refresh.token] = refresh
        return refresh

    def _online_user(self, scope: str) -> dict[str, Any]:
        # Guess: the staff member an online token acts for; the simulator has a single account owner per shop.
        return {
            "associated_user_scope": scope,
            "associated_user": {
                "id": 902541635,
                "first_name": "Shop",
                "last_name": "Owner",
                "email": None,
                "account_owner": True,
                "locale": "da",
                "collaborator": False,
                "email_verified": True,
            },
        }

    # ---- the Admin API: is this token usable? ----------------------------------------------------------------------

    def admit(self, token: str) -> bool:
        """False for a revoked or expired OAuth token; tokens not issued here (add_shop) are left to the token map."""
        record = self.access_tokens.get(token)
        if record is None:
            return True
        if record.revoked or (record.expires_at is not None and self.sim.clock() >= record.expires_at):
            return False
        if record.refresh_token is not None and record.refresh_token in self.refresh_tokens:
            self._start_using(self.refresh_tokens[record.refresh_token])
        return True

    # ---- uninstall and subscriptions -------------------------------------------------------------------------------

    def uninstall(self, domain: str) -> None:
        """`app/uninstalled` to its subscribers, then every token and subscription of the shop is gone."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            self.sim._emit(shop, "app/uninstalled", self.shop_object(shop))
            self._revoke_tokens(shop)
            # Guess: deliveries already queued (app/uninstalled among them) stay in the outbox, as they were triggered
            # before the subscriptions went.
            shop.subscriptions = []
            shop.uninstalled_at = self.sim._shop_time(shop)

    def _revoke_tokens(self, shop: Shop) -> None:
        for token in [token for token, domain in self.sim._tokens.items() if domain == shop.domain]:
            del self.sim._tokens[token]
        for access in self.access_tokens.values():
            access.revoked = access.revoked or access.domain == shop.domain
        for refresh in self.refresh_tokens.values():
            refresh.revoked = refresh.revoked or refresh.domain == shop.domain
        for code in self.codes.values():
            code.used = code.used or code.domain == shop.domain  # Guess: pending codes die with the install

    def drop_subscriptions(self, domain: str, topic: str) -> int:
        """Shopify removing subscriptions (e.g. after failed deliveries) without telling the app."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            rest_topic = _normalise_topic(topic)
            gone = [s for s in shop.subscriptions if s.topic == rest_topic]
            shop.subscriptions = [s for s in shop.subscriptions if s.topic != rest_topic]
            self.sim.removed_subscriptions.extend(gone)
            # Guess: what was queued for them is not delivered any more either.
            removed_ids = {s.id for s in gone}
            self.sim.outbox = [d for d in self.sim.outbox if d.subscription_id not in removed_ids]
            return len(gone)

    def shop_object(self, shop: Shop) -> dict[str, Any]:
        """The REST shop, as `app/uninstalled` carries it.

        Guess: the simulator's shops are Danish (DKK, Copenhagen time, prices including VAT) and existed when the
        simulator started; owner, e-mail and address are placeholders.
        """
        name = shop.domain.removesuffix(".myshopify.com")
        created = self.sim._epoch.astimezone(shop.tz).isoformat(timespec="seconds")
        return {
            "id": shop_id(shop.domain),
            "name": name,
            "email": f"owner@{name}.example",
            "domain": shop.domain,
            "province": None,
            "country": "DK",
            "address1": "Vesterbrogade 1",
            "zip": "1620",
            "city": "København V",
            "source": None,
            "phone": None,
            "latitude": None,
            "longitude": None,
            "primary_locale": "da",
            "address2": None,
            "created_at": created,
            "updated_at": self.sim._shop_time(shop),
            "country_code": "DK",
            "country_name": "Denmark",
            "currency": shop.currency,
            "customer_email": f"kundeservice@{name}.example",
            "timezone": "(GMT+01:00) Europe/Copenhagen",
            "iana_timezone": "Europe/Copenhagen",
            "shop_owner": "Shop Owner",
            "money_format": "{{amount_with_comma_separator}} kr",
            "money_with_currency_format": "{{amount_with_comma_separator}} DKK",
            "weight_unit": "kg",
            "province_code": None,
            "taxes_included": True,
            "auto_configure_tax_inclusivity": None,
            "tax_shipping": None,
            "county_taxes": True,
            "plan_display_name": "Basic",
            "plan_name": "basic",
            "has_discounts": True,
            "has_gift_cards": False,
            "myshopify_domain": shop.domain,
            "google_apps_domain": None,
            "google_apps_login_enabled": None,
            "money_in_emails_format": "{{amount_with_comma_separator}} kr",
            "money_with_currency_in_emails_format": "{{amount_with_comma_separator}} DKK",
            "eligible_for_payments": True,
            "requires_extra_payments_agreement": False,
            "password_enabled": False,
            "has_storefront": True,
            "finances": True,
            "primary_location_id": shop.catalog.primary_location.id,
            "checkout_api_supported": True,
            "multi_location_enabled": True,
            "setup_required": False,
            "pre_launch_enabled": False,
            "enabled_presentment_currencies": [shop.currency],
            "transactional_sms_disabled": False,
            "marketing_sms_consent_enabled_at_checkout": False,
        }

    # ---- mandatory privacy webhooks --------------------------------------------------------------------------------

    def request_customer_data(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """`customers/data_request`: a customer asked the merchant for their data."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            payload = {
                **self._shop_ref(shop),
                "orders_requested": list(orders),
                "customer": self._customer(shop, customer_id),
                "data_request": {"id": self.sim._new_id()},
            }
            self._queue_privacy(shop, "customers/data_request", payload, uri)
            return payload

    def redact_customer(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """`customers/redact`: delete this customer's personal data (and that of the listed orders)."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            payload = {
                **self._shop_ref(shop),
                "customer": self._customer(shop, customer_id),
                "orders_to_redact": list(orders),
            }
            self._queue_privacy(shop, "customers/redact", payload, uri)
            return payload

    def redact_shop(self, domain: str, *, uri: str | None = None) -> dict[str, Any]:
        """`shop/redact`: Shopify sends it 48 h after uninstall; the simulator sends it when called."""
        with self.sim._lock:
            shop = self.sim.shop(domain)
            payload = self._shop_ref(shop)
            self._queue_privacy(shop, "shop/redact", payload, uri)
            return payload

    def _shop_ref(self, shop: Shop) -> dict[str, Any]:
        return {"shop_id": shop_id(shop.domain), "shop_domain": shop.domain}

    def _customer(self, shop: Shop, customer_id: int) -> dict[str, Any]:
        """`{id, email, phone}` from the shop's orders when the customer is known there, else nulls."""
        email: str | None = None
        phone: str | None = None
        for order in shop.orders.values():
            customer = order.get("customer")
            if isinstance(customer, dict) and customer.get("id") == customer_id:
                email = email or customer.get("email") or order.get("email")
                phone = phone or customer.get("phone") or order.get("phone")
        if email is None:
            email = next((known for known, cid in shop.customer_ids.items() if cid == customer_id), None)
        return {"id": customer_id, "email": email, "phone": phone}

    def _queue_privacy(self, shop: Shop, topic: str, payload: dict[str, Any], uri: str | None) -> None:
        target = uri or self._compliance_uri(shop)
        if not _valid_callback(target):
            raise ValueError(f"compliance URI must be https: {target!r}")
        # Privacy webhooks have no subscription; each gets its own negative id so a delivery that exhausts its
        # retries drops nothing but itself.
        self._compliance_deliveries -= 1
        self.sim.outbox.append(
            PendingDelivery(
                webhook_id=_uuid(self.sim._webhook_rng),
                event_id=_uuid(self.sim._id_rng),
                domain=shop.domain,
                subscription_id=self._compliance_deliveries,
                topic=topic,
                url=target,
                body=_compact_json(payload),
                api_version=self.sim.api_version,
                triggered_at=self.sim.now().astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            )
        )

    def _compliance_uri(self, shop: Shop) -> str:
        # The app last installed keeps receiving them after uninstall: shop/redact comes 48 h later.
        app = self.apps.get(shop.app_client_id or "")
        if app is None or app.compliance_uri is None:
            raise ValueError(f"{shop.domain}: no compliance webhook URI (pass uri= or register the app with one)")
        return app.compliance_uri

    # ---- control endpoints (not Shopify): the merchant's clicks, for curl ------------------------------------------

    def control_install(self, request: SimRequest, domain: str) -> SimResponse:
        client_id = request.arg("client_id")
        if not client_id:
            return json_response(400, {"errors": "client_id is required"})
        try:
            return json_response(200, {"query": self.install_request(domain, client_id)})
        except ValueError as exc:
            return json_response(400, {"errors": str(exc)})

    def control_approve(self, request: SimRequest, domain: str) -> SimResponse:
        try:
            body = request.json()
        except ValueError:
            return json_response(400, {"errors": "body is not JSON"})
        if not isinstance(body, dict) or not isinstance(body.get("authorize_url"), str):
            return json_response(400, {"errors": "authorize_url is required"})
        grant_scopes = body.get("grant_scopes")
        if grant_scopes is not None and not isinstance(grant_scopes, str):
            return json_response(400, {"errors": "grant_scopes must be a comma-separated string"})
        try:
            callback = self.approve(domain, body["authorize_url"], grant_scopes=grant_scopes)
        except ValueError as exc:
            return json_response(400, {"errors": str(exc)})
        return json_response(200, {"callback_url": callback})
