"""Rackbeat → Shopbox product pushes (`rackbeat_shopbox.product_push`), on the Rackbeat and Shopbox simulators with
the table in moto: an unbound Rackbeat item becomes a Shopbox product with its integration number and its uid in
the item's UID field; a bound variant is updated inside its product and the other variants kept; a push whose item
is as last synced does nothing; a create whose answer was lost is found by its integration number, not made twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from shopbox_catalog_fakes import UID_FIELD, VARIANT_FIELD, connection

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopbox.shapes import Product, ProductUpsert
from crossdock.integrations.rackbeat_shopbox import catalog_mapping, product_push
from crossdock.store.events import EventStatus
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator

KEY = "rb-key-push"
CONNECTION = "c-shopbox-catalog"


class LostAnswer(Exception):
    """Shopbox committed the upsert; its answer never arrived."""


@dataclass
class SimShopbox:
    """The connector's product calls, answered by the Shopbox simulator's own upsert and catalogue."""

    sim: ShopboxSimulator
    client: int
    lose_next_answer: bool = False
    upserts: list[dict[str, Any]] = field(default_factory=list)

    def products(self) -> list[Product]:
        catalogue = self.sim.client(self.client).products
        return [Product.model_validate(catalogue[uid]) for uid in sorted(catalogue)]

    def product(self, uid: str) -> Product | None:
        found = next((p for p in self.products() if str(p.uid) == str(uid)), None)
        return found

    def upsert_product(self, upsert: ProductUpsert) -> Product:
        body = _wire(upsert.body())
        self.upserts.append(body)
        written = self.sim.upsert_product(self.client, body)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise LostAnswer
        return Product.model_validate(written)


def _wire(body: dict[str, Any]) -> dict[str, Any]:
    """Uids and tags as the API takes them: JSON numbers (the shapes keep them as text)."""

    def number(value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.isdigit() else value

    variants = [{**v, "uid": number(v.get("uid"))} for v in body.get("variants") or []]
    return {**body, "uid": number(body.get("uid")), "tag": number(body.get("tag")), "variants": variants}


@dataclass
class Clients:
    rackbeat_client: RackbeatClient
    shopbox_client: SimShopbox

    def rackbeat(self, connection: Any, *, paced: bool = True) -> RackbeatClient:
        return self.rackbeat_client

    def shopbox(self, connection: Any) -> SimShopbox:
        return self.shopbox_client


@dataclass
class Ports:
    table: Any
    clients: Clients


@dataclass
class Shop:
    rackbeat: RackbeatSimulator
    account: int
    shopbox: SimShopbox
    ports: Ports

    def push(self, number: str, **settings: Any) -> Any:
        chosen = connection(CONNECTION, product_sync="rackbeat", **settings)
        return product_push.push_item(chosen, number, "product", self.ports)  # type: ignore[arg-type]


@pytest.fixture
def shop(table: Any) -> Shop:
    rackbeat = RackbeatSimulator(rate_limit_per_minute=100_000)
    account = rackbeat.add_account(KEY)
    rackbeat.seed_product_group(account, 1, "Varer m/lagerstrekk")
    rackbeat.seed_product_group(account, 2, "Kaffe")
    rackbeat.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    rackbeat.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    rackbeat.seed_product(account, "MUG-1", "Krus", "63.20", barcode="5701234567890", group={"number": 1})
    shopbox = ShopboxSimulator()
    client = int(shopbox.seed_client("Kaffebaren ApS", tags=["Kaffe"])["uid"])
    client_rb = RackbeatClient("https://app.rackbeat.com/api/", KEY, transport=transport(rackbeat, root="/api"))
    sim_shopbox = SimShopbox(shopbox, client)
    return Shop(rackbeat, account, sim_shopbox, Ports(table, Clients(client_rb, sim_shopbox)))


def test_an_unbound_rackbeat_item_becomes_a_shopbox_product_with_its_integration_number_and_uid(shop: Shop) -> None:
    # GIVEN the mug in Rackbeat at 63.20 without VAT, in no Shopbox product yet
    # WHEN its push runs
    outcome = shop.push("MUG-1")
    # THEN Shopbox has one product for it at 79.00 incl. VAT, carrying the item number as its integration number
    (product,) = shop.shopbox.products()
    assert outcome.status is EventStatus.DONE and f"created Shopbox product {product.uid}" in outcome.reason
    assert (product.name, product.selling_price, product.sku_code, product.code) == (
        "Krus",
        7900,
        "MUG-1",
        "5701234567890",
    )
    assert (product.integration_number, product.integration_type) == ("MUG-1", "rackbeat")
    # AND the product's uid is in the item's UID field, and the mapping binds them
    item = shop.rackbeat.state(shop.account).products["MUG-1"]
    assert item["_field_values"] == {UID_FIELD: str(product.uid)}
    assert (catalog_mapping.shopbox_of(shop.ports.table, CONNECTION, "MUG-1") or {})["product_uid"] == str(product.uid)
    # AND the same push again finds the item as last synced and does nothing
    again = shop.push("MUG-1")
    assert again.status is EventStatus.SKIPPED and len(shop.shopbox.upserts) == 1


def test_a_price_change_in_rackbeat_updates_the_bound_product(shop: Shop) -> None:
    shop.push("MUG-1")
    shop.rackbeat.state(shop.account).products["MUG-1"]["sales_price"] = Decimal("71.20")
    outcome = shop.push("MUG-1")
    (product,) = shop.shopbox.products()
    assert "updated Shopbox product" in outcome.reason and product.selling_price == 8900


def test_a_bound_variant_is_updated_inside_its_product_and_the_other_variants_are_kept(shop: Shop) -> None:
    # GIVEN a coffee in two sizes in Shopbox, the large one bound to Rackbeat item COF-L
    coffee = shop.shopbox.sim.upsert_product(
        shop.shopbox.client,
        {
            "uid": None,
            "name": "Kaffe",
            "inventory_on_variants": True,
            "variants": [
                {"name": "Lille", "sku_code": "COF-S", "selling_price": 3500},
                {"name": "Stor", "sku_code": "COF-L", "selling_price": 4500},
            ],
        },
    )
    small, large = coffee["product_variances"]
    shop.rackbeat.seed_product(shop.account, "COF-L", "Kaffe - Stor", "40.00")
    catalog_mapping.bind_item(shop.ports.table, CONNECTION, "COF-L", str(coffee["uid"]), str(large["uid"]), "old")
    # WHEN the large coffee's push runs (Rackbeat says 40.00 without VAT)
    outcome = shop.push("COF-L")
    # THEN the large variant costs 50.00 at the till and the small one is as it was, with its uid
    (product,) = shop.shopbox.products()
    prices = {str(v.uid): (v.sku_code, v.selling_price) for v in product.product_variances}
    assert prices == {str(small["uid"]): ("COF-S", 3500), str(large["uid"]): ("COF-L", 5000)}
    assert f"updated variant {large['uid']}" in outcome.reason


def test_a_create_whose_answer_was_lost_is_found_by_its_integration_number_and_not_made_again(shop: Shop) -> None:
    # GIVEN a push whose create Shopbox committed but whose answer was lost
    shop.shopbox.lose_next_answer = True
    with pytest.raises(LostAnswer):
        shop.push("MUG-1")
    # WHEN the push is run again (the queue's retry)
    outcome = shop.push("MUG-1")
    # THEN there is still one Shopbox product, now bound, with its uid in the item's field
    (product,) = shop.shopbox.products()
    assert outcome.status is EventStatus.DONE and f"updated Shopbox product {product.uid}" in outcome.reason
    assert shop.rackbeat.state(shop.account).products["MUG-1"]["_field_values"] == {UID_FIELD: str(product.uid)}


def test_a_bom_is_pushed_only_with_create_boms_in_shopbox(shop: Shop) -> None:
    chosen = connection(CONNECTION, product_sync="rackbeat")
    outcome = product_push.push_item(chosen, "GAVE-1", "lot", shop.ports)  # type: ignore[arg-type]
    assert (outcome.status, outcome.reason) == (
        EventStatus.SKIPPED,
        "create_boms_in_shopbox is off: BOMs stay in Rackbeat",
    )


def test_a_bom_becomes_a_shopbox_product_when_boms_are_created_in_shopbox(shop: Shop) -> None:
    # GIVEN a gift box BOM (lot) in Rackbeat, made of the mug, at 120.00 without VAT
    shop.ports.clients.rackbeat_client.post(
        "lots",
        {
            "number": "GAVE-1",
            "name": "Gaveæske",
            "sales_price": "120.00",
            "lines": [{"item_id": "MUG-1", "quantity": 2}],
        },
    )
    chosen = connection(CONNECTION, product_sync="both", create_boms_in_shopbox=True)
    # WHEN its push runs
    outcome = product_push.push_item(chosen, "GAVE-1", "lot", shop.ports)  # type: ignore[arg-type]
    # THEN it is a Shopbox product at 150.00 incl. VAT, bound to the BOM in the mapping
    (product,) = shop.shopbox.products()
    assert outcome.status is EventStatus.DONE
    assert (product.name, product.selling_price, product.integration_number) == ("Gaveæske", 15000, "GAVE-1")
    assert (catalog_mapping.shopbox_of(shop.ports.table, CONNECTION, "GAVE-1") or {})["product_uid"] == str(product.uid)


def test_an_item_whose_uid_field_names_its_shopbox_product_updates_that_product_and_makes_none(shop: Shop) -> None:
    # GIVEN the merchant linked the mug to its Shopbox product by the UID field, with no push or sync before
    made = shop.shopbox.sim.upsert_product(
        shop.shopbox.client, {"uid": None, "name": "Kaffekrus", "selling_price": 7500, "sku_code": "MUG-1"}
    )
    shop.rackbeat.set_field_value(shop.account, "MUG-1", UID_FIELD, str(made["uid"]), emit=False)
    # WHEN the mug's push runs
    outcome = shop.push("MUG-1")
    # THEN that product now says what Rackbeat says, and no second product was made
    (product,) = shop.shopbox.products()
    assert outcome.status is EventStatus.DONE and f"updated Shopbox product {made['uid']}" in outcome.reason
    assert (product.uid, product.name, product.selling_price) == (str(made["uid"]), "Krus", 7900)
    # AND the mapping binds them from now on
    assert (catalog_mapping.shopbox_of(shop.ports.table, CONNECTION, "MUG-1") or {})["product_uid"] == str(made["uid"])
