"""Fulfillment orders and `fulfillmentCreate` in the Shopify simulator (reference/shopify_wms.md, "Reads", "Writes",
"Behaviours a simulator must model" 1–2; the REST shapes of the fixtures `fulfillment_order_0.json` and
`fulfillment_0.json`).

- Every order has one fulfillment order, at the location that fulfils it (a POS order's till, else the shop's
  primary location), with one line per order line that needs shipping. Shopify makes fulfillment orders
  asynchronously after the order; here one is made the first time anything asks for it, which a client cannot tell
  apart (a shipment always comes long after the order). Its ids are a sequence of their own in Shopify; here they come
  from the simulator's one id sequence, so they never equal the order's or its lines' ids.
- What is left of a line is the order line's `fulfillable_quantity`, which refunds, cancellation and the control
  API's `fulfilled` also move; the fulfillment order's status follows from it: CANCELLED with the order, CLOSED when
  nothing is left, IN_PROGRESS when part of it was fulfilled, else OPEN.
- `fulfillmentCreate` fulfils the quantities asked (an empty `fulfillmentOrderLineItems`: everything left on that
  fulfillment order), with the tracking company, numbers and URLs, and `notifyCustomer` (default false), which is kept
  on the REST fulfillment as `notify_customer`. What Shopify refuses about the merchant's data comes back as
  `userErrors` and changes nothing: an unknown fulfillment order or line, fulfillment orders of two orders or two
  locations in one call, a closed or cancelled fulfillment order, a quantity above what is left. The wording of the
  messages is a guess after Shopify's ("Fulfillment order 1 has an unfulfillable status= closed.").
- Shopify makes fulfillment orders asynchronously after the order and then sends
  `fulfillment_orders/order_routing_complete` carrying only the fulfillment order's `id` and `status` [seen H9].
  `routing_delay` (seconds of simulator clock, default 0: at once) models it: until the order is that old it has
  no fulfillment orders; then they are made, when read or when webhooks are next delivered, and each announced.
- Holds [seen H9]: `hold(domain, order_id)` puts the order's open fulfillment orders ON_HOLD (`fulfillment_holds/
  added`), `release` takes the hold off (`fulfillment_holds/released`); an ON_HOLD one cannot be fulfilled. The
  holds' payload shape is a guess (`fulfillment_order {id, status}` and `fulfillment_hold {id, reason,
  reason_notes}`).
- A fulfilment updates the REST order as Shopify does (`fulfillments[]`, the lines' `fulfillment_status`, the
  order's `fulfillment_status` "partial" or "fulfilled") and emits `orders/fulfilled` when nothing is left, then
  `orders/updated`.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Any

from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import GqlField, by_args
from crossdock_local.sims.shopify.order_views import gql_line_item_of
from crossdock_local.sims.shopify.orders import OrderBook
from crossdock_local.sims.shopify.paging import connection
from crossdock_local.sims.shopify.state import FulfillmentOrderRecord, Shop
from crossdock_local.sims.shopify.values import gid, gql_datetime

UNFULFILLABLE = frozenset({"CLOSED", "CANCELLED", "ON_HOLD"})


def _legacy(value: Any, kind: str) -> int:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value))
    if match is None:
        raise ApiError(f"Invalid global id '{value}'", "argumentLiteralsIncompatible")
    return int(match.group(1))


def _error(message: str, *field: str | int) -> dict[str, Any]:
    return {"field": ["fulfillment", *[str(part) for part in field]], "message": message}


class Fulfillments:
    """Fulfillment orders and fulfilments; shares the simulator's lock, ids, clock and outbox."""

    def __init__(self, sim: OrderBook) -> None:
        self.sim = sim
        # Order id → line item id → location id: where Shopify's order routing put a line (`assign`); lines not
        # named go to the order's location (a POS till) or the shop's primary location.
        self.routing: dict[int, dict[int, int]] = {}
        self.routing_delay = 0.0  # seconds after the order before its fulfillment orders exist (see the docstring)
        sim.resolvers["fulfillmentOrder"] = by_args(self._resolve_fulfillment_order)
        sim.resolvers["fulfillmentCreate"] = self._resolve_fulfillment_create
        sim.resolvers["fulfillmentTrackingInfoUpdate"] = self._resolve_tracking_update

    # ---- state -----------------------------------------------------------------------------------------------------

    def assign(self, domain: str, order_id: int | str, locations: dict[int, int]) -> None:
        """Shopify's order routing assigns these order lines (line item id → location id) to other locations than the
        default: one fulfillment order per location. Only before the order's fulfillment orders were first read."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            order = self.sim.find_order(shop, order_id)
            if order["id"] in shop.fulfillment_orders:
                raise ValueError(f"order {order['id']} has its fulfillment orders already")
            unknown = set(locations.values()) - set(shop.catalog.locations)
            if unknown:
                raise ValueError(f"unknown location ids {sorted(unknown)}")
            self.routing[int(order["id"])] = {int(line): int(location) for line, location in locations.items()}

    def records(self, shop: Shop, order: dict[str, Any]) -> list[FulfillmentOrderRecord]:
        """The order's fulfillment orders, one per assigned location, made the first time they are asked for."""
        found = shop.fulfillment_orders.get(order["id"])
        if found is not None:
            return found
        if not self._routed(order):
            return []  # Shopify has not made them yet
        default = int(order.get("location_id") or shop.catalog.primary_location.id)
        routing = self.routing.get(int(order["id"]), {})
        by_location: dict[int, dict[int, int]] = {}
        for item in order.get("line_items") or []:
            if item.get("requires_shipping", True) is not False:
                location = routing.get(int(item["id"]), default)
                by_location.setdefault(location, {})[int(item["id"])] = self.sim.new_id()
        created = str(order.get("created_at") or "")
        records = [
            FulfillmentOrderRecord(self.sim.new_id(), order["id"], location, lines, created)
            for location, lines in (by_location or {default: {}}).items()
        ]
        shop.fulfillment_orders[order["id"]] = records
        if self.routing_delay > 0:
            for record in records:
                payload = {"fulfillment_order": {"id": record.gid, "status": self.status(record, order).lower()}}
                self.sim.emit(shop, "fulfillment_orders/order_routing_complete", payload)
        return records

    def _routed(self, order: dict[str, Any]) -> bool:
        if self.routing_delay <= 0 or not order.get("created_at"):
            return True
        placed = datetime.fromisoformat(str(order["created_at"]))
        return self.sim.now() >= placed + timedelta(seconds=self.routing_delay)

    def route_due(self) -> None:
        """Make the fulfillment orders whose routing time has come (before webhooks are delivered)."""
        if self.routing_delay <= 0:
            return
        for shop in self.sim.shops.values():
            for order in list(shop.orders.values()):
                if order["id"] not in shop.fulfillment_orders and self._routed(order):
                    self.records(shop, order)

    def hold(self, domain: str, order_id: int | str, *, reason: str = "OTHER", notes: str = "") -> None:
        """The merchant holds the order's open fulfillment orders (`fulfillment_holds/added` for each)."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            order = self.sim.find_order(shop, order_id)
            for record in self.records(shop, order):
                if record.hold is None and self.status(record, order) in ("OPEN", "IN_PROGRESS"):
                    record.hold = {"id": self.sim.new_id(), "reason": reason.lower(), "reason_notes": notes}
                    self.sim.emit(shop, "fulfillment_holds/added", self._hold_payload(record, order))

    def release(self, domain: str, order_id: int | str) -> None:
        """The merchant releases the holds (`fulfillment_holds/released` for each)."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            order = self.sim.find_order(shop, order_id)
            for record in self.records(shop, order):
                if record.hold is not None:
                    payload = self._hold_payload(record, order)
                    record.hold = None
                    payload["fulfillment_order"]["status"] = self.status(record, order).lower()
                    self.sim.emit(shop, "fulfillment_holds/released", payload)

    def _hold_payload(self, record: FulfillmentOrderRecord, order: dict[str, Any]) -> dict[str, Any]:
        hold = dict(record.hold or {})
        return {
            "fulfillment_order": {"id": record.gid, "status": self.status(record, order).lower()},
            "fulfillment_hold": {**hold, "id": gid("FulfillmentHold", hold.get("id"))},
        }

    @staticmethod
    def _items(order: dict[str, Any]) -> dict[int, dict[str, Any]]:
        return {int(item["id"]): item for item in order.get("line_items") or []}

    def status(self, record: FulfillmentOrderRecord, order: dict[str, Any]) -> str:
        if order.get("cancelled_at"):
            return "CANCELLED"
        items = self._items(order)
        left = [int(items[line].get("fulfillable_quantity") or 0) for line in record.line_ids if line in items]
        if not any(left):
            return "CLOSED"
        if record.hold is not None:
            return "ON_HOLD"
        fulfilled = any(
            int(items[line].get("fulfillable_quantity") or 0) < int(items[line].get("current_quantity") or 0)
            for line in record.line_ids
            if line in items
        )
        return "IN_PROGRESS" if fulfilled and order.get("fulfillments") else "OPEN"

    # ---- views -----------------------------------------------------------------------------------------------------

    def order_fields(self, shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
        """`Order.fulfillmentOrders` and `Order.fulfillments`, added to the order's GraphQL view."""

        def fulfillments(args: dict[str, Any]) -> list[dict[str, Any]]:
            views = [self._fulfillment_view(f) for f in order.get("fulfillments") or []]
            first = args.get("first")
            return views[:first] if isinstance(first, int) else views

        return {
            "fulfillmentOrders": lambda args: connection(
                [self._view(shop, order, record) for record in self.records(shop, order)]
            )(args),
            "fulfillments": fulfillments,
        }

    def _view(self, shop: Shop, order: dict[str, Any], record: FulfillmentOrderRecord) -> dict[str, Any]:
        items = self._items(order)
        location = shop.catalog.locations.get(record.location_id)
        lines = [
            {
                "id": gid("FulfillmentOrderLineItem", line_id),
                "sku": items[item_id].get("sku"),
                "remainingQuantity": int(items[item_id].get("fulfillable_quantity") or 0),
                "totalQuantity": int(items[item_id].get("current_quantity", items[item_id].get("quantity")) or 0),
                "lineItem": gql_line_item_of(order, items[item_id]),
            }
            for item_id, line_id in record.line_ids.items()
            if item_id in items
        ]
        return {
            "id": record.gid,
            "orderId": order.get("admin_graphql_api_id") or gid("Order", order["id"]),
            "orderName": order.get("name"),
            "status": self.status(record, order),
            "requestStatus": "UNSUBMITTED",
            "createdAt": gql_datetime(record.created_at),
            "updatedAt": gql_datetime(order.get("updated_at")),
            "assignedLocation": {
                "name": location.name if location else "",
                "location": None
                if location is None
                else {"id": location.gid, "legacyResourceId": str(location.id), "name": location.name},
            },
            "lineItems": connection(lines),
        }

    @staticmethod
    def _fulfillment_view(rest: dict[str, Any]) -> dict[str, Any]:
        numbers = rest.get("tracking_numbers") or []
        urls = rest.get("tracking_urls") or []
        tracking = [
            {
                "company": rest.get("tracking_company"),
                "number": number,
                "url": urls[index] if index < len(urls) else None,
            }
            for index, number in enumerate(numbers)
        ]

        def tracking_info(args: dict[str, Any]) -> list[dict[str, Any]]:
            first = args.get("first")
            return tracking[:first] if isinstance(first, int) else tracking

        return {
            "id": rest.get("admin_graphql_api_id") or gid("Fulfillment", rest.get("id")),
            "legacyResourceId": str(rest.get("id")),
            "name": rest.get("name"),
            "status": str(rest.get("status") or "success").upper(),
            "createdAt": gql_datetime(rest.get("created_at")),
            "updatedAt": gql_datetime(rest.get("updated_at")),
            "trackingInfo": tracking_info,
        }

    def _resolve_fulfillment_order(self, shop: Shop, args: dict[str, Any]) -> dict[str, Any] | None:
        # Only a fulfillment order that was made can be asked for by its id.
        wanted = _legacy(args.get("id"), "FulfillmentOrder")
        for record in self._all(shop):
            order = shop.orders.get(record.order_id)
            if record.id == wanted and order is not None:
                return self._view(shop, order, record)
        return None

    @staticmethod
    def _all(shop: Shop) -> list[FulfillmentOrderRecord]:
        return [record for records in shop.fulfillment_orders.values() for record in records]

    # ---- fulfillmentCreate -------------------------------------------------------------------------------------------

    def _resolve_fulfillment_create(self, shop: Shop, called: GqlField, _version: str) -> dict[str, Any]:
        with self.sim.lock:
            given = called.args.get("fulfillment") or {}
            planned = self._plan(shop, given.get("lineItemsByFulfillmentOrder") or [])
            if isinstance(planned, list):
                return {"fulfillment": None, "userErrors": planned}
            order, quantities, location = planned
            rest = self._fulfil(shop, order, quantities, given, location)
            return {"fulfillment": self._fulfillment_view(rest), "userErrors": []}

    def _plan(
        self, shop: Shop, groups: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[int, int], int] | list[dict[str, Any]]:
        """(the order, line item id → quantity to fulfil, the location), or the user errors that refuse the call."""
        if not groups:
            return [_error("must have at least one fulfillment order", "lineItemsByFulfillmentOrder")]
        by_id = {record.id: record for record in self._all(shop)}
        errors: list[dict[str, Any]] = []
        orders: set[int] = set()
        locations: set[int] = set()
        quantities: dict[int, int] = {}
        for index, group in enumerate(groups):
            path = ("lineItemsByFulfillmentOrder", index)
            record = by_id.get(_legacy(group.get("fulfillmentOrderId"), "FulfillmentOrder"))
            order = shop.orders.get(record.order_id) if record is not None else None
            if record is None or order is None:
                errors.append(_error("Fulfillment order does not exist.", *path, "fulfillmentOrderId"))
                continue
            orders.add(record.order_id)
            locations.add(record.location_id)
            status = self.status(record, order)
            if status in UNFULFILLABLE:
                errors.append(
                    _error(
                        f"Fulfillment order {record.id} has an unfulfillable status= {status.lower()}.",
                        *path,
                        "fulfillmentOrderId",
                    )
                )
                continue
            errors += self._plan_lines(record, order, group.get("fulfillmentOrderLineItems"), path, quantities)
        if len(orders) > 1:
            errors.append(
                _error("All fulfillment orders must belong to the same order.", "lineItemsByFulfillmentOrder")
            )
        if len(locations) > 1:
            errors.append(
                _error("All fulfillment orders must be assigned to the same location.", "lineItemsByFulfillmentOrder")
            )
        if errors:
            return errors
        if not any(quantities.values()):
            return [_error("Nothing is left to fulfil on these fulfillment orders.", "lineItemsByFulfillmentOrder")]
        return shop.orders[orders.pop()], quantities, locations.pop()

    def _plan_lines(
        self,
        record: FulfillmentOrderRecord,
        order: dict[str, Any],
        lines: list[dict[str, Any]] | None,
        path: tuple[str, int],
        quantities: dict[int, int],
    ) -> list[dict[str, Any]]:
        items = self._items(order)
        left = {item_id: int(items[item_id].get("fulfillable_quantity") or 0) for item_id in record.line_ids}
        if not lines:  # everything left on this fulfillment order
            quantities.update({item_id: amount for item_id, amount in left.items() if amount})
            return []
        item_of = {line_id: item_id for item_id, line_id in record.line_ids.items()}
        errors = []
        for position, line in enumerate(lines):
            line_path = (*path, "fulfillmentOrderLineItems", position)
            item_id = item_of.get(_legacy(line.get("id"), "FulfillmentOrderLineItem"))
            quantity = int(line.get("quantity") or 0)
            if item_id is None:
                errors.append(_error("Fulfillment order line item does not exist.", *line_path, "id"))
            elif quantity <= 0 or quantities.get(item_id, 0) + quantity > left[item_id]:
                errors.append(_error("Invalid fulfillment order line item quantity requested.", *line_path, "quantity"))
            else:
                quantities[item_id] = quantities.get(item_id, 0) + quantity
        return errors

    def _fulfil(
        self, shop: Shop, order: dict[str, Any], quantities: dict[int, int], given: dict[str, Any], location: int
    ) -> dict[str, Any]:
        now = self.sim.shop_time(shop)
        items = self._items(order)
        for item_id, quantity in quantities.items():
            item = items[item_id]
            item["fulfillable_quantity"] = int(item.get("fulfillable_quantity") or 0) - quantity
            item["fulfillment_status"] = "fulfilled" if item["fulfillable_quantity"] == 0 else "partial"
        tracking = given.get("trackingInfo") or {}
        numbers = [*([tracking["number"]] if tracking.get("number") else []), *(tracking.get("numbers") or [])]
        urls = [*([tracking["url"]] if tracking.get("url") else []), *(tracking.get("urls") or [])]
        fulfillment_id = self.sim.new_id()
        rest = {
            "id": fulfillment_id,
            "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
            "order_id": order["id"],
            "status": "success",
            "created_at": now,
            "updated_at": now,
            "service": "manual",
            "location_id": location,
            "name": f"{order.get('name')}.{len(order.get('fulfillments') or []) + 1}",
            "tracking_company": tracking.get("company"),
            "tracking_number": numbers[0] if numbers else None,
            "tracking_numbers": numbers,
            "tracking_url": urls[0] if urls else None,
            "tracking_urls": urls,
            "notify_customer": bool(given.get("notifyCustomer")),
            "line_items": [{**copy.deepcopy(items[item_id]), "quantity": q} for item_id, q in quantities.items()],
        }
        order["fulfillments"] = [*(order.get("fulfillments") or []), rest]
        complete = all(self.status(record, order) == "CLOSED" for record in self.records(shop, order))
        order.update(fulfillment_status="fulfilled" if complete else "partial", updated_at=now)
        if complete:
            self.sim.emit(shop, "orders/fulfilled", order)
        self.sim.emit(shop, "orders/updated", order)
        return rest

    # ---- fulfillmentTrackingInfoUpdate -------------------------------------------------------------------------------

    def _resolve_tracking_update(self, shop: Shop, called: GqlField, _version: str) -> dict[str, Any]:
        """`fulfillmentTrackingInfoUpdate(fulfillmentId, trackingInfoInput, notifyCustomer)` [doc H1]: the
        fulfilment's tracking replaced by the one given; emits `fulfillments/update` [guess: and no orders/updated]."""
        with self.sim.lock:
            wanted = str(called.args.get("fulfillmentId"))
            _legacy(wanted, "Fulfillment")  # a malformed id is a top-level error, as for every id argument
            order, rest = self._fulfillment_of(shop, wanted)
            if order is None or rest is None:
                return {
                    "fulfillment": None,
                    "userErrors": [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}],
                }
            tracking = called.args.get("trackingInfoInput") or {}
            numbers = [*([tracking["number"]] if tracking.get("number") else []), *(tracking.get("numbers") or [])]
            urls = [*([tracking["url"]] if tracking.get("url") else []), *(tracking.get("urls") or [])]
            rest.update(
                tracking_company=tracking.get("company", rest.get("tracking_company")),
                tracking_number=numbers[0] if numbers else None,
                tracking_numbers=numbers,
                tracking_url=urls[0] if urls else None,
                tracking_urls=urls,
                updated_at=self.sim.shop_time(shop),
            )
            if called.args.get("notifyCustomer"):
                rest["notify_customer"] = True
            self.sim.emit(shop, "fulfillments/update", rest)
            return {"fulfillment": self._fulfillment_view(rest), "userErrors": []}

    @staticmethod
    def _fulfillment_of(shop: Shop, fulfillment_gid: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        for order in shop.orders.values():
            for rest in order.get("fulfillments") or []:
                if (rest.get("admin_graphql_api_id") or gid("Fulfillment", rest.get("id"))) == fulfillment_gid:
                    return order, rest
        return None, None
