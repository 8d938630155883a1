"""Settings of a `rackbeat_webshipper` connection: SPEC §3's keys, flat.

Keys are the names SPEC uses; unknown keys are rejected (a typo must not be silently ignored). The types, forms and
rules across keys live here, and every broken rule of a document is reported at once under its key; whether what
the settings name exists in Rackbeat or Webshipper is `settings_save`'s job.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from crossdock.connections.model import Settings
from crossdock.connections.settings_rules import (
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

__all__ = ["WITHOUT_RULES", "RackbeatWebshipperSettings", "SettingProblem", "settings_problems"]

UNKNOWN_KEY = "is not a setting of a rackbeat_webshipper connection (check the spelling)"


def _id(value: str) -> str:
    if not re.fullmatch(r"[0-9]+", value.strip()) or int(value) == 0:
        raise rule(f"must be an id (a positive number), not '{value}'")
    return str(int(value))  # "007" and "7" name the same record


# A Webshipper id, or a Rackbeat delivery term's, as text.
Id = Annotated[str, BeforeValidator(as_text), AfterValidator(_id)]


class RackbeatWebshipperSettings(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The Webshipper channel orders from Rackbeat are created in; orders coming back are read from every channel.
    order_channel: Id | None = None
    # The rate of an order, first found wins (docs/webshipper.md "The shipping rate"): its Rackbeat delivery term's
    # (delivery term id → Webshipper shipping rate id); for an order made from a Shopify order, its Shopify shipping
    # line's title (→ rate id, compared without regard to case); else the default rate.
    delivery_term_rates: dict[Id, Id] = Field(default_factory=dict)
    shipping_method_rates: dict[Text, Id] = Field(default_factory=dict)
    default_shipping_rate: Id | None = None
    send_addresses: bool = True
    default_payment_terms: RackbeatNumber | None = None
    default_customer_group: RackbeatNumber | None = None
    excluded_customer_groups: list[RackbeatNumber] = Field(default_factory=list)
    # Unset: an order naming an unknown product ends needs_attention; set: the product is created in this group.
    product_group: RackbeatNumber | None = None
    default_employee: RackbeatNumber | None = None
    default_layout: RackbeatNumber | None = None
    default_vat_zone: Literal["domestic", "eu", "abroad"] = "domestic"
    use_product_default_location: bool = True
    default_location: Text | None = None
    order_transfer: Literal["both", "rackbeat_to_webshipper", "webshipper_to_rackbeat"] = "both"
    transfer_when: Literal["order_booked", "shipment_shipped"] = "order_booked"
    line_location_filter: Text = "all"
    # The Rackbeat customer of a Webshipper order whose customer can be neither matched nor created.
    default_customer: RackbeatNumber | None = None
    tracking_to_shopify: bool = True

    @model_validator(mode="after")
    def _rules_across_keys(self, info: ValidationInfo) -> RackbeatWebshipperSettings:
        if not rules_skipped(info):
            refuse(type(self).__name__, self.broken_rules())
        return self

    def broken_rules(self) -> list[SettingProblem]:
        """Every rule across keys the settings break, all at once."""
        broken: list[SettingProblem] = []
        # Orders sent to Webshipper need a channel to land in; guessing one would mix them into a shop's channel.
        if self.order_transfer != "webshipper_to_rackbeat" and self.order_channel is None:
            broken.append(SettingProblem("order_channel", f"required when order_transfer is '{self.order_transfer}'"))
        if not self.use_product_default_location and self.default_location is None:
            broken.append(SettingProblem("default_location", "required when use_product_default_location is false"))
        broken += _same_shipping_methods(self.shipping_method_rates)
        if self.default_customer_group is not None and self.default_customer_group in self.excluded_customer_groups:
            broken.append(
                SettingProblem(
                    "excluded_customer_groups",
                    f"must not hold default_customer_group ({self.default_customer_group}): the customers created "
                    "from Webshipper would never be transferred",
                )
            )
        return broken


def shipping_method_key(title: str) -> str:
    """How a Shopify shipping line's title is compared with the keys of `shipping_method_rates`: a merchant types
    "gls pakkeshop" for the shop's "GLS Pakkeshop"."""
    return " ".join(title.split()).casefold()


def _same_shipping_methods(rates: dict[str, str]) -> list[SettingProblem]:
    """Two keys that differ only in case or spacing would name one shipping line with two rates: refused rather
    than one of them silently winning."""
    seen: dict[str, str] = {}
    broken = []
    for title in rates:
        first = seen.setdefault(shipping_method_key(title), title)
        if first != title:
            broken.append(
                SettingProblem(
                    f"shipping_method_rates.{title}",
                    f"names the same shipping line as '{first}' (titles are compared without regard to case)",
                )
            )
    return broken


def settings_problems(error: ValidationError) -> list[SettingProblem]:
    """Every problem pydantic found, each under the setting's dotted key, in the words an operator needs."""
    return problems_of(error, lambda found: plain_message(found, UNKNOWN_KEY))
