"""The Webshipper connector's client against the Webshipper simulator in process (reference/webshipper.md): the
password grant or a stored API token, a new grant on 401 (once, for every caller), 429/503 waited out per
Retry-After and then handed on, the error taxonomy with Webshipper's own 422 errors, fixed 30-row pages with and
without paging links, and no credential in any message. Orders, the catalogue and webhooks are in
test_webshipper_connector.py, which builds its clients with `Warehouse` from here."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import httpx
import pytest
from flow_fakes import FakeSecrets
from test_webshipper_sim import ACCOUNT, API, EMAIL, PASSWORD, Account, open_account

from crossdock import pacing
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.client import (
    WAIT_LIMIT_SECONDS,
    WAITS,
    WebshipperClient,
    WebshipperNotFound,
    WebshipperRejected,
)
from crossdock.connectors.webshipper.login import LoginRefused, authenticate
from crossdock.connectors.webshipper.secret_names import ACCESS_TOKEN, API_TOKEN
from crossdock.connectors.webshipper.secret_names import PASSWORD as PASSWORD_SECRET
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.connectors.webshipper.wire import scrub
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock_local.sims.base.transport import transport


@dataclass
class FakeLeases:
    """`ports.Leases` in a dict; counts claims so a test can see one renewal for many callers."""

    holders: dict[str, str] = field(default_factory=dict)
    claims: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        with self._lock:
            if name in self.holders:
                return False
            self.holders[name] = holder
            self.claims += 1
            return True

    def release(self, name: str, holder: str) -> None:
        with self._lock:
            if self.holders.get(name) == holder:
                del self.holders[name]


@dataclass
class Warehouse:
    """The simulator's account (seed 003's set-up) and a connection `c-1` holding the user's password."""

    sim: Account
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    leases: FakeLeases = field(default_factory=FakeLeases)

    def __post_init__(self) -> None:
        self.http = transport(self.sim.sim)
        self.secrets.put("c-1", PASSWORD_SECRET, PASSWORD)

    def client(self, connection_id: str = "c-1", *, username: str | None = EMAIL) -> WebshipperClient:
        account = WebshipperAccount(account=ACCOUNT, api_base=API, username=username)
        tokens = WebshipperTokens(connection_id, account, self.secrets, self.leases, holder="me", transport=self.http)
        return WebshipperClient(account, tokens, transport=self.http)

    def place_orders(self, count: int) -> None:
        """`count` orders RB-0… in Rackbeat's channel, placed in Webshipper itself (no rate limit on that)."""
        for number in range(count):
            self.sim.sim.place_order(ACCOUNT, self.sim.order_document(f"RB-{number}"))

    def grants(self) -> int:
        return int(self.sim.sim.calls_by_route[("POST", "/oauth/token")])


@pytest.fixture
def warehouse() -> Warehouse:
    return Warehouse(open_account())


@dataclass
class SimWaits:
    """`pacing.Clock` whose sleeps move the simulator's clock: a Retry-After waited out refills its bucket."""

    sim: Account
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return float(self.sim.clock.now)

    def monotonic(self) -> float:
        return float(self.sim.clock.now)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.sim.clock.advance(seconds)


# ---- auth ---------------------------------------------------------------------------------------------------------


def test_the_password_grant_gives_a_token_that_repr_never_shows(warehouse: Warehouse) -> None:
    # GIVEN the merchant's e-mail and password WHEN they log in THEN a token, hidden from repr
    grant = authenticate(API, EMAIL, PASSWORD, transport=warehouse.http)
    assert grant.access_token and grant.access_token not in repr(grant)
    assert grant.expires_in == 7200


def test_a_wrong_password_is_refused_without_naming_it(warehouse: Warehouse) -> None:
    # WHEN the password is wrong THEN LoginRefused (auth) with OAuth's reason and neither the password nor a URL
    with pytest.raises(LoginRefused) as refused:
        authenticate(API, EMAIL, "not-it", transport=warehouse.http)
    assert refused.value.failure_class is FailureClass.AUTH
    assert "invalid_grant" in str(refused.value)
    assert "not-it" not in str(refused.value) and "oauth/token" not in str(refused.value)


def test_the_first_call_makes_a_grant_and_stores_its_token(warehouse: Warehouse) -> None:
    # GIVEN a connection with only its password stored WHEN its order channels are read
    answer = warehouse.client().get("order_channels")
    # THEN they are the account's, and the token is stored for the next container
    assert [row["attributes"]["channel_label"] for row in answer["data"]] == ["Rackbeat", "Webshop"]
    assert warehouse.secrets.get("c-1", ACCESS_TOKEN) and warehouse.grants() == 1


def test_an_expired_token_is_renewed_once_for_every_caller(warehouse: Warehouse) -> None:
    # GIVEN two clients of one connection (two containers) that have used a token
    first, second = warehouse.client(), warehouse.client()
    first.get("orders")
    second.get("orders")
    old = warehouse.secrets.get("c-1", ACCESS_TOKEN)
    # WHEN two hours pass (the grant's lifetime) and both call again
    warehouse.sim.clock.advance(7200)
    first.get("orders")
    second.get("orders")
    # THEN one new grant served both: the second found the token the first stored
    assert warehouse.grants() == 2 and warehouse.leases.claims == 2
    assert warehouse.secrets.get("c-1", ACCESS_TOKEN) != old


def test_a_stored_api_token_is_used_as_it_is_and_a_401_with_it_is_permanent(warehouse: Warehouse) -> None:
    # GIVEN a connection with an API token and no password
    secrets = FakeSecrets()
    secrets.put("c-2", API_TOKEN, warehouse.sim.sim.add_api_token(ACCOUNT))
    account = WebshipperAccount(account=ACCOUNT, api_base=API)
    tokens = WebshipperTokens("c-2", account, secrets, warehouse.leases, holder="me", transport=warehouse.http)
    client = WebshipperClient(account, tokens, transport=warehouse.http)
    # WHEN it reads THEN no grant is made
    assert client.get("orders")["data"] == []
    assert warehouse.grants() == 0
    # AND WHEN the token is revoked THEN the next call is a permanent auth failure naming the remedy
    token_id = client.get("oauth_access_tokens")["data"][0]["id"]
    client.delete(f"oauth_access_tokens/{token_id}")
    with pytest.raises(PermanentError) as refused:
        client.get("orders")
    assert refused.value.failure_class is FailureClass.AUTH and "new one" in str(refused.value)


def test_a_deleted_user_is_a_permanent_auth_failure_after_one_attempt_to_log_in_again(warehouse: Warehouse) -> None:
    # GIVEN a working connection WHEN its Webshipper user is deleted (seed 003: that breaks the link)
    client = warehouse.client()
    client.get("orders")
    warehouse.sim.sim.delete_user(ACCOUNT, EMAIL)
    # THEN the call fails permanently (auth), saying the merchant must reconnect, without the e-mail's password
    with pytest.raises(PermanentError) as refused:
        client.get("orders")
    assert refused.value.failure_class is FailureClass.AUTH and "reconnect" in str(refused.value)
    assert PASSWORD not in str(refused.value) and warehouse.grants() == 2


def test_a_connection_without_credentials_says_so(warehouse: Warehouse) -> None:
    with pytest.raises(PermanentError, match="no Webshipper credentials"):
        warehouse.client("c-unknown").get("orders")


# ---- rate and outages ---------------------------------------------------------------------------------------------


def test_a_throttled_call_waits_out_retry_after_and_goes_on(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an account whose bucket holds one call a second and no burst
    waits = SimWaits(warehouse.sim)
    monkeypatch.setattr(pacing, "clock", waits)
    warehouse.sim.sim.rules.burst, warehouse.sim.sim.rules.requests_per_second = 1, 1.0
    # WHEN a new connection calls: the grant takes the one call, the read comes at once after it
    answer = warehouse.client().get("order_channels")
    # THEN Webshipper's 429 was waited out for the second it named, and the caller saw no failure
    assert len(answer["data"]) == 2 and waits.sleeps == [1.0]


def test_an_outage_is_waited_out_a_few_times_then_handed_to_the_callers_backoff(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Webshipper answering 503 for a minute
    waits = SimWaits(warehouse.sim)
    monkeypatch.setattr(pacing, "clock", waits)
    client = warehouse.client()
    client.get("orders")
    warehouse.sim.sim.faults.outage_until = warehouse.sim.clock.now + 60
    # WHEN a call is made THEN it waited a few short times, then raised a retryable failure
    with pytest.raises(RetryableError) as down:
        client.get("orders")
    assert down.value.failure_class is FailureClass.TARGET_DOWN and "503" in str(down.value)
    assert len(waits.sleeps) == WAITS and all(s <= WAIT_LIMIT_SECONDS for s in waits.sleeps)


def test_a_long_retry_after_is_not_waited_here(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN Webshipper asking for a wait longer than the client's limit
    waits = SimWaits(warehouse.sim)
    monkeypatch.setattr(pacing, "clock", waits)
    answers = iter([httpx.Response(429, headers={"Retry-After": "30"}, json={"errors": []})])
    client = WebshipperClient(
        WebshipperAccount(account=ACCOUNT, api_base=API),
        WebshipperTokens("c-3", WebshipperAccount(account=ACCOUNT, api_base=API), _api_token("t"), FakeLeases(),
                         holder="me"),
        transport=httpx.MockTransport(lambda request: next(answers)),
    )  # fmt: skip
    # WHEN it calls THEN RateLimited carries the hint for the caller's backoff, and nothing was slept here
    with pytest.raises(RateLimited) as throttled:
        client.get("orders")
    assert throttled.value.retry_after == 30.0 and waits.sleeps == []


def _api_token(value: str) -> FakeSecrets:
    secrets = FakeSecrets()
    secrets.put("c-3", API_TOKEN, value)
    return secrets


# ---- errors -------------------------------------------------------------------------------------------------------


def test_a_422_carries_webshippers_errors_and_names_the_field(warehouse: Warehouse) -> None:
    # GIVEN an order whose line has no quantity WHEN it is posted
    document = warehouse.sim.order_document()
    document["data"]["attributes"]["order_lines"][0].pop("quantity")
    with pytest.raises(WebshipperRejected) as rejected:
        warehouse.client().post("orders", document)
    # THEN the refusal is permanent (validation), names the field, and keeps Webshipper's raw errors
    assert rejected.value.failure_class is FailureClass.VALIDATION
    assert "order_lines.0.quantity" in str(rejected.value)
    assert rejected.value.errors[0]["source"]["pointer"] == "/data/attributes/order_lines/0/quantity"
    assert rejected.value.about("quantity") and not rejected.value.about("ext_ref")


def test_an_unknown_resource_is_not_found(warehouse: Warehouse) -> None:
    with pytest.raises(WebshipperNotFound, match="orders/999"):
        warehouse.client().get("orders/999")


def test_a_lost_answer_to_a_write_is_retryable_and_names_no_credential(warehouse: Warehouse) -> None:
    # GIVEN a simulator that commits writes and then loses their answer
    client = warehouse.client()
    client.get("orders")
    warehouse.sim.sim.faults.drop_response_rate = 1.0
    # WHEN an order is posted THEN a retryable failure ("maybe committed"), and the order does exist
    with pytest.raises(RetryableError) as lost:
        client.post("orders", warehouse.sim.order_document())
    assert "POST orders" in str(lost.value) and lost.value.__cause__ is None
    assert len(warehouse.sim.sim.orders(ACCOUNT)) == 1


def test_credentials_are_scrubbed_from_text_and_from_httpx_log_lines(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the grant's URL and a bearer header in some text
    text = f"POST {API}oauth/token?grant_type=password&username={EMAIL}&password={PASSWORD} Bearer abc.DEF-123"
    # THEN scrubbing leaves no e-mail, password or token
    scrubbed = scrub(text)
    assert EMAIL not in scrubbed and PASSWORD not in scrubbed and "abc.DEF-123" not in scrubbed
    assert scrub('{"access_token": "xyz"}') == '{"access_token": "***"}'
    # AND WHEN a client logs in and calls, httpx's own log lines carry no credential either
    with caplog.at_level(logging.INFO, logger="httpx"):
        warehouse.client().get("orders")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "oauth/token" in logged and PASSWORD not in logged and EMAIL not in logged


# ---- pages --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("paging_links", [True, False])
def test_pages_read_every_30_row_page_with_or_without_paging_links(warehouse: Warehouse, paging_links: bool) -> None:
    # GIVEN 61 orders (three pages: 30, 30, 1) and the simulator showing paging links or not (a guess)
    warehouse.place_orders(61)
    warehouse.sim.sim.rules.paging_links = paging_links
    client = warehouse.client()
    before = warehouse.sim.sim.calls_by_route[("GET", "/orders")]
    # WHEN every order is listed
    refs = [row["attributes"]["ext_ref"] for row in client.pages("orders")]
    # THEN all 61 come once, in order, from exactly three page reads
    assert refs == [f"RB-{number}" for number in range(61)]
    assert warehouse.sim.sim.calls_by_route[("GET", "/orders")] - before == 3


def test_a_full_last_page_ends_the_list_by_its_links_or_by_the_empty_page_after_it(warehouse: Warehouse) -> None:
    # GIVEN exactly 30 orders and no paging links WHEN they are listed THEN one more (empty) page ends the list
    warehouse.place_orders(30)
    client = warehouse.client()
    warehouse.sim.sim.rules.paging_links = False
    before = warehouse.sim.sim.calls_by_route[("GET", "/orders")]
    assert len(list(client.pages("orders"))) == 30
    assert warehouse.sim.sim.calls_by_route[("GET", "/orders")] - before == 2
    # AND with paging links the missing `next` ends it at once
    warehouse.sim.sim.rules.paging_links = True
    before = warehouse.sim.sim.calls_by_route[("GET", "/orders")]
    assert len(list(client.pages("orders"))) == 30
    assert warehouse.sim.sim.calls_by_route[("GET", "/orders")] - before == 1
