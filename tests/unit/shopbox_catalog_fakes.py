"""A Shopbox catalogue as the `rackbeat_shopbox` catalogue tests see it: products and variants in the fact sheet's
shape (reference/shopbox.md: integer øre VAT included, `product_variances` with their own uids, `tag`, stock rows
per branch), a Shopbox client that answers the connector's catalogue calls from them, and a connection of the kind
with the settings the initial sync needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings

UID_FIELD, VARIANT_FIELD = 71, 72
STROGET, AARHUS, ODENSE = "55", "56", "57"  # branch uids; Odense has no Rackbeat location
COFFEE_TAG, CAKE_TAG = "12", "13"  # coffee is mapped to group 2, cakes fall back to the default group 1


@dataclass
class Variance:
    uid: int
    name: str | None
    sku_code: str | None
    code: str | None = None
    selling_price: int | None = None


@dataclass
class Product:
    uid: int
    name: str
    selling_price: int
    sku_code: str | None = None
    code: str | None = None
    tag: int | None = None
    inventory_on_variants: bool = False
    tstamp: int = 1_733_490_000
    product_variances: list[Variance] = field(default_factory=list)


@dataclass
class StockRow:
    uid: int
    product: int
    product_variance: int | None
    quantity: int
    sku_code: str | None = None


@dataclass
class Branch:
    uid: str
    name: str
    is_closed: bool = False


def cafe_catalogue() -> list[Product]:
    """A small café: a mug, a coffee with two sizes (stock per size), a cake without a SKU, and a second mug that
    reuses the first one's SKU."""
    return [
        Product(801, "Krus", 7900, sku_code="MUG-1", code="5701234567890", tag=int(CAKE_TAG)),
        Product(
            802,
            "Kaffe",
            3500,
            tag=int(COFFEE_TAG),
            inventory_on_variants=True,
            product_variances=[
                Variance(8021, "Lille", "COF-S", selling_price=3500),
                Variance(8022, "Stor", "COF-L", code="5701234567906", selling_price=4500),
            ],
        ),
        Product(803, "Kage", 2999, tag=int(CAKE_TAG)),
        Product(804, "Krus (gammel)", 6900, sku_code="MUG-1"),
    ]


def cafe_stock() -> dict[str, list[StockRow]]:
    return {
        STROGET: [StockRow(1, 801, None, 12), StockRow(2, 802, 8021, 40), StockRow(3, 802, 8022, 25)],
        AARHUS: [StockRow(4, 801, None, 3), StockRow(5, 802, 8022, -2)],
        ODENSE: [StockRow(6, 801, None, 7)],
    }


@dataclass
class FakeShopbox:
    """Answers `products()`, `product(uid)`, `branches()` and `inventories(branch)` as the connector's `ShopboxClient`
    does."""

    catalogue: list[Product]
    stock: dict[str, list[StockRow]]
    calls: int = 0

    def products(self) -> Any:
        self.calls += 1
        yield from self.catalogue

    def branches(self) -> list[Branch]:
        self.calls += 1
        return [Branch(uid, f"branch {uid}") for uid in self.stock]

    def inventories(self, branch_uid: str) -> list[StockRow]:
        self.calls += 1
        return list(self.stock[str(branch_uid)])

    def product(self, uid: str) -> Product | None:
        self.calls += 1
        return next((p for p in self.catalogue if str(p.uid) == str(uid)), None)


def settings(**changes: Any) -> RackbeatShopboxSettings:
    values: dict[str, Any] = {
        "initial_sync": "shopbox_to_rackbeat",
        "uid_field_id": str(UID_FIELD),
        "variant_field_id": str(VARIANT_FIELD),
        "locations": {STROGET: "L1", AARHUS: "L2"},
        "categories": {COFFEE_TAG: 2},
        "default_category_group": 1,
        "sales": {"customer_number": 900},
        **changes,
    }
    return RackbeatShopboxSettings.model_validate(values)


def connection(connection_id: str = "c-shopbox-catalog", **changes: Any) -> RackbeatShopboxConnection:
    return RackbeatShopboxConnection(
        id=connection_id,
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=1), shopbox=ShopboxAccount(client_uid="4711")
        ),
        settings=settings(**changes),
    )
