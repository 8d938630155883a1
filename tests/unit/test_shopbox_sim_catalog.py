"""The Shopbox simulator's catalogue and stock, seen through a real httpx client: the create-or-update upsert in
integer øre with `product_variances`, numbered pages with `per-page=-1`, stock per branch (absolute, a flag for
delta), clients kept apart, and a write whose answer is lost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_shopbox_sim import EPOCH, OWNER, Till, error_of, open_till


@pytest.fixture
def till() -> Till:
    return open_till()


# --- products ----------------------------------------------------------------------------------------------------


def test_create_or_update_with_uid_null_creates_with_variances(till: Till) -> None:
    # GIVEN a new product with two variants
    token = till.login()
    body: dict[str, Any] = {"uid": None, "name": "Hue", "selling_price": 14900, "tag": till.clothes, "sku_code": "HUE"}
    body["variants"] = [{"name": "Rød", "sku_code": "HUE-R"}, {"name": "Blå", "sku_code": "HUE-B"}]
    # WHEN it is upserted
    answer = till.call("POST", "products/create-or-update", token, json=body)
    # THEN it is created, with its own uid and a uid per variance; a variant without a price takes the product's
    assert answer.status_code == 201
    product = answer.json()["data"]
    assert product["uid"] and product["tstamp"] == EPOCH
    variances = product["product_variances"]
    assert [(v["name"], v["sku_code"], v["selling_price"]) for v in variances] == [
        ("Rød", "HUE-R", 14900),
        ("Blå", "HUE-B", 14900),
    ]
    assert len({product["uid"], *(v["uid"] for v in variances)}) == 3
    assert till.data(f"products/{product['uid']}", token) == product


def test_create_or_update_with_a_known_uid_updates_in_place(till: Till) -> None:
    # GIVEN the T-shirt with variants S and M
    token = till.login()
    small, medium = till.tee["product_variances"]
    till.clock.advance(60)
    # WHEN it is upserted with its uid: a new price, S by uid, M by its SKU, and a new L
    body = {
        "uid": till.tee["uid"],
        "selling_price": 17900,
        "variants": [
            {"uid": small["uid"], "name": "Small"},
            {"name": "M", "sku_code": "TEE-M"},
            {"name": "L", "sku_code": "TEE-L"},
        ],
    }
    answer = till.call("POST", "products/create-or-update", token, json=body)
    # THEN the same product is updated (200), its variances keep their uids, and L is new
    assert answer.status_code == 200
    product = answer.json()["data"]
    assert product["uid"] == till.tee["uid"] and product["name"] == "T-shirt"
    assert product["selling_price"] == 17900 and product["tstamp"] == EPOCH + 60
    uids = [v["uid"] for v in product["product_variances"]]
    assert uids[:2] == [small["uid"], medium["uid"]] and uids[2] not in uids[:2]
    assert product["product_variances"][0]["name"] == "Small"
    assert len(till.data("products", token)) == 2
    # AND a variance left out of the list goes, with its stock
    again = {"uid": till.tee["uid"], "variants": [{"uid": small["uid"], "name": "Small"}]}
    till.call("POST", "products/create-or-update", token, json=again)
    assert [v["uid"] for v in till.data(f"products/{till.tee['uid']}", token)["product_variances"]] == [small["uid"]]
    assert till.sim.stock(till.client, till.branch, till.tee["uid"], medium["uid"]) == 0


def test_create_or_update_with_an_unknown_uid_is_404(till: Till) -> None:
    answer = till.call("POST", "products/create-or-update", till.login(), json={"uid": 424242, "name": "X"})
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"selling_price": 79.5}, "selling_price"),
        ({"selling_price": "7900"}, "selling_price"),
        ({"stock_price": -1}, "stock_price"),
        ({"tag": 999999}, "tag"),
        ({"name": ""}, "name"),
        ({"variants": [{"name": "S"}, {"name": "M", "selling_price": 1.5}]}, "variants[1].selling_price"),
        ({"variants": [{"uid": 1, "name": "S"}]}, "variants[0].uid"),
    ],
)
def test_an_upsert_that_is_not_whole_ore_or_names_nothing_is_422_and_writes_nothing(
    till: Till, change: dict[str, Any], field: str
) -> None:
    # GIVEN an update of the mug with one wrong field
    token = till.login()
    before = till.data("products", token)
    body = {"uid": till.mug["uid"], "name": "Mug", "selling_price": 8900, **change}
    # WHEN it is upserted
    answer = till.call("POST", "products/create-or-update", token, json=body)
    # THEN it is 422 naming the field, and the catalogue is as it was
    assert answer.status_code == 422
    assert field in error_of(answer)["errors"]
    assert till.data("products", token) == before


def test_lists_page_with_per_page_and_minus_one_returns_everything(till: Till) -> None:
    # GIVEN 30 more products (32 in all)
    for number in range(30):
        till.sim.upsert_product(till.client, {"uid": None, "name": f"Vare {number}", "selling_price": 100 + number})
    token = till.login()
    # WHEN the first page is read without a size, THEN it holds 25 and links the next
    first = till.get("products", token).json()
    assert len(first["data"]) == 25
    assert first["meta"]["pagination"] == {
        "total": 32,
        "per_page": 25,
        "current_page": 1,
        "total_pages": 2,
        "links": {"next": "/products?page=2"},
    }
    # AND the last page has no next link
    last = till.get("products", token, page=2).json()
    assert len(last["data"]) == 7 and last["meta"]["pagination"]["links"] == {}
    # AND per-page=-1 answers all 32 on one page
    everything = till.get("products", token, **{"per-page": -1}).json()
    assert len(everything["data"]) == 32 and everything["meta"]["pagination"]["total_pages"] == 1
    # AND a page size or page Shopbox would refuse is 422 naming the parameter
    assert error_of(till.get("products", token, **{"per-page": 0}))["errors"] == {"per-page": ANY_TEXT}
    assert error_of(till.get("products", token, page="x"))["errors"] == {"page": ANY_TEXT}


class _AnyText:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


ANY_TEXT: Any = _AnyText()


# --- stock per branch --------------------------------------------------------------------------------------------


def test_posting_stock_sets_the_absolute_quantity_by_default(till: Till) -> None:
    # GIVEN 10 mugs in the first branch
    token = till.login()
    row = {"branch": till.branch, "product": till.mug["uid"], "product_variance": None, "note": "count"}
    # WHEN 7 is posted twice
    for _ in range(2):
        assert till.call("POST", "product-inventories", token, json={**row, "quantity": 7}).status_code == 201
    # THEN the branch has 7 (absolute), the other branch none, and the row shows the SKU
    rows = till.data("product-inventories", token, branch=till.branch, num_per_page=100)
    mugs = [r for r in rows if r["product"] == till.mug["uid"]]
    assert [(r["quantity"], r["sku_code"], r["product_variance"]) for r in mugs] == [(7, "MUG-1", None)]
    assert till.data("product-inventories", token, branch=till.other_branch, num_per_page=100) == []


def test_a_flag_makes_posted_stock_a_delta() -> None:
    till = open_till(inventory_delta=True)
    token = till.login()
    row = {"branch": till.branch, "product": till.mug["uid"], "product_variance": None, "quantity": -3}
    till.call("POST", "product-inventories", token, json=row)
    assert till.sim.stock(till.client, till.branch, till.mug["uid"]) == 7


def test_stock_of_a_product_kept_per_variant_needs_the_variant(till: Till) -> None:
    token = till.login()
    small = till.tee["product_variances"][0]["uid"]
    base = {"branch": till.branch, "product": till.tee["uid"], "quantity": 2}
    missing = till.call("POST", "product-inventories", token, json={**base, "product_variance": None})
    assert missing.status_code == 422 and "product_variance" in error_of(missing)["errors"]
    on_mug = till.call(
        "POST", "product-inventories", token, json={**base, "product": till.mug["uid"], "product_variance": small}
    )
    assert on_mug.status_code == 422 and "product_variance" in error_of(on_mug)["errors"]
    fine = till.call("POST", "product-inventories", token, json={**base, "product_variance": small})
    assert fine.status_code == 201 and fine.json()["data"]["sku_code"] == "TEE-S"
    wrong_branch = till.call(
        "POST", "product-inventories", token, json={**base, "branch": 1, "product_variance": small}
    )
    assert wrong_branch.status_code == 422 and "branch" in error_of(wrong_branch)["errors"]


def test_one_clients_records_are_not_anothers(till: Till) -> None:
    # GIVEN a second client of the same login, with a product of its own
    second = till.sim.seed_client("Kaffebar Aarhus ApS", branches={"Aarhus C": ["Kasse 1"]})["uid"]
    till.sim.grant(OWNER, second)
    own = till.sim.upsert_product(second, {"uid": None, "name": "Aarhus-krus", "selling_price": 9900})
    token = till.login()
    # THEN each client lists only its own products, and reads the other's by uid as unknown
    assert [p["uid"] for p in till.call("GET", "products", token, client=second).json()["data"]] == [own["uid"]]
    assert own["uid"] not in [p["uid"] for p in till.data("products", token)]
    assert till.get(f"products/{own['uid']}", token).status_code == 404
    # AND a stock write naming the other client's product is refused
    row = {"branch": till.branch, "product": own["uid"], "product_variance": None, "quantity": 1}
    refused = till.call("POST", "product-inventories", token, json=row)
    assert refused.status_code == 422 and "product" in error_of(refused)["errors"]


def test_a_lost_answer_after_an_upsert_leaves_the_product_created(till: Till) -> None:
    # GIVEN every write loses its answer
    token = till.login()
    till.sim.faults.drop_response_rate = 1.0
    # WHEN a product is created, THEN the caller sees a transport error
    with pytest.raises(httpx.ReadError):
        till.call("POST", "products/create-or-update", token, json={"uid": None, "name": "Termokop"})
    # AND the product exists nevertheless
    till.sim.faults.drop_response_rate = 0.0
    assert "Termokop" in [p["name"] for p in till.data("products", token, **{"per-page": -1})]
