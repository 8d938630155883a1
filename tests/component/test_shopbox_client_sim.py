"""The Shopbox connector against the Shopbox simulator in process (its httpx transport, as the Rackbeat client's
component tests reach theirs): every alternative the simulator offers where the fact sheet guesses is read by the
same client, a login token that expires on the simulator's clock is replaced by one login, the client's pacer keeps
under the simulator's 5 requests a second, and a sale rung up at the till maps to an order whose total is the
till's to the øre."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from crossdock import pacing
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.connectors.shopbox.login import authenticate, my_clients
from crossdock.connectors.shopbox.orders import basket_order
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_PASSWORD
from crossdock.connectors.shopbox.shapes import ProductUpsert, VariantUpsert
from crossdock.connectors.shopbox.tokens import ShopboxTokens
from crossdock.errors import FailureClass, PermanentError, RateLimited
from crossdock.pacing import RatePacer
from crossdock_local.sims.base.transport import transport
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator

API = "https://api.shopbox.com/api/v3"
EMAIL = "kasse@cafe.dk"
PASSWORD = "kaffe-og-kage-2026"
EPOCH = 1_733_490_000.0


class SteppedClock:
    """`pacing.clock` and the simulator's clock in one: time moves only when a caller sleeps or the test moves it,
    so a pacer's waits and the simulator's per-second window are counted on the same virtual seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return EPOCH + self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class FakeSecrets:
    """`ports.Secrets` in a dict (the table's KMS-encrypted store is the component tests of `store.secrets`)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get(self, connection_id: str, name: str) -> str | None:
        return self.values.get((connection_id, name))

    def put(self, connection_id: str, name: str, value: str) -> None:
        self.values[(connection_id, name)] = value

    def delete(self, connection_id: str, name: str) -> None:
        self.values.pop((connection_id, name), None)

    def fresh(self, connection_id: str, name: str) -> str | None:
        return self.get(connection_id, name)


class NoLeases:
    """One container: its lease is always free (the cross-container single flight is the unit tests')."""

    def claim(self, name: str, holder: str, now: float, seconds: float) -> bool:
        return True

    def release(self, name: str, holder: str) -> None:
        return None


@dataclass
class Till:
    sim: ShopboxSimulator
    clock: SteppedClock
    client_uid: int
    branch: int
    register: int
    secrets: FakeSecrets

    def client(self, *, paced: bool = False) -> ShopboxClient:
        account = ShopboxAccount(api_base=API, client_uid=str(self.client_uid), username=EMAIL)
        http = transport(self.sim)
        tokens = ShopboxTokens("c-1", account, self.secrets, NoLeases(), holder="me", transport=http)
        # 4.5 a second: ConnectionClients.SHOPBOX_CALLS_PER_SECOND, a little under the 5 [guess] Shopbox allows.
        pacer = RatePacer(4.5 * 60) if paced else None
        return ShopboxClient(account, tokens, pacer=pacer, transport=http)

    def product(self, **fields: Any) -> dict[str, Any]:
        return self.sim.upsert_product(self.client_uid, {"uid": None, "name": "Krus", "selling_price": 7900, **fields})


@pytest.fixture
def till(monkeypatch: pytest.MonkeyPatch) -> Iterator[Till]:
    clock = SteppedClock()
    monkeypatch.setattr(pacing, "clock", clock)
    sim = ShopboxSimulator(clock=clock.monotonic, seed=14, epoch=EPOCH)
    seeded = sim.seed_client(
        "Café Strøget", username=EMAIL, password=PASSWORD, branches={"Strøget": ["Kasse 1", "Kasse 2"]}, tags=["Kaffe"]
    )
    branch = seeded["branches"][0]
    secrets = FakeSecrets()
    secrets.put("c-1", SHOPBOX_PASSWORD, PASSWORD)
    yield Till(sim, clock, int(seeded["uid"]), int(branch["uid"]), int(branch["cash_registers"][0]["uid"]), secrets)


def test_an_install_logs_in_chooses_a_client_and_reads_its_shops(till: Till) -> None:
    # GIVEN a login that may act for two companies
    other = till.sim.add_client("Bar Nørrebro")
    till.sim.grant(EMAIL, other)
    http = transport(till.sim)
    # WHEN the install logs in and lists them
    login = authenticate(API, EMAIL, PASSWORD, transport=http)
    choices = my_clients(API, login.access_token, transport=http)
    # THEN both are offered, and with the chosen one stored the client reads its branch with both registers
    assert {choice.uid: choice.name for choice in choices} == {
        str(till.client_uid): "Café Strøget",
        str(other): "Bar Nørrebro",
    }
    till.secrets.put("c-1", SHOPBOX_ACCESS_TOKEN, login.access_token)
    client = till.client()
    (branch,) = client.branches()
    assert (branch.uid, branch.is_closed) == (str(till.branch), False)
    assert [register.name for register in branch.cash_registers] == ["Kasse 1", "Kasse 2"]
    register = client.cash_register(branch.cash_registers[1].uid)
    assert register is not None and register.name == "Kasse 2"
    assert [tag.name for tag in client.tags()] == ["Kaffe"]


@pytest.mark.parametrize("wrap_single", [True, False], ids=["data", "bare"])
@pytest.mark.parametrize("lines_key", ["sales", "products", "items", "lines", "basket_products"])
def test_a_sale_at_the_till_is_read_and_mapped_whatever_shape_shopbox_answers_in(
    till: Till, wrap_single: bool, lines_key: str
) -> None:
    # GIVEN the simulator answering single objects bare or under `data`, with a basket's lines under `lines_key`
    till.sim.rules.wrap_single = wrap_single
    till.sim.rules.basket_lines_key = lines_key  # type: ignore[assignment]
    mug = till.product(sku_code="MUG-1")
    cake = till.product(name="Kage", selling_price=3333, sku_code="KAGE")
    sold = till.sim.sell(
        till.client_uid,
        till.branch,
        till.register,
        [{"product": mug["uid"], "quantity": 2, "discount": 500}, {"product": cake["uid"], "quantity": 3}],
        customer={"name": "Ida", "email": "ida@example.dk"},
    )
    client = till.client()
    # WHEN the poller reads the first page and the sale's detail, and the sale is mapped
    (first_page,) = list(client.basket_pages(per_page=10))
    basket = client.basket(first_page[0].uid)
    assert basket is not None
    order = basket_order(basket, default_vat_rate=Decimal("0.25"), lines_key=lines_key)
    # THEN the order is the sale: its uid, both lines, and the till's total to the øre, VAT 25 % included
    assert order.source_id == str(sold["uid"]) and basket.total == 2 * 7900 - 500 + 3 * 3333
    assert order.total == Decimal("252.99")
    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-1", 2), ("KAGE", 3)]
    assert (
        sum((line.net_total + line.vat_amount for line in order.lines), Decimal(0)).quantize(Decimal("0.01"))
        == order.total
    )
    assert order.customer.email == "ida@example.dk" and order.is_pos


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_the_sales_list_is_read_page_by_page_in_either_order(till: Till, newest_first: bool) -> None:
    # GIVEN five sales a minute apart, one of them cancelled later, listed in either order [guess]
    till.sim.rules.newest_first = newest_first
    mug = till.product(sku_code="MUG-1")
    sold = []
    for _ in range(5):
        sold.append(
            till.sim.sell(till.client_uid, till.branch, till.register, [{"product": mug["uid"], "quantity": 1}])
        )
        till.clock.sleep(60)
    till.sim.cancel_basket(sold[2]["uid"])
    # WHEN the list is read two at a time
    pages = list(till.client().basket_pages(per_page=2))
    # THEN three pages hold all five, in the simulator's order, the cancelled one flagged with a later tstamp
    uids = [row.uid for page in pages for row in page]
    expected = [str(basket["uid"]) for basket in sold]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert uids == (expected[::-1] if newest_first else expected)
    cancelled = next(row for page in pages for row in page if row.uid == str(sold[2]["uid"]))
    assert cancelled.canceled and cancelled.tstamp is not None and cancelled.tstamp > sold[2]["crdate"]


@pytest.mark.parametrize("error_shape", ["error_object", "message", "error_text"])
def test_a_refusal_in_each_error_shape_carries_shopbox_reason(till: Till, error_shape: str) -> None:
    # GIVEN the simulator wording refusals in one of the three shapes [seen S1]
    till.sim.rules.error_shape = error_shape  # type: ignore[assignment]
    client = till.client()
    # WHEN a product is upserted with a tag the client does not have
    with pytest.raises(PermanentError) as refused:
        client.upsert_product(ProductUpsert(name="Krus", selling_price=7900, tag="424242"))
    # THEN the error names the field as Shopbox did
    assert refused.value.failure_class is FailureClass.VALIDATION
    assert "tag" in str(refused.value) and "422" in str(refused.value)


def test_products_with_variants_and_stock_round_trip(till: Till) -> None:
    # GIVEN a product with two variants kept in stock per variant, created through create-or-update
    client = till.client()
    made = client.upsert_product(
        ProductUpsert(
            name="Kaffe",
            selling_price=3500,
            sku_code="KAFFE",
            inventory_on_variants=True,
            variants=[VariantUpsert(name="Lille", sku_code="KAFFE-S"), VariantUpsert(name="Stor", sku_code="KAFFE-L")],
        )
    )
    small, large = made.product_variances
    # WHEN the stock of the large one is set twice (absolute [guess]) and read back
    client.set_inventory(str(till.branch), made.uid, large.uid, 5, "Rackbeat")
    client.set_inventory(str(till.branch), made.uid, large.uid, 12, "Rackbeat")
    rows = client.inventories(str(till.branch))
    # THEN the branch holds 12 of it, and an update by uid keeps the variants' uids
    assert [(row.product, row.product_variance, row.quantity) for row in rows] == [(made.uid, large.uid, 12)]
    again = client.upsert_product(
        ProductUpsert(
            uid=made.uid,
            name="Kaffe",
            selling_price=3900,
            inventory_on_variants=True,
            variants=[VariantUpsert(uid=small.uid, name="Lille"), VariantUpsert(uid=large.uid, name="Stor")],
        )
    )
    assert (again.uid, [v.uid for v in again.product_variances], again.selling_price) == (
        made.uid,
        [small.uid, large.uid],
        3900,
    )


def test_a_login_token_expired_on_shopbox_clock_is_replaced_once(till: Till) -> None:
    # GIVEN a client that logged in, and then 25 hours on the simulator's clock (tokens live 24 h [guess])
    client = till.client()
    client.tags()
    first = till.secrets.get("c-1", SHOPBOX_ACCESS_TOKEN)
    till.clock.sleep(25 * 3600)
    # WHEN it calls again
    client.tags()
    client.tags()
    # THEN the expired token was replaced by one new login, and the calls went on with it
    assert till.sim.calls_by_route[("POST", "/authenticate/credentials")] == 2
    assert till.secrets.get("c-1", SHOPBOX_ACCESS_TOKEN) not in (None, first)


def test_a_revoked_client_is_an_auth_failure(till: Till) -> None:
    # GIVEN a login that lost its access to the client in Shopbox
    client = till.client()
    client.tags()
    till.sim.revoke(EMAIL, till.client_uid)
    # WHEN it calls  THEN 403 is AUTH, not retried as a login
    with pytest.raises(PermanentError) as refused:
        client.branches()
    assert refused.value.failure_class is FailureClass.AUTH and "403" in str(refused.value)


def test_the_pacer_keeps_the_client_under_the_simulators_limit(till: Till) -> None:
    # GIVEN the simulator's 5 requests a second per token [guess]
    unpaced, paced = till.client(), till.client(paced=True)
    unpaced.tags()  # the login, once, for both (they share the stored token)
    # WHEN an unpaced client makes 10 calls in the same virtual instant
    before = till.clock.now
    for _ in range(10):
        unpaced.tags()
    # THEN Shopbox's short Retry-After was waited out (the clock moved by it) instead of failing the caller
    assert till.clock.now - before >= 1
    # AND WHEN Shopbox throttles the call again after the wait THEN the 429 reaches the caller with its hint
    till.sim.faults.throttle_rate = 1.0
    with pytest.raises(RateLimited) as throttled:
        unpaced.tags()
    assert throttled.value.retry_after is not None and throttled.value.retry_after > 0
    till.sim.faults.throttle_rate = 0.0
    # AND WHEN, once the window has passed, the paced client makes 45 calls  THEN none is throttled, and they took
    # the virtual seconds 4.5 a second asks for
    till.clock.sleep(2)
    started = till.clock.now
    for _ in range(45):
        paced.tags()
    assert 9.5 <= till.clock.now - started <= 10.5
