"""Shopbox money: integer øre, VAT included (reference/shopbox.md [seen S3, S6]). Crossdock's money is `Decimal`
kroner; the conversion is exact both ways and refuses what øre cannot hold."""

from __future__ import annotations

from decimal import Decimal

from crossdock.errors import PermanentError

_HUNDRED = Decimal(100)


def ore_to_decimal(ore: int) -> Decimal:
    """7900 → Decimal("79.00")."""
    if isinstance(ore, bool) or not isinstance(ore, int):
        raise PermanentError(f"a Shopbox amount must be whole øre, not {ore!r}")
    return (Decimal(ore) / _HUNDRED).quantize(Decimal("0.01"))


def decimal_to_ore(amount: Decimal) -> int:
    """Decimal("79.00") → 7900; Decimal("79.005") is refused: rounding here would change a price silently."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PermanentError(f"{amount!r} is not a finite amount")
    ore = amount * _HUNDRED
    if ore != ore.to_integral_value():
        raise PermanentError(f"{amount} kr has a fraction of an øre; Shopbox prices are whole øre")
    return int(ore)
