"""Products both ways (SPEC §1.3 `product_sync`), end to end on the embedded stack.

Rackbeat items are created and edited through Rackbeat's API (as the merchant's Rackbeat does, sending its
webhooks); Shopify products are created and edited in the Shopify simulator (sending REST-shaped product webhooks
shaped like `../shared/fixtures/shopify/2025-01/product_*.json`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

RACKBEAT_MASTER = {"master": "rackbeat", "default_product_group": 10}
SHOPIFY_MASTER = {"master": "shopify", "default_product_group": 10}


def rackbeat_master(merchant_with: Any, **product_sync: Any) -> Any:
    merchant = merchant_with(product_sync={**RACKBEAT_MASTER, **product_sync})
    merchant.stack.rackbeat.seed_product_group(merchant.account, 10, "Sommerjakker")
    return merchant


def new_item(merchant: Any, number: str = "JAKKE-1", **fields: Any) -> None:
    body = {
        "number": number,
        "name": "Regnjakke",
        "description": "Vandtæt & let",
        "sales_price": "400.00",
        "cost_price": "150.00",
        "recommended_cost_price": "180.00",
        "barcode": "5701234567890",
        "group": {"number": 10},
        **fields,
    }
    merchant.rackbeat_api("POST", "products", json=body)
    merchant.stack.settle()


def only_variant(merchant: Any, sku: str) -> tuple[dict[str, Any], dict[str, Any]]:
    found = [
        (product, variant)
        for product in merchant.stack.shopify.products(merchant.domain)
        for variant in product["variants"]
        if variant["sku"] == sku
    ]
    assert len(found) == 1, f"expected one variant with SKU {sku}, found {len(found)}"
    return found[0]


# ---- master = rackbeat -------------------------------------------------------------------------------------------


def test_a_new_rackbeat_item_becomes_a_shop_product(merchant_with: Any) -> None:
    merchant = rackbeat_master(merchant_with)
    new_item(merchant)
    product, variant = only_variant(merchant, "JAKKE-1")
    assert product["title"] == "Regnjakke"
    assert product["product_type"] == "Sommerjakker"  # the item's category (product group)
    assert "Vandtæt &amp; let" in product["body_html"]
    assert product["status"] == "active"
    assert Decimal(variant["price"]) == Decimal("400.00")
    assert variant["barcode"] == "5701234567890"
    done = [e for e in merchant.events() if e["topic"] == "product.created"]
    assert [e["status"] for e in done] == ["done"]


def test_prices_get_danish_vat_when_rackbeat_prices_exclude_it(merchant_with: Any) -> None:
    for exclude_vat, expected in ((True, "500.00"), (False, "400.00")):
        merchant = rackbeat_master(merchant_with, prices_exclude_vat=exclude_vat)
        new_item(merchant)
        assert Decimal(only_variant(merchant, "JAKKE-1")[1]["price"]) == Decimal(expected)


def test_cost_follows_the_cost_price_setting(merchant_with: Any) -> None:
    for setting, expected in (("recommended", Decimal("180.00")), ("actual", Decimal("150.00")), ("none", None)):
        merchant = rackbeat_master(merchant_with, cost_price=setting)
        new_item(merchant)
        variant = only_variant(merchant, "JAKKE-1")[1]
        cost = merchant.stack.shopify.inventory_item(merchant.domain, variant["inventory_item_id"])["cost"]
        assert (Decimal(str(cost)) if cost is not None else None) == expected, setting


def channels(merchant: Any, product: dict[str, Any]) -> list[str]:
    """The sales channels the shop shows the product in (its publications)."""
    found: list[str] = merchant.stack.shopify.publications.channels(merchant.domain, product["id"])
    return found


def test_an_always_online_item_is_published_to_the_online_store(merchant_with: Any) -> None:
    merchant = rackbeat_master(merchant_with)
    new_item(merchant)
    product = only_variant(merchant, "JAKKE-1")[0]
    assert channels(merchant, product) == ["Online Store"] and product["published_at"] is not None


def test_only_ticked_items_are_published_when_a_custom_field_decides(merchant_with: Any) -> None:
    # GIVEN online availability decided by Rackbeat's checkbox field 7, not ticked on a new item
    merchant = merchant_with(product_sync={**RACKBEAT_MASTER, "online_availability": "7"})
    merchant.stack.rackbeat.seed_product_group(merchant.account, 10, "Sommerjakker")
    merchant.stack.rackbeat.seed_field(merchant.account, 7, "Webshop", "checkbox")
    new_item(merchant)
    # THEN the product is active (it sells at the counter) but not in the Online Store
    product = only_variant(merchant, "JAKKE-1")[0]
    assert product["status"] == "active" and channels(merchant, product) == []
    # WHEN the merchant ticks the box in Rackbeat; THEN the Online Store shows it
    merchant.stack.rackbeat.set_field_value(merchant.account, "JAKKE-1", 7, True)
    merchant.stack.settle()
    assert channels(merchant, only_variant(merchant, "JAKKE-1")[0]) == ["Online Store"]
    # WHEN it is unticked again; THEN it leaves the Online Store and stays active
    merchant.stack.rackbeat.set_field_value(merchant.account, "JAKKE-1", 7, False)
    merchant.stack.settle()
    product = only_variant(merchant, "JAKKE-1")[0]
    assert channels(merchant, product) == [] and product["status"] == "active"
    pushed = [e for e in merchant.events() if e["topic"].startswith("product.") and e["status"] == "done"]
    assert "not in the Online Store" in pushed[-1]["reason"]


def test_a_barred_item_is_a_draft_on_no_channel(merchant_with: Any) -> None:
    merchant = rackbeat_master(merchant_with)
    new_item(merchant, is_barred=True)
    product = only_variant(merchant, "JAKKE-1")[0]
    assert product["status"] == "draft" and channels(merchant, product) == []


def test_an_edit_updates_the_product_without_touching_other_variants(merchant_with: Any) -> None:
    # GIVEN a shop product with two variants, one of which is the Rackbeat item
    merchant = rackbeat_master(merchant_with)
    merchant.stack.rackbeat.seed_product(merchant.account, "JAKKE-S", "Regnjakke S", "400", location_stock={"L1": 3})
    merchant.stack.shopify.create_product(
        merchant.domain,
        {
            "title": "Regnjakke (merchant's own title)",
            "tags": "sommer",
            "variants": [
                {"title": "S", "sku": "JAKKE-S", "price": "400.00", "inventory_quantity": 3},
                {"title": "M", "sku": "JAKKE-M", "price": "400.00", "inventory_quantity": 5},
            ],
        },
        emit=False,
    )
    # WHEN the item's price changes in Rackbeat
    merchant.rackbeat_api("PUT", "products/JAKKE-S", json={"sales_price": "450.00"})
    merchant.stack.settle()
    # THEN its variant has the new price; the product keeps its title, tags and other variant
    product, variant = only_variant(merchant, "JAKKE-S")
    assert Decimal(variant["price"]) == Decimal("450.00")
    assert product["title"] == "Regnjakke (merchant's own title)"
    assert product["tags"] == "sommer"
    assert [v["sku"] for v in product["variants"]] == ["JAKKE-S", "JAKKE-M"]


def test_an_unchanged_item_is_not_written_again(merchant_with: Any) -> None:
    merchant = rackbeat_master(merchant_with)
    new_item(merchant)
    writes = merchant.stack.shopify.mutation_count("productUpdate")
    # WHEN Rackbeat reports an update that changed nothing Crossdock syncs (here: a field it ignores)
    merchant.rackbeat_api("PUT", "products/JAKKE-1", json={"is_barred": False})
    merchant.stack.settle()
    assert merchant.stack.shopify.mutation_count("productUpdate") == writes
    updated = [e for e in merchant.events() if e["topic"] == "product.updated"]
    assert updated and updated[-1]["status"] == "skipped"
    assert "unchanged since the last sync" in updated[-1]["reason"]


def test_master_none_moves_nothing(merchant_with: Any) -> None:
    merchant = merchant_with(product_sync={"master": "none"})
    merchant.stack.rackbeat.seed_product_group(merchant.account, 10, "Sommerjakker")
    new_item(merchant)
    assert not [v for p in merchant.stack.shopify.products(merchant.domain) for v in p["variants"]]


# ---- master = shopify --------------------------------------------------------------------------------------------


def shopify_master(merchant_with: Any) -> Any:
    merchant = merchant_with(product_sync=SHOPIFY_MASTER)
    merchant.stack.rackbeat.seed_product_group(merchant.account, 10, "Webshop")
    return merchant


def test_a_shop_product_becomes_rackbeat_items(merchant_with: Any, fixture_product: dict[str, Any]) -> None:
    merchant = shopify_master(merchant_with)
    product = fixture_product
    merchant.stack.shopify.create_product(merchant.domain, product)
    merchant.stack.settle()
    state = merchant.stack.rackbeat.state(merchant.account)
    skus = [v["sku"] for v in product["variants"] if v.get("sku")]
    assert skus and all(sku in state.products for sku in skus)
    first = product["variants"][0]
    item = state.products[first["sku"]]
    assert item["name"].startswith(product["title"])
    assert Decimal(str(item["sales_price"])) == Decimal(first["price"])
    assert item["group"]["number"] == 10
    assert [e["status"] for e in merchant.events() if e["topic"] == "products/create"] == ["done"]


def test_variants_without_sku_and_repeated_skus_are_reported(merchant_with: Any) -> None:
    merchant = shopify_master(merchant_with)
    merchant.stack.shopify.create_product(
        merchant.domain,
        {
            "title": "Hue",
            "body_html": "<p>Varm <b>uld</b></p>",
            "options": [{"name": "Farve", "values": ["Rød", "Blå", "Grøn"]}],
            "variants": [
                {"title": "Rød", "option1": "Rød", "sku": "HUE-R", "price": "99.95", "grams": 120},
                {"title": "Blå", "option1": "Blå", "sku": "", "price": "99.95"},
                {"title": "Grøn", "option1": "Grøn", "sku": "HUE-R", "price": "99.95"},
            ],
        },
    )
    merchant.stack.settle()
    state = merchant.stack.rackbeat.state(merchant.account)
    assert state.products["HUE-R"]["name"] == "Hue - Rød"
    assert state.products["HUE-R"]["description"] == "Varm uld"
    assert Decimal(str(state.products["HUE-R"]["physical"]["weight"])) == Decimal(120)
    event = next(e for e in merchant.events() if e["topic"] == "products/create")
    assert event["status"] == "done"
    assert "has no SKU" in event["reason"] and "SKU HUE-R is also on variant" in event["reason"]


def test_a_repeated_product_update_is_skipped_and_edits_are_applied(merchant_with: Any) -> None:
    merchant = shopify_master(merchant_with)
    product = merchant.stack.shopify.create_product(
        merchant.domain, {"title": "Hue", "variants": [{"title": "Default Title", "sku": "HUE", "price": "99.95"}]}
    )
    merchant.stack.settle()
    # WHEN Shopify sends products/update with nothing Crossdock syncs changed (e.g. a tag), then a price change
    merchant.stack.shopify.update_product(merchant.domain, product["id"], {"tags": "vinter"})
    merchant.stack.settle()
    merchant.stack.shopify.update_product(
        merchant.domain, product["id"], {}, variant_changes={product["variants"][0]["id"]: {"price": "89.95"}}
    )
    merchant.stack.settle()
    updates = [e for e in merchant.events() if e["topic"] == "products/update"]
    assert [e["status"] for e in updates] == ["skipped", "done"]
    assert Decimal(str(merchant.stack.rackbeat.state(merchant.account).products["HUE"]["sales_price"])) == Decimal(
        "89.95"
    )


def test_a_deleted_shop_product_keeps_its_rackbeat_items(merchant_with: Any) -> None:
    merchant = shopify_master(merchant_with)
    product = merchant.stack.shopify.create_product(
        merchant.domain, {"title": "Hue", "variants": [{"title": "Default Title", "sku": "HUE", "price": "99.95"}]}
    )
    merchant.stack.settle()
    merchant.stack.shopify.delete_product(merchant.domain, product["id"])
    merchant.stack.settle()
    assert "HUE" in merchant.stack.rackbeat.state(merchant.account).products
    deleted = next(e for e in merchant.events() if e["topic"] == "products/delete")
    assert deleted["status"] == "done" and "HUE are kept" in deleted["reason"]
