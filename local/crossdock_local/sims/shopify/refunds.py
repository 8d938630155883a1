"""Refunds and cancellations of orders in the Shopify simulator.

Follows the fact sheet `../shared/reference/shopify.md`:

- "Order payload (REST shape)": `financial_status` moves to `partially_refunded` / `refunded`, `cancelled_at` is set
  on cancellation, the order keeps its `refunds[]`. Money is a decimal string.
- "Refund payload": `refunds/create` carries the REST refund exactly in the shape of
  `../shared/fixtures/shopify/2025-01/refund_1.json` (no envelope): `refund_line_items[{line_item_id, quantity,
  restock_type, subtotal, total_tax, location_id, …}]`, `transactions[]`, `order_adjustments[]`. As in the fixture,
  a refund line's `subtotal` and `total_tax` are JSON numbers while the `*_set` bags hold decimal strings.
- `refund_shipping_lines[]` follows Shopify's REST examples for 2025-04 and 2026-01 (`id, shipping_line_id,
  subtotal_amount_set, shipping_line`); `tax_amount_set` is added after GraphQL's `RefundShippingLine.taxAmountSet`
  (Guess: REST carries it too).

Amounts: a refunded line's subtotal is its price × quantity minus its discount allocations, for the refunded share
of its units, in the order's own tax convention (it contains the VAT when `taxes_included`); `total_tax` is the
line's tax for that share. Shares are rounded to the cent and the refund that takes a line's last units takes the
remainder, so refunding everything sums exactly to the order's line amounts and taxes. The transaction is what the
customer gets back: subtotals, plus taxes when they were charged on top.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crossdock_local.sims.base import (
    SimRequest,
    SimResponse,
    json_response,
)
from crossdock_local.sims.shopify.errors import INVALID_TOKEN
from crossdock_local.sims.shopify.orders import OrderBook
from crossdock_local.sims.shopify.state import Shop, UnknownOrder
from crossdock_local.sims.shopify.values import decimal_of, flag_set, gid, json_object, order_legacy_id

CENT = Decimal("0.01")


ZERO = Decimal("0")


CANCEL_REASONS = ("customer", "declined", "fraud", "inventory", "other", "staff")  # REST `reason` values


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _money(amount: Decimal) -> str:
    return str(_cents(amount))


def _money_set(amount: Decimal, currencies: tuple[str, str]) -> dict[str, Any]:
    shop_currency, presentment_currency = currencies
    return {
        "shop_money": {"amount": _money(amount), "currency_code": shop_currency},
        "presentment_money": {"amount": _money(amount), "currency_code": presentment_currency},
    }


def _currencies(order: dict[str, Any]) -> tuple[str, str]:
    currency = str(order.get("currency") or "DKK")
    return currency, str(order.get("presentment_currency") or currency)


def _set_amount(bag: Any) -> Decimal:
    return decimal_of(bag["shop_money"]["amount"]) if isinstance(bag, dict) else ZERO


def _tax_of(line: dict[str, Any]) -> Decimal:
    return sum((decimal_of(tax.get("price")) for tax in line.get("tax_lines") or []), ZERO)


def _line_net(item: dict[str, Any]) -> Decimal:
    """price × quantity − discount allocations, in the order's tax convention."""
    allocations = sum((decimal_of(a.get("amount")) for a in item.get("discount_allocations") or []), ZERO)
    return decimal_of(item.get("price")) * int(item.get("quantity") or 0) - allocations


def _shipping_net(line: dict[str, Any]) -> Decimal:
    if line.get("discounted_price") is not None:
        return decimal_of(line["discounted_price"])
    allocations = sum((decimal_of(a.get("amount")) for a in line.get("discount_allocations") or []), ZERO)
    return decimal_of(line.get("price")) - allocations


def _refund_lines(order: dict[str, Any], line_item_id: int) -> list[dict[str, Any]]:
    """Every earlier refund line of this order line."""
    return [
        rli
        for refund in order.get("refunds") or []
        for rli in refund.get("refund_line_items") or []
        if rli.get("line_item_id") == line_item_id
    ]


def _refunded_units(order: dict[str, Any], line_item_id: int) -> int:
    return sum(int(rli.get("quantity") or 0) for rli in _refund_lines(order, line_item_id))


def _refunded_shipping_ids(order: dict[str, Any]) -> set[Any]:
    return {
        rsl.get("shipping_line_id")
        for refund in order.get("refunds") or []
        for rsl in refund.get("refund_shipping_lines") or []
    }


def _merged(lines: list[tuple[int, int]]) -> dict[int, int]:
    """(line_item_id, quantity) pairs, one per line; Guess: the same line twice means the sum of both."""
    merged: dict[int, int] = {}
    for line_item_id, quantity in lines:
        if int(quantity) <= 0:
            raise ValueError(f"refund quantity must be positive, got {quantity} for line {line_item_id}")
        merged[int(line_item_id)] = merged.get(int(line_item_id), 0) + int(quantity)
    return merged


class Refunds:
    """Refunds and cancellations; shares the simulator's lock, ids, clock and outbox."""

    def __init__(self, sim: OrderBook) -> None:
        self.sim = sim

    # ---- refunds ---------------------------------------------------------------------------------------------------

    def refund(
        self,
        domain: str,
        order_id: int | str,
        lines: list[tuple[int, int]],
        *,
        shipping: bool = False,
        restock: bool = True,
        note: str = "",
        duplicate: bool = False,
    ) -> dict[str, Any]:
        """Refund units of order lines (and all not yet refunded shipping); emits `refunds/create`."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            order = self.sim.find_order(shop, order_id)
            refund = self._build(shop, order, _merged(lines), shipping=shipping, restock=restock, note=note)
            self._apply(shop, order, refund)
            self.sim.emit(shop, "refunds/create", refund, duplicate=duplicate)
            return copy.deepcopy(refund)

    def _build(
        self, shop: Shop, order: dict[str, Any], lines: dict[int, int], *, shipping: bool, restock: bool, note: str
    ) -> dict[str, Any]:
        currencies = _currencies(order)
        # Guess: restocked units go back where the order was placed (a POS till), else to the primary location.
        location_id = (order.get("location_id") or shop.catalog.primary_location.id) if restock else None
        refund_lines = [
            self._refund_line(order, line_item_id, quantity, restock, location_id, currencies)
            for line_item_id, quantity in lines.items()
        ]
        shipping_lines = self._refund_shipping(order, currencies) if shipping else []
        if not refund_lines and not shipping_lines:
            raise ValueError("nothing to refund: no lines given and no shipping left to refund")  # Guess
        refund_id = self.sim.new_id()
        now = self.sim.shop_time(shop)
        amount = self._amount(order, refund_lines, shipping_lines)
        return {
            "id": refund_id,
            "order_id": order["id"],
            "created_at": now,
            "note": note or None,  # Shopify's payload has null when no note was given
            "user_id": None,  # Guess: refunds made through the API carry no staff member
            "processed_at": now,
            "duties": [],
            "total_duties_set": _money_set(ZERO, currencies),
            "return": None,
            "restock": restock,
            "additional_fees": [],
            "total_additional_fees_set": _money_set(ZERO, currencies),
            "refund_shipping_lines": shipping_lines,
            "admin_graphql_api_id": gid("Refund", refund_id),
            "order_adjustments": [],
            "refund_line_items": refund_lines,
            # Guess: a refund returning no money (free items only) has no transaction.
            "transactions": [self._transaction(order, amount, now)] if amount else [],
        }

    def _refund_line(
        self,
        order: dict[str, Any],
        line_item_id: int,
        quantity: int,
        restock: bool,
        location_id: int | None,
        currencies: tuple[str, str],
    ) -> dict[str, Any]:
        item = next((i for i in order.get("line_items") or [] if i.get("id") == line_item_id), None)
        if item is None:
            raise ValueError(f"order {order['id']} has no line item {line_item_id}")
        subtotal, tax = self._share(order, item, quantity)
        return {
            "id": self.sim.new_id(),
            "quantity": quantity,
            "line_item_id": line_item_id,
            "location_id": location_id,
            "restock_type": "return" if restock else "no_restock",
            # JSON numbers, as in the fixture; the bags below carry the exact decimal strings.
            "subtotal": float(subtotal),
            "total_tax": float(tax),
            "subtotal_set": _money_set(subtotal, currencies),
            "total_tax_set": _money_set(tax, currencies),
            "line_item": copy.deepcopy(item),
        }

    def _share(self, order: dict[str, Any], item: dict[str, Any], quantity: int) -> tuple[Decimal, Decimal]:
        """(subtotal, tax) of `quantity` units; the refund taking the last units gets the remainder."""
        ordered = int(item.get("quantity") or 0)
        earlier = _refund_lines(order, item["id"])
        already = sum(int(rli.get("quantity") or 0) for rli in earlier)
        if already + quantity > ordered:
            raise ValueError(
                f"cannot refund {quantity} of line item {item['id']}: only {ordered - already} of {ordered} left"
            )
        net, tax = _line_net(item), _tax_of(item)
        if already + quantity == ordered:
            refunded_net = sum((_set_amount(rli.get("subtotal_set")) for rli in earlier), ZERO)
            refunded_tax = sum((_set_amount(rli.get("total_tax_set")) for rli in earlier), ZERO)
            return _cents(net - refunded_net), _cents(tax - refunded_tax)
        return _cents(net * quantity / ordered), _cents(tax * quantity / ordered)

    def _refund_shipping(self, order: dict[str, Any], currencies: tuple[str, str]) -> list[dict[str, Any]]:
        """Every shipping line not refunded before, fully: its price as charged and its tax separately."""
        done = _refunded_shipping_ids(order)
        return [
            {
                "id": self.sim.new_id(),
                "shipping_line_id": line.get("id"),
                "subtotal_amount_set": _money_set(_shipping_net(line), currencies),
                "tax_amount_set": _money_set(_tax_of(line), currencies),
                "shipping_line": copy.deepcopy(line),
            }
            for line in order.get("shipping_lines") or []
            if line.get("id") not in done
        ]

    def _amount(
        self, order: dict[str, Any], refund_lines: list[dict[str, Any]], shipping_lines: list[dict[str, Any]]
    ) -> Decimal:
        """What the customer gets back: subtotals, plus the taxes when they were charged on top of the prices."""
        goods = sum((_set_amount(r["subtotal_set"]) for r in refund_lines), ZERO)
        goods += sum((_set_amount(s["subtotal_amount_set"]) for s in shipping_lines), ZERO)
        taxes = sum((_set_amount(r["total_tax_set"]) for r in refund_lines), ZERO)
        taxes += sum((_set_amount(s["tax_amount_set"]) for s in shipping_lines), ZERO)
        return goods if order.get("taxes_included") else goods + taxes

    def _transaction(self, order: dict[str, Any], amount: Decimal, now: str) -> dict[str, Any]:
        transaction_id = self.sim.new_id()
        currency = _currencies(order)[0]
        gateways = order.get("payment_gateway_names") or ["manual"]
        number = len(order.get("refunds") or []) + 2  # the sale was the order's first transaction
        return {
            "id": transaction_id,
            "order_id": order["id"],
            "kind": "refund",
            "gateway": gateways[0],
            "status": "success",
            "message": None,
            "created_at": now,
            "test": bool(order.get("test")),
            "authorization": None,
            "location_id": order.get("location_id"),  # POS refunds happen at the till's location
            "user_id": None,
            "parent_id": None,  # Guess: the sale transaction is not modelled, so there is nothing to point at
            "processed_at": now,
            "device_id": None,
            "error_code": None,
            "source_name": order.get("source_name") or "web",  # Guess: the refund comes from where the order did
            "receipt": {},
            "amount": _money(amount),
            "currency": currency,
            "payment_id": f"{order.get('name')}.{number}",  # Guess: "#1001.2", like the fixture's "#1001.3"
            # The fixture's bag says "currency" here, not "currency_code".
            "total_unsettled_set": {
                "presentment_money": {"amount": "0.0", "currency": currency},
                "shop_money": {"amount": "0.0", "currency": currency},
            },
            "manual_payment_gateway": gateways[0] == "manual",
            "amount_rounding": None,
            "admin_graphql_api_id": gid("OrderTransaction", transaction_id),
        }

    def _apply(self, shop: Shop, order: dict[str, Any], refund: dict[str, Any]) -> None:
        """Store the refund on the order and bring quantities, current totals and financial status up to date."""
        order.setdefault("refunds", []).append(copy.deepcopy(refund))
        for item in order.get("line_items") or []:
            if any(rli["line_item_id"] == item.get("id") for rli in refund["refund_line_items"]):
                left = int(item.get("quantity") or 0) - _refunded_units(order, item["id"])
                item["current_quantity"] = left
                item["fulfillable_quantity"] = min(int(item.get("fulfillable_quantity") or 0), left)
        self._update_current_totals(order)
        order["financial_status"] = "refunded" if self._fully_refunded(order) else "partially_refunded"
        order["updated_at"] = self.sim.shop_time(shop)

    def _refunded_totals(self, order: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
        """(line subtotals, all taxes, money returned) over every refund of the order."""
        lines = taxes = returned = ZERO
        for refund in order.get("refunds") or []:
            for rli in refund.get("refund_line_items") or []:
                lines += _set_amount(rli.get("subtotal_set"))
                taxes += _set_amount(rli.get("total_tax_set"))
            for rsl in refund.get("refund_shipping_lines") or []:
                taxes += _set_amount(rsl.get("tax_amount_set"))
            for transaction in refund.get("transactions") or []:
                if transaction.get("kind") == "refund" and transaction.get("status") == "success":
                    returned += decimal_of(transaction.get("amount"))
        return lines, taxes, returned

    def _update_current_totals(self, order: dict[str, Any]) -> None:
        # The `current_*` totals are the order after refunds, as Shopify's order payload reports them.
        lines, taxes, returned = self._refunded_totals(order)
        currencies = _currencies(order)
        for key, original, refunded in (
            ("current_subtotal_price", "subtotal_price", lines),
            ("current_total_tax", "total_tax", taxes),
            ("current_total_price", "total_price", returned),
        ):
            if original in order:
                remaining = decimal_of(order[original]) - refunded
                order[key] = _money(remaining)
                if f"{key}_set" in order:
                    order[f"{key}_set"] = _money_set(remaining, currencies)

    def _fully_refunded(self, order: dict[str, Any]) -> bool:
        # Financial status is about money: refunded once everything paid has gone back.
        return self._refunded_totals(order)[2] >= decimal_of(order.get("total_price"))

    # ---- cancellation ----------------------------------------------------------------------------------------------

    def cancel(
        self, domain: str, order_id: int | str, *, reason: str = "customer", duplicate: bool = False
    ) -> dict[str, Any]:
        """Set `cancelled_at` and `cancel_reason`; emits `orders/cancelled` with the full REST order."""
        if reason not in CANCEL_REASONS:
            raise ValueError(f"cancel reason must be one of {', '.join(CANCEL_REASONS)}, got {reason!r}")
        with self.sim.lock:
            shop = self.sim.shop(domain)
            order = self.sim.find_order(shop, order_id)
            if order.get("cancelled_at"):
                raise ValueError("Order has already been cancelled")  # Guess: Shopify's 422 wording
            now = self.sim.shop_time(shop)
            order.update(cancelled_at=now, cancel_reason=reason, updated_at=now)
            self.sim.emit(shop, "orders/cancelled", order, duplicate=duplicate)
            return copy.deepcopy(order)

    # ---- control endpoints (not Shopify) ---------------------------------------------------------------------------

    def control_refund(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        """`POST …/orders/{id}/refunds` `{"lines": [{"line_item_id", "quantity"}], "shipping", "restock", "note"}`."""
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        body = json_object(request)
        if body is None:
            return json_response(400, {"errors": "body must be a JSON object"})
        try:
            lines = [(int(line["line_item_id"]), int(line["quantity"])) for line in body.get("lines") or []]
        except (KeyError, TypeError, ValueError):
            return json_response(422, {"errors": "lines must be [{line_item_id, quantity}]"})
        return self._control_order_call(
            lambda legacy_id: self.refund(
                domain,
                legacy_id,
                lines,
                shipping=bool(body.get("shipping", False)),
                restock=bool(body.get("restock", True)),
                note=str(body.get("note") or ""),
                duplicate=flag_set(request, "duplicate"),
            ),
            order_id,
            "refund",
            201,
        )

    def control_cancel(self, request: SimRequest, domain: str, order_id: str) -> SimResponse:
        """`POST …/orders/{id}/cancel`, optional `{"reason"}` (or `?reason=`)."""
        shop, error = self.sim.control_shop(request, domain)
        if shop is None:
            return error or json_response(401, {"errors": INVALID_TOKEN})
        body = json_object(request) if request.body else {}
        if body is None:
            return json_response(400, {"errors": "body must be a JSON object"})
        reason = str(body.get("reason") or request.arg("reason") or "customer")
        return self._control_order_call(
            lambda legacy_id: self.cancel(domain, legacy_id, reason=reason, duplicate=flag_set(request, "duplicate")),
            order_id,
            "order",
            200,
        )

    def _control_order_call(
        self, action: Callable[[int], dict[str, Any]], order_id: str, key: str, status: int
    ) -> SimResponse:
        try:
            legacy_id = order_legacy_id(order_id)
        except ValueError:
            return json_response(404, {"errors": "Not Found"})
        try:
            result = action(legacy_id)
        except UnknownOrder:
            return json_response(404, {"errors": "Not Found"})
        except ValueError as exc:
            return json_response(422, {"errors": str(exc)})
        return json_response(status, {key: result})
