"""The canonical catalog item: what both directions of the product sync agree an item is (SPEC §1.3).

A Rackbeat item (product or BOM) is one sellable unit with a number; in Shopify that is one variant, found by its
SKU. The fields are exactly the ones SPEC lists as moving between the two systems; anything else (tags, images,
other PIM data) is deliberately not modelled so it can never be overwritten.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from decimal import Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class CatalogItem:
    number: str  # Rackbeat item number = Shopify SKU
    name: str
    description: str | None = None
    sales_price: Decimal | None = None  # incl. VAT, as the shop shows it
    barcode: str | None = None
    category: str | None = None
    cost: Decimal | None = None
    # Shown in the shop's Online Store (`product_sync.online_availability`): a publication, not a status.
    published: bool = True
    # Can be sold at all (a barred Rackbeat item cannot): the product is a draft in the shop, on no channel.
    sellable: bool = True
    weight: Decimal | None = None
    weight_unit: str | None = None  # Rackbeat's units: g, kg

    def fingerprint(self) -> str:
        """Hash of the synced fields: a write whose fingerprint matches the last one is an echo or a no-op."""
        fields = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StockLevel:
    """An absolute quantity of one item, as the stock master (Rackbeat) reports it."""

    number: str
    quantity: int


def money(value: object) -> Decimal | None:
    """Money from a string or number (never via float); None when absent or empty."""
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(CENT)
