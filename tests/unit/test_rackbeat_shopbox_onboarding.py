"""A new `rackbeat_shopbox` connection before it is stored (SPEC §2 install; issue 14, item 1): the Rackbeat key, the
Shopbox login or API token, the client choice and the branches are tested, the settings checked, and every problem
reported at once; nothing here writes anywhere (`prepare` only says what to store).

Rackbeat and Shopbox are their simulators. Shopbox is reached through a small sign-in over the simulator's HTTP API
that answers as the connector does (a 401 or 403 is a `PermanentError` of class auth); the connector's own sign-in is
exercised end to end in tests/e2e/test_shopbox_onboarding.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.secret_names import SHOPBOX_ACCESS_TOKEN, SHOPBOX_API_TOKEN, SHOPBOX_PASSWORD
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_shopbox.onboarding import ConnectionRefused, NewShopboxConnection, prepare
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator

SHOPBOX_BASE = "https://api.shopbox.com/api/v3"
RACKBEAT_KEY = "rb-onboarding"
USER, PASSWORD = "butik@acme.dk", "hemmeligt-kodeord"


@dataclass(frozen=True)
class Named:
    uid: str
    name: str


@dataclass(frozen=True)
class Tagged:
    id: str
    name: str


@dataclass(frozen=True)
class Token:
    access_token: str


class SimCatalog:
    def __init__(self, http: httpx.Client, auth: dict[str, str]) -> None:
        self._http, self._auth = http, auth

    def branches(self) -> list[Named]:
        return [Named(str(row["uid"]), row["name"]) for row in _rows(self._http, "branches", self._auth)]

    def tags(self) -> list[Tagged]:
        return [Tagged(str(row["id"]), row["name"]) for row in _rows(self._http, "tags", self._auth)]


class SimSignIn:
    """Shopbox's login, client list and branches over the simulator's HTTP API, refusals as the connector's."""

    def __init__(self, sim: ShopboxSimulator) -> None:
        self.http = httpx.Client(transport=transport(sim), base_url=SHOPBOX_BASE)
        self.calls: list[str] = []

    def login(self, username: str, password: str) -> Token:
        self.calls.append("login")
        answer = self.http.post(
            "authenticate/credentials",
            params={"lang": "da"},
            json={"username": username, "password": password, "remember_me": None},
        )
        _refusal(answer)
        return Token(answer.json()["accessToken"])

    def clients(self, token: str, *, api_token: bool) -> list[Named]:
        self.calls.append("clients")
        auth = {"api-token" if api_token else "accessToken": token}
        return [
            Named(str(row["client0"]["uid"]), row["client0"]["name"])
            for row in _rows(self.http, "clients/myclients", auth)
        ]

    def catalog(self, account: ShopboxAccount, token: str, *, api_token: bool) -> SimCatalog:
        self.calls.append("catalog")
        return SimCatalog(self.http, {"api-token" if api_token else "accessToken": token, "client": account.client_uid})


def _rows(http: httpx.Client, path: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    answer = http.get(path, params={**auth, "per-page": "-1"})
    _refusal(answer)
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


def _refusal(answer: httpx.Response) -> None:
    if answer.status_code in (401, 403):
        raise PermanentError(f"Shopbox answered {answer.status_code}", FailureClass.AUTH)
    answer.raise_for_status()


@pytest.fixture
def shopbox() -> ShopboxSimulator:
    return ShopboxSimulator()


@pytest.fixture
def client_uid(shopbox: ShopboxSimulator) -> str:
    seeded = shopbox.seed_client(
        "Acme Butikker", username=USER, password=PASSWORD, branches={"Aarhus": ["Kasse 1"], "Odense": []}, tags=["Krus"]
    )
    return str(seeded["uid"])


@pytest.fixture
def rackbeat_sim() -> RackbeatSimulator:
    sim = RackbeatSimulator()
    account = sim.add_account(RACKBEAT_KEY)
    sim.seed_customer(account, 900, "Kassesalg")
    sim.seed_location(account, "L1", "Aarhus")
    return sim


def rackbeat_client(sim: RackbeatSimulator, key: str = RACKBEAT_KEY) -> RackbeatClient:
    return RackbeatClient("https://app.rackbeat.com/api/", key, transport(sim, root="/api"))


@pytest.fixture
def rackbeat(rackbeat_sim: RackbeatSimulator) -> Iterator[RackbeatClient]:
    client = rackbeat_client(rackbeat_sim)
    yield client
    client.close()


def new(
    credentials: ShopboxCredentials, settings: dict[str, Any] | None = None, key: str = RACKBEAT_KEY
) -> NewShopboxConnection:
    return NewShopboxConnection(
        rackbeat_api_key=key,
        shopbox=credentials,
        settings={"sales": {"customer_number": 900}} if settings is None else settings,
        shopbox_api_base=SHOPBOX_BASE,
    )


def fields_of(refused: pytest.ExceptionInfo[ConnectionRefused]) -> list[str]:
    return [problem.field for problem in refused.value.problems]


def test_a_login_for_one_client_is_tested_and_prepared_with_its_secrets(
    shopbox: ShopboxSimulator, client_uid: str, rackbeat: RackbeatClient
) -> None:
    # GIVEN a login that acts for one client WHEN prepared
    sign_in = SimSignIn(shopbox)
    prepared = prepare("conn-1", new(ShopboxCredentials(username=f" {USER} ", password=PASSWORD)), rackbeat, sign_in)
    # THEN Shopbox was asked in order: the login, its clients, then the chosen client's branches
    assert sign_in.calls == ["login", "clients", "catalog"]
    assert prepared.branch_count == 2
    account = prepared.connection.accounts.shopbox
    assert (account.client_uid, account.client_name, account.username, account.api_base) == (
        client_uid,
        "Acme Butikker",
        USER,
        SHOPBOX_BASE,
    )
    # AND the connection waits installing, to be activated once stored; nothing is missing
    assert prepared.connection.state is ConnectionState.INSTALLING
    assert prepared.ready
    # AND the password and the login token are what is kept, the token being Shopbox's
    assert prepared.secrets[SHOPBOX_PASSWORD] == PASSWORD
    assert prepared.secrets[SHOPBOX_ACCESS_TOKEN]
    assert SHOPBOX_API_TOKEN not in prepared.secrets
    assert PASSWORD not in repr(prepared)


def test_a_wrong_password_is_refused_under_the_password_without_showing_it(
    shopbox: ShopboxSimulator, client_uid: str, rackbeat: RackbeatClient
) -> None:
    sign_in = SimSignIn(shopbox)
    with pytest.raises(ConnectionRefused) as refused:
        prepare("conn-1", new(ShopboxCredentials(username=USER, password="forkert")), rackbeat, sign_in)
    assert fields_of(refused) == ["shopbox_password"]
    assert f"Shopbox refused the login for {USER}" in str(refused.value)
    assert "forkert" not in str(refused.value)
    # AND nothing after the login was asked
    assert sign_in.calls == ["login"]


def test_several_clients_without_a_choice_are_refused_with_the_choices(
    shopbox: ShopboxSimulator, client_uid: str, rackbeat: RackbeatClient
) -> None:
    # GIVEN the login may act for a second client
    outlet = shopbox.add_client("Acme Outlet")
    shopbox.grant(USER, outlet)
    # WHEN no client is named THEN refused, with both to choose from
    with pytest.raises(ConnectionRefused) as refused:
        prepare("conn-1", new(ShopboxCredentials(username=USER, password=PASSWORD)), rackbeat, SimSignIn(shopbox))
    assert fields_of(refused) == ["shopbox_client"]
    assert refused.value.client_choices == [(client_uid, "Acme Butikker"), (str(outlet), "Acme Outlet")]
    assert f"choose one: {client_uid} (Acme Butikker), {outlet} (Acme Outlet)" in str(refused.value)
    # WHEN the second is named THEN it is the connection's client (it has no branches yet: zero is a fine answer)
    chosen = prepare(
        "conn-1",
        new(ShopboxCredentials(username=USER, password=PASSWORD, client_uid=str(outlet))),
        rackbeat,
        SimSignIn(shopbox),
    )
    assert (chosen.connection.accounts.shopbox.client_uid, chosen.branch_count) == (str(outlet), 0)


def test_an_api_token_names_its_client_and_is_the_one_secret_kept(
    shopbox: ShopboxSimulator, client_uid: str, rackbeat: RackbeatClient
) -> None:
    token = shopbox.add_api_token(int(client_uid))
    sign_in = SimSignIn(shopbox)
    prepared = prepare("conn-1", new(ShopboxCredentials(api_token=token, client_uid=client_uid)), rackbeat, sign_in)
    assert sign_in.calls == ["catalog"]
    assert prepared.connection.accounts.shopbox.username is None
    assert prepared.secrets[SHOPBOX_API_TOKEN] == token
    assert SHOPBOX_PASSWORD not in prepared.secrets and SHOPBOX_ACCESS_TOKEN not in prepared.secrets
    # AND the same token with another client is refused at the branches, naming the client
    other = str(shopbox.add_client("Someone Else"))
    with pytest.raises(ConnectionRefused) as refused:
        prepare("conn-1", new(ShopboxCredentials(api_token=token, client_uid=other)), rackbeat, SimSignIn(shopbox))
    assert fields_of(refused) == ["shopbox_client"]
    assert f"Shopbox refused to list client {other}'s branches" in str(refused.value)


def test_every_problem_of_the_input_is_listed_at_once(
    shopbox: ShopboxSimulator, client_uid: str, rackbeat_sim: RackbeatSimulator
) -> None:
    # GIVEN a key Rackbeat refuses, a missing password and settings breaking a rule
    sign_in = SimSignIn(shopbox)
    wrong_key = rackbeat_client(rackbeat_sim, "not-a-key")
    with pytest.raises(ConnectionRefused) as refused:
        prepare("conn-1", new(ShopboxCredentials(username=USER), settings={}, key="not-a-key"), wrong_key, sign_in)
    # THEN each is named, and Shopbox was not asked with credentials known to be incomplete
    assert fields_of(refused) == ["sales.customer_number", "rackbeat_api_key", "shopbox_password"]
    assert sign_in.calls == []


def test_a_token_and_a_login_at_once_are_refused(rackbeat: RackbeatClient, shopbox: ShopboxSimulator) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        prepare(
            "conn-1",
            new(ShopboxCredentials(username=USER, password=PASSWORD, api_token="t")),
            rackbeat,
            SimSignIn(shopbox),
        )
    assert fields_of(refused) == ["shopbox_api_token"]


def test_references_the_accounts_lack_are_reported_not_refused(
    shopbox: ShopboxSimulator, client_uid: str, rackbeat: RackbeatClient
) -> None:
    # GIVEN settings mapping a branch Shopbox has not got to a location Rackbeat has not got
    settings = {"sales": {"customer_number": 900}, "locations": {"4242": "L9"}}
    prepared = prepare(
        "conn-1", new(ShopboxCredentials(username=USER, password=PASSWORD), settings), rackbeat, SimSignIn(shopbox)
    )
    # THEN the connection is prepared, not ready, with both named
    assert not prepared.ready
    assert sorted(str(problem) for problem in prepared.missing_references) == [
        "locations.4242: branch 4242 does not exist in the Shopbox client",
        "locations.4242: location L9 does not exist in Rackbeat",
    ]
