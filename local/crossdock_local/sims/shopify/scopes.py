"""Access scopes: which root fields of the simulated Admin API need which scope, and Shopify's ACCESS_DENIED answer.

Only tokens that carry a scope set are checked: a merchant's custom app (`custom_apps.py`) has exactly the scopes
the merchant ticked. Tokens the simulator issued before it knew scopes (`add_shop`, the OAuth grant) are not
restricted, so every older test and scenario runs unchanged.

Shopify's reference names one or several alternatives per field ("Requires `read_orders` access scope" or, for the
fulfillment-order fields, the assigned / merchant-managed / third-party variants); any of them grants the field.
A `write_` scope grants its `read_` scope (Shopify's access-scope page: "write access implies read access").
"""

from __future__ import annotations

from collections.abc import Iterable

from crossdock_local.sims.shopify.errors import ApiError

DOCUMENTATION = "https://shopify.dev/api/usage/access-scopes"

_READ_FULFILLMENT_ORDERS = (
    "read_assigned_fulfillment_orders",
    "read_merchant_managed_fulfillment_orders",
    "read_third_party_fulfillment_orders",
)
_WRITE_FULFILLMENT_ORDERS = tuple(scope.replace("read_", "write_", 1) for scope in _READ_FULFILLMENT_ORDERS)

# Root field → the scopes any one of which lets a token use it (per the field's page in Shopify's reference; a root
# field not listed needs none: `shop`, `currentAppInstallation`, the webhook subscription and bulk fields).
ROOT_SCOPES: dict[str, tuple[str, ...]] = {
    "order": ("read_orders",),
    "orders": ("read_orders",),
    "refund": ("read_orders",),
    "fulfillmentOrder": _READ_FULFILLMENT_ORDERS,
    "location": ("read_locations",),
    "locations": ("read_locations",),
    "inventoryItem": ("read_inventory", "read_products"),
    "inventoryItems": ("read_inventory", "read_products"),
    "productVariant": ("read_products",),
    "productVariants": ("read_products",),
    "product": ("read_products",),
    "products": ("read_products",),
    "publications": ("read_publications",),
    "productSet": ("write_products",),
    "productUpdate": ("write_products",),
    "productVariantsBulkUpdate": ("write_products",),
    "inventoryItemUpdate": ("write_inventory",),
    "inventorySetQuantities": ("write_inventory",),
    "inventoryAdjustQuantities": ("write_inventory",),
    "publishablePublish": ("write_publications",),
    "publishableUnpublish": ("write_publications",),
    "fulfillmentCreate": _WRITE_FULFILLMENT_ORDERS,
    "fulfillmentTrackingInfoUpdate": _WRITE_FULFILLMENT_ORDERS,
    # Shopify also wants the staff permission `capture_payments_for_orders` for an online (staff) token; the
    # simulator has no staff, and an app's offline token needs only the scope.
    "orderCapture": ("write_orders",),
    "refundCreate": ("write_orders",),
}


def effective(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes a token has in effect: the granted ones and the `read_` scope of every granted `write_` one."""
    granted = set(scopes)
    granted.update("read_" + scope[len("write_") :] for scope in list(granted) if scope.startswith("write_"))
    return frozenset(granted)


def check(field_name: str, granted: frozenset[str] | None) -> None:
    """`ApiError` ACCESS_DENIED when a token restricted to `granted` (effective scopes) may not use `field_name`."""
    if granted is None:
        return
    needed = ROOT_SCOPES.get(field_name)
    if not needed or any(scope in granted for scope in needed):
        return
    required = _wording(needed)
    raise ApiError(
        f"Access denied for {field_name} field. Required access: {required}.",
        "ACCESS_DENIED",
        documentation=DOCUMENTATION,
        requiredAccess=f"{required}.",
    )


def _wording(needed: tuple[str, ...]) -> str:
    named = [f"`{scope}` access scope" for scope in needed]
    if len(named) == 1:
        return named[0]
    return ", ".join(named[:-1]) + " or " + named[-1]
