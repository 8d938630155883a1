"""Settings of a `peakwms_shopify` connection: SPEC §4's connection fields that may change after install, and the
guided setup's choices (the history start date, the messages PeakWMS sends to the shop).

Sections are addressed with dotted keys (`messages.order_refunded`) as rackbeat_shopify's are. Unknown keys are
rejected (a typo must not be silently ignored). Whether the locations and warehouses named in `locations` exist is
`settings_save`'s job; the shop's admin domain (`web_url`) is the connection's account, not a setting
(`connection.shop_domain_of`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from crossdock.connections.model import Settings
from crossdock.connections.settings_rules import SettingProblem, Text, as_text, plain_message, problems_of, rule

__all__ = ["MESSAGES", "PeakwmsShopifySettings", "SettingProblem", "settings_problems"]

UNKNOWN_KEY = "is not a setting of a peakwms_shopify connection (check the spelling)"


def _country_code(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise rule(f"'{value}' is not an ISO 3166 alpha-2 country code (two capital letters, e.g. DK)")
    return value


def _location_id(value: str) -> str:
    # Shopify's location ids are numbers (the tail of gid://shopify/Location/<id>); a gid is accepted and cut.
    text = value.strip().removeprefix("gid://shopify/Location/")
    if not re.fullmatch(r"[0-9]+", text) or int(text) == 0:
        raise rule(f"must be a Shopify location id (a positive number), not '{value}'")
    return str(int(text))


CountryCode = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().upper() if isinstance(value, str) else value),
    AfterValidator(_country_code),
]
LocationId = Annotated[str, BeforeValidator(as_text), AfterValidator(_location_id)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class History(_Strict):
    # The first day whose sold quantities go to PeakWMS (setup step 4). None: one year before the step runs; the
    # step's own day (or later) skips the history and imports only the stock levels.
    start_date: date | None = None


class Messages(_Strict):
    """Which PeakWMS webhooks become Shopify writes (SPEC §4 step 5), changeable at any time: a switched-off
    message's webhook is answered 2xx and its event ends skipped."""

    stock_adjustments: bool = True
    ean_updates: bool = True
    order_packed_capture: bool = True
    payment_captured: bool = True
    average_cost_price: bool = False
    purchase_order_closed: bool = False
    order_refunded: bool = False


MESSAGES: tuple[str, ...] = tuple(Messages.model_fields)


class Fulfillment(_Strict):
    # Whether Shopify e-mails the customer when a packed order becomes a fulfilment; off unless the merchant says.
    notify_customer: bool = False


class PeakwmsShopifySettings(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shop_name: Text  # the label the merchant knows the shop by ("AcmeDK")
    country: CountryCode
    # Several shops sharing one PeakWMS stock: the main shop's product and variant ids are PeakWMS's product keys;
    # exactly one connection of the PeakWMS account has it (`install`).
    main_shop: bool = True
    # Off: the Shopify vendor becomes the PeakWMS product's brand; on: a supplier is created per vendor.
    create_suppliers_from_vendor: bool = False
    # Off: orders whose `source_name` is `pos` are skipped with a reason (the shop's POS takes stock itself).
    use_shopify_pos: bool = False
    # Shopify location id → PeakWMS warehouse (name or id, as PeakWMS names it). Empty: every order goes to
    # PeakWMS's default warehouse; else an order assigned to an unmapped location needs attention naming it.
    locations: dict[LocationId, Text] = Field(default_factory=dict)
    history: History = History()
    messages: Messages = Messages()
    fulfillment: Fulfillment = Fulfillment()


def settings_problems(error: ValidationError) -> list[SettingProblem]:
    """Every problem pydantic found, each under the setting's dotted key, in the words an operator needs."""
    return problems_of(error, lambda found: plain_message(found, UNKNOWN_KEY))
