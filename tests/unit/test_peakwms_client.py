"""The PeakWMS connector's client against the PeakWMS simulator in process (reference/peakwms.md): the bearer key
(`GET /ping`; 401 refused as credentials, naming the account and never the key), 429 waited out per Retry-After a
few times and then handed on, the error taxonomy with PeakWMS's errorCode, keyset paging, and no credential in any
message or log line. Products, orders, stock and webhooks are in test_peakwms_connector.py."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from peakwms_fakes import API_KEY, CUSTOMER, StoppedClock, Warehouse, variant

from crossdock import pacing
from crossdock.connectors.peakwms.client import (
    DEFAULT_WAIT_SECONDS,
    WAITS,
    PeakwmsNotFound,
    PeakwmsRejected,
)
from crossdock.connectors.peakwms.products import products, upsert_product
from crossdock.connectors.peakwms.wire import scrub
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    found = Warehouse()
    monkeypatch.setattr(pacing, "clock", found.clock)
    return found


def test_ping_answers_with_the_customers_key(warehouse: Warehouse) -> None:
    # GIVEN the customer's API key WHEN the client pings THEN PeakWMS answers, once, with the key as a bearer token
    client = warehouse.client()
    assert client.ping() is not None
    assert client.calls == 1


def test_a_wrong_key_is_a_credentials_failure_that_names_the_account_and_not_the_key(warehouse: Warehouse) -> None:
    # GIVEN a key PeakWMS does not know
    client = warehouse.client("pwms_not-the-key-at-all")
    # WHEN the client pings THEN it is refused as AUTH, naming the account, and neither key shows
    with pytest.raises(PermanentError) as refused:
        client.ping()
    assert refused.value.failure_class is FailureClass.AUTH
    assert CUSTOMER in str(refused.value)
    assert "pwms_not-the-key-at-all" not in str(refused.value) and API_KEY not in str(refused.value)


def test_a_revoked_key_is_refused_on_the_next_call(warehouse: Warehouse) -> None:
    client = warehouse.client()
    client.ping()
    warehouse.sim.revoke_keys(CUSTOMER)
    with pytest.raises(PermanentError) as refused:
        client.ping()
    assert refused.value.failure_class is FailureClass.AUTH


def test_a_429_is_waited_out_per_retry_after_and_the_call_made_again(warehouse: Warehouse) -> None:
    # GIVEN a customer allowed 2 calls a minute (PeakWMS answers 429 with Retry-After: 15 [guess] beyond that),
    # one call made 50 s before the other two
    warehouse.sim.rules.requests_per_minute = 2
    client = warehouse.client()
    client.ping()
    warehouse.clock.now += 50
    client.ping()
    # WHEN a third call meets the limit
    client.ping()
    # THEN the client slept the 15 s PeakWMS asked for and the call went through (the first call had left the
    # sliding minute by then)
    assert warehouse.clock.sleeps == [15.0]
    assert client.calls == 4


def test_a_wait_longer_than_the_client_takes_is_handed_to_the_caller(warehouse: Warehouse) -> None:
    # GIVEN a 429 whose Retry-After is the sliding window's own (60 s: more than the client waits in place)
    warehouse.sim.rules.requests_per_minute = 1
    warehouse.sim.rules.retry_after_from_window = True
    client = warehouse.client()
    client.ping()
    # WHEN the next call is throttled THEN RateLimited carries PeakWMS's hint, and nothing was slept
    with pytest.raises(RateLimited) as throttled:
        client.ping()
    assert throttled.value.retry_after == pytest.approx(60.0, abs=1)
    assert warehouse.clock.sleeps == []


def test_a_429_that_keeps_coming_is_handed_on_after_a_few_waits(warehouse: Warehouse) -> None:
    # GIVEN PeakWMS throttling every call with Retry-After 15 (the limit reached and the window never clearing:
    # 15 s is not enough for a 1-call minute)
    warehouse.sim.rules.requests_per_minute = 1
    client = warehouse.client()
    client.ping()
    # WHEN a call is throttled again and again THEN it waits WAITS times and then raises RateLimited
    with pytest.raises(RateLimited):
        client.ping()
    assert warehouse.clock.sleeps == [15.0] * WAITS


def test_a_429_without_retry_after_waits_the_default() -> None:
    answers = iter([httpx.Response(429), httpx.Response(200, json={"message": "pong"})])
    clock = StoppedClock()
    pacing_clock, pacing.clock = pacing.clock, clock
    try:
        client = Warehouse().client(http=httpx.MockTransport(lambda request: next(answers)))
        assert client.ping() == {"message": "pong"}
    finally:
        pacing.clock = pacing_clock
    assert clock.sleeps == [DEFAULT_WAIT_SECONDS]


def test_an_error_body_is_read_into_status_error_code_and_message(warehouse: Warehouse) -> None:
    # GIVEN a product without its item number (PeakWMS needs one)
    client = warehouse.client()
    # WHEN it is created THEN PeakWMS's refusal keeps its status, its errorCode and its words naming the field
    with pytest.raises(PeakwmsRejected) as refused:
        client.post("product", {"productId": "8011", "variantId": "44201"})
    assert refused.value.status == 400
    assert refused.value.error_code is not None
    assert "itemNumber" in refused.value.message and "itemNumber" in str(refused.value)
    assert refused.value.failure_class is FailureClass.VALIDATION


def test_a_missing_record_is_not_found(warehouse: Warehouse) -> None:
    with pytest.raises(PeakwmsNotFound) as missing:
        warehouse.client().delete("product/999999")
    assert missing.value.status == 404


def test_a_read_answering_500_is_repeated_once_and_a_write_is_not(warehouse: Warehouse) -> None:
    # GIVEN PeakWMS answering the first request of each kind 500
    failed: set[str] = set()
    inner = warehouse.http

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method not in failed:
            failed.add(request.method)
            return httpx.Response(500, json={"message": "An unexpected error occurred", "errorCode": "5000"})
        answer: httpx.Response = inner.handle_request(request)
        return answer

    client = warehouse.client(http=httpx.MockTransport(flaky))
    # THEN a read succeeds on its second attempt; a write is handed back for the caller to look and repeat
    assert client.ping() is not None
    with pytest.raises(RetryableError) as transient:
        client.post("product", {"productId": "1", "variantId": "2", "itemNumber": "A"})
    assert transient.value.failure_class is FailureClass.TARGET_DOWN
    assert warehouse.sim.products(CUSTOMER) == []


def test_a_lost_connection_is_transient() -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    with pytest.raises(RetryableError):
        Warehouse().client(http=httpx.MockTransport(cut)).post("salesOrder", {"orderId": "1"})


def test_keyset_paging_reads_every_record_in_pages_of_250(warehouse: Warehouse) -> None:
    # GIVEN 600 variants in PeakWMS (made without the 240/min limit: the paging is under test)
    warehouse.sim.rules.requests_per_minute = 100_000
    client = warehouse.client()
    for number in range(600):
        upsert_product(client, variant(number), known={})
    before = client.calls
    # WHEN the catalogue is read THEN every variant comes once, in three pages (250, 250, 100: the short one ends it)
    listed = list(products(client))
    assert sorted(p.variant_id or "" for p in listed) == sorted(str(44000 + n) for n in range(600))
    assert client.calls - before == 3


def test_keyset_paging_ends_on_an_empty_page_after_an_exact_fit(warehouse: Warehouse) -> None:
    warehouse.sim.rules.requests_per_minute = 100_000
    client = warehouse.client()
    for number in range(500):
        upsert_product(client, variant(number), known={})
    before = client.calls
    assert len(list(client.key_set("product"))) == 500
    assert client.calls - before == 3  # 250, 250, then an empty page


def test_a_list_whose_pages_do_not_move_on_is_refused_rather_than_read_for_ever() -> None:
    # GIVEN a PeakWMS that ignores LastId and answers the same full page each time
    page = {"page": 1, "pageSize": 2, "totalRecords": 4, "data": [{"id": 1, "productId": "1"}, {"id": 2}]}
    client = Warehouse().client(http=httpx.MockTransport(lambda request: httpx.Response(200, json=page)))
    with pytest.raises(PermanentError) as looping:
        list(client.key_set("product", page_size=2))
    assert looping.value.failure_class is FailureClass.BUG


def test_keyset_accepts_a_bare_list_as_the_page() -> None:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return httpx.Response(200, json=[{"id": 7, "productId": "1", "variantId": "2", "quantity": 3}])

    client = Warehouse().client(http=httpx.MockTransport(answer))
    assert [row["id"] for row in client.key_set("stock")] == [7]
    assert seen == [{"PageSize": "250"}]


def test_no_credential_reaches_a_message_or_httpxs_log(warehouse: Warehouse, caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a webhook address with the connection's key, and httpx logging every request
    caplog.set_level(logging.INFO, logger="httpx")
    client = warehouse.client()
    client.post("webhook", {"name": 100, "url": "https://hooks.example/webhooks/peakwms/c-1/stock_adjust?key=s3cret"})
    client.get("webhook", {"key": "s3cret"})  # a careless caller puts a key in a query
    # THEN neither the API key nor the webhook key is in any log line
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "HTTP Request" in logged
    assert API_KEY not in logged and "s3cret" not in logged
    # AND scrub masks bearer tokens, key parameters and key fields
    assert scrub(f"Authorization: Bearer {API_KEY}") == "Authorization: Bearer ***"
    assert (
        scrub("https://x/webhooks/peakwms/c/stock_adjust?key=abc&y=1")
        == "https://x/webhooks/peakwms/c/stock_adjust?key=***&y=1"
    )
    assert scrub('{"apiKey": "abc"}') == '{"apiKey": "***"}'
