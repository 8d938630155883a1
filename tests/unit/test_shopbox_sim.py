"""The Shopbox simulator behaves as `shared/reference/shopbox.md` says, seen through a real httpx client: auth in the
query string, tenant choice, token expiry, branches and tags, rate limits, faults and rules, the control API and a
snapshot without secrets. The catalogue and stock are in test_shopbox_sim_catalog.py, sales (baskets) in
test_shopbox_sim_baskets.py; both use the `Till` built here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock

from crossdock_local.server import LocalEndpoint
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopbox.rules import ShopboxRules
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator

API = "https://api.shopbox.test/api/v3/"
CONTROL = "https://api.shopbox.test/_control/"
OWNER = "ejer@kaffebar.dk"
PASSWORD = "hemmeligt-kodeord-42"
EPOCH = 1_733_490_000  # the Unix time the fake clock's start stands for


@dataclass
class Till:
    """A Shopbox client seeded as a merchant's would be: a login, two branches with registers, two tags, a mug
    without variants and a T-shirt with two, stock of both in the first branch."""

    sim: ShopboxSimulator
    clock: FakeClock
    http: httpx.Client
    client: int
    branch: int
    register: int
    other_branch: int
    other_register: int
    mugs: int  # tag ids
    clothes: int
    mug: dict[str, Any]
    tee: dict[str, Any]

    def login(self, username: str = OWNER, password: str = PASSWORD) -> str:
        answer = self.http.post("authenticate/credentials", params={"lang": "da"}, json=credentials(username, password))
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["accessToken"]
        return token

    def call(
        self, method: str, path: str, token: str, *, client: int | None = None, api_token: bool = False, **kw: Any
    ) -> httpx.Response:
        """A call as Crossdock's client makes it: the token and the client in the query string, nothing else."""
        params = {**kw.pop("params", {}), ("api-token" if api_token else "accessToken"): token}
        params["client"] = str(self.client if client is None else client)
        return self.http.request(method, path, params=params, **kw)

    def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        return self.call("GET", path, token, params=params)

    def data(self, path: str, token: str, **params: Any) -> Any:
        answer = self.get(path, token, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        # Beside the API, not under /api/v3 (httpx would put a relative path under the base URL's).
        return self.http.request(method, f"{CONTROL}{path}", json=body)


def credentials(username: str, password: str) -> dict[str, Any]:
    return {"username": username, "password": password, "remember_me": None}


def open_till(**rules: Any) -> Till:
    clock = FakeClock()
    sim = ShopboxSimulator(clock=clock, seed=3, epoch=EPOCH, rules=ShopboxRules(**rules))
    seeded = sim.seed_client(
        "Kaffebar ApS",
        username=OWNER,
        password=PASSWORD,
        branches={"Nørrebro": ["Kasse 1"], "Vesterbro": ["Kasse 1", "Kasse 2"]},
        tags=["Krus", "Tøj"],
    )
    client = seeded["uid"]
    first, second = seeded["branches"]
    mugs, clothes = (tag["id"] for tag in seeded["tags"])
    # The upsert body of the fact sheet (integer øre, VAT included).
    mug = sim.upsert_product(
        client,
        {
            "uid": None,
            "name": "Mug",
            "selling_price": 7900,
            "stock_price": 3000,
            "tag": mugs,
            "code": "5701234567890",
            "sku_code": "MUG-1",
            "integration_number": "RB-MUG-1",
            "integration_type": "rackbeat",
            "inventory_on_variants": False,
            "variants": [],
        },
    )
    tee = sim.upsert_product(
        client,
        {
            "uid": None,
            "name": "T-shirt",
            "selling_price": 19900,
            "tag": clothes,
            "sku_code": "TEE",
            "inventory_on_variants": True,
            "variants": [
                {"name": "S", "sku_code": "TEE-S"},
                {"name": "M", "sku_code": "TEE-M", "selling_price": 20900},
            ],
        },
    )
    sim.set_stock(client, first["uid"], mug["uid"], 10)
    for variance in tee["product_variances"]:
        sim.set_stock(client, first["uid"], tee["uid"], 4, variance["uid"])
    http = httpx.Client(transport=transport(sim), base_url=API)
    return Till(
        sim,
        clock,
        http,
        client,
        first["uid"],
        first["cash_registers"][0]["uid"],
        second["uid"],
        second["cash_registers"][1]["uid"],
        mugs,
        clothes,
        mug,
        tee,
    )


@pytest.fixture
def till() -> Till:
    return open_till()


def error_of(answer: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = answer.json()["error"]
    return error


# --- logging in ------------------------------------------------------------------------------------------------


def test_login_answers_an_access_token_and_the_account(till: Till) -> None:
    # GIVEN the owner's e-mail and password
    # WHEN the owner logs in
    answer = till.http.post("authenticate/credentials", params={"lang": "da"}, json=credentials(OWNER, PASSWORD))
    # THEN Shopbox answers 201 with a token, the account and Unix timestamps
    assert answer.status_code == 201
    body = answer.json()
    assert body["accessToken"]
    assert body["account"]["username"] == OWNER
    assert set(body["account"]) == {"uid", "username", "first_name", "last_name", "lang"}
    assert body["crdate"] == body["tstamp"] == EPOCH


def test_a_wrong_password_or_unknown_user_is_401_in_the_error_envelope(till: Till) -> None:
    # GIVEN a wrong password, and an e-mail Shopbox does not know
    wrong = till.http.post("authenticate/credentials", json=credentials(OWNER, "forkert"))
    unknown = till.http.post("authenticate/credentials", json=credentials("nobody@example.com", PASSWORD))
    # THEN both are 401 with the same envelope, which repeats no password
    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown)
    assert error_of(wrong) == {
        "name": "Unauthorized",
        "message": "Invalid username or password",
        "code": 0,
        "status": 401,
    }
    assert "forkert" not in wrong.text


def test_a_login_without_a_username_is_422_naming_it(till: Till) -> None:
    answer = till.http.post("authenticate/credentials", json={"password": PASSWORD})
    assert answer.status_code == 422
    assert error_of(answer)["errors"] == {"username": "is required"}


def test_auth_travels_in_the_query_string_not_in_a_header(till: Till) -> None:
    # GIVEN a valid token
    token = till.login()
    # WHEN it is sent as a bearer header instead of in the query string
    header = till.http.get("branches", params={"client": till.client}, headers={"Authorization": f"Bearer {token}"})
    # THEN Shopbox sees no token; in the query string it is accepted
    assert header.status_code == 401
    assert till.get("branches", token).status_code == 200


def test_a_login_token_expires_after_24_hours_of_the_virtual_clock(till: Till) -> None:
    # GIVEN a token issued now
    token = till.login()
    # WHEN a second less than a day has passed, THEN it still works
    till.clock.advance(24 * 3600 - 1)
    assert till.get("branches", token).status_code == 200
    # WHEN the day is over, THEN it is 401 and a new login works
    till.clock.advance(1)
    expired = till.get("branches", token)
    assert expired.status_code == 401
    assert error_of(expired)["name"] == "Unauthorized"
    assert till.get("branches", till.login()).status_code == 200


def test_the_login_token_lifetime_is_configurable() -> None:
    till = open_till(login_token_ttl_seconds=600)
    token = till.login()
    till.clock.advance(600)
    assert till.get("branches", token).status_code == 401


def test_an_api_token_never_expires_and_acts_for_its_own_client_only(till: Till) -> None:
    # GIVEN a client's API token, and another client
    api_token = till.sim.add_api_token(till.client)
    other = till.sim.add_client("Anden butik ApS")
    # WHEN a year passes
    till.clock.advance(365 * 24 * 3600)
    # THEN it still works for its client, and is 401 (a token of another client) for the other
    assert till.call("GET", "branches", api_token, api_token=True).status_code == 200
    assert till.call("GET", "branches", api_token, api_token=True, client=other).status_code == 401
    # AND myclients lists its one client
    mine = till.http.get("clients/myclients", params={"api-token": api_token}).json()["data"]
    assert mine == [{"client": till.client, "client0": {"uid": till.client, "name": "Kaffebar ApS"}}]


def test_expiring_login_tokens_from_the_control_api_leaves_api_tokens_alone(till: Till) -> None:
    # GIVEN a login token and an API token
    token, api_token = till.login(), till.sim.add_api_token(till.client)
    # WHEN the control API expires the login tokens (what the chaos run does)
    answer = till.control("POST", "tokens/expire")
    # THEN the login token is 401, the API token still works
    assert answer.json() == {"expired": 1}
    assert till.get("branches", token).status_code == 401
    assert till.call("GET", "branches", api_token, api_token=True).status_code == 200


# --- choosing the tenant ---------------------------------------------------------------------------------------


def test_myclients_lists_every_client_the_login_may_act_for(till: Till) -> None:
    # GIVEN the owner may act for a second company too
    second = till.sim.add_client("Kaffebar Aarhus ApS")
    till.sim.grant(OWNER, second)
    token = till.login()
    # WHEN the owner lists their clients
    rows = till.http.get("clients/myclients", params={"accessToken": token}).json()["data"]
    # THEN both are offered, each with its uid and name
    assert [(row["client"], row["client0"]["name"]) for row in rows] == [
        (till.client, "Kaffebar ApS"),
        (second, "Kaffebar Aarhus ApS"),
    ]
    # AND the keyword narrows them
    narrowed = till.http.get("clients/myclients", params={"accessToken": token, "keyword": "aarhus"}).json()
    assert [row["client"] for row in narrowed["data"]] == [second]
    # AND the second client's branches are its own (none)
    assert till.call("GET", "branches", token, client=second).json()["data"] == []


def test_a_client_the_login_cannot_act_for_is_403(till: Till) -> None:
    # GIVEN a company the owner has no access to
    stranger = till.sim.add_client("Fremmed ApS")
    token = till.login()
    # WHEN the owner names it
    answer = till.call("GET", "branches", token, client=stranger)
    # THEN Shopbox answers 403; without any client it is 400 naming the parameter
    assert answer.status_code == 403
    assert error_of(answer)["name"] == "Forbidden"
    missing = till.http.get("branches", params={"accessToken": token})
    assert missing.status_code == 400
    assert error_of(missing)["errors"] == {"client": "is required"}


def test_a_revoked_client_is_403_and_a_changed_password_no_longer_logs_in(till: Till) -> None:
    # GIVEN a token of the owner
    token = till.login()
    # WHEN the owner loses access to the client, THEN calls naming it are 403
    till.sim.revoke(OWNER, till.client)
    assert till.get("branches", token).status_code == 403
    # WHEN the owner changes the password, THEN the old one is refused and the new one logs in
    till.sim.set_password(OWNER, "nyt-kodeord-7")
    refused = till.http.post("authenticate/credentials", json=credentials(OWNER, PASSWORD))
    assert refused.status_code == 401
    assert till.login(password="nyt-kodeord-7")


# --- branches, registers, tags ---------------------------------------------------------------------------------


def test_branches_carry_their_cash_registers(till: Till) -> None:
    token = till.login()
    branches = till.data("branches", token)
    assert [b["name"] for b in branches] == ["Nørrebro", "Vesterbro"]
    assert branches[1]["is_closed"] is False
    assert [r["name"] for r in branches[1]["cash_registers"]] == ["Kasse 1", "Kasse 2"]
    assert set(branches[0]) == {"uid", "name", "is_closed", "address0", "cash_registers"}
    # AND one branch and one register are read by uid, in `{"data": ...}`
    assert till.data(f"branches/{till.branch}", token)["name"] == "Nørrebro"
    register = till.data(f"cash-registers/{till.other_register}", token)
    assert register == {"uid": till.other_register, "name": "Kasse 2", "branch": till.other_branch}


def test_single_gets_can_answer_the_bare_object() -> None:
    till = open_till(wrap_single=False)
    answer = till.get(f"branches/{till.branch}", till.login()).json()
    assert answer["uid"] == till.branch and "data" not in answer


def test_an_unknown_branch_is_404_in_the_error_envelope(till: Till) -> None:
    token = till.login()
    for path in ("branches/999999", "branches/abc", f"cash-registers/{till.branch}"):
        answer = till.get(path, token)
        assert answer.status_code == 404, path
        assert error_of(answer)["status"] == 404


def test_tags_are_listed_with_id_and_name(till: Till) -> None:
    assert till.data("tags", till.login()) == [{"id": till.mugs, "name": "Krus"}, {"id": till.clothes, "name": "Tøj"}]


def test_a_tags_products_are_listed_for_a_register(till: Till) -> None:
    token = till.login()
    clothes = till.data(f"tags/{till.clothes}/products", token, cashRegister=till.register, **{"per-page": -1})
    assert [p["uid"] for p in clothes] == [till.tee["uid"]]
    assert till.get(f"tags/{till.clothes}/products", token, cashRegister=1).status_code == 422
    assert till.get("tags/999999/products", token).status_code == 404


# --- rate limit, faults, rules -----------------------------------------------------------------------------------


def test_the_sixth_request_in_a_second_is_429_with_retry_after(till: Till) -> None:
    # GIVEN two tokens of the same login
    token, other = till.login(), till.login()
    till.clock.advance(1)  # the logins' own second is over
    # WHEN one token makes six requests in the same second
    answers = [till.get("tags", token) for _ in range(6)]
    # THEN five pass and the sixth is 429 with Retry-After, worded in the error envelope
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].headers["Retry-After"] == "1"
    assert error_of(answers[-1])["name"] == "TooManyRequests"
    # AND the other token is not held back, and after the second the first passes again
    assert till.get("tags", other).status_code == 200
    till.clock.advance(1)
    assert till.get("tags", token).status_code == 200


def test_the_rate_limit_is_a_rule(till: Till) -> None:
    token = till.login()
    till.clock.advance(1)
    assert till.control("PUT", "rules", {"requests_per_second": 10}).status_code == 200
    assert [till.get("tags", token).status_code for _ in range(10)] == [200] * 10


def test_fault_switches_turn_on_500s_for_the_api_but_not_the_control_api(till: Till) -> None:
    token = till.login()
    # WHEN every request is to fail
    assert till.control("PUT", "faults", {"server_error_rate": 1.0}).status_code == 200
    # THEN the API answers 500 in the error envelope; the control API still answers
    answer = till.get("tags", token)
    assert answer.status_code == 500 and error_of(answer)["status"] == 500
    assert till.control("GET", "state").status_code == 200
    till.control("PUT", "faults", {"server_error_rate": 0.0})
    assert till.get("tags", token).status_code == 200


@pytest.mark.parametrize(
    ("switches", "named"),
    [({"server_eror_rate": 0.5}, "server_eror_rate"), ({"server_error_rate": 2}, "server_error_rate")],
)
def test_an_unknown_or_out_of_range_fault_switch_is_400_and_changes_nothing(
    till: Till, switches: dict[str, Any], named: str
) -> None:
    answer = till.control("PUT", "faults", {"latency_seconds": 0.5, **switches})
    assert answer.status_code == 400 and named in answer.json()["errors"]
    assert till.control("GET", "faults").json()["latency_seconds"] == 0.0


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ({"listing_delay": 5}, "listing_delay"),
        ({"newest_first": "yes"}, "newest_first"),
        ({"basket_lines_key": "rows"}, "basket_lines_key"),
    ],
)
def test_an_unknown_or_invalid_rule_is_400_and_changes_nothing(till: Till, rules: dict[str, Any], named: str) -> None:
    answer = till.control("PUT", "rules", {"listing_delay_seconds": 9, **rules})
    assert answer.status_code == 400 and named in error_of(answer)["errors"]
    assert till.control("GET", "rules").json()["listing_delay_seconds"] == 0.0


def test_an_unknown_path_or_method_is_answered_in_the_error_envelope(till: Till) -> None:
    token = till.login()
    unknown, wrong_method = till.get("registers", token), till.call("DELETE", "branches", token)
    assert (unknown.status_code, error_of(unknown)["name"]) == (404, "NotFound")
    assert (wrong_method.status_code, error_of(wrong_method)["name"]) == (405, "MethodNotAllowed")


@pytest.mark.parametrize(("shape", "key"), [("message", "message"), ("error_text", "error")])
def test_the_other_error_shapes_are_a_rule(shape: str, key: str) -> None:
    # GIVEN Shopbox words its errors as `{"message": ...}` or `{"error": "text"}`
    till = open_till(error_shape=shape)
    # WHEN a login fails, and a fault answers 500
    refused = till.http.post("authenticate/credentials", json=credentials(OWNER, "forkert"))
    token = till.login()
    till.sim.faults.server_error_rate = 1.0
    failed = till.get("tags", token)
    # THEN both carry the message alone, under the chosen key
    assert refused.status_code == 401 and refused.json() == {key: "Invalid username or password"}
    assert failed.status_code == 500 and failed.json() == {key: "Internal server error"}


def test_a_hung_request_is_cut_without_an_answer(till: Till) -> None:
    token = till.login()
    till.control("PUT", "faults", {"timeout_rate": 1.0, "hang_seconds": 0})
    with pytest.raises(httpx.ReadTimeout):
        till.get("tags", token)


# --- control API and snapshot ------------------------------------------------------------------------------------


def test_a_client_is_seeded_over_the_control_api(till: Till) -> None:
    # GIVEN a client made by control calls: a login, a branch with a register, a tag, a product and its stock
    made = till.control(
        "POST",
        "clients",
        {
            "name": "Bageriet ApS",
            "login": {"username": "bager@example.com", "password": "rugbrød-99"},
            "branches": [{"name": "Torvet", "city": "Odense", "cash_registers": ["Kasse A"]}],
            "tags": ["Brød"],
        },
    ).json()
    client, branch = made["uid"], made["branches"][0]
    product = till.control(
        "POST", f"clients/{client}/products", {"uid": None, "name": "Rugbrød", "selling_price": 3500}
    )
    stock = {"branch": branch["uid"], "product": product.json()["uid"], "quantity": 12}
    assert till.control("POST", f"clients/{client}/stock", stock).json()["quantity"] == 12
    assert till.control("GET", "state").json()["calls"] == 0  # control calls are not Shopbox's
    # WHEN the baker logs in through the API
    token = till.login("bager@example.com", "rugbrød-99")
    # THEN the API shows what was seeded
    assert till.call("GET", "branches", token, client=client).json()["data"][0]["address0"] == {"city_name": "Odense"}
    rows = till.call("GET", "product-inventories", token, client=client, params={"branch": branch["uid"]})
    assert [r["quantity"] for r in rows.json()["data"]] == [12]


def test_a_control_seed_with_a_bad_branch_is_422_and_makes_no_client(till: Till) -> None:
    before = len(till.sim.state.clients)
    answer = till.control("POST", "clients", {"name": "Halv ApS", "branches": [{"cash_registers": ["Kasse 1"]}]})
    assert answer.status_code == 422 and error_of(answer)["errors"] == {"branches[0].name": "is required"}
    assert len(till.sim.state.clients) == before


def test_the_state_snapshot_counts_and_holds_no_secret(till: Till) -> None:
    # GIVEN a login token and an API token in use
    token, api_token = till.login(), till.sim.add_api_token(till.client)
    till.get("tags", token)
    # WHEN the state is read over the control API
    snapshot = till.control("GET", "state").json()
    # THEN it counts the client's records and the tokens by kind
    counts = snapshot["clients"][0]["counts"]
    assert counts["branches"] == 2 and counts["cash_registers"] == 3 and counts["products"] == 2
    assert counts["variances"] == 2 and counts["inventories"] == 3
    assert snapshot["tokens"] == {"login_live": 1, "login_expired": 0, "api": 1}
    assert snapshot["calls_by_status"]["200"] == 1
    # AND no token, password or username appears anywhere in it
    text = json.dumps(snapshot)
    for secret in (token, api_token, PASSWORD, OWNER):
        assert secret not in text
    assert token not in repr(till.sim.state.tokens[token])


def test_served_under_the_local_endpoint_at_sim_shopbox(till: Till) -> None:
    # GIVEN the simulator mounted as the local stack mounts it
    endpoint = LocalEndpoint(lambda *call: (404, {}, b""), {"shopbox": (till.sim, "")})
    base = endpoint.start()
    try:
        with httpx.Client(base_url=f"{base}/_sim/shopbox") as http:
            # WHEN a client logs in and reads over real HTTP
            login = http.post("/api/v3/authenticate/credentials", json=credentials(OWNER, PASSWORD))
            token = login.json()["accessToken"]
            tags = http.get("/api/v3/tags", params={"accessToken": token, "client": till.client})
            state = http.get("/_control/state")
        # THEN the API is under /api/v3 and the control API beside it
        assert tags.status_code == 200 and len(tags.json()["data"]) == 2
        assert state.json()["system"] == "shopbox"
    finally:
        endpoint.stop()
