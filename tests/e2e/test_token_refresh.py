"""Expiring offline tokens (reference/shopify.md, "App install" step 5): refreshed before they expire, once per shop
however many containers ask at once, and never lost to a refresh answer that did not arrive.

Each `Container` below is what one Lambda container holds: its own table and KMS clients, its own secret cache and
its own token source, sharing nothing with the others but the table — as separate containers share nothing but AWS.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import boto3
import pytest

from crossdock import pacing, services
from crossdock.connections.model import Connection
from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.tokens import ShopifyTokens, StoredToken, load_stored
from crossdock.errors import FailureClass, PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.store import connections
from crossdock.store.leases import TableLeases
from crossdock.store.secrets import SecretStore
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalConnection, LocalStack

LIFETIME = 3600.0  # the simulator's default, as Shopify's
_shops = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def _fresh_function_clients() -> None:
    """The functions' AWS clients are cached per process (per container in AWS), and an earlier module's stack had
    another KMS key: these tests encrypt inside the functions, so they start from clients of this module's stack."""
    services.forget()


@dataclass
class Container:
    tokens: ShopifyTokens
    admin: ShopifyAdmin


def container(stack: LocalStack, local: LocalConnection, name: str) -> Container:
    table = boto3.resource("dynamodb", region_name=stack.aws.region).Table(stack.aws.table_name("Table"))
    kms = boto3.client("kms", region_name=stack.aws.region)
    secrets = SecretStore(table, kms, stack.aws.key_id("SecretsKey"))
    connection = connections.load_connection(table, local.connection_id)
    assert connection is not None
    shop = RackbeatShopifyConnection.of(connection).accounts.shopify
    tokens = ShopifyTokens(connection.id, shop, secrets, TableLeases(table), holder=name)
    return Container(tokens, ShopifyAdmin(shop.base_url, shop.shop_domain, tokens))


def installed(stack: LocalStack, **settings: object) -> LocalConnection:
    pending = stack.begin_install({**demo_settings(), **settings}, shop_domain=f"refresh-{next(_shops)}.myshopify.com")
    return stack.install(pending)


def stored(stack: LocalStack, local: LocalConnection) -> StoredToken:
    found = load_stored(stack.secrets, local.connection_id)
    assert found is not None
    return found


def refreshes(stack: LocalStack) -> int:
    return stack.shopify.token_requests["refresh_token"]


def connection(stack: LocalStack, local: LocalConnection) -> Connection:
    found = connections.load_connection(stack.table, local.connection_id)
    assert found is not None
    return found


class RealWaits:
    """The stack's clock, except that a wait takes real time.

    The virtual clock returns from `sleep` at once with time moved on; with seven threads polling while the eighth
    does real work (an HTTP refresh, three KMS encryptions), the pollers would spend the 20 s wait limit in a few real
    seconds of a loaded machine. Threads racing each other are a real-time matter, so here the waits are real.
    """

    def __init__(self, virtual: pacing.Clock) -> None:
        self._virtual = virtual

    def time(self) -> float:
        return self._virtual.time()

    def monotonic(self) -> float:
        return self._virtual.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def past_expiry(stack: LocalStack) -> None:
    stack.aws.clock.advance(LIFETIME + 1)


def test_an_order_flows_after_the_token_expired_with_exactly_one_refresh(stack: LocalStack) -> None:
    # GIVEN a shop installed with stock sync, whose order lines are products in the shop
    local = installed(stack, stock_sync={"enabled": True})
    stack.seed_items(local.rackbeat_account_id, DEMO_SKUS)
    planned = varied_orders(1, seed=5, skus=DEMO_SKUS)[0].order
    for sku in sorted({line["sku"] for line in planned["line_items"]}):
        product = {"title": sku, "variants": [{"sku": sku, "price": "100.00", "inventory_quantity": 0}]}
        stack.shopify.create_product(local.shop_domain, product, emit=False)
    before, pushes = refreshes(stack), stack.shopify.mutation_count("inventorySetQuantities")
    first = stored(stack, local)
    # WHEN the token has expired and an order comes in (it moves stock, which is pushed back to the shop)
    past_expiry(stack)
    order = stack.shopify.create_order(local.shop_domain, planned, paid=True)
    stack.settle()
    # THEN the order is in Rackbeat, the stock went back to the shop, and the token was refreshed once
    reference = f"Shopify {order['name']} ({order['id']})"
    rackbeat_orders = stack.rackbeat.state(local.rackbeat_account_id).orders.values()
    assert [o for o in rackbeat_orders if o.get("other_reference") == reference]
    assert stack.shopify.mutation_count("inventorySetQuantities") > pushes
    assert refreshes(stack) == before + 1
    assert stored(stack, local).access_token != first.access_token


@pytest.mark.parametrize("containers", [1, 2, 8], ids=["one-container", "two-containers", "eight-containers"])
def test_eight_threads_asking_for_an_expired_token_share_one_refresh(
    stack: LocalStack, containers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Threads of one container wait for each other in memory; containers wait for each other through the lease.
    monkeypatch.setattr(pacing, "clock", RealWaits(stack.aws.clock))
    local = installed(stack)
    sources = [container(stack, local, f"container-{n}") for n in range(containers)]
    for each in sources:
        each.tokens.load()
    past_expiry(stack)
    before = refreshes(stack)
    start = threading.Barrier(8)
    got: list[str] = []
    failures: list[BaseException] = []

    def ask(each: Container) -> None:
        start.wait()
        try:
            got.append(each.tokens.current())
        except BaseException as failed:  # noqa: BLE001 - collected and reported by the test thread
            failures.append(failed)

    threads = [threading.Thread(target=ask, args=(sources[n % containers],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert refreshes(stack) == before + 1
    assert len(got) == 8 and len(set(got)) == 1
    assert got[0] == stored(stack, local).access_token
    assert sources[0].admin.run(queries.PRIMARY_LOCATION)["location"]["id"]


def test_a_lost_refresh_answer_does_not_lock_the_shop_out(stack: LocalStack) -> None:
    local = installed(stack)
    first = stored(stack, local)
    lambda_a = container(stack, local, "a")
    past_expiry(stack)
    before = refreshes(stack)
    # GIVEN Shopify commits the refresh but its answer never arrives
    stack.shopify.drop_token_responses = 1
    with pytest.raises(RetryableError):
        lambda_a.tokens.current()
    assert refreshes(stack) == before + 1
    assert stored(stack, local) == first  # nothing half-known was stored
    # WHEN the next call refreshes again with the refresh token still stored (the old one)
    assert lambda_a.admin.run(queries.PRIMARY_LOCATION)["location"]["id"]
    # THEN it worked, and what is stored is the newest pair: its access token opens the shop, its refresh token is
    # the one issued with it, and that one refreshes again later
    newest = stored(stack, local)
    assert refreshes(stack) == before + 2
    assert newest.access_token != first.access_token and newest.refresh_token != first.refresh_token
    assert stack.shopify.apps.access_tokens[newest.access_token].refresh_token == newest.refresh_token
    spent_twice = stack.shopify.apps.refresh_tokens[str(first.refresh_token)].replacements
    assert len(spent_twice) == 2 and spent_twice[-1] == newest.refresh_token  # the lost one, then the stored one
    past_expiry(stack)
    assert container(stack, local, "b").admin.run(queries.PRIMARY_LOCATION)["location"]["id"]
    assert refreshes(stack) == before + 3


def test_a_token_refreshed_by_another_container_is_picked_up_on_401(stack: LocalStack) -> None:
    local = installed(stack)
    lambda_a, lambda_b = container(stack, local, "a"), container(stack, local, "b")
    lambda_b.tokens.load()
    old = stored(stack, local).access_token
    stack.aws.clock.advance(LIFETIME - 200)  # inside the refresh margin for A, which refreshes first
    assert lambda_a.admin.run(queries.PRIMARY_LOCATION)
    assert refreshes_before_revocation(stack, old) >= 1
    before = refreshes(stack)
    # B still holds the old token, which Shopify now refuses: B re-reads the stored one instead of refreshing again
    assert lambda_b.admin.run(queries.PRIMARY_LOCATION)
    assert refreshes(stack) == before


def refreshes_before_revocation(stack: LocalStack, token: str) -> int:
    """Shopify refusing `token` from now on (as after an expiry), and the refreshes so far."""
    stack.shopify.apps.access_tokens[token].revoked = True
    return refreshes(stack)


def test_a_refused_token_that_nobody_replaced_is_refreshed_once(stack: LocalStack) -> None:
    local = installed(stack)
    lambda_a = container(stack, local, "a")
    lambda_a.tokens.load()
    before = refreshes_before_revocation(stack, stored(stack, local).access_token)
    assert lambda_a.admin.run(queries.PRIMARY_LOCATION)
    assert refreshes(stack) == before + 1


def test_a_refused_refresh_token_asks_for_a_new_install(stack: LocalStack) -> None:
    local = installed(stack)
    stack.shopify.apps.refresh_tokens[str(stored(stack, local).refresh_token)].revoked = True
    past_expiry(stack)
    with pytest.raises(PermanentError) as refused:
        container(stack, local, "a").tokens.current()
    assert refused.value.failure_class is FailureClass.AUTH
    assert "install the app again" in str(refused.value) and "invalid_grant" in str(refused.value)


def test_a_non_expiring_token_is_used_as_it_is(stack: LocalStack) -> None:
    stack.shopify.register_app("crossdock-classic", "classic-secret-0123456789", expiring_tokens=False)
    pending = stack.begin_install(
        demo_settings(), shop_domain=f"refresh-{next(_shops)}.myshopify.com", client_id="crossdock-classic"
    )
    local = stack.install(pending)
    kept = stored(stack, local)
    assert (kept.refresh_token, kept.expires_at) == (None, None)
    before = refreshes(stack)
    stack.aws.clock.advance(10 * LIFETIME)
    assert container(stack, local, "a").admin.run(queries.PRIMARY_LOCATION)
    assert refreshes(stack) == before
