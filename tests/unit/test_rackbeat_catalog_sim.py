"""The Rackbeat simulator's catalogue and stock (product groups, custom fields, lots, /items, stock per location,
inventory adjustments, stock webhooks and the warehouse-side control methods), seen through a real httpx client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from rackbeat_api import product, rackbeat_client, sent, subscribe
from sim_fakes import RecordingSink

from crossdock_local.sims.rackbeat import fulfilment
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY = "key-catalog"


def seed(sim: RackbeatSimulator) -> int:
    """Two locations, two product groups, item and customer fields, three products and a customer."""
    account = sim.add_account(KEY)
    sim.seed_location(account, "L1", "Main warehouse")
    sim.seed_location(account, "L2", "Shop floor")
    sim.seed_product_group(account, 10, "Mugs")
    sim.seed_product_group(account, 20, "Services", has_inventory=False)
    sim.seed_field(account, 1, "Show online")
    sim.seed_field(account, 2, "Origin", type="text")
    sim.seed_field(account, 3, "VIP", for_="customer")
    sim.seed_product(account, "MUG", "Blue mug", "99.50", location_stock={"L1": 10}, group={"number": 10})
    sim.seed_product(account, "TEA", "Green tea", 40)
    sim.seed_product(account, "SVC", "Gift wrapping", 15, inventory_enabled=False)
    sim.seed_customer(account, 1, "Kaffe ApS")
    return account


@pytest.fixture
def sim() -> RackbeatSimulator:
    sim = RackbeatSimulator()
    seed(sim)
    return sim


@pytest.fixture
def api(sim: RackbeatSimulator) -> httpx.Client:
    return rackbeat_client(sim, KEY)


def locations(api: httpx.Client, number: str) -> dict[str, dict[str, Any]]:
    response = api.get(f"products/{number}/locations")
    assert response.status_code == 206
    return {row["number"]: row for row in response.json()["product_locations"]}


def paging(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in ("total", "pages", "limit", "page")}


# --- product groups ----------------------------------------------------------------------------------------------


def test_product_groups_list_is_206_and_filters_on_number(api: httpx.Client) -> None:
    # WHEN the groups are listed, all and by number
    listed = api.get("product-groups")
    one = api.get("product-groups", params={"simple_filter[number]": "20"})
    # THEN the list answers 206 with paging, and the filter keeps only group 20
    assert listed.status_code == 206
    assert paging(listed.json()) == {"total": 2, "pages": 1, "limit": 20, "page": 1}
    assert [g["number"] for g in listed.json()["product_groups"]] == [10, 20]
    assert [g["name"] for g in one.json()["product_groups"]] == ["Services"]


def test_one_product_group_in_its_envelope(api: httpx.Client) -> None:
    response = api.get("product-groups/20")
    assert response.status_code == 200
    assert response.json() == {
        "product_group": {
            "number": 20,
            "name": "Services",
            "has_inventory": False,
            "vat_domestic": 25,
            "vat_eu": 0,
            "vat_abroad": 0,
        }
    }
    assert api.get("product-groups/99").status_code == 404


def test_product_shows_its_group_by_number_and_name(api: httpx.Client) -> None:
    # GIVEN a product created in group 10
    created = api.post("products", json={"number": "CUP", "name": "Cup", "group": {"number": 10}})
    # THEN it answers 201 and shows the group's number and name, as does a seeded product
    assert created.status_code == 201
    assert created.json()["product"]["group"] == {"number": 10, "name": "Mugs"}
    assert product(api, "MUG")["group"] == {"number": 10, "name": "Mugs"}
    assert product(api, "TEA")["group"] is None
    # WHEN the group is cleared
    assert api.put("products/CUP", json={"group": None}).json()["product"]["group"] is None


def test_unknown_or_malformed_group_is_422(api: httpx.Client) -> None:
    unknown = api.post("products", json={"number": "CUP", "name": "Cup", "group": {"number": 99}})
    bare = api.put("products/MUG", json={"group": 10})
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["group.number"]
    assert bare.status_code == 422 and list(bare.json()["errors"]) == ["group"]
    assert api.get("products/CUP").status_code == 404
    assert product(api, "MUG")["group"] == {"number": 10, "name": "Mugs"}


def test_new_product_in_a_group_without_inventory_keeps_no_stock(api: httpx.Client) -> None:
    # Guess in the simulator: the group's has_inventory is the default; the body can still say otherwise.
    plain = api.post("products", json={"number": "WRAP", "name": "Wrap", "group": {"number": 20}}).json()
    told = api.post(
        "products", json={"number": "BOX", "name": "Box", "group": {"number": 20}, "inventory_enabled": True}
    ).json()
    assert plain["product"]["inventory_enabled"] is False
    assert told["product"]["inventory_enabled"] is True


# --- custom fields -----------------------------------------------------------------------------------------------


def test_fields_for_items_are_listed_with_their_type(api: httpx.Client) -> None:
    response = api.get("fields", params={"for": "item"})
    assert response.status_code == 206
    assert response.json()["fields"] == [
        {"id": 1, "name": "Show online", "type": "checkbox", "for": "item"},
        {"id": 2, "name": "Origin", "type": "text", "for": "item"},
    ]
    assert [f["id"] for f in api.get("fields", params={"for": "customer"}).json()["fields"]] == [3]


def test_product_field_values_start_unset_and_can_be_set(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN nothing set on MUG
    before = api.get("products/MUG/fields")
    assert before.status_code == 206
    assert before.json()["field_values"] == [
        {"field": {"id": 1, "name": "Show online", "type": "checkbox"}, "value": False},
        {"field": {"id": 2, "name": "Origin", "type": "text"}, "value": None},
    ]
    subscribe(api, "product.updated")
    # WHEN the checkbox is ticked (as "1") and the text set
    ticked = api.put("products/MUG/fields/1", json={"value": "1"})
    api.put("products/MUG/fields/2", json={"value": "Denmark"})
    # THEN the checkbox reads back as a real boolean, and each change is one product.updated
    assert ticked.status_code == 200
    assert ticked.json() == {
        "field_value": {"field": {"id": 1, "name": "Show online", "type": "checkbox"}, "value": True}
    }
    values = {row["field"]["id"]: row["value"] for row in api.get("products/MUG/fields").json()["field_values"]}
    assert values == {1: True, 2: "Denmark"}
    assert sent(sim) == [("product.updated", "MUG"), ("product.updated", "MUG")]


def test_bad_field_value_or_field_is_refused(api: httpx.Client) -> None:
    not_a_bool = api.put("products/MUG/fields/1", json={"value": "maybe"})
    assert not_a_bool.status_code == 422 and list(not_a_bool.json()["errors"]) == ["value"]
    assert api.put("products/MUG/fields/1", json={}).status_code == 422
    assert api.put("products/MUG/fields/99", json={"value": True}).status_code == 404
    assert api.put("products/MUG/fields/3", json={"value": True}).status_code == 404  # a customer field
    assert api.put("products/NOPE/fields/1", json={"value": True}).status_code == 404


def test_set_field_value_from_python_and_filter_products_on_it(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.updated")
    # WHEN a user ticks "Show online" on TEA, and quietly on MUG
    sim.set_field_value(1, "TEA", 1, True)
    sim.set_field_value(1, "MUG", 1, True, emit=False)
    # THEN only the first is announced, and field_eq finds both
    assert sent(sim) == [("product.updated", "TEA")]
    online = api.get("products", params={"field_eq[1]": "1"}).json()["products"]
    assert [p["number"] for p in online] == ["MUG", "TEA"]
    assert api.get("products", params={"field_eq[77]": "1"}).status_code == 422
    with pytest.raises(ValueError, match="value"):
        sim.set_field_value(1, "TEA", 1, "maybe")


# --- stock per location and reservations -------------------------------------------------------------------------


def test_locations_show_what_booked_orders_reserve_there(api: httpx.Client) -> None:
    # GIVEN 10 MUG at L1 and a booked order for 3 at L1, 2 at L2 (never stocked there) and 1 without a location
    lines = [
        {"item_id": "MUG", "quantity": 3, "location_id": "L1"},
        {"item_id": "MUG", "quantity": 2, "location_id": "L2"},
        {"item_id": "MUG", "quantity": 1},
    ]
    assert api.post("orders", json={"customer_id": 1, "lines": lines}).status_code == 201
    # THEN each location shows its own reservation, and the product all of them
    rows = locations(api, "MUG")
    assert rows["L1"] == {
        "number": "L1",
        "name": "Main warehouse",
        "stock_quantity": 10,
        "in_order_quantity": 3,
        "available_quantity": 7,
    }
    assert (rows["L2"]["stock_quantity"], rows["L2"]["in_order_quantity"], rows["L2"]["available_quantity"]) == (
        0,
        2,
        -2,
    )
    mug = product(api, "MUG")
    assert (mug["stock_quantity"], mug["in_order_quantity"], mug["available_quantity"]) == (10, 6, 4)


def test_partly_shipped_order_reserves_only_what_is_left(api: httpx.Client) -> None:
    api.post("orders", json={"customer_id": 1, "lines": [{"item_id": "MUG", "quantity": 3, "location_id": "L1"}]})
    line_id = api.get("orders/1").json()["order"]["lines"][0]["id"]
    # WHEN 1 of the 3 is shipped
    shipment = api.post("orders/1/create-shipment", json={"lines": [{"line_id": line_id, "quantity": 1}]})
    api.post(f"orders/shipments/{shipment.json()['order_shipment']['id']}/mark-shipped")
    # THEN stock dropped by 1 and 2 stay reserved, so 7 are still available
    row = locations(api, "MUG")["L1"]
    assert (row["stock_quantity"], row["in_order_quantity"], row["available_quantity"]) == (9, 2, 7)


# --- stock webhooks on reservations ------------------------------------------------------------------------------


def test_booking_and_reopening_an_order_announce_each_stocked_item_once(
    sim: RackbeatSimulator, api: httpx.Client
) -> None:
    subscribe(api, "product.stock_changed")
    lines = [
        {"item_id": "MUG", "quantity": 1, "location_id": "L1"},
        {"item_id": "MUG", "quantity": 2},
        {"item_id": "TEA", "quantity": 1},
        {"item_id": "SVC", "quantity": 1},  # keeps no stock: nothing to announce
    ]
    api.post("orders/drafts", json={"customer_id": 1, "lines": lines})
    assert sent(sim) == []  # a draft reserves nothing
    # WHEN the order is booked
    api.post("orders/1/book")
    # THEN availability changed once per stocked item
    assert sent(sim) == [("product.stock_changed", "MUG"), ("product.stock_changed", "TEA")]
    assert product(api, "MUG")["available_quantity"] == 7
    # WHEN it is reopened (what was announced so far delivered), the reservation goes and is announced again
    sim.webhook_sink = RecordingSink()
    sim.deliver()
    api.post("orders/1/reopen")
    assert sent(sim) == [("product.stock_changed", "MUG"), ("product.stock_changed", "TEA")]
    assert product(api, "MUG")["available_quantity"] == 10


def test_suppressed_booking_announces_nothing(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.stock_changed", "order.booked")
    body = {"customer_id": 1, "lines": [{"item_id": "MUG", "quantity": 1}]}
    api.post("orders", params={"suppress_webhooks": "true"}, json=body)
    assert sent(sim) == []
    assert product(api, "MUG")["available_quantity"] == 9


# --- deleting products -------------------------------------------------------------------------------------------


def test_delete_product_without_stock_is_204_and_announced(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.deleted")
    response = api.delete("products/TEA")
    assert response.status_code == 204
    assert sent(sim) == [("product.deleted", "TEA")]
    assert api.get("products/TEA").status_code == 404
    assert api.delete("products/TEA").status_code == 404


STOCK_REFUSAL = {"errors": {"number": ["Item has stock movements and cannot be deleted"]}}


def test_delete_is_refused_once_an_adjustment_is_booked(api: httpx.Client) -> None:
    # GIVEN a new product with an adjustment made but not booked: no stock registered yet, deletable in principle
    api.post("products", json={"number": "NEW", "name": "New"})
    made = api.post(
        "inventory-adjustments", json={"item_id": "NEW", "adjustment_type": "quantity", "quantity": 4, "reason": "in"}
    )
    # WHEN the adjustment is booked
    api.post(f"inventory-adjustments/{made.json()['inventory_regulation']['id']}/book")
    # THEN the product can no longer be deleted
    refused = api.delete("products/NEW")
    assert refused.status_code == 422 and refused.json() == STOCK_REFUSAL
    assert api.get("products/NEW").status_code == 200


def test_shipped_stock_and_seeded_stock_block_delete(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN TEA shipped once, and MUG seeded with stock
    api.post("orders", json={"customer_id": 1, "lines": [{"item_id": "TEA", "quantity": 1}]})
    shipment_id = api.post("orders/1/create-shipment").json()["order_shipment"]["id"]
    api.post(f"orders/shipments/{shipment_id}/mark-shipped")
    # THEN neither can be deleted
    assert api.delete("products/TEA").json() == STOCK_REFUSAL
    assert api.delete("products/MUG").json() == STOCK_REFUSAL


# --- lots (BOMs) and /items --------------------------------------------------------------------------------------


def test_lot_create_get_update_with_events(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "lot.created", "lot.updated")
    body = {
        "number": "GIFTSET",
        "name": "Gift set",
        "sales_price": "149.00",
        "group": {"number": 10},
        "lines": [{"item_id": "MUG", "quantity": 2}, {"item_id": "TEA", "quantity": "1"}],
    }
    # WHEN a lot is created
    created = api.post("lots", json=body)
    # THEN it answers 201 in the `lot` envelope with product fields plus its lines
    assert created.status_code == 201
    lot = created.json()["lot"]
    assert (lot["number"], lot["sales_price"], lot["group"]) == ("GIFTSET", "149.00", {"number": 10, "name": "Mugs"})
    assert lot["lines"] == [
        {"item_id": "MUG", "name": "Blue mug", "quantity": 2},
        {"item_id": "TEA", "name": "Green tea", "quantity": 1},
    ]
    # WHEN its name and lines change
    updated = api.put("lots/GIFTSET", json={"name": "Big gift set", "lines": [{"item_id": "MUG", "quantity": 4}]})
    assert updated.status_code == 200
    assert api.get("lots/GIFTSET").json()["lot"]["lines"] == [{"item_id": "MUG", "name": "Blue mug", "quantity": 4}]
    listed = api.get("lots")
    assert listed.status_code == 206 and [row["name"] for row in listed.json()["lots"]] == ["Big gift set"]
    assert sent(sim) == [("lot.created", "GIFTSET"), ("lot.updated", "GIFTSET")]
    # AND a product that is part of a lot can't be deleted
    assert api.delete("products/TEA").status_code == 204  # no longer a component after the update
    api.post("products", json={"number": "PART", "name": "Part"})
    api.put("lots/GIFTSET", json={"lines": [{"item_id": "PART", "quantity": 1}]})
    refused = api.delete("products/PART")
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["number"]


def test_lot_and_product_numbers_never_collide_and_lines_are_checked(api: httpx.Client) -> None:
    taken = api.post("lots", json={"number": "MUG", "name": "Clash"})
    assert taken.status_code == 422 and "number" in taken.json()["errors"]
    api.post("lots", json={"number": "SET", "name": "Set"})
    assert api.post("products", json={"number": "SET", "name": "Clash"}).status_code == 422
    bad = api.post(
        "lots",
        json={"number": "BAD", "name": "Bad", "lines": [{"item_id": "GHOST", "quantity": 1}, {"item_id": "TEA"}]},
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"lines.0.item_id", "lines.1.quantity"}
    assert api.get("lots/BAD").status_code == 404


def test_items_union_lists_products_and_lots_with_their_type(api: httpx.Client) -> None:
    api.post("lots", json={"number": "GIFTSET", "name": "Gift set", "lines": [{"item_id": "MUG", "quantity": 2}]})
    listed = api.get("items")
    assert listed.status_code == 206
    assert [(i["number"], i["type"]) for i in listed.json()["items"]] == [
        ("GIFTSET", "lot"),
        ("MUG", "product"),
        ("SVC", "product"),
        ("TEA", "product"),
    ]
    lots_only = api.get("items", params={"simple_filter[type]": "lot"}).json()
    assert [i["number"] for i in lots_only["items"]] == ["GIFTSET"]
    one_lot = api.get("items/GIFTSET").json()["item"]
    assert one_lot["type"] == "lot" and one_lot["lines"][0]["item_id"] == "MUG"
    one_product = api.get("items/MUG").json()["item"]
    assert (one_product["type"], one_product["stock_quantity"]) == ("product", 10) and "lines" not in one_product
    assert api.get("items/NOPE").status_code == 404
    assert api.post("items", json={"number": "X", "name": "X"}).status_code == 405  # read-only


# --- inventory adjustments ---------------------------------------------------------------------------------------


def test_single_form_adjustment_changes_stock_only_when_booked(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.stock_changed")
    body = {
        "item_id": "MUG",
        "adjustment_type": "quantity",
        "quantity": 5,
        "location": "L1",
        "regulated_at": "2025-01-08 10:30:00",
        "reason": "Goods received",
    }
    # WHEN the documented single form is posted
    made = api.post("inventory-adjustments", json=body)
    # THEN it answers 201 in the `inventory_regulation` envelope, unbooked, and stock is untouched
    assert made.status_code == 201
    regulation = made.json()["inventory_regulation"]
    assert {k: regulation[k] for k in ("is_booked", "reason", "regulated_at", "lines")} == {
        "is_booked": False,
        "reason": "Goods received",
        "regulated_at": "2025-01-08 10:30:00",
        "lines": [{"item_id": "MUG", "quantity": 5, "location": "L1"}],
    }
    assert product(api, "MUG")["stock_quantity"] == 10 and sent(sim) == []
    # WHEN it is booked
    booked = api.post(f"inventory-adjustments/{regulation['id']}/book", json={})
    # THEN the total and the location gain 5, and one stock event goes out
    assert booked.status_code == 200 and booked.json()["inventory_regulation"]["is_booked"] is True
    assert product(api, "MUG")["stock_quantity"] == 15
    assert locations(api, "MUG")["L1"]["stock_quantity"] == 15
    assert sent(sim) == [("product.stock_changed", "MUG")]
    # AND booking twice is refused
    again = api.post(f"inventory-adjustments/{regulation['id']}/book")
    assert again.status_code == 422 and "inventory_regulation" in again.json()["errors"]
    assert product(api, "MUG")["stock_quantity"] == 15


def test_multi_line_adjustment_books_every_line_and_announces_each_item_once(
    sim: RackbeatSimulator, api: httpx.Client
) -> None:
    subscribe(api, "product.stock_changed")
    body = {
        "adjustment_type": "quantity",
        "reason": "import-2025-01-08",
        "lines": [
            {"item_id": "MUG", "quantity": 5, "location": "L1"},
            {"item_id": "MUG", "quantity": "-2", "location": "L2"},
            {"item_id": "TEA", "quantity": 3, "location": None},
        ],
    }
    made = api.post("inventory-adjustments", json=body).json()["inventory_regulation"]
    assert len(made["lines"]) == 3
    api.post(f"inventory-adjustments/{made['id']}/book")
    # THEN each line landed, and MUG (two lines) and TEA are announced once each
    assert product(api, "MUG")["stock_quantity"] == 13
    rows = locations(api, "MUG")
    assert (rows["L1"]["stock_quantity"], rows["L2"]["stock_quantity"]) == (15, -2)
    assert product(api, "TEA")["stock_quantity"] == 3
    assert sent(sim) == [("product.stock_changed", "MUG"), ("product.stock_changed", "TEA")]


def test_lines_that_cancel_out_change_nothing_and_announce_nothing(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.stock_changed")
    lines = [{"item_id": "MUG", "quantity": 2, "location": "L1"}, {"item_id": "MUG", "quantity": -2, "location": "L1"}]
    made = api.post("inventory-adjustments", json={"adjustment_type": "quantity", "lines": lines}).json()
    api.post(f"inventory-adjustments/{made['inventory_regulation']['id']}/book")
    assert product(api, "MUG")["stock_quantity"] == 10 and sent(sim) == []


def test_adjustment_errors_name_the_field_path(api: httpx.Client) -> None:
    def errors(body: dict[str, Any]) -> set[str]:
        response = api.post("inventory-adjustments", json={"adjustment_type": "quantity", **body})
        assert response.status_code == 422
        return set(response.json()["errors"])

    # single form: zero change, unknown item, unknown location, an item that keeps no stock
    assert errors({"item_id": "MUG", "quantity": 0}) == {"quantity"}
    assert errors({"item_id": "GHOST", "quantity": 1, "location": "L9"}) == {"item_id", "location"}
    assert errors({"item_id": "SVC", "quantity": 1}) == {"item_id"}
    # multi-line form: the same, under lines.N.
    lines = [
        {"item_id": "MUG", "quantity": 0},
        {"item_id": "GHOST", "quantity": 1},
        {"item_id": "TEA", "quantity": 1, "location": "L9"},
        {"item_id": "MUG", "quantity": 1},
    ]
    assert errors({"lines": lines}) == {"lines.0.quantity", "lines.1.item_id", "lines.2.location"}
    assert errors({"lines": []}) == {"lines"}
    # a type other than quantity
    assert "adjustment_type" in errors({"adjustment_type": "cost", "item_id": "MUG", "quantity": 1})
    # nothing was stored
    assert api.get("inventory-adjustments").json()["total"] == 0


def test_adjustments_list_is_206_with_search_and_booked_filter(api: httpx.Client) -> None:
    first = api.post(
        "inventory-adjustments",
        json={"adjustment_type": "quantity", "item_id": "TEA", "quantity": 1, "reason": "import-A"},
    ).json()["inventory_regulation"]
    api.post(
        "inventory-adjustments",
        json={"adjustment_type": "quantity", "item_id": "TEA", "quantity": 2, "reason": "Damaged"},
    )
    api.post(f"inventory-adjustments/{first['id']}/book")
    listed = api.get("inventory-adjustments")
    assert listed.status_code == 206
    assert paging(listed.json()) == {"total": 2, "pages": 1, "limit": 20, "page": 1}
    found = api.get("inventory-adjustments", params={"search": "import"}).json()["inventory_adjustments"]
    assert [row["reason"] for row in found] == ["import-A"]
    open_ones = api.get("inventory-adjustments", params={"simple_filter[is_booked]": "false"}).json()
    assert [row["reason"] for row in open_ones["inventory_adjustments"]] == ["Damaged"]
    one = api.get(f"inventory-adjustments/{first['id']}")
    assert one.status_code == 200 and one.json()["inventory_regulation"]["is_booked"] is True
    assert api.get("inventory-adjustments/999").status_code == 404


def test_suppressed_adjustment_booking_announces_nothing(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.stock_changed")
    made = api.post(
        "inventory-adjustments", json={"adjustment_type": "quantity", "item_id": "MUG", "quantity": 1}
    ).json()["inventory_regulation"]
    api.post(f"inventory-adjustments/{made['id']}/book", json={"suppress_webhooks": True})
    assert sent(sim) == []
    assert product(api, "MUG")["stock_quantity"] == 11


# --- the warehouse from Python -----------------------------------------------------------------------------------


def test_adjust_stock_books_an_adjustment_and_webhooks_reach_the_sink() -> None:
    # GIVEN a simulator delivering webhooks to a sink
    received: list[tuple[str, bytes]] = []

    def sink(url: str, headers: dict[str, str], body: bytes) -> int:
        received.append((headers["Rackbeat-Webhook-Event"], body))
        return 200

    sim = RackbeatSimulator(webhook_sink=sink)
    account = seed(sim)
    subscribe(rackbeat_client(sim, KEY), "product.stock_changed")
    # WHEN a warehouse worker registers 4 MUG at L1, and the outbox delivers
    regulation = sim.adjust_stock(account, "MUG", 4, "L1", reason="found behind the shelf")
    sim.deliver()
    # THEN a booked adjustment exists, the stock moved, and the sink heard about it
    assert regulation["is_booked"] is True and regulation["reason"] == "found behind the shelf"
    assert sim.product_stock(account, "MUG") == Decimal(14)
    assert sim.product_stock(account, "MUG", "L1") == Decimal(14)
    assert received == [("product.stock_changed", b'{"key_name": "number", "key": "MUG"}')]
    assert sim.pending() == []


def test_set_stock_books_the_difference_and_skips_a_match(sim: RackbeatSimulator, api: httpx.Client) -> None:
    subscribe(api, "product.stock_changed")
    # WHEN L1 is counted at 6 (was 10), then counted at 6 again
    counted = sim.set_stock(1, "MUG", 6, "L1")
    unchanged = sim.set_stock(1, "MUG", 6, "L1")
    # THEN the first books -4 and the second books nothing
    assert counted is not None and counted["lines"] == [{"item_id": "MUG", "quantity": Decimal(-4), "location": "L1"}]
    assert unchanged is None
    assert (sim.product_stock(1, "MUG"), sim.product_stock(1, "MUG", "L1"), sim.product_stock(1, "MUG", "L2")) == (
        Decimal(6),
        Decimal(6),
        Decimal(0),
    )
    assert sent(sim) == [("product.stock_changed", "MUG")]
    assert [row["reason"] for row in api.get("inventory-adjustments").json()["inventory_adjustments"]] == [
        "warehouse count"
    ]
    assert sim.pending()[0].account_id == 1


def test_control_methods_refuse_what_the_api_refuses(sim: RackbeatSimulator) -> None:
    with pytest.raises(ValueError, match="quantity"):
        sim.adjust_stock(1, "MUG", 0)
    with pytest.raises(ValueError, match="item_id"):
        sim.adjust_stock(1, "SVC", 1)
    with pytest.raises(ValueError, match="location"):
        sim.set_stock(1, "MUG", 3, "L9")
    with pytest.raises(KeyError):
        sim.product_stock(1, "GHOST")
    assert sim.state(1).adjustments == {}


# --- timestamps --------------------------------------------------------------------------------------------------


def test_products_filter_on_updated_at(sim: RackbeatSimulator, api: httpx.Client) -> None:
    products = sim.state(1).products
    products["MUG"]["updated_at"] = "2025-01-08 10:30:00"
    products["TEA"]["updated_at"] = "2025-01-09 08:00:00"
    products["SVC"]["updated_at"] = "2025-01-10 12:00:00"

    def numbers(**params: str) -> list[str]:
        return [p["number"] for p in api.get("products", params=params).json()["products"]]

    assert numbers(updated_at_from="2025-01-09 00:00:00") == ["SVC", "TEA"]
    assert numbers(updated_at_from="2025-01-08 10:30:01", updated_at_to="2025-01-09 08:00:00") == ["TEA"]
    assert numbers(updated_at_to="2025-01-08") == ["MUG"]  # a bare date runs to the end of that day
    bad = api.get("products", params={"updated_at_from": "08/01/2025"})
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["updated_at_from"]


def test_writes_and_stock_moves_touch_updated_at_but_not_created_at(sim: RackbeatSimulator, api: httpx.Client) -> None:
    mug = sim.state(1).products["MUG"]
    mug.update(created_at="2025-01-01 00:00:00", updated_at="2025-01-01 00:00:00")
    api.put("products/MUG", json={"name": "Bright blue mug"})
    after_put = product(api, "MUG")
    assert after_put["created_at"] == "2025-01-01 00:00:00" and after_put["updated_at"] > "2025-01-01 00:00:00"
    mug["updated_at"] = "2025-01-01 00:00:00"
    sim.adjust_stock(1, "MUG", 1)
    assert product(api, "MUG")["updated_at"] > "2025-01-01 00:00:00"


def test_reads_in_a_row_share_what_booked_orders_hold_and_any_change_is_seen_by_the_next_read(
    sim: RackbeatSimulator, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a booked order holding 2 mugs, WHEN the mug is read three times in a row, THEN the orders are walked
    once for the three; WHEN another order is booked, a shipment drawn, and an order changed from Python, THEN each
    next read shows the new reservation (what was worked out for the earlier reads is not reused)."""
    walks: list[int] = []
    walk = fulfilment._walk_orders

    def counted_walk(account: Any) -> Any:
        walks.append(1)
        return walk(account)

    monkeypatch.setattr(fulfilment, "_walk_orders", counted_walk)
    mug = {"item_id": "MUG", "quantity": 2, "line_price": "99.50", "vat_percentage": 25, "location_id": "L1"}

    def book(quantity: int) -> int:
        body = {"customer_id": 1, "lines": [{**mug, "quantity": quantity}]}
        number = int(api.post("orders/drafts", json=body).json()["order"]["number"])
        assert api.post(f"orders/{number}/book", json={"mail": {"send": False}}).status_code == 200
        return number

    first = book(2)
    walks.clear()
    reads = [Decimal(str(product(api, "MUG")["in_order_quantity"])) for _ in range(3)]
    assert reads == [2, 2, 2]
    assert len(walks) == 1
    book(3)
    assert Decimal(str(product(api, "MUG")["in_order_quantity"])) == 5
    shipment = api.post(f"orders/{first}/create-shipment").json()["order_shipment"]
    assert api.post(f"orders/shipments/{shipment['id']}/mark-shipped", json={"pick": True}).status_code == 200
    assert Decimal(str(product(api, "MUG")["in_order_quantity"])) == 3
    account = sim.accounts[next(iter(sim.accounts))]
    next(o for o in sim.state(account.id).orders.values() if not o["is_shipped"])["is_cancelled"] = True
    assert Decimal(str(product(api, "MUG")["in_order_quantity"])) == 0
