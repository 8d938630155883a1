"""Which PeakWMS product a shop's variant is, kept in the table (docs/peakwms.md "Products").

PeakWMS products are keyed by the MAIN shop's Shopify product and variant ids (`productId`/`variantId`), with the
SKU as `itemNumber`. Several shops may sell from one PeakWMS stock, so the map lives with the PeakWMS account
(`store.mappings` account mappings, partition `ACCT#peakwms#<account>`), not with one connection:

- `sku` → `productId:variantId`: written by the main shop as it creates products, read by the other shops;
- `product` → the main shop product's variant ids, its SKUs and the Shopify `updatedAt` last written to PeakWMS
  (`deleted` once Shopify deleted it): an older snapshot or webhook never overwrites a newer one;
- per non-main connection, `variant` → `productId:variantId` (the shop's own variant, matched by SKU), which the
  order routes read through `peak_product_for`.

Writes of one product are serialised by a lease per PeakWMS account and product (`store.leases`): the setup's
fetch and a product webhook of the same product never interleave their check-then-write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crossdock import pacing
from crossdock.errors import RetryableError
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.store import keys, leases, mappings

SYSTEM = "peakwms"  # the account partition's system
SHOPIFY = "shopify"  # the mappings' source system
SKU = "sku"
PRODUCT = "product"
VARIANT = "variant"
LEASE_SECONDS = 120.0  # longer than one product's PeakWMS writes take, even paced at 240 calls a minute


@dataclass(frozen=True)
class PeakKey:
    product_id: str
    variant_id: str

    def text(self) -> str:
        return f"{self.product_id}:{self.variant_id}"

    @classmethod
    def parse(cls, text: str) -> PeakKey:
        product_id, _, variant_id = str(text).partition(":")
        return cls(product_id, variant_id)


@dataclass(frozen=True)
class ProductVersion:
    """What PeakWMS last got of one main-shop product."""

    updated_at: str  # Shopify's `updatedAt` of that version ("" unknown)
    variants: dict[str, str]  # variant id → its SKU
    deleted: bool = False


# ---- the account's SKU map ---------------------------------------------------------------------------------------


def sku_targets(table: Any, account: str, skus: list[str]) -> dict[str, PeakKey]:
    found = mappings.get_account_mappings(table, SYSTEM, account, SKU, SHOPIFY, [s for s in skus if s])
    return {sku: PeakKey.parse(item["target_id"]) for sku, item in found.items()}


def put_sku(table: Any, account: str, sku: str, key: PeakKey) -> None:
    mappings.put_account_mapping(table, SYSTEM, account, SKU, SHOPIFY, sku, key.text())


def forget_sku(table: Any, account: str, sku: str, key: PeakKey) -> None:
    """Removes the SKU's entry if it still names `key` (another variant may carry the SKU by now)."""
    current = mappings.get_account_mapping(table, SYSTEM, account, SKU, SHOPIFY, sku)
    if current is not None and current.get("target_id") == key.text():
        mappings.delete_account_mapping(table, SYSTEM, account, SKU, SHOPIFY, sku)


# ---- versions of the main shop's products ------------------------------------------------------------------------


def product_version(table: Any, account: str, product_id: str) -> ProductVersion | None:
    item = mappings.get_account_mapping(table, SYSTEM, account, PRODUCT, SHOPIFY, product_id)
    return None if item is None else _version_of(item)


def product_versions(table: Any, account: str, product_ids: list[str]) -> dict[str, ProductVersion]:
    found = mappings.get_account_mappings(table, SYSTEM, account, PRODUCT, SHOPIFY, product_ids)
    return {product_id: _version_of(item) for product_id, item in found.items()}


def put_product_version(table: Any, account: str, product_id: str, version: ProductVersion) -> None:
    mappings.put_account_mapping(
        table,
        SYSTEM,
        account,
        PRODUCT,
        SHOPIFY,
        product_id,
        ",".join(version.variants),
        updated_at=version.updated_at,
        skus=dict(version.variants),
        deleted=version.deleted,
    )


def _version_of(item: dict[str, Any]) -> ProductVersion:
    return ProductVersion(
        updated_at=str(item.get("updated_at") or ""),
        variants={str(k): str(v) for k, v in dict(item.get("skus") or {}).items()},
        deleted=bool(item.get("deleted")),
    )


def is_older(seen: ProductVersion | None, updated_at: str) -> bool:
    """Whether a version of `updated_at` is older than what PeakWMS has (the same version is not older: its repeat
    after a crash must still be written). ISO 8601 stamps of one shop compare as text once both are in UTC;
    Shopify writes them in the shop's zone, so they are compared as moments."""
    if seen is None or not seen.updated_at or not updated_at:
        return False
    return _moment(updated_at) < _moment(seen.updated_at)


def newer_of(first: str, second: str) -> str:
    """The later of two `updatedAt` stamps (an empty one is unknown, the other wins)."""
    if not first or not second:
        return first or second
    return first if _moment(first) >= _moment(second) else second


def _moment(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@contextmanager
def product_lock(table: Any, account: str, product_id: str) -> Iterator[None]:
    """Holds the product's lease for the block; `RetryableError` (a busy lock: retried with backoff) while another
    writer holds it."""
    name = f"peakwms-product#{account.lower()}#{product_id}"
    lease = leases.claim(table, name, uuid.uuid4().hex, pacing.clock.time(), LEASE_SECONDS)
    if lease is None:
        raise RetryableError(f"product {product_id} is being written to PeakWMS by another run", retry_after=5.0)
    try:
        yield
    finally:
        leases.release(table, lease)


# ---- a non-main shop's variants ----------------------------------------------------------------------------------


def bind_variant(table: Any, connection_id: str, variant_id: str, key: PeakKey, sku: str, product_id: str) -> None:
    mappings.put_mapping(table, connection_id, VARIANT, SHOPIFY, variant_id, key.text(), sku=sku, product=product_id)


def bound_variants(table: Any, connection_id: str, product_id: str) -> list[str]:
    """The variants of the shop's product bound so far (one item per product, so a deletion need not search)."""
    mapped = mappings.get_mapping(table, connection_id, PRODUCT, SHOPIFY, product_id)
    return [v for v in str((mapped or {}).get("target_id") or "").split(",") if v]


def bind_product(table: Any, connection_id: str, product_id: str, variant_ids: list[str]) -> None:
    if variant_ids:
        mappings.put_mapping(table, connection_id, PRODUCT, SHOPIFY, product_id, ",".join(variant_ids))
    else:
        table.delete_item(Key=_key(connection_id, PRODUCT, product_id))


def unbind_variant(table: Any, connection_id: str, variant_id: str) -> None:
    table.delete_item(Key=_key(connection_id, VARIANT, variant_id))


def _key(connection_id: str, entity: str, external_id: str) -> dict[str, str]:
    return {"pk": keys.connection_pk(connection_id), "sk": keys.mapping_sk(entity, SHOPIFY, external_id)}


def peak_product_for(
    table: Any, connection: PeakwmsShopifyConnection, product_id: str, variant_id: str, sku: str | None = None
) -> PeakKey | None:
    """The PeakWMS product of the connection's Shopify variant: the variant itself in the main shop; in another
    shop the main shop's variant it was matched to by SKU (the setup's fetch or a product webhook), or failing that
    the one the account's SKU map names for `sku` now. None: no main-shop product carries the SKU (yet)."""
    if connection.settings.main_shop:
        return PeakKey(str(product_id), str(variant_id))
    mapped = mappings.get_mapping(table, connection.id, VARIANT, SHOPIFY, str(variant_id))
    if mapped is not None and mapped.get("target_id"):
        return PeakKey.parse(mapped["target_id"])
    if sku and sku.strip():
        return sku_targets(table, connection.peakwms_account, [sku.strip()]).get(sku.strip())
    return None
