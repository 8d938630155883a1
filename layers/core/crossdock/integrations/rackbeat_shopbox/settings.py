"""Settings of a `rackbeat_shopbox` connection: SPEC §2's keys, flat at the top, and the sales poll in `sales`.

Keys are the names SPEC uses, so the settings API, the CLI and the code speak one language; unknown keys are
rejected (a typo must not be silently ignored). Every rule the settings can be checked against without asking
Rackbeat or Shopbox lives here; whether what they name exists in the two accounts is `settings_save`'s job.

A broken rule is reported under its dotted key (`sales.customer_number`), and `settings_problems` lists every
problem of a rejected save at once, so the operator can fix them all in one go.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from crossdock.connections.model import Settings

# What every kind shares: a problem under its dotted key, a broken rule as a pydantic error, the value types.
from crossdock.connections.settings_rules import (
    RULE,
    SKIP_RULES,
    WITHOUT_RULES,
    RackbeatNumber,
    SettingProblem,
    Text,
    as_text,
    plain_message,
    problems_of,
    refuse,
    rule,
    rules_skipped,
)

__all__ = [
    "RULE",
    "SKIP_RULES",
    "WITHOUT_RULES",
    "RackbeatShopboxSettings",
    "Sales",
    "SalesStatus",
    "SettingProblem",
    "settings_problems",
]

UNKNOWN_KEY = "is not a setting of a rackbeat_shopbox connection (check the spelling and the section)"


def _field_id(value: str) -> str:
    if not re.fullmatch(r"[0-9]+", value) or int(value) == 0:
        raise rule(f"must be the id of a custom item field in Rackbeat (a positive number), not '{value}'")
    return str(int(value))  # "007" and "7" name the same field


def _shopbox_uid(value: str) -> str:
    if not re.fullmatch(r"[0-9]+", value):
        raise rule(f"must be a Shopbox uid (digits), not '{value}'")
    return str(int(value))


# Ids may come as JSON numbers (Shopbox sends its uids as numbers, Rackbeat its field ids); kept as text, as the
# mapping keys and field values name them.
FieldId = Annotated[str, BeforeValidator(as_text), AfterValidator(_field_id)]
ShopboxUid = Annotated[str, BeforeValidator(as_text), AfterValidator(_shopbox_uid)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SalesStatus(StrEnum):
    """How far a Shopbox sale is processed in Rackbeat (SPEC §1.5's targets that fit a sale made at a till)."""

    DRAFT = "draft"
    BOOKED = "booked"
    SHIPPED = "shipped"
    INVOICED = "invoiced"
    INVOICED_AND_SHIPPED = "invoiced_and_shipped"


# The poll runs on EventBridge Scheduler, whose rates are whole minutes: every minute at most. Every two hours is
# what Rackbeat's own integration does; a sale waiting longer than that is what this integration exists to avoid.
MIN_POLL_MINUTES = 1
MAX_POLL_MINUTES = 120
# Shopbox lists a basket some seconds after it was made and may cancel it later; a day back catches a late listing
# after any outage the schedule itself recovers from (the fact sheet's daily re-read covers cancellations).
MAX_OVERLAP_MINUTES = 1440
# The daily re-read reaches this many days behind the window for cancellations of older baskets. Each day costs
# about sales-a-day / 100 extra list pages once a day; a month bounds it (Shopbox's list has no date filter, so a
# longer reach reads the whole history every night).
MAX_CANCELLATION_DAYS = 31


class Sales(_Strict):
    """Shopbox baskets polled into Rackbeat orders (SPEC §2: every 5 minutes by default, down to every minute)."""

    enabled: bool = True
    poll_minutes: int = 5
    overlap_minutes: int = 30
    # How far back (days) the first run after midnight UTC looks for sales cancelled after the day they were made.
    cancellation_days: int = 1
    # A POS sale is paid and handed over at the till: invoiced and shipped is what happened.
    rackbeat_status: SalesStatus = SalesStatus.INVOICED_AND_SHIPPED
    # The Rackbeat customer of sales made without a customer (most sales at a till).
    customer_number: RackbeatNumber | None = None
    # The employee put on the orders as "our reference"; unset, Rackbeat's default.
    employee_number: RackbeatNumber | None = None

    @model_validator(mode="after")
    def _a_sane_poll(self, info: ValidationInfo) -> Sales:
        if not rules_skipped(info):
            refuse(type(self).__name__, self.broken_rules())
        return self

    def broken_rules(self) -> list[SettingProblem]:
        broken: list[SettingProblem] = []
        if not MIN_POLL_MINUTES <= self.poll_minutes <= MAX_POLL_MINUTES:
            broken.append(
                SettingProblem(
                    "sales.poll_minutes",
                    f"must be between {MIN_POLL_MINUTES} and {MAX_POLL_MINUTES} minutes, not {self.poll_minutes}",
                )
            )
        if not 0 <= self.overlap_minutes <= MAX_OVERLAP_MINUTES:
            broken.append(
                SettingProblem(
                    "sales.overlap_minutes",
                    f"must be between 0 and {MAX_OVERLAP_MINUTES} minutes, not {self.overlap_minutes}",
                )
            )
        if not 1 <= self.cancellation_days <= MAX_CANCELLATION_DAYS:
            broken.append(
                SettingProblem(
                    "sales.cancellation_days",
                    f"must be between 1 and {MAX_CANCELLATION_DAYS} days, not {self.cancellation_days}",
                )
            )
        if self.enabled and self.customer_number is None:
            # Guessing a customer would book every till sale on someone's account.
            broken.append(
                SettingProblem(
                    "sales.customer_number", "required when sales.enabled is true (the Rackbeat customer of till sales)"
                )
            )
        return broken


ProductSync = Literal["rackbeat", "shopbox", "both", "off"]


class RackbeatShopboxSettings(Settings, _Strict):
    # Chosen once, when the connection is first activated (settings_save refuses a later change).
    initial_sync: Literal["shopbox_to_rackbeat", "none"] = "none"
    uid_field_id: FieldId | None = Field(
        default=None, description="the id of the Rackbeat custom item field holding the Shopbox product UID"
    )
    variant_field_id: FieldId | None = Field(
        default=None, description="the id of the Rackbeat custom item field holding the Shopbox variant UID"
    )
    product_sync: ProductSync = "off"
    create_boms_in_shopbox: bool = False
    add_vat: bool = True
    # Shopbox branch uid → Rackbeat location number.
    locations: dict[ShopboxUid, Text] = Field(default_factory=dict)
    main_location_rackbeat: Text | None = None
    main_location_shopbox: ShopboxUid | None = None
    # Shopbox tag (category) id → Rackbeat product group number.
    categories: dict[ShopboxUid, RackbeatNumber] = Field(default_factory=dict)
    default_category_group: RackbeatNumber | None = None
    sales: Sales = Field(default_factory=Sales)

    @model_validator(mode="after")
    def _rules_across_keys(self, info: ValidationInfo) -> RackbeatShopboxSettings:
        if not rules_skipped(info):
            refuse(type(self).__name__, self.broken_rules(with_sales=False))
        return self

    def broken_rules(self, *, with_sales: bool = True) -> list[SettingProblem]:
        """Every rule across keys the settings break (`with_sales`: the sales section's too, which pydantic
        checks on its own, before these)."""
        broken = self.sales.broken_rules() if with_sales else []
        if self.create_boms_in_shopbox and self.product_sync not in ("rackbeat", "both"):
            # BOMs are Rackbeat's; they reach Shopbox only when products flow from Rackbeat (seed 002).
            broken.append(
                SettingProblem(
                    "create_boms_in_shopbox",
                    f"only applies when product_sync is 'rackbeat' or 'both', not '{self.product_sync}'",
                )
            )
        # Moving products either way, or copying them once, binds each Rackbeat item to its Shopbox product and
        # variant through the two custom fields; without them a product would be created again on every sync.
        moving = self._what_moves_products()
        if moving is not None:
            broken += [
                SettingProblem(key, f"required when {moving}")
                for key in ("uid_field_id", "variant_field_id")
                if getattr(self, key) is None
            ]
        if self.uid_field_id is not None and self.uid_field_id == self.variant_field_id:
            broken.append(
                SettingProblem(
                    "variant_field_id",
                    f"must be another field than uid_field_id ({self.uid_field_id}): one holds the product's UID, "
                    "the other the variant's",
                )
            )
        # Items created in Rackbeat from Shopbox land in their category's group, else in this one; guessing a group
        # would misfile them (and a group without stock would lose the initial sync's stock).
        if self.default_category_group is None:
            if self.initial_sync == "shopbox_to_rackbeat":
                broken.append(
                    SettingProblem("default_category_group", "required when initial_sync is 'shopbox_to_rackbeat'")
                )
            elif self.product_sync in ("shopbox", "both"):
                broken.append(
                    SettingProblem("default_category_group", f"required when product_sync is '{self.product_sync}'")
                )
        return broken

    def _what_moves_products(self) -> str | None:
        if self.initial_sync == "shopbox_to_rackbeat":
            return "initial_sync is 'shopbox_to_rackbeat'"
        if self.product_sync != "off":
            return f"product_sync is '{self.product_sync}'"
        return None

    def rackbeat_location_of(self, branch_uid: str) -> str | None:
        """The Rackbeat location a branch's sales draw stock from: its mapping, else `main_location_rackbeat`."""
        return self.locations.get(str(branch_uid), self.main_location_rackbeat)


def settings_problems(error: ValidationError) -> list[SettingProblem]:
    """Every problem pydantic found, each under the setting's dotted key, in the words an operator needs."""
    return problems_of(error, lambda found: plain_message(found, UNKNOWN_KEY))
