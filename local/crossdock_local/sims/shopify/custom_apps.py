"""Custom apps a merchant makes in the shop's admin, and the two queries an app asks about itself and its shop.

A custom app (Settings → Apps and sales channels → Develop apps) has no OAuth: the merchant ticks Admin API access
scopes, installs it and copies its Admin API access token and API secret key into the other system (PeakWMS ⇄
Shopify connections are made that way, SPEC §4). So the simulator's custom app is:

- an access token with exactly the ticked scopes: every root field the scopes do not cover answers Shopify's
  ACCESS_DENIED error (`scopes.py`);
- webhook subscriptions of its own (it sees only those), whose deliveries are signed with its API secret key
  (`webhooks.py` picks the subscribing app's secret);
- `currentAppInstallation { accessScopes { handle } }` answering the granted handles, and `shop { name
  myshopifyDomain currencyCode }`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.scopes import ROOT_SCOPES, effective
from crossdock_local.sims.shopify.state import CustomApp, Shop, shop_name
from crossdock_local.sims.shopify.webhooks import WebhookDelivery


def known_scopes() -> tuple[str, ...]:
    """Every scope some simulated field needs, sorted: what a token the simulator does not restrict holds."""
    return tuple(sorted({scope for needed in ROOT_SCOPES.values() for scope in needed}))


class CustomApps:
    """Makes custom apps and answers `shop` and `currentAppInstallation`."""

    def __init__(self, sim: WebhookDelivery) -> None:
        self.sim = sim
        sim.resolvers["shop"] = lambda shop, _field, _version: self._resolve_shop(shop)
        sim.resolvers["currentAppInstallation"] = lambda shop, field, _version: self._resolve_installation(shop, field)

    def new_custom_app(self, domain: str, scopes: Iterable[str]) -> CustomApp:
        """A custom app installed in `domain` with exactly `scopes` (handles such as "read_orders")."""
        granted = tuple(dict.fromkeys(str(scope).strip() for scope in scopes if str(scope).strip()))
        with self.sim.lock:
            self.sim.shop(domain)  # an unknown shop raises UnknownShop
            # Guess: the prefixes of a custom app's credentials ("shpat_" Admin API token, "shpss_" API secret key);
            # the API key is 32 hex characters like Shopify's.
            app = CustomApp(
                id=secrets.token_hex(16),
                domain=domain,
                access_token="shpat_" + secrets.token_hex(16),
                api_secret="shpss_" + secrets.token_hex(16),
                scopes=granted,
            )
            self.sim.custom_apps[app.id] = app
            self.sim.custom_app_tokens[app.access_token] = app.id
            self.sim.tokens[app.access_token] = domain  # valid on the Admin API at once
            return app

    def uninstall(self, app_id: str) -> None:
        """The merchant uninstalls the custom app: its token stops working and its subscriptions are gone."""
        with self.sim.lock:
            app = self.sim.custom_apps[app_id]
            app.revoked = True
            self.sim.tokens.pop(app.access_token, None)
            shop = self.sim.shop(app.domain)
            shop.subscriptions = [s for s in shop.subscriptions if s.app != app_id]

    def access_of(self, app: CustomApp | None) -> tuple[str | None, frozenset[str] | None]:
        """(the app's id, its effective scopes) for a request; (None, None) for a token that is not restricted."""
        if app is None:
            return None, None
        return app.id, effective(app.scopes)

    def _resolve_shop(self, shop: Shop) -> dict[str, Any]:
        return {
            "id": f"gid://shopify/Shop/{int(hashlib.sha256(shop.domain.encode()).hexdigest()[:10], 16)}",
            "name": shop_name(shop),
            "myshopifyDomain": shop.domain,
            "currencyCode": shop.currency,
            "ianaTimezone": "Europe/Copenhagen",
        }

    def _resolve_installation(self, shop: Shop, field: GqlField) -> dict[str, Any]:
        app = self.sim.custom_apps.get(field.app or "")
        app_view: dict[str, Any]
        if app is not None:
            handles: tuple[str, ...] = app.scopes
            app_view = {"id": f"gid://shopify/App/{app.id}", "title": "Custom app", "apiKey": app.id}
        else:
            # The installed OAuth app's granted scopes; a shop's own token (add_shop) is unrestricted: every scope.
            granted = shop.app_scopes
            handles = tuple(s for s in granted.split(",") if s) if granted is not None else known_scopes()
            app_view = {"id": f"gid://shopify/App/{shop.app_client_id or 'merchant'}", "title": "App", "apiKey": None}
        return {
            "id": f"gid://shopify/AppInstallation/{app_view['apiKey'] or shop.domain}",
            "accessScopes": [{"handle": handle, "description": _description(handle)} for handle in handles],
            "app": app_view,
        }


def _description(handle: str) -> str:
    # Guess: Shopify answers a human description per scope; the simulator words one from the handle.
    verb, _, resource = handle.partition("_")
    return f"{'Modify' if verb == 'write' else 'Read'} {resource.replace('_', ' ')}"
