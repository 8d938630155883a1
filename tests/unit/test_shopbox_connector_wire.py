"""The Shopbox client against `httpx.MockTransport` answering as reference/shopbox.md and the issue-14 contract say:
the query-string credential, a new login on 401 (one for every caller, across containers), the error taxonomy,
paging, unwrapping, and no credential in any message, exception chain or log line."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from flow_fakes import FakeSecrets

from crossdock import pacing
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.connectors.shopbox.login import LoginRefused, authenticate, my_clients
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.connectors.shopbox.shapes import ProductUpsert
from crossdock.connectors.shopbox.tokens import ShopboxTokens
from crossdock.errors import CrossdockError, FailureClass, PermanentError, RateLimited, RetryableError
from crossdock.login_tokens import LEASE_SECONDS, WAIT_LIMIT

API = "https://api.shopbox.com/api/v3"
CLIENT = "4711"
EMAIL = "kasse@cafe.dk"
PASSWORD = "kaffe-og-kage-2026"
OLD = "old-token-0c9f"
NEW = "new-token-77ab"
API_TOKEN = "api-token-5e1d"

Handler = Callable[[httpx.Request], httpx.Response]


def error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"name": "E", "message": message, "code": 0, "status": status}})


@dataclass
class FakeShopbox:
    """Shopbox as the fact sheet describes it: login tokens it accepts, an account, and per-path answers a test
    sets; every request is kept so a test can read what was sent."""

    valid: set[str] = field(default_factory=lambda: {NEW, API_TOKEN})
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    logins: int = 0
    before_login: Callable[[], object] = lambda: None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        path = request.url.path.removeprefix("/api/v3/")
        if path == "authenticate/credentials":
            return self._login(request)
        token = request.url.params.get("accessToken") or request.url.params.get("api-token")
        if token not in self.valid:
            return error(401, "Unauthorized")
        return self.routes[(request.method, path)](request)

    def _login(self, request: httpx.Request) -> httpx.Response:
        self.before_login()
        with self._lock:
            self.logins += 1
        body = json.loads(request.content)
        if body != {"username": EMAIL, "password": PASSWORD, "remember_me": None}:
            return error(401, "Wrong username or password")
        return httpx.Response(
            201, json={"accessToken": NEW, "account": {"uid": 9, "username": EMAIL}, "crdate": 1, "tstamp": 1}
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


@dataclass
class RecordingLeases:
    holders: dict[str, str] = field(default_factory=dict)
    refused: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        with self._lock:
            if self.holders.get(name, holder) != holder:
                self.refused.set()
                return False
            self.holders[name] = holder
            return True

    def release(self, name: str, holder: str) -> None:
        with self._lock:
            if self.holders.get(name) == holder:
                del self.holders[name]


@dataclass
class RecordingPacer:
    turns: int = 0
    back_offs: list[float] = field(default_factory=list)

    def wait_turn(self) -> None:
        self.turns += 1

    def back_off(self, seconds: float) -> None:
        self.back_offs.append(seconds)


@pytest.fixture
def shopbox() -> FakeShopbox:
    return FakeShopbox()


@pytest.fixture
def secrets() -> FakeSecrets:
    store = FakeSecrets()
    store.put("c-1", SHOPBOX_PASSWORD, PASSWORD)
    store.put("c-1", SHOPBOX_ACCESS_TOKEN, OLD)
    return store


def client_for(
    shopbox: FakeShopbox,
    secrets: FakeSecrets,
    *,
    leases: RecordingLeases | None = None,
    holder: str = "container-a",
    pacer: RecordingPacer | None = None,
    username: str | None = EMAIL,
) -> ShopboxClient:
    account = ShopboxAccount(api_base=API, client_uid=CLIENT, username=username)
    http = shopbox.transport()
    tokens = ShopboxTokens("c-1", account, secrets, leases or RecordingLeases(), holder=holder, transport=http)
    return ShopboxClient(account, tokens, pacer=pacer, transport=http)


def page(rows: list[Any], current: int | None = None, total_pages: int | None = None) -> httpx.Response:
    body: dict[str, Any] = {"data": rows}
    if current is not None:
        body["meta"] = {
            "pagination": {"total": 0, "per_page": len(rows), "current_page": current, "total_pages": total_pages}
        }
    return httpx.Response(200, json=body)


# ---- login and the choice of client ---------------------------------------------------------------------------------


def test_a_login_posts_the_credentials_and_returns_the_token_hidden_from_repr(shopbox: FakeShopbox) -> None:
    # GIVEN Shopbox that knows the e-mail and password
    # WHEN the install logs in
    login = authenticate(API, EMAIL, PASSWORD, transport=shopbox.transport())
    # THEN the login carries the token, the account and the e-mail, asked for in Danish, and its repr hides the token
    assert (login.access_token, login.account_uid, login.username) == (NEW, "9", EMAIL)
    assert shopbox.requests[0].url.params["lang"] == "da"
    assert NEW not in repr(login)


def test_a_wrong_password_is_refused_clearly_without_the_password_and_nothing_is_stored(
    shopbox: FakeShopbox,
) -> None:
    # GIVEN a connection whose stored password Shopbox no longer accepts, and no token yet
    secrets = FakeSecrets()
    secrets.put("c-1", SHOPBOX_PASSWORD, "not-the-password")
    # WHEN the install logs in with it, and when a call needs a token
    with pytest.raises(LoginRefused) as refused:
        authenticate(API, EMAIL, "not-the-password", transport=shopbox.transport())
    with pytest.raises(PermanentError) as on_call:
        client_for(shopbox, secrets).branches()
    # THEN both are AUTH failures that say what Shopbox said and never show the password; no token is stored
    assert refused.value.failure_class is FailureClass.AUTH
    assert "Wrong username or password" in str(refused.value)
    assert on_call.value.failure_class is FailureClass.AUTH
    for message in (str(refused.value), str(on_call.value)):
        assert "not-the-password" not in message
    assert secrets.get("c-1", SHOPBOX_ACCESS_TOKEN) is None


def test_the_clients_a_login_may_act_for_are_read_from_every_page(shopbox: FakeShopbox) -> None:
    # GIVEN a login that may act for three companies, listed two to a page, uids as numbers and as a string
    companies = [
        {"client": 1, "client0": {"uid": 1, "name": "Café"}},
        {"client": 2, "client0": {"uid": 2, "name": "Bar"}},
    ]
    answers = iter([page(companies, 1, 2), page([{"client": "3", "client0": {"uid": "3", "name": "Kro"}}], 2, 2)])
    shopbox.routes[("GET", "clients/myclients")] = lambda request: next(answers)
    # WHEN the install lists them with an API token
    found = my_clients(API, API_TOKEN, api_token=True, transport=shopbox.transport())
    # THEN every company is there with its uid as text, and the token went as `api-token`
    assert [(choice.uid, choice.name) for choice in found] == [("1", "Café"), ("2", "Bar"), ("3", "Kro")]
    assert [request.url.params["page"] for request in shopbox.requests] == ["1", "2"]
    assert all(request.url.params["api-token"] == API_TOKEN for request in shopbox.requests)


# ---- query-string auth and the new login on 401 ---------------------------------------------------------------------


def test_every_call_carries_token_and_client_in_the_query_and_no_authorization_header(
    shopbox: FakeShopbox, secrets: FakeSecrets
) -> None:
    # GIVEN a connection with a token Shopbox accepts
    secrets.put("c-1", SHOPBOX_ACCESS_TOKEN, NEW)
    shopbox.routes[("GET", "tags")] = lambda request: page([{"id": 12, "name": "Kaffe"}])
    # WHEN the tags are read
    tags = client_for(shopbox, secrets).tags()
    # THEN the request named token and client in its query, had no Authorization header, and the ids are text
    sent = shopbox.requests[0]
    assert (sent.url.params["accessToken"], sent.url.params["client"]) == (NEW, CLIENT)
    assert "authorization" not in sent.headers
    assert [(tag.id, tag.name) for tag in tags] == [("12", "Kaffe")]


def test_an_expired_token_is_replaced_by_one_login_and_the_call_repeated(
    shopbox: FakeShopbox, secrets: FakeSecrets
) -> None:
    # GIVEN a stored token Shopbox no longer accepts
    shopbox.routes[("GET", "tags")] = lambda request: page([])
    # WHEN a call is made
    client_for(shopbox, secrets).tags()
    # THEN it was refused once, one login followed, the new token was stored and the call repeated with it
    assert shopbox.logins == 1
    assert secrets.get("c-1", SHOPBOX_ACCESS_TOKEN) == NEW
    assert [r.url.params.get("accessToken") for r in shopbox.requests if "tags" in r.url.path] == [OLD, NEW]


def test_two_containers_meeting_the_401_together_log_in_once(shopbox: FakeShopbox, secrets: FakeSecrets) -> None:
    # GIVEN two containers with the same expired token, sharing the table's secrets and leases; the login answers
    # only once the second container has found the lease taken, so both meet the 401 while the login is under way
    leases = RecordingLeases()
    shopbox.before_login = lambda: leases.refused.wait(timeout=10)
    shopbox.routes[("GET", "tags")] = lambda request: page([])
    clients = [client_for(shopbox, secrets, leases=leases, holder=name) for name in ("container-a", "container-b")]
    failures: list[BaseException] = []

    def call(client: ShopboxClient) -> None:
        try:
            client.tags()
        except BaseException as failed:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(failed)

    # WHEN both call at once
    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # THEN there was one login, and both calls were repeated with the new token
    assert failures == []
    assert leases.refused.is_set()
    assert shopbox.logins == 1
    assert [r.url.params.get("accessToken") for r in shopbox.requests if "tags" in r.url.path].count(NEW) == 2


def test_a_401_with_an_api_token_is_permanent_and_never_logs_in(shopbox: FakeShopbox) -> None:
    # GIVEN a connection with an API token Shopbox has withdrawn
    secrets = FakeSecrets()
    secrets.put("c-1", SHOPBOX_API_TOKEN, "withdrawn-token")
    # WHEN a call is made
    with pytest.raises(PermanentError) as refused:
        client_for(shopbox, secrets, username=None).branches()
    # THEN it is AUTH for the merchant to fix, no login was tried, and the token is not in the message
    assert refused.value.failure_class is FailureClass.AUTH
    assert shopbox.logins == 0
    assert shopbox.requests[0].url.params["api-token"] == "withdrawn-token"
    assert "withdrawn-token" not in str(refused.value)


# ---- the error taxonomy ---------------------------------------------------------------------------------------------


@pytest.fixture
def accepted(secrets: FakeSecrets) -> FakeSecrets:
    secrets.put("c-1", SHOPBOX_ACCESS_TOKEN, NEW)
    return secrets


def test_a_403_is_an_auth_failure_naming_the_client(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN a login that may no longer act for the connection's client
    shopbox.routes[("GET", "branches")] = lambda request: error(403, "No access to this client")
    # WHEN the branches are read
    with pytest.raises(PermanentError) as refused:
        client_for(shopbox, accepted).branches()
    # THEN it is AUTH, with Shopbox's reason and the client; no new login is tried for a 403
    assert refused.value.failure_class is FailureClass.AUTH
    assert CLIENT in str(refused.value) and "No access to this client" in str(refused.value)
    assert shopbox.logins == 0


def test_a_404_on_a_single_read_is_none(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN Shopbox that knows no product, basket or register 5
    for path in ("products/5", "baskets/5", "cash-registers/5"):
        shopbox.routes[("GET", path)] = lambda request: error(404, "Not found")
    client = client_for(shopbox, accepted)
    # WHEN each is read  THEN each is None
    assert (client.product("5"), client.basket("5"), client.cash_register("5")) == (None, None, None)


def test_a_404_on_a_write_is_refused_not_taken_for_success(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN an update of a product Shopbox no longer has
    shopbox.routes[("POST", "products/create-or-update")] = lambda request: error(404, "Product not found")
    # WHEN it is upserted by its uid  THEN it is a VALIDATION failure with Shopbox's reason (not None, not a retry)
    with pytest.raises(PermanentError) as refused:
        client_for(shopbox, accepted).upsert_product(ProductUpsert(uid="812", name="Krus", selling_price=7900))
    assert refused.value.failure_class is FailureClass.VALIDATION and "Product not found" in str(refused.value)
    assert json.loads(shopbox.requests[0].content)["uid"] == 812


def test_a_429_is_rate_limited_with_the_seconds_of_retry_after_and_holds_the_pacer_back(
    shopbox: FakeShopbox, accepted: FakeSecrets
) -> None:
    # GIVEN Shopbox throttling with Retry-After: 7
    shopbox.routes[("GET", "tags")] = lambda request: httpx.Response(429, headers={"Retry-After": "7"}, json={})
    pacer = RecordingPacer()
    # WHEN the tags are read
    with pytest.raises(RateLimited) as throttled:
        client_for(shopbox, accepted, pacer=pacer).tags()
    # THEN the error carries 7 seconds, the pacer holds every caller back as long, and the call was not repeated
    assert throttled.value.retry_after == 7.0
    assert pacer.back_offs == [7.0]
    assert len(shopbox.requests) == 1


def test_a_500_on_a_read_is_repeated_once_then_retryable(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN page 1 of the baskets answering 500 once, then rows [seen S3]
    answers = iter([error(500, "Server Error"), page([{"uid": 1, "crdate": 5, "tstamp": 5}], 1, 1)])
    shopbox.routes[("GET", "baskets")] = lambda request: next(answers)
    client = client_for(shopbox, accepted)
    # WHEN the first page is read  THEN the second attempt's rows arrive
    assert [row.uid for row in next(client.basket_pages())] == ["1"]
    # AND GIVEN a read that answers 500 every time  WHEN it is read  THEN two attempts, then RetryableError
    shopbox.routes[("GET", "tags")] = lambda request: error(503, "down")
    shopbox.requests.clear()
    with pytest.raises(RetryableError) as failed:
        client.tags()
    assert failed.value.failure_class is FailureClass.TARGET_DOWN
    assert len(shopbox.requests) == 2


def test_a_write_that_answers_500_is_not_repeated(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN a stock write Shopbox answers with 500 (it may have committed)
    shopbox.routes[("POST", "product-inventories")] = lambda request: error(500, "Server Error")
    # WHEN the stock is set  THEN it is retryable for the workflow, sent once only
    with pytest.raises(RetryableError):
        client_for(shopbox, accepted).set_inventory("55", "812", None, 3, "Rackbeat")
    assert len(shopbox.requests) == 1
    assert json.loads(shopbox.requests[0].content) == {
        "branch": 55,
        "product": 812,
        "product_variance": None,
        "quantity": 3,
        "note": "Rackbeat",
    }


@pytest.mark.parametrize(
    "answer",
    [
        {"error": {"name": "ValidationError", "message": "name is required", "code": 0, "status": 422}},
        {"message": "name is required"},
        {"error": "name is required"},
    ],
    ids=["error-object", "message", "error-text"],
)
def test_each_error_shape_gives_shopbox_message(
    shopbox: FakeShopbox, accepted: FakeSecrets, answer: dict[str, Any]
) -> None:
    # GIVEN Shopbox refusing an upsert in one of its three error shapes [seen S1]
    shopbox.routes[("POST", "products/create-or-update")] = lambda request: httpx.Response(422, json=answer)
    # WHEN a product is upserted
    with pytest.raises(PermanentError) as refused:
        client_for(shopbox, accepted).upsert_product(ProductUpsert(name="", selling_price=100))
    # THEN the error is VALIDATION with Shopbox's own message and the status
    assert refused.value.failure_class is FailureClass.VALIDATION
    assert "name is required" in str(refused.value) and "422" in str(refused.value)


# ---- paging and unwrapping ------------------------------------------------------------------------------------------


def test_a_list_follows_current_page_to_total_pages_sending_both_page_size_names(
    shopbox: FakeShopbox, accepted: FakeSecrets
) -> None:
    # GIVEN 3 pages of products, the last one as full as the others
    pages = {str(n): page([{"uid": n * 10 + i, "name": f"P{n}{i}"} for i in range(2)], n, 3) for n in (1, 2, 3)}
    shopbox.routes[("GET", "products")] = lambda request: pages[request.url.params["page"]]
    # WHEN every product is read
    products = list(client_for(shopbox, accepted).products())
    # THEN all six arrive from pages 1, 2, 3 and no fourth is asked for
    assert [p.uid for p in products] == ["10", "11", "20", "21", "30", "31"]
    assert [r.url.params["page"] for r in shopbox.requests] == ["1", "2", "3"]
    assert all(r.url.params["per-page"] == r.url.params["num_per_page"] == "100" for r in shopbox.requests)


def test_without_pagination_a_short_page_is_the_last(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN stock rows with no `meta`: a full page of 100, then 1
    full = [{"product": n, "quantity": 1} for n in range(100)]
    pages = {"1": page(full), "2": page([{"product": "x", "product_variance": 8, "quantity": -2}])}
    shopbox.routes[("GET", "product-inventories")] = lambda request: pages[request.url.params["page"]]
    # WHEN a branch's stock is read
    rows = client_for(shopbox, accepted).inventories("55")
    # THEN both pages are read and no third; the branch went in the query
    assert len(rows) == 101 and (rows[-1].product_variance, rows[-1].quantity) == ("8", -2)
    assert [r.url.params["page"] for r in shopbox.requests] == ["1", "2"]
    assert shopbox.requests[0].url.params["branch"] == "55"


def test_per_page_minus_one_is_one_page_and_the_baskets_are_read_lazily(
    shopbox: FakeShopbox, accepted: FakeSecrets
) -> None:
    # GIVEN baskets: everything in one answer when asked for per-page=-1; page after page otherwise
    rows = [{"uid": n, "crdate": n, "tstamp": n, "canceled": n == 2} for n in (3, 2, 1)]

    def baskets(request: httpx.Request) -> httpx.Response:
        if request.url.params["per-page"] == "-1":
            return page(rows)
        number = int(request.url.params["page"])
        return page(rows[number - 1 : number], number, 3)

    shopbox.routes[("GET", "baskets")] = baskets
    client = client_for(shopbox, accepted)
    # WHEN every basket is asked for at once
    everything = list(client.basket_pages(per_page=-1))
    # THEN it is one page of three, with one request
    assert [[row.uid for row in rows_] for rows_ in everything] == [["3", "2", "1"]]
    assert everything[0][1].canceled is True
    # AND WHEN the poller reads one page at a time and stops after the first  THEN only page 1 was asked for
    shopbox.requests.clear()
    first = next(client.basket_pages(per_page=1))
    assert [row.uid for row in first] == ["3"]
    assert [r.url.params["page"] for r in shopbox.requests] == ["1"]


@pytest.mark.parametrize("wrapped", [True, False], ids=["data", "bare"])
def test_a_single_object_is_read_bare_or_under_data(shopbox: FakeShopbox, accepted: FakeSecrets, wrapped: bool) -> None:
    # GIVEN a product Shopbox sends bare or under `data` [seen S1, S3]
    product = {"uid": 812, "name": "Mug", "selling_price": 7900, "product_variances": [{"uid": 9, "name": "Blå"}]}
    shopbox.routes[("GET", "products/812")] = lambda request: httpx.Response(
        200, json={"data": product} if wrapped else product
    )
    # WHEN it is read  THEN it is the product either way, uids as text, price in øre
    found = client_for(shopbox, accepted).product("812")
    assert found is not None
    assert (found.uid, found.selling_price, found.product_variances[0].uid) == ("812", 7900, "9")


@pytest.mark.parametrize("key", ["sales", "products", "items", "lines", "basket_products"])
def test_the_lines_of_a_basket_are_read_under_each_candidate_key(
    shopbox: FakeShopbox, accepted: FakeSecrets, key: str
) -> None:
    # GIVEN a basket whose detail carries its lines under `key` [guess: S3 probes these]
    detail = {
        "uid": 991,
        "crdate": 1,
        "tstamp": 2,
        "canceled": False,
        "branch": 55,
        "total": 7900,
        key: [
            {"uid": 1, "product": 812, "product_variance": None, "quantity": 1, "selling_price": 7900, "discount": 0}
        ],
    }
    shopbox.routes[("GET", "baskets/991")] = lambda request: httpx.Response(200, json={"data": detail})
    # WHEN the basket is read  THEN its one line is there, product uid as text
    basket = client_for(shopbox, accepted).basket("991")
    assert basket is not None
    assert [(line.product, line.quantity, line.selling_price) for line in basket.lines] == [("812", 1, 7900)]


def test_an_answer_in_an_unknown_shape_is_refused_naming_the_field_not_quoting_it(
    shopbox: FakeShopbox, accepted: FakeSecrets
) -> None:
    # GIVEN a basket whose second line's quantity is text, and a list row without uid
    lines = [
        {"product": 8, "quantity": 1, "selling_price": 100},
        {"product": 9, "quantity": "zwei", "selling_price": 1},
    ]
    shopbox.routes[("GET", "baskets/991")] = lambda request: httpx.Response(
        200, json={"data": {"uid": 991, "crdate": 1, "tstamp": 1, "items": lines}}
    )
    shopbox.routes[("GET", "baskets")] = lambda request: page([{"crdate": 1, "tstamp": 1}], 1, 1)
    client = client_for(shopbox, accepted)
    # WHEN each is read  THEN each is a VALIDATION failure naming the field, without the value Shopbox sent
    with pytest.raises(PermanentError) as detail:
        client.basket("991")
    assert detail.value.failure_class is FailureClass.VALIDATION
    assert "Basket" in str(detail.value) and "lines[1].quantity" in str(detail.value)
    assert "zwei" not in str(detail.value)
    with pytest.raises(PermanentError, match=r"BasketRow that is not as expected: uid: Field required"):
        next(client.basket_pages())


# ---- no credential anywhere -----------------------------------------------------------------------------------------


def _everything_said(error: BaseException) -> str:
    """The error as a log handler with `exc_info` would print it: the whole chain, causes and contexts."""
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError, httpx.ReadTimeout],
    ids=["connection-lost", "timed-out"],
)
def test_a_transport_failure_names_no_credential_in_its_whole_chain(
    shopbox: FakeShopbox, accepted: FakeSecrets, failure: type[httpx.TransportError]
) -> None:
    # GIVEN a network failure whose own message quotes the request URL (query string and all)
    def broken(request: httpx.Request) -> httpx.Response:
        raise failure(f"failed on {request.url}", request=request)

    shopbox.routes[("GET", "tags")] = broken
    # WHEN the tags are read
    with pytest.raises(RetryableError) as lost:
        client_for(shopbox, accepted).tags()
    # THEN it is retryable, and neither the message nor the printed chain shows the token
    assert NEW not in _everything_said(lost.value)
    assert "accessToken=" not in str(lost.value) or "accessToken=***" in str(lost.value)


def test_a_message_shopbox_echoes_with_the_url_is_scrubbed(shopbox: FakeShopbox, accepted: FakeSecrets) -> None:
    # GIVEN Shopbox refusing a call with a message that repeats the URL it was called on
    shopbox.routes[("GET", "tags")] = lambda request: error(400, f"Bad request: {request.url}")
    # WHEN the tags are read
    with pytest.raises(CrossdockError) as refused:
        client_for(shopbox, accepted).tags()
    # THEN the message keeps Shopbox's words with the token replaced
    assert NEW not in _everything_said(refused.value)
    assert "accessToken=***" in str(refused.value)


def test_httpx_request_log_lines_carry_no_credential(
    shopbox: FakeShopbox, accepted: FakeSecrets, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the function's logs at INFO, where httpx writes each request's URL
    shopbox.routes[("GET", "tags")] = lambda request: page([])
    caplog.set_level(logging.INFO)
    # WHEN a call is made (the expired token is also replaced, so the login's log line is there too)
    accepted.put("c-1", SHOPBOX_ACCESS_TOKEN, OLD)
    client_for(shopbox, accepted).tags()
    # THEN httpx logged the requests, with the client but without either token
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name == "httpx")
    assert "client=4711" in logged
    assert OLD not in logged and NEW not in logged and "accessToken=***" in logged


def test_the_credential_is_not_in_the_tokens_repr(accepted: FakeSecrets, shopbox: FakeShopbox) -> None:
    # GIVEN a connection's tokens  WHEN their current credential is printed  THEN its value is not
    account = ShopboxAccount(api_base=API, client_uid=CLIENT, username=EMAIL)
    credential = ShopboxTokens("c-1", account, accepted, RecordingLeases(), holder="a").current()
    assert credential.value == NEW and NEW not in repr(credential)


class SteppedClock:
    """`pacing.clock` whose time moves only when a caller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return 1_733_490_000.0 + self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def test_a_login_held_elsewhere_too_long_is_retryable_later_without_a_second_login(
    shopbox: FakeShopbox, secrets: FakeSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an expired token, and another container holding the login lease that never stores a new token
    clock = SteppedClock()
    monkeypatch.setattr(pacing, "clock", clock)
    leases = RecordingLeases(holders={"shopbox-token#c-1": "container-stuck"})
    shopbox.routes[("GET", "tags")] = lambda request: page([])
    # WHEN a call meets the 401
    with pytest.raises(RetryableError) as waiting:
        client_for(shopbox, secrets, leases=leases).tags()
    # THEN after the wait limit it is retryable (auth) after the lease's length, and this container never logged in
    assert waiting.value.failure_class is FailureClass.AUTH
    assert waiting.value.retry_after == LEASE_SECONDS
    assert shopbox.logins == 0
    assert WAIT_LIMIT <= clock.now < WAIT_LIMIT + 1


@dataclass
class StoppedClock:
    """`pacing.Clock` that only moves when slept on, and keeps the sleeps."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_short_retry_after_is_waited_out_once_then_the_call_goes_on(
    shopbox: FakeShopbox, accepted: FakeSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Shopbox throttling the first read of the tags with Retry-After: 1, then answering
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}, json={}), httpx.Response(200, json={"data": []})])
    shopbox.routes[("GET", "tags")] = lambda request: next(answers)
    clock = StoppedClock()
    monkeypatch.setattr(pacing, "clock", clock)
    # WHEN the tags are read
    tags = client_for(shopbox, accepted).tags()
    # THEN the client waited the second Shopbox named and asked again, and the caller saw no failure
    assert tags == [] and clock.sleeps == [1.0] and len(shopbox.requests) == 2
