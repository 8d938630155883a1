"""Settings of a `rackbeat_shopify` connection: the four tabs of SPEC §1.2–1.6, with their defaults and rules.

Keys are the names SPEC uses, so the settings API, the CLI and the code speak one language. Unknown keys are
rejected (a typo in a setting must not be silently ignored). Every rule the settings can be checked against without
asking Rackbeat lives here; whether the numbers they name exist in the Rackbeat account is `flows.settings`' job.

A broken rule is reported under its dotted key (`orders.fallback_product_number`), and `settings_problems` lists
every problem of a rejected save at once, so the operator can fix them all in one go.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from crossdock.connections.model import Settings

# What every kind shares (kept importable from here): a problem under its dotted key (`dotted.key: message`), the
# error type of a broken rule (its context carries the plain reason and, for a rule that spans a tab, the dotted
# key it is about, which the error's location alone cannot say), the Rackbeat number type.
from crossdock.connections.settings_rules import RULE as RULE
from crossdock.connections.settings_rules import RackbeatNumber as RackbeatNumber
from crossdock.connections.settings_rules import SettingProblem as SettingProblem
from crossdock.connections.settings_rules import problems_of, rule

ALWAYS_ONLINE = "always_online"


def _not_blank(value: str) -> str:
    # Kept as given (this kind's numbers and names are not stripped; Shopbox's and Webshipper's `Text` are).
    if not value.strip():
        raise rule("must not be blank")
    return value


def _currency_code(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise rule(f"'{value}' is not an ISO 4217 currency code (three capital letters, e.g. DKK)")
    return value


def _country_code(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise rule(f"'{value}' is not an ISO 3166 alpha-2 country code (two capital letters, e.g. DK)")
    return value


def _field_id_as_text(value: Any) -> Any:
    """A custom field id may come as a JSON number; it is kept as text, as Rackbeat's field values name it."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _online_availability(value: str) -> str:
    if value == ALWAYS_ONLINE:
        return value
    if not re.fullmatch(r"[0-9]+", value) or int(value) == 0:
        raise rule(f"must be '{ALWAYS_ONLINE}' or the id of a checkbox custom field on items, not '{value}'")
    return str(int(value))  # "007" and "7" name the same field; item field values are matched on "7"


Text = Annotated[str, AfterValidator(_not_blank)]
CurrencyCode = Annotated[str, AfterValidator(_currency_code)]
CountryCode = Annotated[str, AfterValidator(_country_code)]
OnlineAvailability = Annotated[str, BeforeValidator(_field_id_as_text), AfterValidator(_online_availability)]


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
    currency: CurrencyCode = "DKK"
    language: Text = "da"
    # The zone of an order (and a new customer) whose delivery country is not known (nothing shipped: a pickup).
    vat_zone: Literal["domestic", "eu", "abroad"] = "domestic"
    customer_group: RackbeatNumber | None = None
    layout: RackbeatNumber | None = None
    payment_terms: RackbeatNumber | None = None
    # The Rackbeat account's own country: a delivery there is `domestic`, elsewhere in the EU `eu`, else `abroad`
    # (the fact sheet shows no country on the account, so the merchant says it; Danish merchants are the default).
    home_country: CountryCode = "DK"
    # The Rackbeat customer of orders with neither a customer nor an e-mail (a guest checkout, as Shopify sends it
    # without protected-customer-data approval). Unset, such an order stops as needs_attention naming this key
    # rather than creating a customer per order.
    guest_customer_number: RackbeatNumber | None = None


class Employees(_Strict):
    web: RackbeatNumber | None = None
    pos: RackbeatNumber | None = None


class ProductSync(_Strict):
    master: Literal["rackbeat", "shopify", "none"] = "none"
    default_product_group: RackbeatNumber | None = None
    cost_price: Literal["recommended", "actual", "none"] = "none"
    online_availability: OnlineAvailability = ALWAYS_ONLINE
    prices_exclude_vat: bool = False

    @model_validator(mode="after")
    def _shopify_master_names_a_group(self) -> ProductSync:
        # Products created in Rackbeat from the shop need a group to land in; guessing one would misfile them.
        if self.master == "shopify" and self.default_product_group is None:
            raise rule("required when product_sync.master is 'shopify'", "product_sync.default_product_group")
        return self


class StockSync(_Strict):
    enabled: bool = False
    quantity: Literal["in_stock", "available"] = "available"
    all_duplicate_skus: bool = False


# Four digits fit Shopify's default start (#1001) and little more; nine keep a one-digit prefix inside Rackbeat's
# numbers. Guess: Rackbeat's order numbers are 32-bit signed integers (its API documents no upper bound).
MIN_NUMBER_DIGITS = 4
MAX_NUMBER_DIGITS = 9
MAX_RACKBEAT_NUMBER = 2_147_483_647


class Orders(_Strict):
    transfer_when: TransferWhen = TransferWhen.PAID
    rackbeat_status: RackbeatStatus = RackbeatStatus.BOOKED
    numbering: Literal["rackbeat_next", "shopify"] = "rackbeat_next"
    refunds_as_credit_notes: bool = False
    # Lines that cannot be matched to a Rackbeat item (no SKU, deleted product, gift card, unknown SKU): `fail`
    # the order as needs_attention, or book them on `fallback_product_number` with the line's own title and price.
    unmapped_lines: Literal["fail", "fallback"] = "fail"
    fallback_product_number: Text | None = None
    # Several shops on one Rackbeat account all count from #1001: with `numbering = shopify` each shop gets its own
    # range of Rackbeat numbers, the prefix followed by Shopify's number in `number_digits` digits (prefix 2, six
    # digits: #1001 is Rackbeat order 2001001). Prefixes are unique across the account's connections (settings_save).
    number_prefix: RackbeatNumber | None = None
    number_digits: int = 6

    @model_validator(mode="after")
    def _fallback_names_an_item(self) -> Orders:
        if self.unmapped_lines == "fallback" and self.fallback_product_number is None:
            raise rule("required when orders.unmapped_lines is 'fallback'", "orders.fallback_product_number")
        return self

    @model_validator(mode="after")
    def _prefix_makes_rackbeat_numbers(self) -> Orders:
        if self.number_prefix is None:
            return self
        if self.numbering != "shopify":
            # Rackbeat's own series has no Shopify number to put after a prefix; ignoring it would mislead.
            raise rule("only applies when orders.numbering is 'shopify'", "orders.number_prefix")
        if not MIN_NUMBER_DIGITS <= self.number_digits <= MAX_NUMBER_DIGITS:
            raise rule(
                f"must be between {MIN_NUMBER_DIGITS} and {MAX_NUMBER_DIGITS}, not {self.number_digits}",
                "orders.number_digits",
            )
        highest = (self.number_prefix + 1) * 10**self.number_digits - 1
        if highest > MAX_RACKBEAT_NUMBER:
            raise rule(
                f"{self.number_prefix} followed by {self.number_digits} digits makes numbers up to {highest}, over "
                f"the largest Rackbeat order number ({MAX_RACKBEAT_NUMBER})",
                "orders.number_prefix",
            )
        return self

    def number_range(self) -> tuple[int, int | None]:
        """The Rackbeat order numbers this shop's orders may take (the upper end None: unbounded)."""
        if self.number_prefix is None:
            return 1, None
        return self.number_prefix * 10**self.number_digits, (self.number_prefix + 1) * 10**self.number_digits - 1


class Fulfillment(_Strict):
    rackbeat_location: Text | None = None
    shopify_location: Text | None = None
    # Whether Shopify e-mails the customer when a carrier's tracking becomes a fulfilment of the order (a
    # Webshipper shipment, `rackbeat_webshipper`'s `tracking_to_shopify`). Off, as in Shopify's own API: Crossdock
    # writes to a merchant's customers only when the merchant says so.
    notify_customer: bool = False


class Pos(_Strict):
    rackbeat_status: RackbeatStatus = RackbeatStatus.INVOICED_AND_SHIPPED
    customer_number: RackbeatNumber | None = None
    rackbeat_location: Text | None = None


class Advanced(_Strict):
    use_customer_prices: bool = False
    country_locations: dict[CountryCode, Text] = Field(default_factory=dict)
    rounding_product_number: Text | None = Field(
        default=None,
        description=(
            "Rackbeat item that takes a cent difference between Shopify's per-line rounded tax and Rackbeat's own "
            "VAT arithmetic, so the Rackbeat total equals the Shopify total (Danish 'øreafrunding')."
        ),
    )


# The sweep runs on EventBridge Scheduler, whose rates are whole minutes; more often than every 5 minutes would spend
# the shop's API budget on a safety net, less often than daily would leave missed orders waiting too long.
MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 1440


class Reconciliation(_Strict):
    """The scheduled sweep that finds what webhooks missed (SPEC §5): orders without a Rackbeat order, refunds
    without a credit note, stock that differs. Each sweep looks at what changed since the previous one, reaching
    `overlap_minutes` further back so an update Shopify indexed late is still seen."""

    enabled: bool = True
    interval_minutes: int = 15
    overlap_minutes: int = 10

    @model_validator(mode="after")
    def _sane_window(self) -> Reconciliation:
        if not MIN_INTERVAL_MINUTES <= self.interval_minutes <= MAX_INTERVAL_MINUTES:
            raise rule(
                f"must be between {MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES} minutes, "
                f"not {self.interval_minutes}",
                "reconciliation.interval_minutes",
            )
        if self.overlap_minutes < 0:
            raise rule(f"must not be negative, not {self.overlap_minutes}", "reconciliation.overlap_minutes")
        if self.overlap_minutes >= self.interval_minutes:
            # Shopify indexes an update within seconds or minutes; an overlap as long as the interval would re-read
            # every order in every sweep without catching anything more.
            raise rule(
                f"must be shorter than reconciliation.interval_minutes ({self.interval_minutes}), "
                f"not {self.overlap_minutes}",
                "reconciliation.overlap_minutes",
            )
        return self


class RackbeatShopifySettings(Settings, _Strict):
    initial_sync: Literal["enabled", "disabled"] = "disabled"
    customer_defaults: CustomerDefaults = Field(default_factory=CustomerDefaults)
    employees: Employees = Field(default_factory=Employees)
    shipping_product_number: Text = Field(
        description="the Rackbeat item number that orders' shipping cost is booked on"
    )
    product_sync: ProductSync = Field(default_factory=ProductSync)
    stock_sync: StockSync = Field(default_factory=StockSync)
    orders: Orders = Field(default_factory=Orders)
    fulfillment: Fulfillment = Field(default_factory=Fulfillment)
    pos: Pos = Field(default_factory=Pos)
    advanced: Advanced = Field(default_factory=Advanced)
    reconciliation: Reconciliation = Field(default_factory=Reconciliation)


def settings_problems(error: ValidationError) -> list[SettingProblem]:
    """Every problem pydantic found, each under the setting's dotted key, in the words an operator needs."""
    return problems_of(error, lambda found: _message(found["type"], found["loc"], found["msg"], found.get("ctx") or {}))


def _message(kind: str, location: tuple[int | str, ...], text: str, context: dict[str, Any]) -> str:
    if kind == RULE:
        return str(context["reason"])
    if kind == "extra_forbidden":
        return "is not a setting (check the spelling and the tab it belongs to)"
    if kind == "missing":
        top = RackbeatShopifySettings.model_fields.get(str(location[0])) if len(location) == 1 else None
        return f"is required ({top.description})" if top and top.description else "is required"
    return text
