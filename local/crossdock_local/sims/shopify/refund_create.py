"""`refundCreate` in the Shopify simulator (reference/shopify_wms.md "Writes" → Refund, "Idempotency keys",
"Behaviours a simulator must model" 5).

- `refundCreate(input: {orderId, notify, note, refundLineItems: [{lineItemId, quantity, restockType, locationId}],
  transactions: [{orderId, parentId, amount, gateway, kind: REFUND}], shipping}) @idempotent(key:)` [doc H5, H7].
  From 2026-04 the key is mandatory: without it the call fails at runtime although the schema does not mark the
  directive required, and a replayed key answers the first result (the catalog's `idempotent` wrapper).
- `restockType` [doc H7]: RETURN takes back fulfilled units (at most those fulfilled and not returned yet), CANCEL
  removes unfulfilled ones (at most those left to fulfil), NO_RESTOCK refunds without stock and takes no
  `locationId`; LEGACY_RESTOCK is refused. RETURN and CANCEL put the units back at `locationId` (default: where the
  line's fulfillment order is [guess]) and the stock change emits `inventory_levels/update` as any stock change.
- Every transaction needs the `parentId` of a successful SALE or CAPTURE of the order, kind REFUND, an amount up
  to what is left of that parent; the gateway must be the parent's [guess]. Partial and repeated refunds are
  allowed [doc H7].
- The refund is stored REST-shaped on the order as `Refunds` stores its own (the fixture `2025-01/refund_1.json`)
  and echoed as `refunds/create`, then `orders/updated` [guess: the second echo].
Each refusal is a `userErrors` entry naming the input field and changes nothing; the wording is a guess.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.fulfillments import Fulfillments
from crossdock_local.sims.shopify.graphql_api import GqlField, RootResolver
from crossdock_local.sims.shopify.order_views import gql_refund
from crossdock_local.sims.shopify.orders import OrderBook
from crossdock_local.sims.shopify.payments import Payments
from crossdock_local.sims.shopify.refunds import Refunds
from crossdock_local.sims.shopify.state import Shop
from crossdock_local.sims.shopify.values import decimal_of, order_legacy_id

ZERO = Decimal("0")
Restock = Callable[[Shop, dict[str, Any], int, int], None]
"""Puts `quantity` units of an order line's variant back at a location: (shop, line item, location id, quantity)."""

_REST_RESTOCK = {"RETURN": "return", "CANCEL": "cancel", "NO_RESTOCK": "no_restock"}


def _legacy(value: Any, kind: str) -> int | None:
    text = str(value or "")
    prefix = f"gid://shopify/{kind}/"
    tail = text[len(prefix) :] if text.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def _error(message: str, *path: str | int) -> dict[str, Any]:
    return {"field": ["input", *[str(part) for part in path]], "message": message}


class RefundCreation:
    """`refundCreate` over the simulator's refunds, payments and fulfillment orders."""

    def __init__(
        self,
        sim: OrderBook,
        refunds: Refunds,
        payments: Payments,
        fulfillments: Fulfillments,
        *,
        idempotent: Callable[[RootResolver], RootResolver],
        restock: Restock,
    ) -> None:
        self.sim = sim
        self.refunds = refunds
        self.payments = payments
        self.fulfillments = fulfillments
        self.restock = restock
        sim.resolvers["refundCreate"] = idempotent(self._resolve)

    def _resolve(self, shop: Shop, field: GqlField, _version: str) -> dict[str, Any]:
        data = field.args.get("input") or {}
        with self.sim.lock:
            try:
                order = shop.orders.get(order_legacy_id(str(data.get("orderId"))))
            except ValueError:
                raise ApiError(f"Invalid global id '{data.get('orderId')}'", "argumentLiteralsIncompatible") from None
            if order is None:
                return _refused([_error("Order does not exist", "orderId")])
            errors: list[dict[str, Any]] = []
            lines = self._lines(shop, order, data.get("refundLineItems") or [], errors)
            transactions = self._transactions(shop, order, data.get("transactions") or [], errors)
            shipping = data.get("shipping") or {}
            if not data.get("refundLineItems") and not data.get("transactions") and not shipping.get("fullRefund"):
                errors.append(_error("A refund needs line items, a transaction or shipping", "refundLineItems"))
            if errors:
                return _refused(errors)
            refund = self._refund(shop, order, lines, transactions, data)
            return {"refund": gql_refund(refund, order), "order": self.sim.order_view(shop, order), "userErrors": []}

    # ---- checks ------------------------------------------------------------------------------------------------------

    def _lines(
        self, shop: Shop, order: dict[str, Any], given: list[dict[str, Any]], errors: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], int, str, int | None]]:
        """(line item, quantity, restock type, location id) per refund line; refusals go to `errors`."""
        items = {int(item["id"]): item for item in order.get("line_items") or []}
        asked: dict[tuple[int, str], int] = {}
        chosen = []
        for index, line in enumerate(given):
            path = ("refundLineItems", index)
            item = items.get(_legacy(line.get("lineItemId"), "LineItem") or -1)
            quantity = int(line.get("quantity") or 0)
            restock = str(line.get("restockType") or "RETURN")
            location = _legacy(line.get("locationId"), "Location") if line.get("locationId") else None
            if item is None:
                errors.append(_error("Line item does not exist on this order", *path, "lineItemId"))
                continue
            if restock not in _REST_RESTOCK:
                errors.append(
                    _error(
                        f"Restock type {restock} is not supported; use RETURN, CANCEL or NO_RESTOCK",
                        *path,
                        "restockType",
                    )
                )
                continue
            if restock == "NO_RESTOCK" and line.get("locationId"):
                errors.append(_error("A location cannot be given with NO_RESTOCK", *path, "locationId"))
                continue
            if line.get("locationId") and (location is None or location not in shop.catalog.locations):
                errors.append(_error("Location does not exist", *path, "locationId"))
                continue
            key = (int(item["id"]), restock)
            asked[key] = asked.get(key, 0) + quantity
            left = self._refundable(order, item, restock)
            if quantity <= 0 or asked[key] > left:
                errors.append(
                    _error(f"Quantity cannot exceed the {left} refundable units ({restock})", *path, "quantity")
                )
                continue
            if restock != "NO_RESTOCK" and location is None:
                location = self._home(shop, order, item)
            chosen.append((item, quantity, restock, location))
        return chosen

    def _refundable(self, order: dict[str, Any], item: dict[str, Any], restock: str) -> int:
        """Units of the line a refund of this restock type may take."""
        refunded = {kind: 0 for kind in _REST_RESTOCK.values()}
        for refund in order.get("refunds") or []:
            for row in refund.get("refund_line_items") or []:
                if row.get("line_item_id") == item["id"]:
                    kind = str(row.get("restock_type") or "no_restock")
                    refunded[kind] = refunded.get(kind, 0) + int(row.get("quantity") or 0)
        ordered = int(item.get("quantity") or 0)
        unrefunded = ordered - sum(refunded.values())
        unfulfilled = int(item.get("fulfillable_quantity") or 0)
        if restock == "CANCEL":
            return min(unfulfilled, unrefunded)
        if restock == "RETURN":
            # Fulfilled units not returned yet: what is not left to fulfil, less what went back before.
            fulfilled = ordered - unfulfilled - refunded.get("cancel", 0)
            return max(0, min(fulfilled - refunded.get("return", 0), unrefunded))
        return unrefunded

    def _home(self, shop: Shop, order: dict[str, Any], item: dict[str, Any]) -> int:
        for record in self.fulfillments.records(shop, order):
            if int(item["id"]) in record.line_ids:
                return record.location_id
        return int(order.get("location_id") or shop.catalog.primary_location.id)

    def _transactions(
        self, shop: Shop, order: dict[str, Any], given: list[dict[str, Any]], errors: list[dict[str, Any]]
    ) -> list[tuple[Decimal, str, int]]:
        """(amount, gateway, parent id) per refund transaction; refusals go to `errors`."""
        parents = {t.id: t for t in self.payments.transactions(shop, order) if t.kind in ("SALE", "CAPTURE")}
        taken: dict[int, Decimal] = {}
        chosen = []
        for index, transaction in enumerate(given):
            path = ("transactions", index)
            parent = parents.get(_legacy(transaction.get("parentId"), "OrderTransaction") or -1)
            amount = _amount(transaction.get("amount"))
            if str(transaction.get("kind") or "REFUND") != "REFUND":
                errors.append(_error("Only REFUND transactions can be part of a refund", *path, "kind"))
            elif parent is None or parent.status != "SUCCESS":
                errors.append(_error("A refund transaction needs the parentId of a sale or capture", *path, "parentId"))
            elif str(transaction.get("gateway") or parent.gateway) != parent.gateway:
                errors.append(_error(f"Gateway must be the parent transaction's ({parent.gateway})", *path, "gateway"))
            elif amount is None or amount <= 0:
                errors.append(_error("Amount must be greater than 0", *path, "amount"))
            else:
                taken[parent.id] = taken.get(parent.id, ZERO) + amount
                left = parent.amount - self._refunded_from(order, parent.id)
                if taken[parent.id] > left:
                    errors.append(
                        _error(f"Amount cannot exceed the {left} left to refund of the parent", *path, "amount")
                    )
                else:
                    chosen.append((amount, parent.gateway, parent.id))
        return chosen

    @staticmethod
    def _refunded_from(order: dict[str, Any], parent_id: int) -> Decimal:
        return sum(
            (
                decimal_of(row.get("amount"))
                for refund in order.get("refunds") or []
                for row in refund.get("transactions") or []
                if row.get("parent_id") == parent_id and row.get("status") == "success"
            ),
            ZERO,
        )

    # ---- the refund --------------------------------------------------------------------------------------------------

    def _refund(
        self,
        shop: Shop,
        order: dict[str, Any],
        lines: list[tuple[dict[str, Any], int, str, int | None]],
        transactions: list[tuple[Decimal, str, int]],
        data: dict[str, Any],
    ) -> dict[str, Any]:
        currencies = (
            str(order.get("currency") or "DKK"),
            str(order.get("presentment_currency") or order.get("currency") or "DKK"),
        )
        rows = []
        for item, quantity, restock, location in lines:
            row = self.refunds._refund_line(
                order, int(item["id"]), quantity, restock != "NO_RESTOCK", location, currencies
            )
            row["restock_type"] = _REST_RESTOCK[restock]
            rows.append(row)
        shipping = (
            self.refunds._refund_shipping(order, currencies) if (data.get("shipping") or {}).get("fullRefund") else []
        )
        refund_id = self.sim.new_id()
        now = self.sim.shop_time(shop)
        money = []
        for amount, gateway, parent_id in transactions:
            row = self.refunds._transaction(order, amount, now)
            row.update(gateway=gateway, parent_id=parent_id, manual_payment_gateway=gateway == "manual")
            money.append(row)
        refund = {
            "id": refund_id,
            "order_id": order["id"],
            "created_at": now,
            "note": data.get("note") or None,
            "user_id": None,
            "processed_at": now,
            "duties": [],
            "return": None,
            "restock": any(restock != "NO_RESTOCK" for _, _, restock, _ in lines),
            "additional_fees": [],
            "refund_shipping_lines": shipping,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "order_adjustments": [],
            "refund_line_items": rows,
            "transactions": money,
        }
        unfulfilled_before = {int(item["id"]): int(item.get("fulfillable_quantity") or 0) for item, *_ in lines}
        self.refunds._apply(shop, order, refund)
        for item, quantity, restock, location in lines:
            if restock == "CANCEL":
                # Cancelled units leave fulfilment: what is left to fulfil shrinks by exactly them.
                item["fulfillable_quantity"] = unfulfilled_before[int(item["id"])] - quantity
            elif restock == "RETURN":
                item["fulfillable_quantity"] = unfulfilled_before[int(item["id"])]
            if location is not None:
                self.restock(shop, item, location, quantity)
        self.sim.emit(shop, "refunds/create", refund)
        self.sim.emit(shop, "orders/updated", order)
        return copy.deepcopy(refund)


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _refused(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"refund": None, "order": None, "userErrors": errors}
