"""The Shopbox connector against the Shopbox simulator in process (reference/shopbox.md): login and the choice of
client, query-string auth with a new login on 401 (once, for every caller), the error taxonomy, paging, the
tolerant shapes, and no credential in any message."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from flow_fakes import FakeSecrets

from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.connectors.shopbox.login import LoginRefused, authenticate, my_clients
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.connectors.shopbox.shapes import Basket, ProductUpsert, VariantUpsert
from crossdock.connectors.shopbox.tokens import ShopboxTokens
from crossdock.connectors.shopbox.wire import scrub
from crossdock.errors import FailureClass, PermanentError, RateLimited, RetryableError
from crossdock_local.sims.base.transport import transport
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator

API = "https://api.shopbox.com/api/v3"
EMAIL = "kasse@cafe.dk"
PASSWORD = "kaffe-og-kage-2026"


@dataclass
class FakeLeases:
    """`ports.Leases` in a dict; counts claims so a test can see one refresh for many callers."""

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
class Till:
    sim: ShopboxSimulator
    client_uid: int
    branch: int
    register: int
    http: httpx.MockTransport
    secrets: FakeSecrets
    leases: FakeLeases

    def client(self, connection_id: str = "c-1", *, username: str | None = EMAIL) -> ShopboxClient:
        account = ShopboxAccount(api_base=API, client_uid=str(self.client_uid), username=username)
        tokens = ShopboxTokens(connection_id, account, self.secrets, self.leases, holder="me", transport=self.http)
        return ShopboxClient(account, tokens, transport=self.http)


@pytest.fixture
def till() -> Iterator[Till]:
    now = [1_733_490_000.0]
    sim = ShopboxSimulator(clock=lambda: now[0], seed=7, epoch=now[0])
    seeded = sim.seed_client(
        "Café Strøget", username=EMAIL, password=PASSWORD, branches={"Strøget": ["Kasse 1"]}, tags=["Kaffe"]
    )
    branch = seeded["branches"][0]
    secrets = FakeSecrets()
    secrets.put("c-1", SHOPBOX_PASSWORD, PASSWORD)
    yield Till(
        sim,
        int(seeded["uid"]),
        int(branch["uid"]),
        int(branch["cash_registers"][0]["uid"]),
        transport(sim),
        secrets,
        FakeLeases(),
    )


def test_a_login_gives_a_token_and_the_clients_it_may_act_for(till: Till) -> None:
    # GIVEN the merchant's e-mail and password WHEN they log in
    login = authenticate(API, EMAIL, PASSWORD, transport=till.http)
    # THEN a token, never shown by repr, lists the one client the login may act for
    assert login.access_token and login.access_token not in repr(login)
    choices = my_clients(API, login.access_token, transport=till.http)
    assert [(c.uid, c.name) for c in choices] == [(str(till.client_uid), "Café Strøget")]


def test_a_wrong_password_is_refused_clearly_and_without_the_password(till: Till) -> None:
    # GIVEN a wrong password WHEN the login is tried THEN LoginRefused (auth), naming neither password
    with pytest.raises(LoginRefused) as refused:
        authenticate(API, EMAIL, "not-it", transport=till.http)
    assert refused.value.failure_class is FailureClass.AUTH
    assert "not-it" not in str(refused.value) and PASSWORD not in str(refused.value)


def test_without_a_token_the_first_call_logs_in_and_stores_the_token(till: Till) -> None:
    # GIVEN a connection with only its password stored
    client = till.client()
    # WHEN its branches are read
    branches = client.branches()
    # THEN they are the client's, and the login token is stored for the next container
    assert [b.name for b in branches] == ["Strøget"]
    assert [r.uid for r in branches[0].cash_registers] == [str(till.register)]
    assert till.secrets.get("c-1", SHOPBOX_ACCESS_TOKEN)


def test_an_expired_token_is_replaced_once_for_every_caller(till: Till) -> None:
    # GIVEN two clients of one connection (two containers) that have used a token
    first, second = till.client(), till.client()
    first.tags()
    second.tags()
    old = till.secrets.get("c-1", SHOPBOX_ACCESS_TOKEN)
    logins_before = till.sim.calls_by_route[("POST", "/authenticate/credentials")]
    # WHEN the token expires and both call again
    till.sim.expire_login_tokens()
    first.tags()
    second.tags()
    # THEN one new login served both: the second found the token the first stored
    assert till.sim.calls_by_route[("POST", "/authenticate/credentials")] == logins_before + 1
    assert till.secrets.get("c-1", SHOPBOX_ACCESS_TOKEN) != old


def test_an_api_token_goes_in_the_query_and_a_401_with_it_is_permanent(till: Till) -> None:
    # GIVEN a connection with an API token and no login
    secrets = FakeSecrets()
    secrets.put("c-2", SHOPBOX_API_TOKEN, till.sim.add_api_token(till.client_uid))
    account = ShopboxAccount(api_base=API, client_uid=str(till.client_uid))
    tokens = ShopboxTokens("c-2", account, secrets, till.leases, holder="me", transport=till.http)
    client = ShopboxClient(account, tokens, transport=till.http)
    # WHEN it reads THEN it is served
    assert [b.name for b in client.branches()] == ["Strøget"]
    # WHEN the token is no longer Shopbox's THEN a permanent auth failure, without the token in it
    secrets.put("c-2", SHOPBOX_API_TOKEN, "revoked-token-123")
    stale = ShopboxClient(
        account,
        ShopboxTokens("c-2", account, secrets, till.leases, holder="x", transport=till.http),
        transport=till.http,
    )
    with pytest.raises(PermanentError) as refused:
        stale.branches()
    assert refused.value.failure_class is FailureClass.AUTH and "revoked-token-123" not in str(refused.value)


def test_a_login_that_lost_the_client_is_refused_with_403(till: Till) -> None:
    # GIVEN a working connection WHEN the login may no longer act for the client
    client = till.client()
    client.branches()
    till.sim.revoke(EMAIL, till.client_uid)
    # THEN calls fail as auth problems, not as retries
    with pytest.raises(PermanentError) as refused:
        client.branches()
    assert refused.value.failure_class is FailureClass.AUTH


def test_a_sale_reads_as_a_row_then_with_its_lines(till: Till) -> None:
    # GIVEN a product and a sale of two at the till
    product = till.sim.upsert_product(
        till.client_uid, {"uid": None, "name": "Krus", "selling_price": 7900, "sku_code": "MUG-1"}
    )
    sold = till.sim.sell(till.client_uid, till.branch, till.register, [{"product": product["uid"], "quantity": 2}])
    client = till.client()
    # WHEN the sales list and the sale are read
    rows = [row for page in client.basket_pages(per_page=10) for row in page]
    basket = client.basket(str(sold["uid"]))
    # THEN the row names the branch, the detail carries the lines in øre with the total
    assert [(r.uid, r.branch) for r in rows] == [(str(sold["uid"]), str(till.branch))]
    assert isinstance(basket, Basket) and basket.total == 15800
    assert [(line.sku_code, line.quantity, line.gross_total) for line in basket.lines] == [("MUG-1", 2, 15800)]
    # AND an unknown sale is None, not an error
    assert client.basket("999999999") is None


@pytest.mark.parametrize("key", ["sales", "products", "items", "lines", "basket_products"])
def test_the_lines_of_a_sale_are_read_under_any_key_shopbox_may_use(key: str) -> None:
    # GIVEN a basket detail whose lines come under `key` WHEN it is read THEN the lines are there
    basket = Basket.model_validate(
        {"uid": 1, "crdate": 1, "tstamp": 2, key: [{"product": 8, "quantity": 1, "selling_price": 100}]}
    )
    assert [(line.product, line.gross_total) for line in basket.lines] == [("8", 100)]


def test_products_page_and_upsert(till: Till) -> None:
    # GIVEN 130 products WHEN they are listed THEN every one arrives across pages
    for number in range(130):
        till.sim.upsert_product(
            till.client_uid, {"uid": None, "name": f"P{number}", "selling_price": 100, "sku_code": f"P-{number}"}
        )
    client = till.client()
    assert len({p.uid for p in client.products()}) == 130
    # WHEN one is created with a variant through create-or-update THEN it has uids for both
    made = client.upsert_product(
        ProductUpsert(
            name="Kaffe",
            selling_price=3500,
            sku_code="KAFFE",
            variants=[VariantUpsert(name="Stor", sku_code="KAFFE-L")],
        )
    )
    assert made.uid and [v.sku_code for v in made.product_variances] == ["KAFFE-L"]


def test_stock_is_set_per_branch(till: Till) -> None:
    # GIVEN a product WHEN its stock in the branch is set THEN the branch's rows show the quantity
    product = till.sim.upsert_product(
        till.client_uid, {"uid": None, "name": "Krus", "selling_price": 7900, "sku_code": "MUG-1"}
    )
    client = till.client()
    client.set_inventory(str(till.branch), str(product["uid"]), None, 12, "Crossdock")
    rows = client.inventories(str(till.branch))
    assert [(r.product, r.quantity) for r in rows] == [(str(product["uid"]), 12)]


def test_a_429_is_rate_limited_with_shopbox_retry_after(till: Till) -> None:
    # GIVEN a client over Shopbox's limit
    client = till.client()
    till.sim.faults.throttle_rate = 1.0
    # WHEN it calls THEN RateLimited with the seconds Shopbox named
    with pytest.raises(RateLimited) as throttled:
        client.tags()
    assert throttled.value.retry_after is not None and throttled.value.retry_after >= 1


def test_a_500_on_a_read_is_repeated_once_then_retryable(till: Till) -> None:
    # GIVEN Shopbox answering every call with 500
    client = till.client()
    client.tags()
    calls = client.calls
    till.sim.faults.server_error_rate = 1.0
    # WHEN a read is made THEN it was tried twice, then raised as retryable
    with pytest.raises(RetryableError):
        client.tags()
    assert client.calls == calls + 2


def test_credentials_are_scrubbed_from_text() -> None:
    # GIVEN a URL with every credential Shopbox takes WHEN it is scrubbed THEN none is left
    url = "https://api.shopbox.com/api/v3/tags?accessToken=abc123&client=4711&api-token=xyz&password=pw"
    assert scrub(url) == "https://api.shopbox.com/api/v3/tags?accessToken=***&client=4711&api-token=***&password=***"
