"""What the PeakWMS simulator remembers: one `CustomerState` per PeakWMS customer (an account with its API keys),
its warehouses, products, stock items, sales orders, pick orders, webhooks, sales history and the webhook switches.

The bottom of the package: every other module reads and writes these records and this module imports none of them.
Records are plain dicts of the wire's camelCase fields plus `_private` keys the rendering leaves out; internal ids
are sequential integers per customer and kind (seen P1: PeakWMS adds an int `id` to what the host sends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
KINDS = ("products", "stock", "sales_orders", "pick_orders", "webhooks", "purchase_orders", "stock_actions")
ID_STARTS = {
    "products": 1000,
    "stock": 5000,
    "sales_orders": 20000,
    "order_lines": 40000,
    "pick_orders": 60000,
    "webhooks": 100,
    "purchase_orders": 80000,
    "stock_actions": 90000,
    "refunds": 95000,
}
DEFAULT_WAREHOUSE = "Main"

# Doc P1: the sales order states, line states and on-hold reasons are ints on the wire.
ORDER_CREATED, ORDER_RELEASED, ORDER_PICKED, ORDER_PACKED, ORDER_SHIPPED = 0, 1, 2, 3, 4
ORDER_CANCELLED, ORDER_ERROR, ORDER_ON_HOLD = 5, 6, 7
STATE_NAMES = {
    0: "CREATED",
    1: "RELEASED",
    2: "PICKED",
    3: "PACKED",
    4: "SHIPPED",
    5: "CANCELLED",
    6: "ERROR",
    7: "ONHOLD",
    8: "DROPSHIP",
    9: "SENTTOGETHER",
}
LINE_CREATED, LINE_NO_STOCK = 0, 4
HOLD_NO_STOCK = 7


@dataclass
class ApiKey:
    """A customer's static API key (seen P1: no expiry, no refresh). A secret: kept out of `repr`."""

    value: str = field(repr=False)
    customer: str
    sandbox: bool = False
    revoked: bool = False


@dataclass
class CustomerState:
    name: str
    sandbox: bool = False
    warehouses: list[str] = field(default_factory=lambda: [DEFAULT_WAREHOUSE])
    records: dict[str, dict[int, Record]] = field(default_factory=lambda: {k: {} for k in KINDS})
    # (productId, variantId, date) → row: a repeated row replaces the earlier one (rules.history_rows_replace).
    sales_history: dict[tuple[str, str, str], Record] = field(default_factory=dict)
    history_appended: list[Record] = field(default_factory=list)
    refunds: list[Record] = field(default_factory=list)
    # Seen P2: sending is switched on per message in PeakWMS's UI; event int → on. Unset: `rules.sending_default`.
    sending: dict[int, bool] = field(default_factory=dict)
    # stock item id → the bodies of its earlier 100 webhooks (the stale-replay fault re-sends the one before).
    stock_webhooks: dict[int, list[bytes]] = field(default_factory=dict)
    last_ids: dict[str, int] = field(default_factory=dict)
    # Indexes over the records, kept by the add_/remove_ methods below, so a catalogue of 30,000 variants is read in
    # constant time a call rather than by a scan: productId → internal ids (products, stock items), orderId → ids,
    # and the orders on hold. Dicts of None keep the ids in insertion (= id) order.
    _products_of: dict[str, dict[int, None]] = field(default_factory=dict, repr=False)
    _stock_of: dict[str, dict[int, None]] = field(default_factory=dict, repr=False)
    _orders_of: dict[str, dict[int, None]] = field(default_factory=dict, repr=False)
    held: dict[int, None] = field(default_factory=dict, repr=False)

    def add_product(self, row: Record) -> None:
        self.of("products")[row["id"]] = row
        self._products_of.setdefault(row["productId"], {})[row["id"]] = None

    def remove_product(self, row: Record) -> None:
        del self.of("products")[row["id"]]
        self._products_of.get(row["productId"], {}).pop(row["id"], None)

    def variants(self, product_id: str) -> list[Record]:
        rows = self.of("products")
        return [rows[i] for i in self._products_of.get(product_id, {})]

    def add_stock(self, row: Record) -> None:
        self.of("stock")[row["id"]] = row
        self._stock_of.setdefault(row["productId"], {})[row["id"]] = None

    def remove_stock(self, row: Record) -> None:
        del self.of("stock")[row["id"]]
        self._stock_of.get(row["productId"], {}).pop(row["id"], None)

    def stock_items(self, product_id: str) -> list[Record]:
        rows = self.of("stock")
        return [rows[i] for i in self._stock_of.get(product_id, {})]

    def add_order(self, order: Record) -> None:
        self.of("sales_orders")[order["id"]] = order
        self._orders_of.setdefault(order["orderId"], {})[order["id"]] = None

    def remove_order(self, order: Record) -> None:
        del self.of("sales_orders")[order["id"]]
        self._orders_of.get(order["orderId"], {}).pop(order["id"], None)
        self.held.pop(order["id"], None)

    def orders_of(self, order_id: str) -> list[Record]:
        rows = self.of("sales_orders")
        return [rows[i] for i in self._orders_of.get(order_id, {})]

    def held_orders(self) -> list[Record]:
        rows = self.of("sales_orders")
        return [rows[i] for i in sorted(self.held)]

    def next_id(self, kind: str) -> int:
        self.last_ids[kind] = self.last_ids.get(kind, ID_STARTS.get(kind, 9000)) + 1
        return self.last_ids[kind]

    def of(self, kind: str) -> dict[int, Record]:
        return self.records[kind]


@dataclass
class PeakwmsState:
    customers: dict[str, CustomerState] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict, repr=False)
