"""The Rackbeat simulator behaves as `shared/reference/rackbeat.md` says, seen through a real httpx client."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import httpx
import pytest
from rackbeat_api import rackbeat_client
from sim_fakes import FakeClock, RecordingSink

from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY_A = "key-account-a"
KEY_B = "key-account-b"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> RackbeatSimulator:
    sim = RackbeatSimulator(clock=clock)
    account = sim.add_account(KEY_A)
    sim.seed_location(account, "L1", "Main warehouse")
    sim.seed_employee(account, 7, "Ada Lovelace", "ada@example.com")
    sim.seed_product(account, "ABC/123", "Blue mug", "99.50", location_stock={"L1": 10})
    sim.seed_product(account, "TEA", "Green tea", 40)
    sim.seed_customer(account, 1, "Kaffe ApS", contact_email="buyer@kaffe.dk")
    return sim


def client_for(sim: RackbeatSimulator, key: str | None = KEY_A) -> httpx.Client:
    return rackbeat_client(sim, key)


@pytest.fixture
def api(sim: RackbeatSimulator) -> httpx.Client:
    return client_for(sim)


def draft_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customer_id": 1,
        "other_reference": "shop-1001",
        "our_reference_id": 7,
        "lines": [
            {"item_id": "ABC/123", "quantity": 2, "line_price": "99.50", "vat_percentage": 25, "location_id": "L1"},
            {"item_id": "TEA", "quantity": 3, "line_price": 10, "discount_percentage": "10", "vat_percentage": 25},
        ],
    }
    body.update(overrides)
    return body


# --- auth, envelopes, paging ---------------------------------------------------------------------------------------


def test_missing_or_unknown_key_is_401(sim: RackbeatSimulator) -> None:
    # GIVEN a client without a key and one with a key nobody issued
    # WHEN they list customers
    missing = client_for(sim, key=None).get("customers")
    unknown = client_for(sim, key="nope").get("customers")
    # THEN both are refused with Laravel's message
    assert missing.status_code == unknown.status_code == 401
    assert unknown.json() == {"message": "Unauthenticated."}


def test_self_identifies_the_account(sim: RackbeatSimulator, api: httpx.Client) -> None:
    other = sim.add_account(KEY_B)
    assert api.get("self").json()["user_account"]["id"] == 1
    assert client_for(sim, KEY_B).get("self").json()["user_account"]["id"] == other


def test_lists_answer_206_with_paging_envelope(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN 25 customers in total
    for index in range(24):
        sim.seed_customer(1, company_name=f"Customer {index}")
    # WHEN the second page of 10 is fetched
    response = api.get("customers", params={"page": 2, "limit": 10})
    # THEN the list answers 206 with the plural key and paging fields
    assert response.status_code == 206
    payload = response.json()
    assert {k: payload[k] for k in ("total", "pages", "limit", "page")} == {
        "total": 25,
        "pages": 3,
        "limit": 10,
        "page": 2,
    }
    assert [c["number"] for c in payload["customers"]] == list(range(11, 21))


def test_default_limit_is_20_and_above_1000_is_rejected(sim: RackbeatSimulator, api: httpx.Client) -> None:
    for index in range(30):
        sim.seed_customer(1, company_name=f"Customer {index}")
    assert len(api.get("customers").json()["customers"]) == 20
    assert api.get("customers", params={"limit": 1001}).status_code == 422


# --- customers --------------------------------------------------------------------------------------------------


def test_create_customer_without_number_takes_next_free_number(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN customers 1 and 5
    sim.seed_customer(1, 5, "Five A/S")
    # WHEN a customer is created without a number
    response = api.post("customers", json={"company_name": "New ApS", "contact_email": "new@example.com"})
    # THEN it gets highest + 1, in the singular envelope
    assert response.status_code == 201
    assert response.json()["customer"]["number"] == 6
    assert sim.state(1).customers[6]["company_name"] == "New ApS"


def test_first_customer_of_an_empty_account_is_number_1(sim: RackbeatSimulator) -> None:
    sim.add_account(KEY_B)
    response = client_for(sim, KEY_B).post("customers", json={"company_name": "First"})
    assert response.json()["customer"]["number"] == 1


def test_create_customer_with_taken_number_is_422(api: httpx.Client) -> None:
    response = api.post("customers", json={"number": 1, "company_name": "Clash"})
    assert response.status_code == 422
    assert "number" in response.json()["errors"]


def test_customer_lookup_by_contact_email(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN two customers with different e-mails
    sim.seed_customer(1, 2, "Other", contact_email="other@example.com")
    # WHEN filtering on contact_email
    response = api.get("customers", params={"simple_filter[contact_email]": "buyer@kaffe.dk"})
    # THEN only the match comes back
    assert response.status_code == 206
    assert [c["number"] for c in response.json()["customers"]] == [1]


def test_search_is_case_insensitive_substring(api: httpx.Client) -> None:
    response = api.get("customers", params={"search": "KAFFE"})
    assert [c["company_name"] for c in response.json()["customers"]] == ["Kaffe ApS"]


def test_unsupported_filter_is_422(api: httpx.Client) -> None:
    response = api.get("customers", params={"simple_filter[shoe_size]": "44"})
    assert response.status_code == 422
    assert response.json() == {"errors": {"shoe_size": ["Property 'shoe_size' is not filterable"]}}


def test_update_customer(api: httpx.Client) -> None:
    response = api.put("customers/1", json={"contact_phone": "+45 12345678"})
    assert response.status_code == 200
    assert api.get("customers/1").json()["customer"]["contact_phone"] == "+45 12345678"
    assert api.get("customers/99").status_code == 404


# --- products ----------------------------------------------------------------------------------------------------


def test_product_number_is_url_encoded_and_money_is_a_string(api: httpx.Client) -> None:
    response = api.get("products/ABC%2F123")
    assert response.status_code == 200
    product = response.json()["product"]
    assert product["number"] == "ABC/123"
    assert product["sales_price"] == "99.50"
    assert product["stock_quantity"] == 10


def test_create_product_answers_201_and_accepts_numeric_money(api: httpx.Client) -> None:
    response = api.post("products", json={"number": "NEW-1", "name": "New", "sales_price": 12.5})
    assert response.status_code == 201
    assert response.json()["product"]["sales_price"] == "12.50"
    assert api.post("products", json={"number": "NEW-1", "name": "Again"}).status_code == 422


# --- orders: the whole flow ----------------------------------------------------------------------------------------


def test_draft_book_ship_invoice_flow(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN a draft with two lines (2 x 99.50 and 3 x 10.00 less 10 %, both 25 % VAT)
    draft = api.post("orders/drafts", json=draft_body())
    assert draft.status_code == 201
    order = draft.json()["order"]
    assert order["number"] == 1 and order["is_booked"] is False
    assert (order["total_excl_vat"], order["total_vat"], order["total"]) == ("226.00", "56.50", "282.50")
    assert order["lines"][1]["name"] == "Green tea"  # defaults to the product name

    # WHEN it is booked
    booked = api.post("orders/1/book", json={"mail": {"send": False}})
    # THEN it is booked and ready for shipping
    assert booked.status_code == 200
    assert booked.json()["order"]["is_booked"] is True
    assert booked.json()["order"]["is_ready_for_shipping"] is True

    # WHEN a shipment is created and marked shipped
    shipment = api.post("orders/1/create-shipment")
    assert shipment.status_code == 201
    shipment_body = shipment.json()["order_shipment"]
    assert shipment_body["order_number"] == 1 and shipment_body["is_shipped"] is False
    listed = api.get("orders/1/shipments")
    assert listed.status_code == 206 and listed.json()["order_shipments"][0]["id"] == shipment_body["id"]
    shipped = api.post(f"orders/shipments/{shipment_body['id']}/mark-shipped", json={"pick": True})
    # THEN the shipment and the order are shipped and stock is drawn, per location too
    assert shipped.status_code == 200 and shipped.json()["order_shipment"]["is_shipped"] is True
    assert api.get("orders/1").json()["order"]["is_shipped"] is True
    assert api.get("products/ABC%2F123").json()["product"]["stock_quantity"] == 8
    assert api.get("products/TEA").json()["product"]["stock_quantity"] == -3
    locations = api.get("products/ABC%2F123/locations").json()["product_locations"]
    assert locations == [
        {"number": "L1", "name": "Main warehouse", "stock_quantity": 8, "in_order_quantity": 0, "available_quantity": 8}
    ]

    # WHEN the order is converted to an unbooked invoice, then the invoice is booked
    converted = api.post("orders/1/convert-to-invoice", params={"book": "false"})
    assert converted.status_code == 201
    invoice_number = converted.json()["invoice_id"]
    invoice = api.get(f"customer-invoices/{invoice_number}").json()["customer_invoice"]
    assert invoice["order_number"] == 1 and invoice["is_booked"] is False and invoice["stock_returned"] is False
    assert invoice["other_reference"] == "shop-1001" and invoice["total"] == "282.50"
    assert api.get("orders/1").json()["order"]["is_invoiced"] is True
    booked_invoice = api.post(f"customer-invoices/{invoice_number}/book")
    # THEN the invoice is booked, and booking again is refused
    assert booked_invoice.status_code == 200
    assert booked_invoice.json()["customer_invoice"]["is_booked"] is True
    assert api.post(f"customer-invoices/{invoice_number}/book").status_code == 422
    by_order = api.get("customer-invoices", params={"simple_filter[order_number]": "1"}).json()
    assert [i["number"] for i in by_order["customer_invoices"]] == [invoice_number]


def test_state_keeps_exact_decimals_and_rounds_totals_half_up(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN a line whose VAT is 0.125 exactly (0.50 x 25 %)
    body = draft_body(lines=[{"item_id": "TEA", "quantity": 1, "line_price": "0.50", "vat_percentage": 25}])
    api.post("orders/drafts", json=body)
    order = sim.state(1).orders[1]
    # THEN the total VAT rounds half-up to 0.13
    assert order["total_vat"] == Decimal("0.13")
    assert order["total"] == Decimal("0.63")


def test_post_orders_books_unless_told_not_to(api: httpx.Client) -> None:
    assert api.post("orders", json=draft_body()).json()["order"]["is_booked"] is True
    assert api.post("orders", json=draft_body(is_draft=True)).json()["order"]["is_booked"] is False


def test_order_lookup_by_other_reference(api: httpx.Client) -> None:
    api.post("orders/drafts", json=draft_body())
    api.post("orders/drafts", json=draft_body(other_reference="shop-2002"))
    response = api.get("orders", params={"simple_filter[other_reference]": "shop-2002"})
    assert [o["number"] for o in response.json()["orders"]] == [2]


# --- orders: refusals ----------------------------------------------------------------------------------------------


def test_draft_validation_errors_name_the_field_path(api: httpx.Client) -> None:
    # GIVEN a draft for an unknown customer with an unknown item and a line without quantity
    body = draft_body(customer_id=404, lines=[{"item_id": "GHOST", "quantity": 1}, {"item_id": "TEA"}])
    # WHEN it is posted
    response = api.post("orders/drafts", json=body)
    # THEN each problem is reported under its path and nothing is stored
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["lines.0.item_id"] == ["Product needed"]
    assert "customer_id" in errors and "lines.1.quantity" in errors
    assert api.get("orders").json()["total"] == 0


def test_missing_customer_is_422(api: httpx.Client) -> None:
    response = api.post("orders/drafts", json={"lines": []})
    assert response.status_code == 422 and "customer_id" in response.json()["errors"]


def test_taken_order_number_is_422(api: httpx.Client) -> None:
    api.post("orders/drafts", json=draft_body(number=10))
    response = api.post("orders/drafts", json=draft_body(number=10))
    assert response.status_code == 422 and "number" in response.json()["errors"]
    assert api.post("orders/drafts", json=draft_body()).json()["order"]["number"] == 11


def test_booking_twice_and_editing_booked_lines_are_refused(api: httpx.Client) -> None:
    api.post("orders", json=draft_body())
    again = api.post("orders/1/book")
    assert again.status_code == 422
    assert again.json() == {"errors": {"order": ["Order is already booked"]}}
    edit = api.put("orders/1", json={"lines": [{"item_id": "TEA", "quantity": 1}]})
    assert edit.status_code == 422 and "lines" in edit.json()["errors"]
    assert api.put("orders/1", json={"note": "leave at door"}).status_code == 200


def test_shipment_needs_a_booked_unshipped_order(api: httpx.Client) -> None:
    api.post("orders/drafts", json=draft_body())
    assert api.post("orders/1/create-shipment").status_code == 422  # draft
    api.post("orders/1/book")
    shipment_id = api.post("orders/1/create-shipment").json()["order_shipment"]["id"]
    assert api.post("orders/1/create-shipment").status_code == 422  # nothing left to ship
    assert api.post(f"orders/shipments/{shipment_id}/mark-shipped").status_code == 200
    assert api.post(f"orders/shipments/{shipment_id}/mark-shipped").status_code == 422


def test_convert_to_invoice_only_once(api: httpx.Client) -> None:
    api.post("orders", json=draft_body())
    assert api.post("orders/1/convert-to-invoice", params={"book": "true"}).status_code == 201
    again = api.post("orders/1/convert-to-invoice", params={"book": "true"})
    assert again.status_code == 422
    assert again.json() == {"errors": {"order": ["Order is already invoiced"]}}


def test_reopen_makes_a_booked_order_editable(api: httpx.Client) -> None:
    api.post("orders", json=draft_body())
    assert api.post("orders/1/reopen").json()["order"]["is_booked"] is False
    assert api.put("orders/1", json={"lines": [{"item_id": "TEA", "quantity": 1}]}).status_code == 200


# --- rate limit and faults ---------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(clock: FakeClock) -> None:
    # GIVEN a limit of 3 per minute
    sim = RackbeatSimulator(clock=clock, rate_limit_per_minute=3)
    sim.add_account(KEY_A)
    api = client_for(sim)
    for _ in range(3):
        assert api.get("customers").status_code == 206
        clock.advance(10)
    # WHEN a fourth call comes 30 s after the first
    throttled = api.get("customers")
    # THEN it is refused until the first call's slot frees (30 s later)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "30"
    assert throttled.json() == {"message": "Too Many Attempts."}
    assert sim.calls_by_status[429] == 1
    clock.advance(30)
    assert api.get("customers").status_code == 206


def test_rate_limit_is_per_token(clock: FakeClock) -> None:
    sim = RackbeatSimulator(clock=clock, rate_limit_per_minute=1)
    account = sim.add_account(KEY_A)
    sim.add_api_key(account, KEY_B)
    assert client_for(sim, KEY_A).get("customers").status_code == 206
    assert client_for(sim, KEY_A).get("customers").status_code == 429
    assert client_for(sim, KEY_B).get("customers").status_code == 206


def test_dropped_response_still_commits_the_order(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN every mutating response is lost
    sim.faults.drop_response_rate = 1.0
    # WHEN a draft is posted
    with pytest.raises(httpx.ReadError):
        api.post("orders/drafts", json=draft_body())
    # THEN the order exists anyway, and reads are unaffected
    assert 1 in sim.state(1).orders
    assert api.get("orders/1").status_code == 200


def test_server_errors_write_nothing(sim: RackbeatSimulator, api: httpx.Client) -> None:
    sim.faults.server_error_rate = 1.0
    response = api.post("orders/drafts", json=draft_body())
    assert response.status_code in (500, 502, 503)
    assert sim.state(1).orders == {}


# --- tenancy -----------------------------------------------------------------------------------------------------


def test_key_of_one_account_cannot_read_another_accounts_order(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN an order in account A and an empty account B
    api.post("orders/drafts", json=draft_body())
    sim.add_account(KEY_B)
    other = client_for(sim, KEY_B)
    # THEN B sees neither the order nor A's customers
    assert other.get("orders/1").status_code == 404
    assert other.get("orders/1").json() == {"message": "Not found"}
    assert other.get("customers").json()["total"] == 0


# --- webhooks ----------------------------------------------------------------------------------------------------


def test_webhook_token_only_at_creation_and_upsert(api: httpx.Client) -> None:
    body = {"event": "order.created", "url": "https://hooks.example.com/rb", "is_active": True}
    created = api.post("webhooks", json=body)
    assert created.status_code == 201
    hook = created.json()["webhook"]
    assert len(hook["token"]) == 32
    again = api.post("webhooks", json=body).json()["webhook"]
    assert again["id"] == hook["id"] and "token" not in again
    listed = api.get("webhooks", params={"event": "order.created"}).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "token" not in listed[0]
    assert api.delete(f"webhooks/{hook['id']}").status_code == 204
    assert api.get("webhooks").json()["total"] == 0


def test_webhooks_are_emitted_with_headers_and_minimal_body(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN a subscription to order.created and order.booked
    url = "https://hooks.example.com/rb"
    token = api.post("webhooks", json={"event": "order.created", "url": url}).json()["webhook"]["token"]
    api.post("webhooks", json={"event": "order.booked", "url": url})
    # WHEN a booked order is created and Rackbeat then delivers what it announced
    api.post("orders", json=draft_body())
    sink = RecordingSink()
    sim.webhook_sink = sink
    sim.deliver()
    # THEN both events reached the URL, in order, with Rackbeat's headers (the token, no HMAC) and the minimal body
    assert [headers["Rackbeat-Webhook-Event"] for _, headers, _ in sink.calls] == ["order.created", "order.booked"]
    first_url, first_headers, first_body = sink.calls[0]
    assert first_url == url
    assert first_headers == {
        "Rackbeat-Webhook-Token": token,
        "Rackbeat-Webhook-Event": "order.created",
        "Rackbeat-Account-Id": "1",
        "User-Agent": "Rackbeat Webhook",
        "Content-Type": "application/json",
    }
    assert json.loads(first_body) == {"key_name": "number", "key": "1"}


def test_mark_shipped_emits_shipment_and_stock_events_to_the_sink(clock: FakeClock) -> None:
    # GIVEN a simulator delivering webhooks to a sink
    received: list[tuple[str, dict[str, str], bytes]] = []

    def sink(url: str, headers: dict[str, str], body: bytes) -> int:
        received.append((url, headers, body))
        return 200

    sim = RackbeatSimulator(clock=clock, webhook_sink=sink)
    account = sim.add_account(KEY_A)
    sim.seed_product(account, "TEA", "Green tea", 40, stock_quantity=5)
    sim.seed_customer(account, 1, "Kaffe ApS")
    api = client_for(sim)
    for event in ("order_shipment.shipped", "product.stock_changed"):
        api.post("webhooks", json={"event": event, "url": "https://hooks.example.com/rb"})
    api.post("orders", json={"customer_id": 1, "lines": [{"item_id": "TEA", "quantity": 2}]})
    shipment_id = api.post("orders/1/create-shipment").json()["order_shipment"]["id"]
    # WHEN the shipment is marked shipped and the outbox delivers
    api.post(f"orders/shipments/{shipment_id}/mark-shipped", json={"pick": True})
    sim.deliver()
    # THEN the sink got the shipment (keyed by id) and the stock change (keyed by product number)
    bodies = {h["Rackbeat-Webhook-Event"]: b for _, h, b in received}
    assert bodies["order_shipment.shipped"] == f'{{"key_name": "id", "key": "{shipment_id}"}}'.encode()
    assert bodies["product.stock_changed"] == b'{"key_name": "number", "key": "TEA"}'
    assert sim.pending() == []


def test_suppress_webhooks_emits_nothing(sim: RackbeatSimulator, api: httpx.Client) -> None:
    api.post("webhooks", json={"event": "customer.created", "url": "https://hooks.example.com/rb"})
    api.post("customers", json={"company_name": "Quiet", "suppress_webhooks": True})
    api.post("customers", params={"suppress_webhooks": "true"}, json={"company_name": "Quieter"})
    assert sim.pending() == []
    api.post("customers", json={"company_name": "Loud"})
    assert [d.json()["key"] for d in sim.pending()] == ["4"]


def test_calls_are_counted_by_route(sim: RackbeatSimulator, api: httpx.Client) -> None:
    api.get("customers/1")
    api.get("customers/1")
    assert sim.calls_by_route[("GET", "/customers/{number}")] == 2
    assert sim.calls == 2


def test_sink_can_refetch_from_another_thread_without_deadlock(clock: FakeClock) -> None:
    # GIVEN a sink that re-fetches the order from another thread (as `crossdock serve` does over HTTP)
    fetched: list[int] = []
    holder: list[RackbeatSimulator] = []

    def sink(url: str, headers: dict[str, str], body: bytes) -> int:
        path = f"orders/{json.loads(body)['key']}"
        worker = threading.Thread(target=lambda: fetched.append(client_for(holder[0]).get(path).status_code))
        worker.start()
        worker.join(timeout=5)
        return 200

    sim = RackbeatSimulator(clock=clock, webhook_sink=sink)
    holder.append(sim)
    account = sim.add_account(KEY_A)
    sim.seed_product(account, "TEA", "Green tea", 40)
    sim.seed_customer(account, 1, "Kaffe ApS")
    api = client_for(sim)
    api.post("webhooks", json={"event": "order.created", "url": "https://hooks.example.com/rb"})
    # WHEN an order is created and the outbox delivers
    api.post("orders/drafts", json={"customer_id": 1, "lines": [{"item_id": "TEA", "quantity": 1}]})
    sim.deliver()
    # THEN the webhook was delivered without the lock held, so the re-fetch succeeded
    assert fetched == [200]


# --- the control API -----------------------------------------------------------------------------------------------


def test_the_control_api_shows_each_accounts_counts_and_no_secret(sim: RackbeatSimulator, api: httpx.Client) -> None:
    # GIVEN an account with a product created through the API and a webhook subscription
    api.post("/products", json={"number": "NEW-1", "name": "New", "sales_price": 10})
    api.post("/webhooks", json={"event": "product.updated", "url": "https://hub.example/webhooks/rackbeat/c1"})
    # WHEN the state is read through the control API, without a key
    answer = rackbeat_client(sim, None).get("/_control/state")
    # THEN it shows the account's counts, and no API key or webhook token
    assert answer.status_code == 200
    (account,) = answer.json()["accounts"]
    assert account["counts"]["products"] == 3 and account["counts"]["webhooks"] == 1
    assert KEY_A not in answer.text and "_token" not in answer.text
    # AND reading it was not one of Rackbeat's calls
    assert answer.json()["calls"] == sim.calls
