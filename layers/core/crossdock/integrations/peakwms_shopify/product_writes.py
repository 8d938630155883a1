"""One Shopify product into PeakWMS, for the setup's fetch and the product webhooks alike (docs/peakwms.md
"Products").

Main shop: each variant with a SKU becomes the PeakWMS product `productId`/`variantId` = the Shopify ids,
`itemNumber` = SKU (`upsert_product` looks before it creates, so a repeat after a crash updates). The vendor goes
into `brand`, or with `create_suppliers_from_vendor` into `vendors` as a supplier. A variant without SKU is not
written: PeakWMS requires an item number, and the other shops match by it. Under the product's lease, a version
older than the one PeakWMS has is skipped, never written over it.

Other shops: nothing is written to PeakWMS; each variant is bound to the main shop's product carrying its SKU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crossdock.connectors.peakwms import products as peak_products
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.shapes import ProductDraft, Vendor
from crossdock.connectors.shopify.catalog_export import CatalogVariant
from crossdock.connectors.shopify.products import variant_name
from crossdock.errors import PermanentError
from crossdock.integrations.peakwms_shopify import product_map
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.product_map import PeakKey, ProductVersion

GRAMS_PER_KILOGRAM = Decimal(1000)


LISTED = 50  # variants named per problem; beyond that only counted
COUNTS = ("created", "updated", "deleted", "matched", "older", "no_sku", "unmatched", "missing", "refused")
PROBLEMS = ("no_sku", "unmatched", "missing", "refused")


@dataclass
class Tally:
    """What writing (or matching) some variants did; added up over a run, and kept in a step's state."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    matched: int = 0
    older: int = 0  # variants of a version older than PeakWMS's, skipped
    no_sku: int = 0
    unmatched: int = 0  # no main-shop product carries the variant's SKU
    missing: int = 0  # not in PeakWMS (a step that only updates what step 1 made)
    refused: int = 0
    # per problem, the first `LISTED` variants: "variant id", "variant id (SKU)", "variant id: PeakWMS's reason"
    named: dict[str, list[str]] = field(default_factory=dict)

    def note(self, problem: str, text: str) -> None:
        setattr(self, problem, getattr(self, problem) + 1)
        listed = self.named.setdefault(problem, [])
        if len(listed) < LISTED:
            listed.append(text)

    def add(self, other: Tally) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for problem, texts in other.named.items():
            listed = self.named.setdefault(problem, [])
            listed.extend(texts[: max(0, LISTED - len(listed))])

    def saved(self) -> dict[str, Any]:
        return {"counts": {name: getattr(self, name) for name in COUNTS}, "named": self.named}

    @classmethod
    def of(cls, saved: dict[str, Any] | None) -> Tally:
        counts = (saved or {}).get("counts") or {}
        named = {str(k): [str(t) for t in v] for k, v in dict((saved or {}).get("named") or {}).items()}
        return cls(**{name: int(counts.get(name) or 0) for name in COUNTS}, named=named)

    def summary(self) -> str:
        parts = [
            f"{n} {what}"
            for what, n in (
                ("created", self.created),
                ("updated", self.updated),
                ("deleted", self.deleted),
                ("matched by SKU", self.matched),
                ("skipped as older than PeakWMS's", self.older),
                ("without SKU", self.no_sku),
                ("without a main-shop product of their SKU", self.unmatched),
                ("not in PeakWMS", self.missing),
                ("refused by PeakWMS", self.refused),
            )
            if n
        ]
        text = ", ".join(parts) or "nothing to write"
        for problem in PROBLEMS:
            if self.named.get(problem):
                text += f"; {problem}: {', '.join(self.named[problem][:10])}"
        return text


def draft_of(connection: PeakwmsShopifyConnection, variant: CatalogVariant) -> ProductDraft:
    vendor = variant.vendor
    suppliers = connection.settings.create_suppliers_from_vendor
    return ProductDraft(
        product_id=variant.product_id,
        variant_id=variant.variant_id,
        item_number=variant.sku,
        description=variant_name(variant.product_title or variant.sku, variant.variant_title),
        ean=variant.barcode,
        brand=None if suppliers else vendor,
        # [guess] the fact sheet lists `vendors[{name, vendorName}]` without saying which is which: both carry the
        # Shopify vendor, the supplier PeakWMS creates or finds by that name.
        vendors=(Vendor(name=vendor, vendor_name=vendor),) if suppliers and vendor else (),
        weight=None if variant.grams is None else variant.grams / GRAMS_PER_KILOGRAM,
        sales_price_per_piece=variant.price,
    )


def write_main_product(
    connection: PeakwmsShopifyConnection,
    client: PeakwmsClient,
    table: Any,
    product_id: str,
    updated_at: str,
    variants: list[CatalogVariant],
    *,
    complete: bool,
    peakwms_empty: bool = False,
) -> Tally:
    """Writes `variants` of one product. `complete`: they are all the product has (a webhook), so a variant PeakWMS
    got earlier and Shopify no longer has is deleted; else (a chunk of the export) the others are left alone.
    `peakwms_empty`: PeakWMS had no products when the caller's run began, so the product's variants are created
    without looking first (one call each; one a webhook or a crashed chunk created meanwhile is adopted by
    `upsert_product`); else PeakWMS's variants of the product are read once, not once per variant."""
    account = connection.peakwms_account
    tally = Tally()
    with product_map.product_lock(table, account, product_id):
        seen = product_map.product_version(table, account, product_id)
        if product_map.is_older(seen, updated_at):
            tally.older = len(variants)
            return tally
        known = dict(seen.variants) if seen and not seen.deleted else {}
        in_peakwms = {} if peakwms_empty else {p.key: p for p in peak_products.product_variants(client, product_id)}
        written: dict[str, str] = {}
        for variant in variants:
            if not variant.sku:
                tally.note("no_sku", variant.variant_id)
                continue
            try:
                _, created = peak_products.upsert_product(client, draft_of(connection, variant), known=in_peakwms)
            except PermanentError as refused:
                tally.note("refused", f"{variant.variant_id}: {refused.reason}")
                continue
            tally.created += created
            tally.updated += not created
            key = PeakKey(product_id, variant.variant_id)
            old_sku = known.get(variant.variant_id)
            if old_sku and old_sku != variant.sku:
                product_map.forget_sku(table, account, old_sku, key)
            product_map.put_sku(table, account, variant.sku, key)
            written[variant.variant_id] = variant.sku
        if complete:
            for variant_id, sku in known.items():
                if variant_id in written or any(v.variant_id == variant_id for v in variants):
                    continue
                removed = peak_products.delete_product(client, product_id, variant_id)
                product_map.forget_sku(table, account, sku, PeakKey(product_id, variant_id))
                tally.deleted += removed  # a repeat finds it gone already
            kept = written
        else:
            kept = {**known, **written}
        newest = product_map.newer_of(updated_at, seen.updated_at if seen else "")
        product_map.put_product_version(table, account, product_id, ProductVersion(newest, kept))
    return tally


def delete_main_product(
    connection: PeakwmsShopifyConnection, client: PeakwmsClient, table: Any, product_id: str, deleted_at: str
) -> Tally:
    """Shopify deleted the product: its PeakWMS products are deleted, its SKUs leave the map, and the product is
    remembered as deleted at `deleted_at`, so an update that was sent before the deletion and arrives after it is
    skipped as older."""
    account = connection.peakwms_account
    tally = Tally()
    with product_map.product_lock(table, account, product_id):
        seen = product_map.product_version(table, account, product_id)
        if seen is not None and seen.deleted:
            return tally
        known = dict(seen.variants) if seen else {}
        if not known:  # written before the map knew it (or by another tool): ask PeakWMS
            known = {
                p.variant_id or "": p.item_number or "" for p in peak_products.product_variants(client, product_id)
            }
        for variant_id, sku in known.items():
            removed = peak_products.delete_product(client, product_id, variant_id)
            if sku:
                product_map.forget_sku(table, account, sku, PeakKey(product_id, variant_id))
            tally.deleted += removed
        product_map.put_product_version(table, account, product_id, ProductVersion(deleted_at, {}, deleted=True))
    return tally


def match_variants(
    connection: PeakwmsShopifyConnection, table: Any, variants: list[CatalogVariant], *, complete: bool = False
) -> Tally:
    """A non-main shop's variants bound to the main shop's PeakWMS products by SKU. `complete`: they are all their
    product has (a webhook), so a binding of a variant the product no longer has, or whose SKU is no longer
    matched, is removed."""
    tally = Tally()
    targets = product_map.sku_targets(table, connection.peakwms_account, [v.sku for v in variants])
    bound: dict[str, list[str]] = {}
    for variant in variants:
        ids = bound.setdefault(variant.product_id, [])
        target = targets.get(variant.sku) if variant.sku else None
        if not variant.sku:
            tally.note("no_sku", variant.variant_id)
        elif target is None:
            tally.note("unmatched", f"{variant.variant_id} ({variant.sku})")
        else:
            product_map.bind_variant(table, connection.id, variant.variant_id, target, variant.sku, variant.product_id)
            ids.append(variant.variant_id)
            tally.matched += 1
    for product_id, ids in bound.items():
        before = product_map.bound_variants(table, connection.id, product_id)
        if complete:
            for gone in set(before) - set(ids):
                product_map.unbind_variant(table, connection.id, gone)
            product_map.bind_product(table, connection.id, product_id, ids)
        elif set(ids) - set(before):
            product_map.bind_product(table, connection.id, product_id, list(dict.fromkeys(before + ids)))
    return tally
