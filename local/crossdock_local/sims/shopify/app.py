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
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from crossdock_local.sims.base import (
    ResponseDropped,
    SimRequest,
    SimResponse,
    json_response,
)
from crossdock_local.sims.shopify.privacy import PrivacyWebhooks
from crossdock_local.sims.shopify.state import AccessToken, App, AuthorizationCode, RefreshToken, Shop
from crossdock_local.sims.shopify.webhooks import WebhookDelivery, normalise_topic, valid_callback

AUTHORIZATION_CODE_TTL = 600.0  # Guess: Shopify documents no lifetime for the one-time code; ten minutes is common.


REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600.0  # changelog: "its normal 90-day lifetime"


REFRESH_RETRY_WINDOW = 30 * 24 * 3600.0  # changelog: "limited to 30 days from the original refresh token's first use"


ONLINE_TOKEN_LIFETIME = 24 * 3600.0  # Guess: online (per-user) tokens last a day, like a staff session.


SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")  # fact sheet, "App install" step 2


AUTHORIZE_PATH = "/admin/oauth/authorize"


GRANT_CODE = "authorization_code"


GRANT_REFRESH = "refresh_token"


class TokenError(Exception):
    """A refused token request: OAuth's `{"error", "error_description"}` with HTTP 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def response(self) -> SimResponse:
        # Guess: Shopify answers every refusal with 400 and these OAuth error codes; the exact codes are undocumented.
        return json_response(400, {"error": self.error, "error_description": self.description})


def query_hmac(secret: str, params: Mapping[str, str]) -> str:
    """The hex HMAC-SHA256 of an install request or callback: `hmac`/`signature` dropped, the rest sorted, `k=v&…`."""
    message = "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def host_param(domain: str) -> str:
    """`host`: base64 of the shop's admin URL without scheme (Guess: standard alphabet, padding kept)."""
    store = domain.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode()


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


class AppInstalls:
    """Apps, their authorization codes and tokens; shares the simulator's lock, clock, ids and outbox."""

    def __init__(self, sim: WebhookDelivery, seed: int | None) -> None:
        self.sim = sim
        self.apps: dict[str, App] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        # Own stream, so tokens are reproducible with a seed and installing changes no other ids.
        self._rng = random.Random(None if seed is None else f"app:{seed}")
        self._compliance_deliveries = 0
        self.privacy = PrivacyWebhooks(sim, self.apps)

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
        if compliance_uri is not None and not valid_callback(compliance_uri):
            raise ValueError(f"compliance URI must be https: {compliance_uri!r}")
        with self.sim.lock:
            self.apps[client_id] = App(
                client_id,
                client_secret,
                _scopes(scopes),
                expiring_tokens,
                token_lifetime,
                compliance_uri,
                list(redirect_uris) if redirect_uris is not None else None,
            )

    def app(self, client_id: str | None) -> App:
        app = self.apps.get(client_id or "")
        if app is None:
            # Guess: the wording of Shopify's error page for an unknown API key.
            raise ValueError(
                f"Oauth error invalid_request: Could not find Shopify API application with api_key {client_id}"
            )
        return app

    def install_request(self, domain: str, client_id: str) -> dict[str, str]:
        """The query Shopify appends to the app URL when a merchant clicks install (fact sheet, step 1)."""
        with self.sim.lock:
            app = self.app(client_id)
            self._shop_for_install(domain, app)
            params = {"host": host_param(domain), "shop": domain, "timestamp": str(self._timestamp())}
            return {"hmac": query_hmac(app.client_secret, params), **params}

    def approve(self, domain: str, authorize_url: str, *, grant_scopes: str | None = None) -> str:
        """The merchant approves on the authorize page; returns the callback URL the browser is sent to."""
        with self.sim.lock:
            parts = urlsplit(authorize_url)
            if not parts.path.rstrip("/").endswith(AUTHORIZE_PATH):
                raise ValueError(f"not a Shopify authorize URL (path must end with {AUTHORIZE_PATH}): {authorize_url}")
            if parts.hostname and parts.hostname.endswith(".myshopify.com") and parts.hostname != domain:
                raise ValueError(f"the authorize URL is for {parts.hostname}, not {domain}")
            query = parse_qs(parts.query, keep_blank_values=True)
            app = self.app(_first(query, "client_id"))
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
        shop.catalog = self.sim.open_catalog(shop)
        self.sim.shops[domain] = shop
        return shop

    def _timestamp(self) -> int:
        return int(self.sim.now().timestamp())

    def _random_hex(self, size: int) -> str:
        return self._rng.getrandbits(size * 8).to_bytes(size, "big").hex()

    def token_endpoint(self, request: SimRequest) -> SimResponse:
        fault = self.sim.server_fault()
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
        shop.app_scopes = record.scope  # what currentAppInstallation answers (custom_apps.py)
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
        self.sim.tokens[access.token] = shop.domain  # valid on the Admin API at once
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

    def uninstall(self, domain: str) -> None:
        """`app/uninstalled` to its subscribers, then every token and subscription of the shop is gone."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            self.sim.emit(shop, "app/uninstalled", self.privacy.shop_object(shop))
            self._revoke_tokens(shop)
            # Guess: deliveries already queued (app/uninstalled among them) stay in the outbox, as they were triggered
            # before the subscriptions went.
            shop.subscriptions = []
            shop.uninstalled_at = self.sim.shop_time(shop)

    def _revoke_tokens(self, shop: Shop) -> None:
        for token in [token for token, domain in self.sim.tokens.items() if domain == shop.domain]:
            del self.sim.tokens[token]
        for access in self.access_tokens.values():
            access.revoked = access.revoked or access.domain == shop.domain
        for refresh in self.refresh_tokens.values():
            refresh.revoked = refresh.revoked or refresh.domain == shop.domain
        for code in self.codes.values():
            code.used = code.used or code.domain == shop.domain  # Guess: pending codes die with the install

    def drop_subscriptions(self, domain: str, topic: str) -> int:
        """Shopify removing subscriptions (e.g. after failed deliveries) without telling the app."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            rest_topic = normalise_topic(topic)
            gone = [s for s in shop.subscriptions if s.topic == rest_topic]
            shop.subscriptions = [s for s in shop.subscriptions if s.topic != rest_topic]
            self.sim.removed_subscriptions.extend(gone)
            # Guess: what was queued for them is not delivered any more either.
            for subscription in gone:
                self.sim.outbox.forget_subscription(str(subscription.id))
            return len(gone)

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
