"""A variant's barcode (EAN) from the WMS: `productVariantsBulkUpdate(productId, variants: [{id, barcode}])`
(reference/shopify_wms.md "Writes" → EAN).

PeakWMS event 101 reports a changed EAN for a product / variant, whose ids are the main shop's Shopify product and
variant numeric ids. Setting the same barcode again changes nothing, so a retry needs no look first; Shopify echoes
the change as `products/update`, which the product webhooks then see as an update the WMS already has. Shopify's
refusals (an unknown product or variant) are `userErrors`, raised as a `PermanentError` naming the field.
"""

from __future__ import annotations

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

MUTATION_COST = 10

VARIANT_BARCODE = """
mutation SetBarcode($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id barcode }
    userErrors { field message }
  }
}
"""


def _gid(kind: str, value: str | int) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def set_barcode(admin: ShopifyAdmin, product_id: str | int, variant_id: str | int, barcode: str | None) -> None:
    """Set (or with None / "" clear) the variant's barcode."""
    product, variant = _gid("Product", product_id), _gid("ProductVariant", variant_id)
    variables = {"productId": product, "variants": [{"id": variant, "barcode": (barcode or "").strip()}]}
    answer = admin.run(VARIANT_BARCODE, variables, expected_cost=MUTATION_COST)
    payload = (answer or {})["productVariantsBulkUpdate"]
    errors = payload.get("userErrors") or []
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        raise PermanentError(f"Shopify refused the barcode of {variant}: {detail}", FailureClass.VALIDATION)
