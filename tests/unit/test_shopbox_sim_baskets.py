"""Sales in the Shopbox simulator: baskets rung up at the till through the control API, listed late, newest first
with rows that shift between pages, richer on the detail call, cancelled later, `page=1` failing now and then —
what the sales poller has to survive (fact sheet, "Incremental polling of sales" and behaviours 4–6)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sim_fakes import RecordingSink
from test_shopbox_sim import EPOCH, Till, error_of, open_till

PUSH_URL = "https://crossdock.example.com/shopbox/push?secret=s3cr3t-in-the-url"


def mug_line(till: Till, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"product": till.mug["uid"], "quantity": quantity, **extra}


def sell(till: Till, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A sale at the first branch's till through the control API (as a test or the demo sells)."""
    body = {"client": till.client, "branch": till.branch, "cash_register": till.register, "lines": list(lines)}
    answer = till.control("POST", "baskets", {**body, **extra})
    assert answer.status_code == 201, answer.text
    basket: dict[str, Any] = answer.json()
    return basket


def listed_uids(till: Till, token: str, **params: Any) -> list[int]:
    return [row["uid"] for row in till.data("baskets", token, **params)]


@pytest.fixture
def till() -> Till:
    return open_till()


def test_a_list_row_has_no_lines_and_the_detail_call_has_them(till: Till) -> None:
    # GIVEN a sale of two mugs at a discount and one medium T-shirt, to a known customer, paid by card
    medium = till.tee["product_variances"][1]
    customer = {"name": "Karen Jensen", "email": "karen@example.com"}
    basket = sell(
        till,
        mug_line(till, 2, discount=1000),
        {"product": till.tee["uid"], "product_variance": medium["uid"], "quantity": 1},
        customer=customer,
        payments=[{"payment_type": "card", "amount": 35700}],
    )
    token = till.login()
    # WHEN the poller lists the baskets
    rows = till.data("baskets", token)
    # THEN the row carries the basket's facts but no lines
    assert rows == [
        {
            "uid": basket["uid"],
            "crdate": EPOCH,
            "tstamp": EPOCH,
            "canceled": False,
            "branch": till.branch,
            "cash_register": till.register,
        }
    ]
    # AND the detail call adds the lines under `sales`, in øre incl. VAT, with the total, customer and payments
    detail = till.data(f"baskets/{basket['uid']}", token)
    lines = detail["sales"]
    assert [(line["sku_code"], line["quantity"], line["selling_price"], line["discount"]) for line in lines] == [
        ("MUG-1", 2, 7900, 1000),
        ("TEE-M", 1, 20900, 0),
    ]
    assert lines[1]["product_variance"] == medium["uid"] and lines[1]["name"] == "T-shirt - M"
    assert lines[0]["product_variance"] is None and lines[0]["vat_rate"] == 25
    assert detail["total"] == 2 * 7900 - 1000 + 20900 == 35700
    assert detail["currency"] == "DKK"
    assert detail["customer"]["name"] == "Karen Jensen" and detail["customer"]["uid"]
    assert detail["payments"] == [{"payment_type": "card", "amount": 35700}]


def test_the_key_of_the_lines_is_a_rule() -> None:
    till = open_till(basket_lines_key="items")
    basket = sell(till, mug_line(till))
    detail = till.data(f"baskets/{basket['uid']}", till.login())
    assert len(detail["items"]) == 1 and "sales" not in detail


def test_a_basket_is_listed_only_after_the_listing_delay() -> None:
    # GIVEN baskets take 30 s to reach the listing
    till = open_till(listing_delay_seconds=30)
    token = till.login()
    basket = sell(till, mug_line(till))
    # WHEN the poller lists 29 s later, THEN the sale is not there yet, though its detail answers
    till.clock.advance(29)
    assert listed_uids(till, token) == []
    assert till.get(f"baskets/{basket['uid']}", token).status_code == 200
    # WHEN another second passes, THEN it is listed, with the time it was rung up
    till.clock.advance(1)
    (row,) = till.data("baskets", token)
    assert (row["uid"], row["crdate"]) == (basket["uid"], EPOCH)


def test_the_listing_is_newest_first_and_rows_shift_while_sales_arrive(till: Till) -> None:
    # GIVEN five sales, a minute apart
    uids = []
    for _ in range(5):
        uids.append(sell(till, mug_line(till))["uid"])
        till.clock.advance(60)
    token = till.login()
    # WHEN the poller reads page 1 of two rows, THEN it holds the two newest
    assert listed_uids(till, token, **{"per-page": 2}) == [uids[4], uids[3]]
    # WHEN a new sale arrives before it reads page 2
    newest = sell(till, mug_line(till))["uid"]
    page_two = listed_uids(till, token, page=2, **{"per-page": 2})
    # THEN the rows shifted: page 2 repeats a row page 1 had shown (the poller dedupes by uid)
    assert page_two == [uids[3], uids[2]]
    assert listed_uids(till, token, **{"per-page": 2}) == [newest, uids[4]]


def test_a_flag_lists_the_oldest_first() -> None:
    till = open_till(newest_first=False)
    first, second = sell(till, mug_line(till))["uid"], sell(till, mug_line(till))["uid"]
    assert listed_uids(till, till.login()) == [first, second]


def test_a_sale_made_earlier_is_placed_by_its_crdate(till: Till) -> None:
    # GIVEN a sale now, and one reported as made an hour ago (the simulator's Unix time moves with its clock)
    till.clock.advance(7200)
    assert till.sim.unix_now == EPOCH + 7200
    now = sell(till, mug_line(till))["uid"]
    earlier = sell(till, mug_line(till), made_at=till.sim.unix_now - 3600)
    # THEN it carries that time and lists after the newer one
    assert earlier["crdate"] == EPOCH + 3600
    assert listed_uids(till, till.login()) == [now, earlier["uid"]]


def test_per_page_minus_one_lists_every_basket(till: Till) -> None:
    for _ in range(60):
        sell(till, mug_line(till))
    answer = till.get("baskets", till.login(), **{"per-page": -1}).json()
    assert len(answer["data"]) == 60
    assert answer["meta"]["pagination"]["total_pages"] == 1 and answer["meta"]["pagination"]["per_page"] == -1


def test_a_later_cancellation_flips_canceled_and_moves_tstamp(till: Till) -> None:
    # GIVEN a listed sale of three mugs
    basket = sell(till, mug_line(till, 3))
    token = till.login()
    assert till.sim.stock(till.client, till.branch, till.mug["uid"]) == 7
    # WHEN it is cancelled at the till ten minutes later
    till.clock.advance(600)
    cancelled = till.control("POST", f"baskets/{basket['uid']}/cancel")
    # THEN the list row shows it cancelled with a new tstamp, and the mugs are back in stock
    assert cancelled.status_code == 200
    row = till.data("baskets", token)[0]
    assert row["canceled"] is True and row["tstamp"] == EPOCH + 600 and row["crdate"] == EPOCH
    assert till.sim.stock(till.client, till.branch, till.mug["uid"]) == 10
    # AND cancelling it again is refused
    again = till.control("POST", f"baskets/{basket['uid']}/cancel")
    assert again.status_code == 422 and "canceled" in error_of(again)["errors"]


def test_a_cancellation_in_the_same_second_still_moves_tstamp(till: Till) -> None:
    basket = sell(till, mug_line(till))
    assert till.sim.cancel_basket(basket["uid"])["tstamp"] == EPOCH + 1


def test_a_sale_draws_the_branch_stock_per_variant(till: Till) -> None:
    # GIVEN 4 small T-shirts in the first branch
    small = till.tee["product_variances"][0]["uid"]
    # WHEN two are sold there, and one mug is returned (negative quantity)
    sell(till, {"product": till.tee["uid"], "product_variance": small, "quantity": 2}, mug_line(till, -1))
    # THEN the branch holds 2 small T-shirts and 11 mugs; the other branch is untouched
    assert till.sim.stock(till.client, till.branch, till.tee["uid"], small) == 2
    assert till.sim.stock(till.client, till.branch, till.mug["uid"]) == 11
    assert till.sim.stock(till.client, till.other_branch, till.mug["uid"]) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"product": 999999, "quantity": 1}]}, "lines[0].product"),
        ({"lines": [{"product": "mug", "quantity": 1}]}, "lines[0].product"),
        ({"lines": [{"quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": 1.5}]}, "lines[0].quantity"),
        ({"lines": [{"quantity": 1, "selling_price": 79.0}]}, "lines[0].selling_price"),
        ({"lines": [{"quantity": 1, "discount": -100}]}, "lines[0].discount"),
        ({"branch": 1}, "branch"),
        ({"customer": {"email": "x@example.com"}}, "customer.name"),
        ({"made_at": "yesterday"}, "made_at"),
    ],
)
def test_a_sale_the_till_cannot_ring_up_is_422_naming_the_field_and_writes_nothing(
    till: Till, change: dict[str, Any], field: str
) -> None:
    # GIVEN a sale with one wrong field (lines given without a product are the mug's)
    body: dict[str, Any] = {"client": till.client, "branch": till.branch, "cash_register": till.register}
    body["lines"] = [mug_line(till)]
    if "lines" in change:
        change = {"lines": [{"product": till.mug["uid"], **line} for line in change["lines"]]}
    # WHEN it is rung up
    answer = till.control("POST", "baskets", {**body, **change})
    # THEN it is 422 naming the field, and neither a basket nor a stock change was made
    assert answer.status_code == 422
    assert field in error_of(answer)["errors"]
    assert till.sim.baskets(till.client) == []
    assert till.sim.stock(till.client, till.branch, till.mug["uid"]) == 10


def test_a_register_of_another_branch_is_refused(till: Till) -> None:
    body = {"client": till.client, "branch": till.branch, "cash_register": till.other_register}
    answer = till.control("POST", "baskets", {**body, "lines": [mug_line(till)]})
    assert answer.status_code == 422 and "cash_register" in error_of(answer)["errors"]


def test_a_product_deleted_after_the_sale_still_shows_on_the_basket(till: Till) -> None:
    # GIVEN a sale of a mug, then the mug removed from the catalogue
    basket = sell(till, mug_line(till))
    till.sim.delete_product(till.client, till.mug["uid"])
    # THEN the basket still names it (a poller meets a product it cannot find)
    token = till.login()
    assert till.data(f"baskets/{basket['uid']}", token)["sales"][0]["product"] == till.mug["uid"]
    assert till.get(f"products/{till.mug['uid']}", token).status_code == 404


def test_page_one_answers_500_sporadically_but_not_without_a_page() -> None:
    # GIVEN page=1 of the baskets always fails (S3 saw it fail now and then)
    till = open_till(first_page_error_rate=1.0)
    sell(till, mug_line(till))
    token = till.login()
    # WHEN the poller asks for page=1, THEN it is 500; without `page` (S3's workaround) or for page 2 it is not
    failed = till.get("baskets", token, page=1)
    assert failed.status_code == 500 and error_of(failed)["status"] == 500
    assert till.get("baskets", token).status_code == 200
    assert till.get("baskets", token, page=2).status_code == 200


def test_the_sporadic_500_is_seeded_and_sporadic() -> None:
    # GIVEN half of the page=1 requests fail, in two simulators seeded alike
    statuses = []
    for _ in range(2):
        till = open_till(first_page_error_rate=0.5, requests_per_second=1000)
        token = till.login()
        statuses.append([till.get("baskets", token, page=1).status_code for _ in range(40)])
    # THEN some fail and some pass, and the same ones in both runs
    assert statuses[0] == statuses[1]
    assert {200, 500} == set(statuses[0])


def test_the_api_cancel_route_cancels_for_the_caller(till: Till) -> None:
    basket = sell(till, mug_line(till))
    answer = till.call("PUT", f"baskets/{basket['uid']}/cancel", till.login())
    assert answer.status_code == 200 and answer.json()["data"]["canceled"] is True


def test_a_basket_of_another_client_is_404(till: Till) -> None:
    # GIVEN a second client the owner may act for, with no sales
    second = till.sim.add_client("Kaffebar Aarhus ApS")
    till.sim.grant("ejer@kaffebar.dk", second)
    basket = sell(till, mug_line(till))
    # THEN the first client's basket is not found through the second
    answer = till.call("GET", f"baskets/{basket['uid']}", till.login(), client=second)
    assert answer.status_code == 404


# --- the optional stock-delta push -------------------------------------------------------------------------------


def pushed(sink: RecordingSink) -> list[list[dict[str, Any]]]:
    return [json.loads(body) for _, _, body in sink.calls]


def test_no_push_is_sent_unless_a_url_is_set(till: Till) -> None:
    sell(till, mug_line(till))
    assert till.sim.pending() == []


def test_a_sale_and_its_cancellation_push_the_quantities_sold_unsigned(till: Till) -> None:
    # GIVEN the client pushes stock deltas to a URL with its secret in it
    sink = RecordingSink()
    till.sim.webhook_sink = sink
    assert till.control("PUT", f"clients/{till.client}/stock-push", {"url": PUSH_URL}).status_code == 200
    small = till.tee["product_variances"][0]["uid"]
    # WHEN two mugs and a small T-shirt are sold, the sale is cancelled, and the pushes are delivered
    basket = sell(till, mug_line(till, 2), {"product": till.tee["uid"], "product_variance": small, "quantity": 1})
    till.sim.cancel_basket(basket["uid"])
    report = till.sim.deliver()
    # THEN two unsigned pushes went to the URL: what was sold, then the same negated
    assert report.delivered == 2
    sold = [
        {"product_id": till.mug["uid"], "quantity": 2, "variance_id": None},
        {"product_id": till.tee["uid"], "quantity": 1, "variance_id": small},
    ]
    assert pushed(sink) == [sold, [{**delta, "quantity": -delta["quantity"]} for delta in sold]]
    url, headers, _ = sink.calls[0]
    assert url == PUSH_URL
    assert set(headers) == {"Content-Type", "User-Agent"}
    # AND the state says a push is set, but not where (the URL carries a secret)
    snapshot = json.dumps(till.control("GET", "state").json())
    assert '"stock_push": true' in snapshot and "s3cr3t" not in snapshot


def test_a_push_can_be_repeated_or_lost_and_a_refused_one_is_not_retried(till: Till) -> None:
    sink = RecordingSink()
    till.sim.webhook_sink = sink
    till.sim.set_stock_push(till.client, PUSH_URL)
    # WHEN every push is duplicated, THEN the receiver gets the same deltas twice
    till.control("PUT", "faults", {"webhook_duplicate_rate": 1.0})
    sell(till, mug_line(till))
    till.sim.deliver()
    assert len(pushed(sink)) == 2 and pushed(sink)[0] == pushed(sink)[1]
    # WHEN every push is lost, THEN none arrives
    till.control("PUT", "faults", {"webhook_duplicate_rate": 0.0, "webhook_lose_rate": 1.0})
    sell(till, mug_line(till))
    assert till.sim.pending() == [] and till.sim.deliver().delivered == 0
    # WHEN the receiver refuses one, THEN it is gone after that one attempt
    till.control("PUT", "faults", {"webhook_lose_rate": 0.0})
    sink.status = 500
    sell(till, mug_line(till))
    assert till.sim.deliver().given_up == 1 and till.sim.pending() == []


def test_a_push_url_must_be_http(till: Till) -> None:
    answer = till.control("PUT", f"clients/{till.client}/stock-push", {"url": "ftp://example.com/x"})
    assert answer.status_code == 422 and "url" in error_of(answer)["errors"]


# --- varied sales ------------------------------------------------------------------------------------------------


def test_varied_sales_add_up_draw_stock_and_replay_for_a_seed() -> None:
    # GIVEN two tills alike (same seed), the second branch closed
    tills = [open_till(), open_till()]
    for till in tills:
        till.sim.client(till.client).branches[till.other_branch]["is_closed"] = True
    # WHEN each rings up 200 varied sales, returns included
    runs = [till.sim.sell_varied(till.client, 200, returns=True) for till in tills]
    sales, till = runs[0], tills[0]
    # THEN both rang up the same lines
    assert [s["sales"] for s in runs[0]] == [s["sales"] for s in runs[1]]
    # AND every total is exactly its lines, paid in full, at the open branch only
    for sale in sales:
        lines = sale["sales"]
        assert sale["total"] == sum(line["quantity"] * line["selling_price"] - line["discount"] for line in lines)
        assert sum(payment["amount"] for payment in sale["payments"]) == sale["total"]
        assert sale["branch"] == till.branch
        assert len({line["product"] for line in lines}) == len(lines)
    every = [line for sale in sales for line in sale["sales"]]
    # AND the sales vary: variants, discounts, returns, known customers
    assert any(line["product_variance"] for line in every) and any(line["discount"] for line in every)
    assert any(line["quantity"] < 0 for line in every)
    assert 0 < sum(1 for sale in sales if sale["customer"]) < len(sales)
    # AND the mugs sold are gone from the branch's stock
    mugs = sum(line["quantity"] for line in every if line["product"] == till.mug["uid"])
    assert till.sim.stock(till.client, till.branch, till.mug["uid"]) == 10 - mugs


def test_a_return_against_its_receipt_names_the_sale_under_the_key_the_rules_choose(till: Till) -> None:
    # GIVEN two mugs sold, and one brought back against the receipt (negative quantity, `return_of`: a guess)
    sale = sell(till, mug_line(till, 2))
    returned = sell(till, mug_line(till, -1), return_of=sale["uid"])
    token = till.login()
    # WHEN the detail is read, THEN it names the sale under `return_of`
    assert till.data(f"baskets/{returned['uid']}", token)["return_of"] == sale["uid"]
    # AND with the rule set to another name, under that one
    till.sim.rules.return_reference_key = "original_basket"
    detail = till.data(f"baskets/{returned['uid']}", token)
    assert detail["original_basket"] == sale["uid"] and "return_of" not in detail
    # AND the sale itself names nothing
    assert "return_of" not in till.data(f"baskets/{sale['uid']}", token)


@pytest.mark.parametrize(
    ("lines", "of", "message"),
    [
        ([{"quantity": 1}], "sale", "must all have negative quantities"),
        ([{"quantity": -1}], 999999, "is not a basket of this client"),
    ],
    ids=["a sold line in a return", "an unknown original"],
)
def test_a_return_is_refused_naming_return_of(till: Till, lines: list[dict[str, Any]], of: Any, message: str) -> None:
    sale = sell(till, mug_line(till, 2))
    body = {"client": till.client, "branch": till.branch, "cash_register": till.register}
    body["lines"] = [mug_line(till, line["quantity"]) for line in lines]
    body["return_of"] = sale["uid"] if of == "sale" else of
    answer = till.control("POST", "baskets", body)
    assert answer.status_code == 422 and "return_of" in answer.text and message in answer.text
