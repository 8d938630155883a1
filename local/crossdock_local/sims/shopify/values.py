"""Values as the Admin API writes them: global ids, `Decimal` and `DateTime` scalars, ids in paths and flags."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import (
    SimRequest,
)


def decimal_of(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    return Decimal(str(value))


def gql_decimal(value: Any) -> str:
    """Shopify's GraphQL `Decimal` drops trailing zeros but keeps one decimal: "149.00" → "149.0", "12.50" → "12.5".

    Clients must parse amounts as decimals rather than expect REST's two-decimal strings.
    """
    text = format(decimal_of(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def gql_datetime(value: Any) -> str | None:
    """REST timestamps carry the shop's offset; GraphQL `DateTime` is UTC with a `Z`."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gid(kind: str, legacy_id: Any) -> str:
    return f"gid://shopify/{kind}/{legacy_id}"


def order_legacy_id(order_id: int | str) -> int:
    """Accept 450789469, "450789469" or "gid://shopify/Order/450789469"."""
    text = str(order_id).rsplit("/", 1)[-1]
    if not text.isdigit():
        raise ValueError(f"not an order id: {order_id!r}")
    return int(text)


def flag_set(request: SimRequest, name: str) -> bool:
    return (request.arg(name, "") or "").lower() in ("1", "true", "yes")


def json_object(request: SimRequest) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
