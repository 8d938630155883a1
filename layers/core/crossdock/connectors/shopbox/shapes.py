"""Shopbox API v3 payloads as pydantic models (reference/shopbox.md). Nothing here is [doc]: every field list is
partial, so unknown fields are tolerated, and where the sheet says [guess] the alternatives it names are read too.

Uids arrive as JSON numbers and are kept as strings (they are identifiers, never arithmetic); money is integer øre,
VAT included [seen S3, S6].
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _uid(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a uid is a number or a string, not a boolean")
    if isinstance(value, int):
        return str(value)
    return value


Uid = Annotated[str, BeforeValidator(_uid)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class ClientChoice(_Shape):
    """A company the login may act for (`/clients/myclients`: `{client, client0: {uid, name}}` [seen S1])."""

    uid: Uid
    name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unnest(cls, value: Any) -> Any:
        if isinstance(value, dict) and "client0" in value:
            inner = value.get("client0") or {}
            return {"uid": inner.get("uid", value.get("client")), "name": inner.get("name")}
        return value


class CashRegister(_Shape):
    uid: Uid
    name: str | None = None


class Branch(_Shape):
    uid: Uid
    name: str
    is_closed: bool = False
    # [guess] registers listed inside their branch; `GET /cash-registers/{uid}` reads one.
    cash_registers: list[CashRegister] = Field(default_factory=list)


class Tag(_Shape):
    """A product category."""

    id: Uid = Field(validation_alias=AliasChoices("id", "uid"))
    name: str | None = None


class Variance(_Shape):
    """A variant (`product_variances[]`), with its own uid."""

    uid: Uid
    name: str | None = None
    sku_code: str | None = None
    code: str | None = None  # EAN
    selling_price: int | None = None


class Product(_Shape):
    uid: Uid
    name: str = ""
    selling_price: int = 0
    stock_price: int | None = None
    tag: Uid | None = None
    code: str | None = None
    sku_code: str | None = None
    integration_number: str | None = None
    integration_type: str | None = None
    inventory_on_variants: bool = False
    crdate: int | None = None
    tstamp: int | None = None
    product_variances: list[Variance] = Field(
        default_factory=list, validation_alias=AliasChoices("product_variances", "variants")
    )


class VariantUpsert(_Shape):
    uid: Uid | None = None
    name: str
    sku_code: str | None = None
    code: str | None = None
    selling_price: int | None = None


class ProductUpsert(_Shape):
    """The body of `POST /products/create-or-update` [seen S6]: `uid` None creates, a known uid updates."""

    uid: Uid | None = None
    name: str
    selling_price: int
    stock_price: int | None = None
    tag: Uid | None = None
    code: str | None = None
    sku_code: str | None = None
    integration_number: str | None = None
    integration_type: str | None = "rackbeat"
    inventory_on_variants: bool = False
    variants: list[VariantUpsert] = Field(default_factory=list)

    def body(self) -> dict[str, Any]:
        """The JSON body, every uid (the product's, its tag's, each variant's) back as the number Shopbox sent: the
        simulator refuses a uid in quotes, and nothing says Shopbox takes one."""
        body = self.model_dump(exclude_none=False)
        body["uid"] = _wire_uid(body["uid"])
        body["tag"] = _wire_uid(body["tag"])
        body["variants"] = [{**variant, "uid": _wire_uid(variant["uid"])} for variant in body["variants"]]
        return body


def _wire_uid(uid: str | None) -> int | str | None:
    return int(uid) if uid is not None and uid.isdigit() else uid


class InventoryRow(_Shape):
    """A stock row of one branch (`/product-inventories`, row fields [seen S6])."""

    uid: Uid | None = None
    product: Uid
    product_variance: Uid | None = None
    sku_code: str | None = None
    quantity: int


class Customer(_Shape):
    """The basket's customer [guess: the fact sheet names no customer fields; `uid`, `name`, `email` as the
    simulator answers, the phone under any of the names below]."""

    uid: Uid | None = None
    name: str | None = None
    email: str | None = None
    # A number as digits (an int in JSON) is read as its text, like a uid.
    phone: Uid | None = Field(default=None, validation_alias=AliasChoices("phone", "phone_number", "mobile"))


class Payment(_Shape):
    payment_type: str | None = None
    amount: int | None = None


class BasketRow(_Shape):
    """A sale as the list shows it: without lines (they are only reliably on the detail call [seen S2, S3])."""

    uid: Uid
    crdate: int
    tstamp: int
    canceled: bool = False
    # [guess] key names `branch`, `cash_register`.
    branch: Uid | None = None
    cash_register: Uid | None = None


# [guess] The detail's line key: S3 probes these names in turn.
LINE_KEYS = ("sales", "products", "items", "lines", "basket_products")


class BasketLine(_Shape):
    uid: Uid | None = None
    product: Uid | None = None
    product_variance: Uid | None = None
    sku_code: str | None = None
    name: str | None = None
    quantity: int
    selling_price: int  # øre per unit, VAT included
    discount: int = 0  # øre for the whole line, VAT included
    vat_rate: float | None = None  # percent, e.g. 25 [guess]

    @property
    def gross_total(self) -> int:
        """The line's amount in øre, VAT included, after its discount."""
        return self.selling_price * self.quantity - self.discount


class Basket(BasketRow):
    """A sale with its lines, whichever key carried them."""

    lines: list[BasketLine] = Field(default_factory=list)
    total: int | None = None  # øre, VAT included
    currency: str = "DKK"
    customer: Customer | None = None
    payments: list[Payment] = Field(default_factory=list)
    # [guess] A return at the till names the sale it hands back (the fact sheet says nothing of returns): read
    # under any of the names the simulator can be set to use.
    return_of: Uid | None = Field(
        default=None, validation_alias=AliasChoices("return_of", "original_basket", "refund_of")
    )

    @property
    def is_return(self) -> bool:
        """Something handed back at the till: a line of negative quantity."""
        return any(line.quantity < 0 for line in self.lines)

    @model_validator(mode="before")
    @classmethod
    def _lines_under_any_key(cls, value: Any) -> Any:
        if not isinstance(value, dict) or ("lines" in value and isinstance(value["lines"], list)):
            return value
        for key in LINE_KEYS:
            if isinstance(value.get(key), list):
                return {**value, "lines": value[key]}
        return value


class Login(BaseModel):
    """What `POST /authenticate/credentials` grants."""

    model_config = ConfigDict(frozen=True)

    access_token: str = Field(repr=False)
    account_uid: str | None = None
    username: str | None = None
