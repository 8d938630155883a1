"""Products Rackbeat → Shopbox (`product_sync` `rackbeat` or `both`, issue 14 item 4): the `product.push` command
of the Shopbox outbound queue, one per Rackbeat product (or BOM, with `create_boms_in_shopbox`) webhook.

The push re-reads the item and upserts its Shopbox product with `create-or-update`:
- an item bound to a Shopbox product (the mapping, written by the initial sync or an earlier push; else the item's
  own `uid_field_id` / `variant_field_id`, the merchant's link) updates it: name,
  price, SKU and barcode; one bound to a variant updates that variant inside its product (Shopbox takes a product's
  variants as its whole list, so the product is read first and every other variant sent as it is);
- an unbound item becomes a new Shopbox product carrying `integration_number` (the item number) and
  `integration_type` "rackbeat", in the tag of its product group (`categories` read backwards), and its new uid is
  written to the item's `uid_field_id`. Before the create a "creating" mark is kept in the mapping: a push that
  finds it (the create's answer was lost) looks for the product by `integration_number` before creating again.

Without echo: the mapping keeps the fingerprint both systems agreed on last; an item whose fingerprint equals it
(our own write coming back, or a change of a field that does not move) is skipped with that reason. Prices: Rackbeat's
sales price to integer øre incl. VAT, with 25 % added when `add_vat` says Rackbeat keeps them without
(`catalog_mapping`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import products as rackbeat_products
from crossdock.connectors.rackbeat.client import RackbeatClient, item_path
from crossdock.connectors.rackbeat.products import ItemKind
from crossdock.errors import PermanentError
from crossdock.integration import CommandHandler
from crossdock.integrations.rackbeat_shopbox import catalog_mapping, stock
from crossdock.integrations.rackbeat_shopbox.catalog_mapping import RACKBEAT, shopbox_price
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.ports import CommandPorts
from crossdock.store import mappings
from crossdock.store.outcome import Outcome, finish_event

PUSH = "product.push"
INTEGRATION_TYPE = "rackbeat"
FROM_RACKBEAT = frozenset({"rackbeat", "both"})
CREATING = "creating"


def push_item(connection: RackbeatShopboxConnection, number: str, kind: ItemKind, ports: CommandPorts) -> Outcome:
    settings = connection.settings
    if settings.product_sync not in FROM_RACKBEAT:
        return Outcome.skipped(f"product_sync is {settings.product_sync}")
    if kind == "lot" and not settings.create_boms_in_shopbox:
        return Outcome.skipped("create_boms_in_shopbox is off: BOMs stay in Rackbeat")
    rackbeat = ports.clients.rackbeat(connection)
    item = rackbeat_products.read_item(rackbeat, number, kind)
    if item is None:
        return Outcome.skipped(f"item {number} no longer exists in Rackbeat; its Shopbox product is left as it is")
    wanted = catalog_mapping.rackbeat_fingerprint(item, settings.add_vat)
    binding = catalog_mapping.shopbox_of(ports.table, connection.id, number) or {}
    if not binding:
        # Never pushed nor synced: the merchant's own link, the item's UID fields (seed 002), names its product,
        # as for the stock push; only an item without one gets a product made.
        place = stock.shopbox_place(ports.table, connection, number, rackbeat)
        if place is not None:
            binding = {"product_uid": place.product, "variant_uid": place.variance}
    if binding.get("fingerprint") == wanted:
        return Outcome.skipped(f"item {number} is as it was last synced (unchanged, or our own write)")
    shopbox = ports.clients.shopbox(connection)
    price = shopbox_price(Decimal(str(item.get("sales_price") or 0)), settings.add_vat)
    product = _bound_product(shopbox, binding, number)
    if product is not None and binding.get("variant_uid"):
        variant_uid = str(binding["variant_uid"])
        written = _upsert(shopbox, _variant_body(product, variant_uid, item, price))
        action = f"updated variant {variant_uid} of Shopbox product {written.uid}"
    elif product is not None:
        variant_uid = None
        if product.product_variances:
            raise PermanentError(
                f"item {number}: Shopbox product {product.uid} has variants now; bind each variant to its own item"
                " (the item is not pushed onto the whole product)"
            )
        written = _upsert(shopbox, {**_as_it_is(product), **_product_fields(item, price), "variants": []})
        action = f"updated Shopbox product {written.uid}"
    else:
        variant_uid = None
        mappings.put_mapping(ports.table, connection.id, catalog_mapping.ITEM, RACKBEAT, number, "", status=CREATING)
        body = {
            "uid": None,
            **_product_fields(item, price),
            "tag": _tag_of(item, connection),
            "inventory_on_variants": False,
            "variants": [],
        }
        written = _upsert(shopbox, body)
        action = f"created Shopbox product {written.uid}"
    newly_bound = not binding.get("product_uid") or str(binding["product_uid"]) != str(written.uid)
    if newly_bound and kind == "product":
        # Made now, or found after a lost answer: the item names its Shopbox product from now on. (Custom field
        # values are a product's: a BOM's binding is the mapping's, and a sale finds it by its number.)
        _write_uid_field(rackbeat, connection, number, str(written.uid))
    agreed = _agreed(written, variant_uid, wanted)
    catalog_mapping.bind_item(ports.table, connection.id, number, str(written.uid), variant_uid, agreed)
    return Outcome.done(f"item {number}: {action}")


def _bound_product(shopbox: Any, binding: dict[str, Any], number: str) -> Any:
    """The Shopbox product the item is bound to; after a lost create's answer, the one carrying its number."""
    if binding.get("status") == CREATING:
        for product in shopbox.products():
            if str(product.integration_number or "") == number and product.integration_type == INTEGRATION_TYPE:
                return product
        return None
    if binding.get("product_uid"):
        return shopbox.product(str(binding["product_uid"]))  # None: deleted in Shopbox, so made again
    return None


def _product_fields(item: dict[str, Any], price: int) -> dict[str, Any]:
    number = str(item["number"])
    return {
        "name": str(item.get("name") or number),
        "selling_price": price,
        "sku_code": number,
        "code": item.get("barcode") or None,
        "integration_number": number,
        "integration_type": INTEGRATION_TYPE,
    }


def _variant_body(product: Any, variant_uid: str, item: dict[str, Any], price: int) -> dict[str, Any]:
    variants = []
    for variance in product.product_variances:
        row = {
            "uid": variance.uid,
            "name": variance.name,
            "sku_code": variance.sku_code,
            "code": variance.code,
            "selling_price": variance.selling_price,
        }
        if str(variance.uid) == variant_uid:
            row.update(sku_code=str(item["number"]), code=item.get("barcode") or None, selling_price=price)
        variants.append(row)
    if not any(str(v["uid"]) == variant_uid for v in variants):
        raise PermanentError(
            f"item {item['number']}: Shopbox product {product.uid} has no variant {variant_uid} any more"
        )
    return {**_as_it_is(product), "variants": variants}


def _as_it_is(product: Any) -> dict[str, Any]:
    """The product's own fields as Shopbox has them: an upsert carries them all (the connector's body names every
    field), so what the push does not change is sent back unchanged."""
    return {
        "uid": product.uid,
        "name": product.name,
        "selling_price": product.selling_price,
        "stock_price": product.stock_price,
        "tag": product.tag,
        "code": product.code,
        "sku_code": product.sku_code,
        "integration_number": product.integration_number,
        "integration_type": product.integration_type,
        "inventory_on_variants": product.inventory_on_variants,
    }


def _tag_of(item: dict[str, Any], connection: RackbeatShopboxConnection) -> int | None:
    """The Shopbox tag whose product group is the item's (the first, when several share one)."""
    group = (item.get("group") or {}).get("number") if isinstance(item.get("group"), dict) else None
    for tag, number in connection.settings.categories.items():
        if group is not None and str(number) == str(group):
            return int(tag)
    return None


def _upsert(shopbox: Any, body: dict[str, Any]) -> Any:
    # The connector's shape is imported where it is used: the rest of this module runs without the connector's
    # models loaded (dispatch imports the routes).
    from crossdock.connectors.shopbox.shapes import ProductUpsert

    return shopbox.upsert_product(ProductUpsert.model_validate(body))


def _write_uid_field(rackbeat: RackbeatClient, connection: RackbeatShopboxConnection, number: str, uid: str) -> None:
    field_id = connection.settings.uid_field_id
    if field_id is not None:
        rackbeat.put(f"products/{item_path(number)}/fields/{field_id}", {"value": uid}, **rackbeat_products.SUPPRESS)


def _agreed(product: Any, variant_uid: str | None, fallback: str) -> str:
    """The fingerprint of the unit as Shopbox now shows it (what the products poll will read back)."""
    for unit in catalog_mapping.units(product):
        if unit.variant_uid == variant_uid:
            return unit.fingerprint()
    return fallback


def push_product(connection: Connection, command: dict[str, Any], ports: CommandPorts) -> str:
    try:
        outcome = push_item(
            RackbeatShopboxConnection.of(connection), str(command["number"]), command.get("kind", "product"), ports
        )
    except PermanentError as refused:
        outcome = Outcome.needs_attention(refused.reason, refused.failure_class)
    if command.get("event_sk"):
        details = {"failure_class": outcome.failure_class.value} if outcome.failure_class else {}
        finish_event(ports.table, connection.id, str(command["event_sk"]), outcome.status, outcome.reason, **details)
    return outcome.reason


COMMANDS: dict[str, CommandHandler] = {PUSH: push_product}
