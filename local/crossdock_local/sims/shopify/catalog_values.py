"""The catalog's limits and names, and the values its inputs carry: ids, money, weights, handles, statuses."""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crossdock_local.sims.base import json_default
from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.search import as_list

DEFAULT_LOCATION_NAME = "Shop location"


IDEMPOTENCY_REQUIRED_FROM = "2026-04"


# The modelled mutations the fact sheets list as needing a key from 2026-04.
IDEMPOTENT_REQUIRED = frozenset({"inventorySetQuantities", "inventoryAdjustQuantities", "refundCreate"})


IDEMPOTENCY_TTL = 24 * 3600.0


BULK_RESULT_TTL = 7 * 24 * 3600.0  # fact sheet: "result URL valid 7 days"


MAX_RUNNING_BULK_OPERATIONS = 5  # fact sheet: "up to 5 concurrent per shop from 2026-01"


MAX_BULK_CONNECTIONS = 5


MAX_INPUT_ARRAY = 250  # fact sheet: "array inputs ≤ 250 items"


MAX_QUANTITY = 1_000_000_000


MAX_OPTIONS = 3


QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)


SETTABLE_QUANTITY_NAMES = ("available", "on_hand")


INVENTORY_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)


WEIGHT_UNITS = {"KILOGRAMS": "kg", "GRAMS": "g", "POUNDS": "lb", "OUNCES": "oz"}  # GraphQL enum → REST


WEIGHT_ENUMS = {rest: enum for enum, rest in WEIGHT_UNITS.items()}


GRAMS_PER_UNIT = {"kg": Decimal(1000), "g": Decimal(1), "lb": Decimal("453.59237"), "oz": Decimal("28.349523125")}


PRODUCT_STATUSES = ("active", "draft", "archived")


CENT = Decimal("0.01")


ACTIVE_BULK_STATUSES = ("CREATED", "RUNNING")


def check_quantity_names(names: Any) -> None:
    # `names` is `[String!]!` in the schema; which strings name a quantity is checked when the field resolves.
    unknown = [name for name in as_list(names) if name not in QUANTITY_NAMES]
    if unknown:
        raise ApiError(
            f"Invalid quantity name(s) {', '.join(map(repr, unknown))}; valid names are {', '.join(QUANTITY_NAMES)}",
            "argumentLiteralsIncompatible",
        )


def legacy_of(value: Any, kind: str) -> int | None:
    """The numeric id of `gid://shopify/<kind>/<id>`; None for a well-formed GID of another kind."""
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", str(value))
    if match is None:
        raise ApiError(f"Invalid global id '{value}'", "argumentLiteralsIncompatible")
    return int(match.group(2)) if match.group(1) == kind else None


def rest_money(value: Any, what: str) -> str:
    """REST money: a two-decimal string. GraphQL `Money`/`Decimal` inputs arrive as strings or numbers."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(f"Invalid value for {what}: {value!r} is not a decimal", "INVALID_VARIABLE") from None
    if not amount.is_finite():
        raise ApiError(f"Invalid value for {what}: {value!r} is not a decimal", "INVALID_VARIABLE")
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def cost_amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(rest_money(value, "cost"))


def grams_of(weight: Any, unit: str) -> int:
    return int((Decimal(str(weight or 0)) * GRAMS_PER_UNIT.get(unit, Decimal(1000))).to_integral_value(ROUND_HALF_UP))


def weight_input(measurement: Any) -> tuple[float, str] | None:
    """`{weight: {unit: KILOGRAMS, value: 1.2}}` → (1.2, "kg"); None when no weight is given."""
    weight = measurement.get("weight") if isinstance(measurement, dict) else None
    if not isinstance(weight, dict):
        return None
    unit = weight.get("unit", "KILOGRAMS")
    if unit not in WEIGHT_UNITS:
        raise ApiError(f"Invalid value for WeightUnit: {unit!r}", "INVALID_VARIABLE")
    try:
        value = float(weight.get("value") or 0)
    except (TypeError, ValueError):
        raise ApiError(f"Invalid value for weight: {weight.get('value')!r}", "INVALID_VARIABLE") from None
    return value, WEIGHT_UNITS[unit]


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"})


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title.lower().translate(_TRANSLITERATE))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "product"


def product_status(value: Any) -> str:
    status = str(value).lower()
    if status not in PRODUCT_STATUSES:
        raise ApiError(f"Invalid value for ProductStatus: {value!r}", "INVALID_VARIABLE")
    return status


def tags_text(value: Any) -> str:
    return ", ".join(str(tag) for tag in value) if isinstance(value, list) else str(value or "")


def user_error(path: list[Any], message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": [str(part) for part in path], "message": message}
    if code is not None:
        error["code"] = code
    return error


def at_least(version: str, minimum: str) -> bool:
    return version == "unstable" or version >= minimum  # "YYYY-MM" compares as text


# Bulk files are compact UTF-8 JSON lines, like Shopify's.
jsonl_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=json_default)


def default_variant(data: dict[str, Any]) -> dict[str, Any]:
    """The variant a product created without variants gets: the first value of each option sent."""
    values = [
        {"optionName": option.get("name"), "name": option["values"][0].get("name")}
        for option in data.get("productOptions") or []
        if option.get("values")
    ]
    return {"optionValues": values} if values else {}


def invalid_input(path: str, explanation: str) -> ApiError:
    """The shape of Shopify's input coercion errors, raised before anything runs."""
    return ApiError(
        f"Variable $input was provided invalid value for {path} ({explanation})",
        "INVALID_VARIABLE",
        problems=[{"path": path.split("."), "explanation": explanation}],
    )
