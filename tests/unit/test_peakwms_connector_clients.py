"""`ConnectionClients.peakwms`: one PeakWMS client per connection in a container, its API key from the connection's
secret, and its calls paced per PeakWMS account (the customer at its API base) through the table's shared limiter —
so shops sharing one PeakWMS stock, in several containers, stay within PeakWMS's 240 requests a minute together.
The limit is checked against the simulator's own throttle on a clock that moves only when a caller sleeps: the
429s are counted, not timed."""

from __future__ import annotations

from typing import Any, cast

import pytest
from flow_fakes import FakeSecrets
from peakwms_fakes import API, API_KEY, CUSTOMER, Warehouse

from crossdock import pacing
from crossdock.connectors.peakwms.account import PEAKWMS_API, PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.secret_names import API_KEY as API_KEY_SECRET
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.errors import FailureClass, PermanentError, RateLimited
from crossdock.integrations.clients import PEAKWMS_CALLS_PER_MINUTE, PEAKWMS_LIMIT_PER_MINUTE, ConnectionClients
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.store.secrets import SecretStore


def connection(connection_id: str, account: str = CUSTOMER, api_base: str = API) -> PeakwmsShopifyConnection:
    return PeakwmsShopifyConnection(
        id=connection_id,
        accounts=PeakwmsShopifyAccounts(
            peakwms=PeakwmsAccount(account=account, api_base=api_base),
            shopify=ShopifyAccount(shop_domain=f"{connection_id}.myshopify.com"),
        ),
        settings=PeakwmsShopifySettings.model_validate({"shop_name": connection_id, "country": "DK"}),
    )


def secrets_for(*connection_ids: str) -> FakeSecrets:
    found = FakeSecrets()
    for connection_id in connection_ids:
        found.put(connection_id, API_KEY_SECRET, API_KEY)
    return found


def test_a_connection_has_one_peakwms_client_per_container_with_its_key(table: Any) -> None:
    made = ConnectionClients(cast(SecretStore, secrets_for("c-1", "c-2")), table)
    first, second = connection("c-1"), connection("c-2", "sydlager")
    assert made.peakwms(first) is made.peakwms(first)
    assert made.peakwms(second) is not made.peakwms(first)
    assert made.peakwms(second).account.account == "sydlager"


def test_a_connection_without_its_api_key_is_refused_naming_the_secret(table: Any) -> None:
    with pytest.raises(PermanentError) as refused:
        ConnectionClients(cast(SecretStore, FakeSecrets()), table).peakwms(connection("c-1"))
    assert refused.value.failure_class is FailureClass.AUTH and API_KEY_SECRET in str(refused.value)


def test_a_connection_without_a_peakwms_account_is_a_bug() -> None:
    class NoPeakwms:
        id = "c-rb"
        kind = "rackbeat_shopify"

        class accounts:  # stands in for the Accounts model
            @staticmethod
            def by_system() -> dict[str, Any]:
                return {"rackbeat": RackbeatAccount(account_id=1)}

    with pytest.raises(PermanentError) as refused:
        ConnectionClients(cast(SecretStore, FakeSecrets()), table=None).peakwms(cast(Any, NoPeakwms()))
    assert refused.value.failure_class is FailureClass.BUG and "c-rb" in str(refused.value)


def test_shops_on_one_peakwms_account_share_its_pace_and_another_account_waits_for_no_one(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two containers, with two shops on one PeakWMS account, one on another and one on the same name at
    # another API base (another PeakWMS: the sandbox)
    warehouse = Warehouse()
    monkeypatch.setattr(pacing, "clock", warehouse.clock)
    here, there = (ConnectionClients(cast(SecretStore, secrets_for("a", "b", "c", "d")), table) for _ in range(2))
    same_a = here.peakwms(connection("a")).pacer
    same_b = there.peakwms(connection("b")).pacer
    other = there.peakwms(connection("c", "sydlager")).pacer
    sandbox = there.peakwms(connection("d", api_base=PEAKWMS_API.replace("api.", "api-test."))).pacer
    assert None not in (same_a, same_b, other, sandbox)
    # WHEN each takes turns
    for pacer in (same_a, same_b, other, sandbox, same_a):
        pacer.wait_turn()  # type: ignore[union-attr]
    # THEN only the shared account's calls waited, a pace's step apart across both containers
    assert warehouse.clock.sleeps == [pytest.approx(60.0 / PEAKWMS_CALLS_PER_MINUTE, abs=1e-5)] * 2
    assert PEAKWMS_CALLS_PER_MINUTE <= PEAKWMS_LIMIT_PER_MINUTE


def callers(table: Any, warehouse: Warehouse, containers: int, shops: int, paced: bool) -> list[PeakwmsClient]:
    """`shops` connections on the simulator's customer in each of `containers` containers: each caller's client talks
    to the simulator in process and takes its turns from the pacer `ConnectionClients.peakwms` made for it."""
    found = []
    for _ in range(containers):
        clients = ConnectionClients(cast(SecretStore, secrets_for(*(f"shop-{n}" for n in range(shops)))), table)
        for number in range(shops):
            made = clients.peakwms(connection(f"shop-{number}"))
            found.append(warehouse.client(pacer=made.pacer if paced else None))
    return found


@pytest.mark.parametrize("paced", [True, False])
def test_many_callers_sharing_one_account_stay_within_its_limit(
    table: Any, monkeypatch: pytest.MonkeyPatch, paced: bool
) -> None:
    # GIVEN 3 containers × 4 shops on one PeakWMS customer, taking turns to call it 1,200 times in all (five
    # minutes' worth at the limit), on a clock that only moves when a caller waits
    warehouse = Warehouse()
    monkeypatch.setattr(pacing, "clock", warehouse.clock)
    started = warehouse.clock.now
    clients = callers(table, warehouse, containers=3, shops=4, paced=paced)
    refused = 0
    # WHEN they call round after round
    for call in range(1200):
        client = clients[call % len(clients)]
        try:
            client.get("ping")
        except RateLimited:
            refused += 1
    answered_429 = sum(client.calls for client in clients) - (1200 - refused)
    minutes = (warehouse.clock.now - started) / 60
    if paced:
        # THEN paced, PeakWMS never said 429, every call was answered, and it took about the calls at the pace
        assert (answered_429, refused) == (0, 0)
        assert minutes == pytest.approx(1200 / PEAKWMS_CALLS_PER_MINUTE, rel=0.01)
    else:
        # (unpaced, the same callers meet PeakWMS's 429 at once: the pace is what keeps them out)
        assert answered_429 > 0
