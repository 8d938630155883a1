"""What a Shopify token may do and which shop it opens: `currentAppInstallation { accessScopes }` and `shop`.

A PeakWMS ⇄ Shopify connection runs on a custom app the merchant makes in the shop's admin and whose Admin API
token they copy into the connection (SPEC §4). Which scopes the merchant ticked is only known by asking Shopify, so
"test connection" reads them and names the missing ones before anything else fails with ACCESS_DENIED.

`NEEDED_SCOPES` follows reference/shopify_wms.md "Access scopes", which is marked [guess] there; `read_locations`
is added because the link maps Shopify locations to PeakWMS warehouses and Shopify's `locations` query needs it
[guess, same source]. A `write_` scope implies its `read_` scope (Shopify's access-scope page), so a token holding
`write_orders` alone has `read_orders` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError

# Scopes the peakwms_shopify link uses: orders and their transactions, captures and refunds (write_orders),
# fulfilment of the merchant's own locations, stock, products (barcodes, customs, cost) and the locations map.
NEEDED_SCOPES: frozenset[str] = frozenset(
    {
        "read_orders",
        "write_orders",
        "read_merchant_managed_fulfillment_orders",
        "write_merchant_managed_fulfillment_orders",
        "read_inventory",
        "write_inventory",
        "read_products",
        "write_products",
        "read_locations",
    }
)

ACCESS_SCOPES = """
query AccessScopes {
  currentAppInstallation { accessScopes { handle } }
}
"""

SHOP_FACTS = """
query ShopFacts {
  shop { name myshopifyDomain currencyCode }
}
"""


@dataclass(frozen=True)
class ShopFacts:
    """The shop a token opens: its name, `*.myshopify.com` domain and shop currency (ISO 4217)."""

    name: str
    myshopify_domain: str
    currency: str


def granted_scopes(admin: ShopifyAdmin) -> frozenset[str]:
    """The scope handles the token was granted, as Shopify lists them (no implied scopes added)."""
    data = admin.run(ACCESS_SCOPES, expected_cost=2)
    installation = (data or {}).get("currentAppInstallation") or {}
    scopes = installation.get("accessScopes") or []
    return frozenset(str(scope["handle"]) for scope in scopes if isinstance(scope, dict) and scope.get("handle"))


def in_effect(granted: frozenset[str]) -> frozenset[str]:
    """`granted` plus the `read_` scope of every `write_` scope in it."""
    return granted | {"read_" + scope.removeprefix("write_") for scope in granted if scope.startswith("write_")}


def missing_scopes(granted: frozenset[str], needed: frozenset[str] = NEEDED_SCOPES) -> tuple[str, ...]:
    """The needed scopes the grant does not cover, sorted (empty: the token may do everything the link does)."""
    return tuple(sorted(needed - in_effect(granted)))


def shop_facts(admin: ShopifyAdmin) -> ShopFacts:
    """The shop's name, domain and currency; `PermanentError` when Shopify answers without them."""
    data = admin.run(SHOP_FACTS, expected_cost=1)
    shop: Any = (data or {}).get("shop")
    if not isinstance(shop, dict) or not shop.get("myshopifyDomain") or not shop.get("currencyCode"):
        raise PermanentError(f"Shopify answered no shop facts for {admin.shop_domain}")
    return ShopFacts(str(shop.get("name") or ""), str(shop["myshopifyDomain"]), str(shop["currencyCode"]))
