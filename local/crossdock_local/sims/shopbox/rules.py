"""The parts of Shopbox the fact sheet leaves open, as switches: each default is the sheet's guess.

A test or the chaos run changes them in Python (`sim.rules.listing_delay_seconds = 30`) or over HTTP
(`PUT /_control/rules`, validated by `RulesUpdate`: an unknown rule or a value out of range is refused with 400
naming it, and nothing changes). The client is written to tolerate every alternative a switch offers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

DAY = 24 * 3600.0
LineKey = Literal["sales", "products", "items", "lines", "basket_products"]
ErrorShape = Literal["error_object", "message", "error_text"]
ReturnKey = Literal["return_of", "original_basket", "refund_of"]


@dataclass
class ShopboxRules:
    # Guess: login tokens expire after 24 h of the simulator's clock; API tokens never expire (fact sheet, Auth).
    login_token_ttl_seconds: float = DAY
    # Guess: 5 requests a second per token, answered 429 with `Retry-After` (fact sheet, Rate limits).
    requests_per_second: int = 5
    # Guess: how long after the sale a basket appears in `GET /baskets` (eventual consistency; 0: at once).
    listing_delay_seconds: float = 0.0
    # Guess: `GET /baskets` lists the newest first (S3 only assumes it); False lists the oldest first.
    newest_first: bool = True
    # Guess: the key a basket's lines come under on the detail call (S3 probes several names).
    basket_lines_key: LineKey = "sales"
    # Single GETs answer `{"data": {...}}` (True) or the bare object (False): both were seen (S1, S3).
    wrap_single: bool = True
    # Guess: `POST /product-inventories` sets the absolute quantity; True makes it add a delta instead.
    inventory_delta: bool = False
    # Seen S3: `GET /baskets?page=1` sometimes answers 500; the share of such requests that do (seeded).
    first_page_error_rate: float = 0.0
    # Guess: a sale at the till draws the branch's stock, and its cancellation puts it back.
    sales_draw_stock: bool = True
    # Guess: the page size when `per-page` is not given (S1's example shows 25) and the largest one accepted
    # (`per-page=-1` asks for everything whatever this says).
    default_per_page: int = 25
    max_per_page: int = 1000
    # Guess: the VAT rate shown on basket lines (Danish VAT), and the currency of baskets.
    vat_rate: int = 25
    currency: str = "DKK"
    # The three error shapes seen (S1): `{"error": {"name", "message", "code", "status"}}` (the default),
    # `{"message": "…"}` and `{"error": "…"}`; every refusal, injected faults' included, is worded in the one chosen.
    error_shape: ErrorShape = "error_object"
    # Guess (the fact sheet says nothing of returns): a return at the till is a basket of negative quantities whose
    # detail names the sale it returns under this key; the client reads each of these names.
    return_reference_key: ReturnKey = "return_of"


class RulesUpdate(BaseModel):
    """What `PUT /_control/rules` may set; every field optional, unknown ones refused."""

    model_config = ConfigDict(extra="forbid")

    login_token_ttl_seconds: float | None = Field(default=None, gt=0)
    requests_per_second: int | None = Field(default=None, ge=1, le=10_000)
    listing_delay_seconds: float | None = Field(default=None, ge=0, le=DAY)
    newest_first: StrictBool | None = None
    basket_lines_key: LineKey | None = None
    wrap_single: StrictBool | None = None
    inventory_delta: StrictBool | None = None
    first_page_error_rate: float | None = Field(default=None, ge=0, le=1)
    sales_draw_stock: StrictBool | None = None
    default_per_page: int | None = Field(default=None, ge=1, le=10_000)
    max_per_page: int | None = Field(default=None, ge=1, le=100_000)
    vat_rate: int | None = Field(default=None, ge=0, le=100)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    error_shape: ErrorShape | None = None
    return_reference_key: ReturnKey | None = None


RULE_NAMES = tuple(f.name for f in fields(ShopboxRules))
