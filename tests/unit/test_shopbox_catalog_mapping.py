"""Shopbox products and variants as Rackbeat items (`rackbeat_shopbox.catalog_mapping`): the item number, name,
product group and price each gets, the stock each branch puts at its Rackbeat location, and what cannot be mapped,
listed with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shopbox_catalog_fakes import (
    AARHUS,
    ODENSE,
    STROGET,
    Product,
    cafe_catalogue,
    cafe_stock,
    settings,
)

from crossdock.integrations.rackbeat_shopbox import catalog_mapping
from crossdock.integrations.rackbeat_shopbox.catalog_mapping import rackbeat_price, shopbox_price


@pytest.mark.parametrize(
    ("ore", "add_vat", "kroner"),
    [
        (7900, True, Decimal("63.2")),  # 79.00 incl. 25 % VAT is 63.20 without
        (2999, True, Decimal("23.992")),  # exact to the tenth of an øre, never rounded away
        (1, True, Decimal("0.008")),
        (7900, False, Decimal("79")),  # without add_vat Rackbeat keeps the till's price
        (0, True, Decimal("0")),
    ],
)
def test_a_shopbox_price_in_ore_becomes_rackbeats_price_with_or_without_vat(
    ore: int, add_vat: bool, kroner: Decimal
) -> None:
    # GIVEN a Shopbox selling price in integer øre, VAT included
    # WHEN it is copied to Rackbeat and back
    # THEN Rackbeat's price is without VAT exactly when add_vat says so, and the way back gives the same øre
    assert rackbeat_price(ore, add_vat) == kroner
    assert shopbox_price(rackbeat_price(ore, add_vat), add_vat) == ore


def test_a_rackbeat_price_between_two_ore_is_rounded_to_the_nearest() -> None:
    # GIVEN a Rackbeat price without VAT that is no whole øre with VAT (63.33 × 1.25 = 79.1625)
    # THEN Shopbox gets the nearest øre
    assert shopbox_price(Decimal("63.33"), True) == 7916
    assert shopbox_price(Decimal("10.005"), False) == 1001


def test_each_product_and_variant_becomes_one_item_in_its_categorys_group_or_the_default() -> None:
    # GIVEN the café's catalogue (a mug tagged cakes, a coffee in two sizes tagged coffee, a cake without SKU,
    # and an old mug reusing the mug's SKU)
    # WHEN it is mapped with coffee → group 2 and default group 1
    found = catalog_mapping.catalog_entries(cafe_catalogue(), settings())
    # THEN the mug and both coffee sizes are items, the sizes named after their product, with their own prices
    by_number = {entry.number: entry for entry in found.entries}
    assert list(by_number) == ["MUG-1", "COF-S", "COF-L"]
    mug, small, large = by_number["MUG-1"], by_number["COF-S"], by_number["COF-L"]
    assert (mug.name, mug.group, mug.price_ore, mug.barcode, mug.variant_uid) == (
        "Krus",
        1,  # the cakes' tag has no group: the default
        7900,
        "5701234567890",
        None,
    )
    assert (small.name, small.group, small.price_ore, small.product_uid, small.variant_uid) == (
        "Kaffe - Lille",
        2,
        3500,
        "802",
        "8021",
    )
    assert (large.price_ore, large.barcode, large.shopbox_key) == (4500, "5701234567906", "802/8022")
    assert mug.rackbeat_body(add_vat=True) == {
        "number": "MUG-1",
        "name": "Krus",
        "sales_price": "63.2",
        "group": {"number": 1},
        "barcode": "5701234567890",
    }
    # AND the cake and the old mug are listed with the reason, not dropped
    assert found.unmapped == [
        "product 803 (Kage): no SKU (sku_code), so no Rackbeat item number",
        "product 804 (Krus (gammel)): SKU MUG-1 is used by an earlier product or variant",
    ]


def test_a_product_whose_tag_has_no_group_and_no_default_is_listed() -> None:
    # GIVEN settings with no default group (sales only: product sync off, no initial sync)
    chosen = settings(initial_sync="none", default_category_group=None)
    # WHEN a product of an unmapped tag is mapped
    found = catalog_mapping.catalog_entries([Product(900, "Te", 2500, sku_code="TEA", tag=99)], chosen)
    # THEN it is listed with the reason
    assert found.entries == []
    assert found.unmapped == [
        "product 900 (Te): tag 99 has no product group in `categories` and there is no `default_category_group`"
    ]


def test_stock_per_branch_lands_at_the_branchs_location_and_what_has_no_place_is_listed() -> None:
    # GIVEN stock at Strøget (L1), Aarhus (L2) and Odense (no location, no main location)
    catalogue = {str(p.uid): p for p in cafe_catalogue()}
    # WHEN it is placed
    found = catalog_mapping.stock_by_location(cafe_stock(), catalogue, settings())
    # THEN each item has its count per location
    assert found.quantities == {"801": {"L1": 12, "L2": 3}, "802/8021": {"L1": 40}, "802/8022": {"L1": 25}}
    # AND Odense's mugs and the large coffee sold below zero in Aarhus are listed
    assert found.unmapped == [
        f"stock of product 802 variant 8022 at branch {AARHUS}: -2 is below zero; Rackbeat's stock there is left "
        "as it is",
        f"stock of product 801 at branch {ODENSE}: the branch has no Rackbeat location in `locations` and there is "
        "no `main_location_rackbeat`",
    ]


def test_branches_without_a_location_fall_back_on_the_main_location_and_add_up() -> None:
    # GIVEN only Strøget mapped, and L1 the main Rackbeat location
    chosen = settings(locations={STROGET: "L1"}, main_location_rackbeat="L1")
    catalogue = {str(p.uid): p for p in cafe_catalogue()}
    # WHEN the stock is placed
    found = catalog_mapping.stock_by_location(cafe_stock(), catalogue, chosen)
    # THEN the mugs of all three branches add up at L1
    assert found.quantities["801"] == {"L1": 12 + 3 + 7}


def test_stock_kept_on_a_product_with_variants_has_no_item_and_is_listed() -> None:
    # GIVEN a product with variants whose stock Shopbox keeps on the product
    catalogue = {"802": cafe_catalogue()[1]}
    rows = {STROGET: [cafe_stock()[STROGET][0].__class__(9, 802, None, 5)]}
    # WHEN it is placed
    found = catalog_mapping.stock_by_location(rows, catalogue, settings())
    # THEN nothing is placed and the reason is listed
    assert found.quantities == {}
    assert found.unmapped == [
        f"stock of product 802 at branch {STROGET}: Shopbox keeps it on the product, not per variant (5)"
    ]


def test_the_fingerprint_of_an_item_is_the_same_from_either_system_when_they_agree() -> None:
    # GIVEN the mug as Shopbox has it, and as Rackbeat has it after the copy (price without VAT)
    (mug, *_) = catalog_mapping.catalog_entries(cafe_catalogue(), settings()).entries
    in_rackbeat = {"number": "MUG-1", "name": "Krus", "sales_price": "63.20", "barcode": "5701234567890"}
    # THEN both sides give one fingerprint, and a changed price another
    assert catalog_mapping.rackbeat_fingerprint(in_rackbeat, add_vat=True) == mug.fingerprint()
    changed = {**in_rackbeat, "sales_price": "64.00"}
    assert catalog_mapping.rackbeat_fingerprint(changed, add_vat=True) != mug.fingerprint()
