"""The PeakWMS simulator behaves as `shared/reference/peakwms.md` says, seen through a real httpx client: API keys
and 401s (live and sandbox hosts), products by host ids with keyset pages in both parameter casings, stock items,
sales orders created / updated / cancelled (4148 on repeat) / deleted, webhook registration, the 240-a-minute
throttle with `Retry-After: 15`, injected faults, the rules' switches and the mount under `/_sim/peakwms/`. The
order life cycle, packing and the webhooks sent are in test_peakwms_sim_lifecycle.py; both use the `Warehouse`
built here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock_local.server import LocalEndpoint
from crossdock_local.sims.base import transport
from crossdock_local.sims.peakwms.simulator import PeakwmsSimulator

CUSTOMER = "nordlys"
ROOT = "https://api.peakwms.test"
API = f"{ROOT}/{CUSTOMER}/api/integration/v1/"
EPOCH = 1_765_000_000
ERROR_FIELDS = {"message", "messageKey", "parameters", "errorCode", "translateParams"}


def mug(product_id: str = "8011", variant_id: str = "44201", **extra: Any) -> dict[str, Any]:
    """The fact sheet's example product (seen P1's fields)."""
    body = {
        "productId": product_id,
        "variantId": variant_id,
        "itemNumber": f"MUG-{variant_id}",
        "description": "Mug",
        "ean": "5701234567890",
        "countryOfOrigin": "DK",
        "customsTariffs": [{"code": "691200"}],
        "costPricePiece": 30.0,
        "salesPricePerPiece": 63.2,
    }
    return {**body, **extra}


def sales_order(order_id: str = "5001", lines: list[tuple[str, str, int]] | None = None, **extra: Any) -> Any:
    """A Shopify order as a sales order: `orderId` = the order's id, a line per item (`orderLineId` = line id)."""
    rows = lines or [("9001", "44201", 2)]
    body = {
        "orderId": order_id,
        "orderNumber": f"#{order_id}",
        "orderDateTime": "2026-12-07T10:30:00+01:00",
        "shippingAddress": {"customerName": "A. Jensen", "address1": "Vej 1", "postalCode": "8000", "city": "Aarhus",
                            "country": "DK", "email": "a@example.dk"},
        "paymentStatus": 1,
        "salesCurrency": "DKK",
        "totalSalesPrice": 158.0,
        "orderLines": [
            {"orderLineId": line_id, "productId": "8011", "variantId": variant, "quantityRequested": quantity,
             "salesPricePiece": 63.2}
            for line_id, variant, quantity in rows
        ],
    }  # fmt: skip
    return {**body, **extra}


@dataclass
class Warehouse:
    """A PeakWMS customer as a merchant's is set up for one Shopify shop: an API key, the default warehouse."""

    sim: PeakwmsSimulator
    clock: FakeClock
    sink: RecordingSink
    http: httpx.Client
    key: str

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}", "Accept": "application/json"}
        content = None if body is None else json.dumps(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, path, headers=headers, content=content, **kw)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        answer = self.call(method, path, body, **kw)
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.content else None

    def add_product(self, variant_id: str = "44201", stock: int = 0) -> Any:
        created = self.ok("POST", "product", mug(variant_id=variant_id))
        if stock:
            self.sim.receive_stock(CUSTOMER, "8011", variant_id, stock)
        return created

    def deliveries(self) -> list[tuple[str, Any]]:
        """(URL, decoded body) of every webhook the sink received, in order."""
        return [(url, json.loads(body)) for url, _, body in self.sink.calls]


def open_warehouse(*, sink_status: int | Exception = 200, seed: int | None = 7) -> Warehouse:
    clock = FakeClock()
    sink = RecordingSink(sink_status)
    sim = PeakwmsSimulator(clock=clock, seed=seed, epoch=EPOCH, webhook_sink=sink)
    key = sim.seed_customer(CUSTOMER)
    return Warehouse(sim, clock, sink, httpx.Client(transport=transport(sim), base_url=API), key)


def refusal(answer: httpx.Response, status: int) -> dict[str, Any]:
    """PeakWMS's error body (seen P1) of a refusal with `status`."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == ERROR_FIELDS
    return body


# ---- keys ---------------------------------------------------------------------------------------------------------


def test_ping_answers_a_customers_key_and_refuses_any_other_with_401_naming_no_key() -> None:
    """GIVEN two customers, a revoked key and a sandbox customer WHEN each pings THEN only a live key of the path's
    customer on its own host passes; the 401 bodies never carry the key."""
    house = open_warehouse()
    other = house.sim.seed_customer("other")
    sandbox_key = house.sim.seed_customer("trial", sandbox=True)

    assert house.call("GET", "ping").status_code == 200
    for key in ("pwms_unknown_key_000", other, sandbox_key):
        body = refusal(house.call("GET", "ping", key=key), 401)
        assert key not in json.dumps(body)
    assert refusal(house.http.get("ping"), 401)["message"].startswith("Authorization")
    sandbox = httpx.Client(transport=transport(house.sim), base_url=f"{ROOT}/trial/sandbox/api/integration/v1/")
    assert sandbox.get("ping", headers={"Authorization": f"Bearer {sandbox_key}"}).status_code == 200
    live_trial = httpx.Client(transport=transport(house.sim), base_url=f"{ROOT}/trial/api/integration/v1/")
    refusal(live_trial.get("ping", headers={"Authorization": f"Bearer {sandbox_key}"}), 401)

    house.sim.revoke_keys(CUSTOMER)
    refusal(house.call("GET", "ping"), 401)
    assert house.http.get(f"{ROOT}/nobody/api/integration/v1/ping").status_code == 404


# ---- products -----------------------------------------------------------------------------------------------------


def test_a_product_is_created_read_by_its_host_id_updated_and_deleted_by_peakwms_id() -> None:
    """GIVEN an empty customer WHEN a variant is POSTed, read, PUT with one field and DELETEd THEN PeakWMS adds its
    own `id`, lists the product's variants, changes only the field sent, and forgets it by `id`."""
    house = open_warehouse()
    created = house.ok("POST", "product", mug())
    assert isinstance(created["id"], int)
    assert created["itemNumber"] == "MUG-44201" and created["customsTariffs"] == [{"code": "691200"}]
    assert created["availableToSell"] == 0 and created["availableInStock"] == 0
    house.ok("POST", "product", mug(variant_id="44202"))

    variants = house.ok("GET", "product/8011")
    assert [v["variantId"] for v in variants] == ["44201", "44202"]

    updated = house.ok("PUT", "product", {"productId": "8011", "variantId": "44201", "description": "Krus"})
    assert updated["description"] == "Krus" and updated["ean"] == "5701234567890"

    assert house.call("DELETE", f"product/{created['id']}").status_code == 204
    assert [v["variantId"] for v in house.ok("GET", "product/8011")] == ["44202"]
    refusal(house.call("DELETE", f"product/{created['id']}"), 404)


def test_product_refusals_name_the_field_and_write_nothing() -> None:
    """GIVEN a product WHEN a duplicate, a bad country, a missing itemNumber or an update of an unknown variant is
    sent THEN each is a 400/404 with PeakWMS's error body naming the field, and the catalogue is unchanged."""
    house = open_warehouse()
    house.ok("POST", "product", mug())

    duplicate = refusal(house.call("POST", "product", mug()), 400)
    assert duplicate["errorCode"] == "4102"
    bad_country = refusal(house.call("POST", "product", mug(variant_id="2", countryOfOrigin="Denmark")), 400)
    assert "countryOfOrigin" in bad_country["message"] and bad_country["parameters"] == ["countryOfOrigin"]
    no_item = refusal(house.call("POST", "product", mug(variant_id="3", itemNumber=None)), 400)
    assert "itemNumber" in no_item["message"]
    refusal(house.call("PUT", "product", {"productId": "8011", "variantId": "999", "description": "x"}), 404)
    refusal(house.call("GET", "product/777"), 404)

    assert len(house.sim.products(CUSTOMER)) == 1
    house.sim.rules.unknown_product_empty_list = True
    assert house.ok("GET", "product/777") == []


@pytest.mark.parametrize("last_id, page_size", [("LastId", "PageSize"), ("lastId", "pageSize"), ("LASTID", "pagesize")])
def test_product_keyset_pages_in_either_casing_and_stop_on_a_short_page(last_id: str, page_size: str) -> None:
    """GIVEN 7 variants WHEN paged 3 at a time with `LastId` = the largest id seen THEN 3, 3, 1 come back, each page
    saying `totalRecords` 7, whichever casing the parameters have."""
    house = open_warehouse()
    for number in range(7):
        house.add_product(variant_id=str(100 + number))

    seen: list[str] = []
    last = 0
    pages = []
    while True:
        page = house.ok("GET", "product/keySet", params={last_id: last, page_size: 3})
        pages.append(len(page["data"]))
        assert page["totalRecords"] == 7 and page["pageSize"] == 3
        seen += [row["variantId"] for row in page["data"]]
        if len(page["data"]) < 3:
            break
        last = max(row["id"] for row in page["data"])
    assert pages == [3, 3, 1]
    assert seen == [str(100 + n) for n in range(7)]


def test_a_keyset_walk_sees_a_product_added_between_pages_and_never_repeats_one() -> None:
    """GIVEN 4 variants and a first page of 2 WHEN a variant is added and one of the first page deleted THEN the
    next pages bring the other 2 and the new one, each once."""
    house = open_warehouse()
    first_ids = [house.add_product(variant_id=str(200 + n))["id"] for n in range(4)]
    first = house.ok("GET", "product/keySet", params={"PageSize": 2})
    house.add_product(variant_id="299")
    house.ok("DELETE", f"product/{first_ids[0]}")

    rest = house.ok("GET", "product/keySet", params={"LastId": first["data"][-1]["id"], "PageSize": 2})
    tail = house.ok("GET", "product/keySet", params={"LastId": rest["data"][-1]["id"], "PageSize": 2})
    assert [r["variantId"] for r in first["data"] + rest["data"] + tail["data"]] == ["200", "201", "202", "203", "299"]
    assert rest["totalRecords"] == 4


def test_page_size_over_250_is_refused_naming_it_unless_the_rule_clamps() -> None:
    """GIVEN the seen limit of 250 WHEN PageSize=251 THEN 400 naming PageSize; with `clamp_page_size` 250 is used."""
    house = open_warehouse()
    body = refusal(house.call("GET", "product/keySet", params={"PageSize": 251}), 400)
    assert body["parameters"] == ["PageSize"]
    refusal(house.call("GET", "stock/keySet", params={"pageSize": "many"}), 400)
    house.sim.rules.clamp_page_size = True
    assert house.ok("GET", "product/keySet", params={"PageSize": 251})["pageSize"] == 250


def test_case_sensitive_rule_accepts_only_the_two_seen_spellings() -> None:
    """GIVEN `case_insensitive_params` off WHEN `PAGESIZE` is sent THEN it is ignored (the default page size)."""
    house = open_warehouse()
    house.sim.rules.case_insensitive_params = False
    assert house.ok("GET", "product/keySet", params={"PAGESIZE": 5})["pageSize"] == 100
    assert house.ok("GET", "product/keySet", params={"pageSize": 5})["pageSize"] == 5


# ---- stock --------------------------------------------------------------------------------------------------------


def test_stock_items_list_by_keyset_and_by_product_with_the_variant_filter() -> None:
    """GIVEN two variants, one with 12 received WHEN stock is read THEN each has a stock item in "Main" with its
    quantity; `/stock/{productId}?variantId=` narrows to the variant; the product shows it as available."""
    house = open_warehouse()
    house.add_product("44201", stock=12)
    house.add_product("44202")

    page = house.ok("GET", "stock/keySet", params={"PageSize": 250})
    assert [(r["variantId"], r["quantity"], r["reservedQuantity"]) for r in page["data"]] == [
        ("44201", 12, 0),
        ("44202", 0, 0),
    ]
    assert set(page["data"][0]) >= {"id", "productId", "variantId", "itemNumber", "quantity", "reservedQuantity"}
    only = house.ok("GET", "stock/8011", params={"variantId": "44201"})
    assert [(r["variantId"], r["warehouseName"]) for r in only] == [("44201", "Main")]
    assert len(house.ok("GET", "stock/8011")) == 2
    assert house.ok("GET", "product/8011")[0]["availableToSell"] == 12
    refusal(house.call("GET", "stock/8011", params={"variantId": "nope"}), 404)


# ---- sales orders -------------------------------------------------------------------------------------------------


def test_an_order_in_stock_is_released_and_reserves_its_lines() -> None:
    """GIVEN 5 mugs on the shelf WHEN an order of 2 is POSTed THEN it answers with PeakWMS's `id`, state 1 Released,
    and 2 are reserved (3 left to sell)."""
    house = open_warehouse()
    house.add_product(stock=5)
    created = house.ok("POST", "salesOrder", sales_order())
    assert isinstance(created["id"], int) and created["orderId"] == "5001"
    assert created["state"] == 1 and created["onHoldReason"] is None
    assert house.ok("GET", "stock/8011")[0]["reservedQuantity"] == 2
    assert house.ok("GET", "product/8011")[0]["availableToSell"] == 3
    assert house.ok("GET", "salesOrder/5001")["id"] == created["id"]


def test_an_order_without_stock_is_held_with_reason_no_stock_and_reserves_nothing() -> None:
    """GIVEN 1 mug WHEN an order of 2 arrives THEN it is OnHold (7) reason 7 NoStock, its line in state 4 NoStock,
    and the mug stays free for others."""
    house = open_warehouse()
    house.add_product(stock=1)
    held = house.ok("POST", "salesOrder", sales_order())
    assert (held["state"], held["onHoldReason"]) == (7, 7)
    assert held["orderLines"][0]["state"] == 4
    assert house.ok("GET", "stock/8011")[0]["reservedQuantity"] == 0


def test_a_duplicate_post_is_refused_and_an_update_replaces_the_lines() -> None:
    """GIVEN a released order WHEN the same orderId is POSTed again THEN 400 (a guessed errorCode) and one order;
    WHEN it is PUT with 3 mugs THEN the reservation follows; a PUT for another orderId in the body is refused."""
    house = open_warehouse()
    house.add_product(stock=5)
    house.ok("POST", "salesOrder", sales_order())
    assert refusal(house.call("POST", "salesOrder", sales_order()), 400)["errorCode"] == "4101"
    assert len(house.sim.sales_orders(CUSTOMER)) == 1

    updated = house.ok("PUT", "salesOrder/5001", sales_order(lines=[("9001", "44201", 3)]))
    assert updated["orderLines"][0]["quantityRequested"] == 3 and updated["state"] == 1
    assert house.ok("GET", "stock/8011")[0]["reservedQuantity"] == 3
    refusal(house.call("PUT", "salesOrder/5001", sales_order(order_id="5002")), 400)
    refusal(house.call("PUT", "salesOrder/404", sales_order(order_id="404")), 404)


def test_cancelling_twice_is_400_with_error_code_4148_and_frees_the_reservation_once() -> None:
    """GIVEN a released order WHEN it is cancelled THEN state 5 and nothing reserved; WHEN cancelled again THEN 400
    errorCode "4148" saying it is in state CANCELLED (seen P1)."""
    house = open_warehouse()
    house.add_product(stock=5)
    house.ok("POST", "salesOrder", sales_order())
    assert house.ok("PUT", "salesOrder/5001/cancel")["state"] == 5
    assert house.ok("GET", "stock/8011")[0]["reservedQuantity"] == 0
    again = refusal(house.call("PUT", "salesOrder/5001/cancel"), 400)
    assert again["errorCode"] == "4148" and "CANCELLED" in again["message"]


def test_an_order_is_deleted_by_peakwms_id_not_by_order_id() -> None:
    """GIVEN an order WHEN DELETE /salesOrder/{orderId} THEN 404; WHEN DELETE /salesOrder/{id} THEN 204 and gone."""
    house = open_warehouse()
    house.add_product(stock=5)
    created = house.ok("POST", "salesOrder", sales_order(order_id="7"))
    refusal(house.call("DELETE", "salesOrder/7"), 404)  # 7 is the orderId, not PeakWMS's id
    assert house.call("DELETE", f"salesOrder/{created['id']}").status_code == 204
    assert house.sim.sales_order(CUSTOMER, "7") is None
    refusal(house.call("GET", "salesOrder/7"), 404)


def test_a_product_open_orders_want_cannot_be_deleted() -> None:
    """GIVEN a variant reserved by a released order and another wanted by a held one WHEN either is DELETEd THEN 400
    and both stay; once the orders are cancelled THEN the delete goes through."""
    house = open_warehouse()
    reserved = house.add_product("44201", stock=5)
    wanted = house.add_product("44202")
    house.ok("POST", "salesOrder", sales_order("A"))
    house.ok("POST", "salesOrder", sales_order("B", lines=[("1", "44202", 1)]))
    for product in (reserved, wanted):
        refusal(house.call("DELETE", f"product/{product['id']}"), 400)
    house.ok("PUT", "salesOrder/A/cancel")
    house.ok("PUT", "salesOrder/B/cancel")
    assert house.call("DELETE", f"product/{reserved['id']}").status_code == 204
    assert house.call("DELETE", f"product/{wanted['id']}").status_code == 204


def test_an_unknown_route_or_method_answers_in_peakwms_error_body() -> None:
    """GIVEN the API WHEN a path or method it has not is called THEN 404 / 405 in PeakWMS's error body."""
    house = open_warehouse()
    refusal(house.call("GET", "purchaseOrder"), 404)
    refusal(house.call("PATCH", "product"), 405)


def test_order_refusals_name_the_field() -> None:
    """GIVEN a product WHEN an order has no lines, an unknown product, a zero quantity or a bad country THEN 400
    naming the field, and no order is stored."""
    house = open_warehouse()
    house.add_product(stock=5)
    cases = {
        "orderLines": sales_order(orderLines=[]),
        "orderLines[0].productId": sales_order(lines=[("1", "nope", 1)]),
        "orderLines[0].quantityRequested": sales_order(lines=[("1", "44201", 0)]),
        "shippingAddress.country": sales_order(shippingAddress={"country": "Danmark"}),
        "paymentStatus": sales_order(paymentStatus=9),
        "warehouseName": sales_order(warehouseName="Odense"),
    }
    for field, body in cases.items():
        assert refusal(house.call("POST", "salesOrder", body), 400)["parameters"] == [field], field
    assert house.sim.sales_orders(CUSTOMER) == []


def test_get_by_order_id_is_a_guess_a_rule_can_take_away() -> None:
    """GIVEN `get_order_by_order_id` off WHEN GET /salesOrder/{orderId} THEN 404, as an API without it answers."""
    house = open_warehouse()
    house.add_product(stock=5)
    house.ok("POST", "salesOrder", sales_order())
    house.sim.rules.get_order_by_order_id = False
    assert house.call("GET", "salesOrder/5001").status_code == 404


# ---- webhooks -----------------------------------------------------------------------------------------------------


def test_webhooks_are_registered_listed_and_deleted() -> None:
    """GIVEN a customer WHEN 100 and 102 are registered THEN each answers `{id, name, url}` and `GET /webhook` lists
    both; DELETE removes one; an unknown event or a bad URL is 400 naming the field."""
    house = open_warehouse()
    stock_hook = house.ok("POST", "webhook", {"name": 100, "url": "https://x.test/webhooks/peakwms/c1/stock_adjust"})
    assert set(stock_hook) == {"id", "name", "url"} and stock_hook["name"] == 100
    house.ok("POST", "webhook", {"name": 102, "url": "https://x.test/webhooks/peakwms/c1/pick_order_packed"})
    assert [h["name"] for h in house.ok("GET", "webhook")] == [100, 102]
    assert house.call("DELETE", f"webhook/{stock_hook['id']}").status_code == 204
    assert [h["name"] for h in house.ok("GET", "webhook")] == [102]
    assert refusal(house.call("POST", "webhook", {"name": 99, "url": "https://x.test"}), 400)["parameters"] == ["name"]
    assert refusal(house.call("POST", "webhook", {"name": 100, "url": "ftp://x"}), 400)["parameters"] == ["url"]
    house.sim.rules.webhook_list = False
    assert house.call("GET", "webhook").status_code == 405


# ---- limits, faults, rules, mount ---------------------------------------------------------------------------------


def test_the_241st_call_in_a_minute_is_429_with_retry_after_15() -> None:
    """GIVEN 240 calls in one minute WHEN one more is made THEN 429 `Retry-After: 15` (guess) in PeakWMS's error
    body; a minute later calls pass; another customer is not throttled by this one."""
    house = open_warehouse()
    other = house.sim.seed_customer("other")
    for _ in range(240):
        assert house.call("GET", "ping").status_code == 200
    throttled = house.call("GET", "ping")
    assert throttled.headers["Retry-After"] == "15"
    refusal(throttled, 429)
    other_http = httpx.Client(transport=transport(house.sim), base_url=f"{ROOT}/other/api/integration/v1/")
    assert other_http.get("ping", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    house.clock.advance(60)
    assert house.call("GET", "ping").status_code == 200

    house.sim.rules.retry_after_from_window = True
    house.sim.rules.requests_per_minute = 1
    house.clock.advance(1)
    assert house.call("GET", "ping").headers["Retry-After"] == "59"


def test_injected_server_errors_and_a_commit_then_drop_write() -> None:
    """GIVEN every request failing WHEN a product is POSTed THEN 5xx and nothing stored; GIVEN responses dropped
    after the commit WHEN it is POSTed THEN the client sees a transport error but the product exists."""
    house = open_warehouse()
    house.sim.faults.server_error_rate = 1.0
    assert house.call("POST", "product", mug()).status_code >= 500
    assert house.sim.products(CUSTOMER) == []
    house.sim.faults.server_error_rate = 0.0
    house.sim.faults.drop_response_rate = 1.0
    with pytest.raises(httpx.ReadError):
        house.call("POST", "product", mug())
    assert [p["variantId"] for p in house.sim.products(CUSTOMER)] == ["44201"]


def test_rules_are_set_over_http_and_a_bad_one_is_refused_naming_it() -> None:
    """GIVEN the control API WHEN a rule is set THEN it applies; WHEN an unknown or out-of-range one is sent THEN
    400 naming it and nothing changes."""
    house = open_warehouse()
    control = httpx.Client(transport=transport(house.sim), base_url=ROOT)
    assert control.put("/_control/rules", json={"retry_after_seconds": 5}).json()["retry_after_seconds"] == 5
    bad = control.put("/_control/rules", json={"retry_after_seconds": 0, "nope": 1})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"retry_after_seconds", "nope"}
    assert house.sim.rules.retry_after_seconds == 5


def test_control_api_seeds_a_customer_and_the_snapshot_names_no_key() -> None:
    """GIVEN the control API WHEN a customer is made over HTTP THEN its key works; the state snapshot lists the
    customer and never a key."""
    house = open_warehouse()
    control = httpx.Client(transport=transport(house.sim), base_url=ROOT)
    made = control.post("/_control/customers", json={"name": "fjord", "warehouses": ["Main", "Odense"]})
    assert made.status_code == 201
    key = made.json()["apiKey"]
    fjord = httpx.Client(transport=transport(house.sim), base_url=f"{ROOT}/fjord/api/integration/v1/")
    assert fjord.get("ping", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert house.sim.warehouses("fjord") == ["Main", "Odense"]
    bad = control.post("/_control/customers", json={"name": "Bad Name"})
    assert bad.status_code == 400 and bad.json()["parameters"] == ["name"]
    state = json.dumps(control.get("/_control/state").json())
    assert "fjord" in state and key not in state and house.key not in state


def test_the_local_endpoint_serves_it_under_sim_peakwms() -> None:
    """GIVEN the simulator mounted as the stack mounts it WHEN `/_sim/peakwms/<customer>/api/integration/v1/ping`
    and its control API are called THEN PeakWMS answers both."""
    house = open_warehouse()
    endpoint = LocalEndpoint(lambda *a: (404, {}, b""), {"peakwms": (house.sim, "")})
    status, _, _ = endpoint.answer(
        "GET", f"/_sim/peakwms/{CUSTOMER}/api/integration/v1/ping", {"authorization": f"Bearer {house.key}"}, b""
    )
    assert status == 200
    status, _, body = endpoint.answer("GET", "/_sim/peakwms/_control/state", {}, b"")
    assert status == 200 and json.loads(body)["system"] == "peakwms"
