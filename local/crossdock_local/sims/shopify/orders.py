"""Orders: admitted REST-shaped (ids, numbers and customers assigned by the simulator), paid, fulfilled, read."""

from __future__ import annotations

import copy
import re
from typing import Any

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.state import Shop, UnknownOrder
from crossdock_local.sims.shopify.values import gid, order_legacy_id
from crossdock_local.sims.shopify.webhooks import WebhookDelivery


class OrderBook(WebhookDelivery):
    """The shops' orders; every change emits its webhooks."""

    def create_order(
        self,
        domain: str,
        order: dict[str, Any],
        *,
        paid: bool = False,
        duplicate: bool = False,
        paid_first: bool = False,
        authorized: bool = False,
    ) -> dict[str, Any]:
        """Store a REST-shaped order and emit `orders/create` (and `orders/paid` when `paid`).

        `paid`: paid at checkout (a SALE transaction); `authorized`: the payment only authorised at checkout, to be
        captured later (`financial_status` "authorized", an AUTHORIZATION transaction: payments.py).
        `duplicate` forces a second delivery of each event; `paid_first` queues `orders/paid` ahead of
        `orders/create` (both are Shopify behaviours the fact sheet warns about, made deterministic for tests).
        """
        if paid and authorized:
            raise ValueError("an order is paid (sale) or authorized at checkout, not both")
        with self._lock:
            shop = self.shop(domain)
            admitted = copy.deepcopy(order)
            if authorized:
                admitted["financial_status"] = "authorized"
            stored = self._admit_order(shop, admitted, paid)
            shop.orders[stored["id"]] = stored
            if paid or authorized:
                self.payment_event(shop, stored, "sale" if paid else "authorization")
            topics = ["orders/create", "orders/paid"] if paid else ["orders/create"]
            if paid and paid_first:
                topics.reverse()
            for topic in topics:
                self.emit(shop, topic, stored, duplicate=duplicate)
            return copy.deepcopy(stored)

    def _admit_order(self, shop: Shop, order: dict[str, Any], paid: bool) -> dict[str, Any]:
        if set(order) == {"order"}:  # accept the `{"order": {...}}` envelope of the fixtures too
            order = order["order"]
        now = self.shop_time(shop)
        number = shop.next_order_number
        shop.next_order_number += 1
        # The simulator is the authority on identity: ids and numbers are always assigned, never taken over.
        order["id"] = self.new_id()
        order.update(
            admin_graphql_api_id=gid("Order", order["id"]),
            order_number=number,
            number=number - 1000,
            name=f"#{number}",
            created_at=now,
            updated_at=now,
        )
        order.setdefault("processed_at", now)
        order.setdefault("currency", shop.currency)
        order.setdefault("presentment_currency", order["currency"])
        order.setdefault("cancelled_at", None)
        order.setdefault("closed_at", None)
        order.setdefault("fulfillment_status", None)
        # Where the order was placed: kept as given ("pos" with the till's location_id), online orders are "web".
        order["source_name"] = order.get("source_name") or "web"
        order.setdefault("location_id", None)
        order["financial_status"] = "paid" if paid else order.get("financial_status") or "pending"
        order["total_outstanding"] = "0.00" if paid else order.get("total_outstanding", order.get("total_price"))
        self._admit_children(order)
        self._admit_customer(shop, order)
        return order

    def _admit_children(self, order: dict[str, Any]) -> None:
        for item in order.setdefault("line_items", []):
            if item.get("id") is None:
                item["id"] = self.new_id()
            item.setdefault("admin_graphql_api_id", gid("LineItem", item["id"]))
            item.setdefault("fulfillment_status", None)
            item.setdefault("current_quantity", item.get("quantity"))
            item.setdefault("fulfillable_quantity", item.get("quantity"))
        for line in order.setdefault("shipping_lines", []):
            if line.get("id") is None:
                line["id"] = self.new_id()

    def _admit_customer(self, shop: Shop, order: dict[str, Any]) -> None:
        customer = order.get("customer")
        if not isinstance(customer, dict):
            return
        if customer.get("id") is None:
            email = customer.get("email")
            if email and email in shop.customer_ids:
                customer["id"] = shop.customer_ids[email]
            else:
                customer["id"] = self.new_id()
                if email:
                    shop.customer_ids[email] = customer["id"]
        customer.setdefault("admin_graphql_api_id", gid("Customer", customer["id"]))

    def get_order(self, domain: str, order_id: int | str) -> dict[str, Any] | None:
        with self._lock:
            order = self.shop(domain).orders.get(order_legacy_id(order_id))
            return copy.deepcopy(order) if order is not None else None

    def find_order(self, shop: Shop, order_id: int | str) -> dict[str, Any]:
        order = shop.orders.get(order_legacy_id(order_id))
        if order is None:
            raise UnknownOrder(order_id)
        return order

    def mark_paid(self, domain: str, order_id: int | str, *, duplicate: bool = False) -> dict[str, Any]:
        """financial_status → paid; emits `orders/paid` and `orders/updated` (nothing when it was already paid)."""
        with self._lock:
            shop = self.shop(domain)
            order = self.find_order(shop, order_id)
            if order.get("financial_status") != "paid":
                self.payment_event(shop, order, "marked_paid")  # captures an open authorisation, else a sale
                order.update(financial_status="paid", total_outstanding="0.00", updated_at=self.shop_time(shop))
                self.emit(shop, "orders/paid", order, duplicate=duplicate)
                self.emit(shop, "orders/updated", order, duplicate=duplicate)
            return copy.deepcopy(order)

    def fulfill(self, domain: str, order_id: int | str, *, duplicate: bool = False) -> dict[str, Any]:
        """fulfillment_status → fulfilled; emits `orders/fulfilled` and `orders/updated` (once)."""
        with self._lock:
            shop = self.shop(domain)
            order = self.find_order(shop, order_id)
            if order.get("fulfillment_status") != "fulfilled":
                now = self.shop_time(shop)
                for item in order.get("line_items") or []:
                    item.update(fulfillment_status="fulfilled", fulfillable_quantity=0)
                order["fulfillments"] = [*(order.get("fulfillments") or []), self._fulfillment(order, now)]
                order.update(fulfillment_status="fulfilled", updated_at=now)
                self.emit(shop, "orders/fulfilled", order, duplicate=duplicate)
                self.emit(shop, "orders/updated", order, duplicate=duplicate)
            return copy.deepcopy(order)

    def _fulfillment(self, order: dict[str, Any], now: str) -> dict[str, Any]:
        fulfillment_id = self.new_id()
        return {
            "id": fulfillment_id,
            "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
            "created_at": now,
            "updated_at": now,
            "name": f"{order.get('name')}.{len(order.get('fulfillments') or []) + 1}",
            "order_id": order["id"],
            "status": "success",
            "service": "manual",
            "line_items": copy.deepcopy(order.get("line_items") or []),
        }

    def delete_order(self, domain: str, order_id: int | str) -> None:
        """The merchant deletes the order (Shopify allows it for archived or cancelled ones; not checked here):
        gone from every read, and `orders/delete` carries only its id."""
        with self._lock:
            shop = self.shop(domain)
            order = self.find_order(shop, order_id)
            del shop.orders[order["id"]]
            shop.fulfillment_orders.pop(order["id"], None)
            self.emit(shop, "orders/delete", {"id": order["id"]})

    def payment_event(self, shop: Shop, order: dict[str, Any], event: str) -> None:
        """Record the transactions of `event` ("sale", "authorization", "marked_paid"); the simulator's payments
        part fills this in."""

    def resolve_order(self, shop: Shop, args: dict[str, Any]) -> dict[str, Any] | None:
        match = re.fullmatch(r"gid://shopify/Order/(\d+)", str(args.get("id")))
        if match is None:
            raise ApiError(f"Invalid global id '{args.get('id')}'", "argumentLiteralsIncompatible")
        order = shop.orders.get(int(match.group(1)))
        return self.order_view(shop, order) if order is not None else None
