"""The parts of PeakWMS the fact sheet leaves open ([guess]), as switches: each default is the sheet's guess.

A test or a chaos run changes them in Python (`sim.rules.retry_after_seconds = 5`) or over HTTP
(`PUT /_control/rules`, validated by `RulesUpdate`: an unknown rule or a value out of range is refused with 400
naming it, and nothing changes). The connector is written to tolerate every alternative a switch offers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from pydantic import BaseModel, ConfigDict, Field, StrictBool

MAX_PAGE_SIZE = 250  # seen P1: PageSize ≤ 250; not a rule
DEFAULT_PAGE_SIZE = 100  # guess: what a keySet call without PageSize gets


@dataclass
class PeakwmsRules:
    # Seen P1/P2: 240 requests a minute per customer; guess: a sliding minute.
    requests_per_minute: int = 240
    # Guess: a 429 says `Retry-After: 15`; `retry_after_from_window` answers the sliding window's own wait instead.
    retry_after_seconds: int = 15
    retry_after_from_window: bool = False
    # Guess: keyset parameter names are case-insensitive (seen: `LastId`/`PageSize` and `lastId`/`pageSize`);
    # False accepts only those two spellings.
    case_insensitive_params: bool = True
    # Guess: a PageSize above 250 is refused (400 naming PageSize); True clamps it to 250 instead.
    clamp_page_size: bool = False
    # Guess: `GET /salesOrder/{orderId}` exists (the fact sheet shows none); False answers it 404, as an API
    # without it would, so the connector must find an order another way.
    get_order_by_order_id: bool = True
    # Guess: `GET /webhook` lists the registrations (P1 uses none); False answers it 405.
    webhook_list: bool = True
    # Guess: a second POST /salesOrder of an orderId is refused (400, errorCode DUPLICATE_ORDER_CODE); False
    # accepts it as a second order (an account that does not check).
    refuse_duplicate_order: bool = True
    # Guess: a second POST /product of a productId+variantId is refused (400, errorCode DUPLICATE_PRODUCT_CODE).
    refuse_duplicate_product: bool = True
    # Guess: GET /product/{productId} of an unknown product is 404; True answers an empty list.
    unknown_product_empty_list: bool = False
    # Guess: a sales-history row repeated (same productId, variantId, date) replaces the first; False appends it
    # (a retried call then counts twice).
    history_rows_replace: bool = True
    # Guess: a message's sending is on once the customer exists (the merchant switched it on in the UI, seen P2);
    # False: off until `set_sending` turns it on.
    sending_default: bool = True
    # Guess: packing takes the goods off the shelf without a StockAdjust (100) webhook; True sends one per line.
    stock_adjust_on_pack: bool = False
    # Guess: a payment PeakWMS captured is said by 102's `paymentCaptured: true`; True also sends 109 with the
    # order (paymentStatus 2 Captured) at that moment, the sheet's other reading.
    payment_captured_via_109: bool = False
    # Guess: a sales order line shows `quantityPacked` (the fact sheet lists no packed quantity on a line); False
    # leaves it out, and the connector must then not rely on it (a refund of a line still to fulfil waits).
    line_packed_quantity: bool = True
    # Guess: a refund (104) is money only — PeakWMS still packs every unit ordered, and its lines show no refunded
    # quantity. True: a line refund takes units not packed yet off what PeakWMS packs (it will not ship them: out of
    # stock for good, damaged, a cancelled line), the line shows `quantityRefunded`, their reservation is freed,
    # and an order with nothing left to pack becomes Packed (short) as its last pick order would make it.
    refund_takes_unpacked: bool = False
    # Guess: a refused delivery is tried 4 times in all (3 retries; the sheet guesses 3 within 15 minutes), one
    # attempt a deliver() call, then given up.
    webhook_attempts: int = 4
    # Guess: PeakWMS re-sends an earlier 100 of the same stock item after a newer one at this rate (the
    # out-of-order delivery a receiver must survive: apply the newest total, not the last to arrive).
    stale_stock_replay_rate: float = 0.0


class RulesUpdate(BaseModel):
    """What `PUT /_control/rules` may set; every field optional, unknown ones refused."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    retry_after_seconds: int | None = Field(default=None, ge=1, le=3600)
    retry_after_from_window: StrictBool | None = None
    case_insensitive_params: StrictBool | None = None
    clamp_page_size: StrictBool | None = None
    get_order_by_order_id: StrictBool | None = None
    webhook_list: StrictBool | None = None
    refuse_duplicate_order: StrictBool | None = None
    refuse_duplicate_product: StrictBool | None = None
    unknown_product_empty_list: StrictBool | None = None
    history_rows_replace: StrictBool | None = None
    sending_default: StrictBool | None = None
    stock_adjust_on_pack: StrictBool | None = None
    payment_captured_via_109: StrictBool | None = None
    line_packed_quantity: StrictBool | None = None
    refund_takes_unpacked: StrictBool | None = None
    webhook_attempts: int | None = Field(default=None, ge=1, le=100)
    stale_stock_replay_rate: float | None = Field(default=None, ge=0, le=1)


RULE_NAMES = tuple(f.name for f in fields(PeakwmsRules))
