"""Settings of a `rackbeat_shopify` connection: the four tabs of SPEC §1.2–1.6, with their defaults.

Keys are the names SPEC uses, so the settings API, the CLI and the code speak one language. Unknown keys are
rejected (a typo in a setting must not be silently ignored).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransferWhen(StrEnum):
    CREATED = "created"
    PAID = "paid"
    FULFILLED = "fulfilled"
    NEVER = "never"


class RackbeatStatus(StrEnum):
    """How far an order is processed in Rackbeat (SPEC §1.5)."""

    DRAFT = "draft"
    BOOKED = "booked"
    READY_TO_SHIP = "ready_to_ship"
    SHIPPED = "shipped"
    READY_TO_INVOICE = "ready_to_invoice"
    INVOICED = "invoiced"
    INVOICED_AND_SHIPPED = "invoiced_and_shipped"
    INVOICED_READY_TO_SHIP = "invoiced_ready_to_ship"


class CustomerDefaults(_Strict):
    currency: str = Field(default="DKK", min_length=3, max_length=3)
    language: str = "da"
    vat_zone: Literal["domestic", "eu", "abroad"] = "domestic"
    customer_group: int | None = None
    layout: int | None = None
    payment_terms: int | None = None


class Employees(_Strict):
    web: int | None = None
    pos: int | None = None


class ProductSync(_Strict):
    master: Literal["rackbeat", "shopify", "none"] = "none"
    default_product_group: int | None = None
    cost_price: Literal["recommended", "actual", "none"] = "none"
    online_availability: str = "always_online"
    prices_exclude_vat: bool = False


class StockSync(_Strict):
    enabled: bool = False
    quantity: Literal["in_stock", "available"] = "available"
    all_duplicate_skus: bool = False


class Orders(_Strict):
    transfer_when: TransferWhen = TransferWhen.PAID
    rackbeat_status: RackbeatStatus = RackbeatStatus.BOOKED
    numbering: Literal["rackbeat_next", "shopify"] = "rackbeat_next"
    refunds_as_credit_notes: bool = False


class Fulfillment(_Strict):
    rackbeat_location: str | None = None
    shopify_location: str | None = None


class Pos(_Strict):
    rackbeat_status: RackbeatStatus = RackbeatStatus.INVOICED_AND_SHIPPED
    customer_number: int | None = None
    rackbeat_location: str | None = None


class Advanced(_Strict):
    use_customer_prices: bool = False
    country_locations: dict[str, str] = Field(default_factory=dict)
    rounding_product_number: str | None = Field(
        default=None,
        description=(
            "Rackbeat item that takes a cent difference between Shopify's per-line rounded tax and Rackbeat's own "
            "VAT arithmetic, so the Rackbeat total equals the Shopify total (Danish 'øreafrunding')."
        ),
    )


class RackbeatShopifySettings(_Strict):
    initial_sync: Literal["enabled", "disabled"] = "disabled"
    customer_defaults: CustomerDefaults = Field(default_factory=CustomerDefaults)
    employees: Employees = Field(default_factory=Employees)
    shipping_product_number: str = Field(min_length=1)
    product_sync: ProductSync = Field(default_factory=ProductSync)
    stock_sync: StockSync = Field(default_factory=StockSync)
    orders: Orders = Field(default_factory=Orders)
    fulfillment: Fulfillment = Field(default_factory=Fulfillment)
    pos: Pos = Field(default_factory=Pos)
    advanced: Advanced = Field(default_factory=Advanced)

    @model_validator(mode="after")
    def _country_codes_are_iso(self) -> RackbeatShopifySettings:
        for country in self.advanced.country_locations:
            if len(country) != 2 or not country.isalpha() or not country.isupper():
                raise ValueError(f"advanced.country_locations: '{country}' is not an ISO 3166 alpha-2 code")
        return self
