"""The Webshipper simulator behaves as `shared/reference/webshipper.md` says, seen through a real httpx client:
the password grant and API tokens, expiry on the virtual clock, JSON:API documents, `ext_ref` unique per order
channel, 429 with `Retry-After`, injected 5xx, the control API, and a snapshot without secrets. Lists (pages and
filters) are in test_webshipper_sim_lists.py, shipments, drop points and webhooks in test_webshipper_sim_shipping.py;
both use the `Account` built here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock_local.server import LocalEndpoint
from crossdock_local.sims.base import transport
from crossdock_local.sims.webshipper.simulator import WebshipperSimulator

ACCOUNT = "nordlager"
ROOT = "https://api.webshipper.test"
API = f"{ROOT}/{ACCOUNT}/v2/"
EMAIL = "lager@nordlager.dk"
PASSWORD = "hemmeligt-kodeord-42"
JSONAPI = "application/vnd.api+json"
EPOCH = 1_765_000_000


@dataclass
class Account:
    """A Webshipper account as a merchant's is set up for Rackbeat (seed 003): a user, GLS and a parcel-shop
    carrier, the channel Rackbeat sends to and a web shop's channel, a home-delivery rate and a drop-point rate."""

    sim: WebshipperSimulator
    clock: FakeClock
    sink: RecordingSink
    http: httpx.Client
    rackbeat: int  # order channel ids
    webshop: int
    home: int  # shipping rate ids
    parcel_shop: int
    gls: int  # carrier id

    def login(self, email: str = EMAIL, password: str = PASSWORD) -> str:
        answer = self.http.post(
            "oauth/token", params={"grant_type": "password", "username": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def call(self, method: str, path: str, token: str, body: Any = None, **kw: Any) -> httpx.Response:
        """A call as a JSON:API client makes it: bearer token, the JSON:API media type both ways."""
        headers = {"Authorization": f"Bearer {token}", "Accept": JSONAPI, "Content-Type": JSONAPI}
        content = None if body is None else json.dumps(body)
        return self.http.request(method, path, headers=headers, content=content, **kw)

    def order_document(self, ext_ref: str = "RB-1021", *, channel: int | None = None, rate: int | None = None) -> Any:
        """The sheet's example order, for `channel` (Rackbeat's) and the home-delivery rate; ids sent as numbers
        (seen W6) for the channel and as a string for the rate (the spec's way)."""
        return {
            "data": {
                "type": "orders",
                "attributes": {
                    "ext_ref": ext_ref,
                    "visible_ref": ext_ref.removeprefix("RB-"),
                    "currency": "DKK",
                    "delivery_address": {
                        "att_contact": "A. Jensen",
                        "address_1": "Vej 1",
                        "zip": "8000",
                        "city": "Aarhus",
                        "country_code": "DK",
                    },
                    "order_lines": [
                        {"sku": "ABC", "description": "Mug", "quantity": 2, "unit_price": 80.0, "vat_percent": 25.0,
                         "ext_ref": "L1", "weight": 350, "weight_unit": "g"},
                        {"sku": "TEE-M", "description": "T-shirt", "quantity": 1, "unit_price": 150.0,
                         "vat_percent": 25.0, "ext_ref": "L2", "weight": 0.2, "weight_unit": "kg"},
                    ],
                },
                "relationships": {
                    "order_channel": {"data": {"type": "order_channels", "id": channel or self.rackbeat}},
                    "shipping_rate": {"data": {"type": "shipping_rates", "id": str(rate or self.home)}},
                },
            }
        }  # fmt: skip

    def create_order(self, token: str, ext_ref: str = "RB-1021", **kw: Any) -> Any:
        answer = self.call("POST", "orders", token, self.order_document(ext_ref, **kw))
        assert answer.status_code == 201, answer.text
        return answer.json()["data"]


def open_account(*, sink_status: int | Exception = 200, seed: int | None = 7) -> Account:
    clock = FakeClock()
    sink = RecordingSink(sink_status)
    sim = WebshipperSimulator(clock=clock, seed=seed, epoch=EPOCH, webhook_sink=sink, public_url=ROOT)
    ids = sim.seed_account(
        ACCOUNT,
        users=[{"email": EMAIL, "password": PASSWORD}],
        carriers=[
            {"name": "GLS", "alias": "gls", "tracking_url": "https://gls-group.eu/track/{number}"},
            {
                "name": "PostNord",
                "alias": "postnord",
                "drop_points": [
                    {"drop_point_id": "PN-8000-1", "name": "Netto Aarhus C", "address_1": "Søndergade 1",
                     "zip": "8000", "city": "Aarhus", "country_code": "DK", "carrier_code": "postnord",
                     "opening_hours": [{"day": 0, "opens_at": "08:00", "closes_at": "21:00"}]},
                ],
            },
        ],
        channels=[{"channel_label": "Rackbeat"}, {"channel_label": "Webshop"}],
        rates=[
            {"name": "GLS Privat", "carrier": "gls", "channel": "Rackbeat", "price": 49.0},
            {"name": "PostNord Pakkeshop", "carrier": "postnord", "channel": "Rackbeat", "require_drop_point": True},
        ],
    )  # fmt: skip
    http = httpx.Client(transport=transport(sim), base_url=API)
    return Account(
        sim,
        clock,
        sink,
        http,
        rackbeat=ids["channels"]["Rackbeat"],
        webshop=ids["channels"]["Webshop"],
        home=ids["rates"]["GLS Privat"],
        parcel_shop=ids["rates"]["PostNord Pakkeshop"],
        gls=ids["carriers"]["gls"],
    )


def error_of(answer: httpx.Response) -> dict[str, Any]:
    """The first JSON:API error object of a refusal."""
    error: dict[str, Any] = answer.json()["errors"][0]
    assert error["status"] == str(answer.status_code)
    return error


@pytest.fixture
def account() -> Account:
    return open_account()


# ---- auth ---------------------------------------------------------------------------------------------------------


def test_the_password_grant_issues_a_bearer_token_that_opens_the_api(account: Account) -> None:
    # GIVEN the user's e-mail and password in the query string (seen W5)
    answer = account.http.post(
        "oauth/token", params={"grant_type": "password", "username": EMAIL.upper(), "password": PASSWORD}
    )
    # THEN an access token comes back (the e-mail matched regardless of case), Doorkeeper-shaped
    assert answer.status_code == 200, answer.text
    grant = answer.json()
    assert grant["token_type"] == "Bearer" and grant["expires_in"] == 7200
    # AND it opens the API, while a call without a token is 401 in JSON:API's error shape
    assert account.call("GET", "order_channels", grant["access_token"]).status_code == 200
    refused = account.http.get("order_channels")
    assert refused.status_code == 401 and "Bearer" in error_of(refused)["detail"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"grant_type": "password", "username": EMAIL, "password": "wrong"}, "invalid_grant"),
        ({"grant_type": "password", "username": "someone@else.dk", "password": PASSWORD}, "invalid_grant"),
        ({"grant_type": "client_credentials", "username": EMAIL, "password": PASSWORD}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": EMAIL}, "invalid_request"),
    ],
)
def test_a_wrong_grant_is_an_oauth_error_and_issues_nothing(
    account: Account, params: dict[str, str], error: str
) -> None:
    # WHEN the grant is wrong THEN OAuth's 400 names why, and no token was made
    answer = account.http.post("oauth/token", params=params)
    assert answer.status_code == 400 and answer.json()["error"] == error
    assert account.sim.snapshot()["tokens"]["oauth_live"] == 0


def test_a_grant_token_expires_on_the_virtual_clock_and_a_new_grant_works(account: Account) -> None:
    # GIVEN a token from the password grant
    token = account.login()
    # WHEN just under two hours pass THEN it still works; at two hours it is 401
    account.clock.advance(7199)
    assert account.call("GET", "orders", token).status_code == 200
    account.clock.advance(1)
    expired = account.call("GET", "orders", token)
    assert expired.status_code == 401 and "expired" in error_of(expired)["detail"]
    # AND re-authenticating once (what the client does on 401) gives a working token
    assert account.call("GET", "orders", account.login()).status_code == 200


def test_an_api_token_never_expires_but_a_deleted_user_breaks_grant_tokens(account: Account) -> None:
    # GIVEN a stored API token and a grant token
    api_token = account.sim.add_api_token(ACCOUNT)
    grant_token = account.login()
    # WHEN a year passes THEN the API token still works
    account.clock.advance(365 * 24 * 3600.0)
    assert account.call("GET", "orders", api_token).status_code == 200
    # WHEN the user is deleted in Webshipper (seed 003) THEN its fresh tokens are 401 and it cannot log in again
    fresh = account.login()
    account.sim.delete_user(ACCOUNT, EMAIL)
    assert account.call("GET", "orders", fresh).status_code == 401
    assert (
        account.http.post(
            "oauth/token", params={"grant_type": "password", "username": EMAIL, "password": PASSWORD}
        ).json()["error"]
        == "invalid_grant"
    )
    assert account.call("GET", "orders", grant_token).status_code == 401


def test_a_token_of_one_account_opens_no_other_account(account: Account) -> None:
    # GIVEN a second account
    account.sim.seed_account("other", users=[{"email": "x@other.dk", "password": "pw"}])
    token = account.login()
    # WHEN the first account's token calls the second one's API THEN 401; an unknown account is 404
    other = httpx.Client(transport=transport(account.sim), base_url=f"{ROOT}/other/v2/")
    assert other.get("orders", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    nowhere = httpx.Client(transport=transport(account.sim), base_url=f"{ROOT}/nowhere/v2/")
    assert nowhere.get("orders", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_expired_tokens_show_in_oauth_access_tokens_without_their_value(account: Account) -> None:
    # GIVEN a grant token that the control API expires
    token = account.login()
    assert account.sim.expire_tokens(ACCOUNT) == 1
    api_token = account.sim.add_api_token(ACCOUNT)
    # WHEN the tokens are listed THEN each shows `expires_in` as an epoch, never the token itself
    answer = account.call("GET", "oauth_access_tokens", api_token)
    assert answer.status_code == 200
    rows = answer.json()["data"]
    assert [r["type"] for r in rows] == ["oauth_access_tokens"] * 2
    assert rows[0]["attributes"]["expires_in"] == EPOCH
    assert rows[1]["attributes"]["expires_in"] is None
    assert token not in answer.text and api_token not in answer.text


def test_a_revoked_token_is_401_and_stays_listed_with_its_revoked_at(account: Account) -> None:
    # GIVEN two tokens of the account
    api_token = account.sim.add_api_token(ACCOUNT)
    token = account.login()
    listed = account.call("GET", "oauth_access_tokens", api_token).json()["data"]
    grant_id = listed[1]["id"]
    # WHEN the grant token is revoked THEN it is 401, the other token still works
    assert account.call("DELETE", f"oauth_access_tokens/{grant_id}", api_token).status_code == 204
    assert account.call("GET", "orders", token).status_code == 401
    assert account.call("GET", "orders", api_token).status_code == 200
    # AND it is listed with the moment it was revoked; an unknown token is 404
    rows = account.call("GET", "oauth_access_tokens", api_token, params={"filter[id]": grant_id}).json()["data"]
    assert rows[0]["attributes"]["revoked_at"].endswith("Z")
    assert account.call("DELETE", "oauth_access_tokens/99999", api_token).status_code == 404


# ---- JSON:API -----------------------------------------------------------------------------------------------------


def test_an_order_is_created_with_201_as_a_jsonapi_document_with_links_only_relationships(account: Account) -> None:
    token = account.login()
    # WHEN the sheet's example order is posted
    answer = account.call("POST", "orders", token, account.order_document())
    # THEN 201 with the JSON:API media type, a string id, the attributes and links-only relationships (seen W3)
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == JSONAPI
    data = answer.json()["data"]
    assert data["type"] == "orders" and isinstance(data["id"], str) and data["id"].isdigit()
    attributes = data["attributes"]
    assert attributes["status"] == "pending" and attributes["ext_ref"] == "RB-1021"
    assert [line["status"] for line in attributes["order_lines"]] == ["pending", "pending"]
    assert attributes["created_at"].endswith("Z") and attributes["created_at"][19] == "."
    channel = data["relationships"]["order_channel"]
    assert "data" not in channel
    assert channel["links"]["related"] == f"{API}order_channels/{account.rackbeat}"
    # AND every link is a route of the simulator: the related channel and the relationship itself answer
    related = account.call("GET", channel["links"]["related"], token)
    assert related.json()["data"]["attributes"]["channel_label"] == "Rackbeat"
    linkage = account.call("GET", channel["links"]["self"], token).json()
    assert linkage == {"data": {"type": "order_channels", "id": str(account.rackbeat)}}
    shipments = account.call("GET", data["relationships"]["shipments"]["links"]["related"], token)
    assert shipments.status_code == 200 and shipments.json()["data"] == []


def test_relationship_data_is_a_switch_and_plain_json_is_accepted(account: Account) -> None:
    # GIVEN the rule that adds the linkage (the other reading of JSON:API a client may meet)
    account.sim.rules.relationship_data = True
    token = account.login()
    # WHEN a client posts plain application/json (seen W5) THEN it is accepted, and the linkage is there
    answer = account.http.post("orders", headers={"Authorization": f"Bearer {token}"}, json=account.order_document())
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["relationships"]["shipping_rate"]["data"] == {
        "type": "shipping_rates",
        "id": str(account.home),
    }
    # AND a to-many relationship carries its linkage too, as its relationship route shows it
    order_id = answer.json()["data"]["id"]
    account.sim.ship(ACCOUNT, int(order_id))
    shown = account.call("GET", f"orders/{order_id}", token).json()["data"]["relationships"]["shipments"]
    (shipment,) = account.sim.shipments(ACCOUNT)
    assert shown["data"] == [{"type": "shipments", "id": shipment["id"]}]
    assert account.call("GET", shown["links"]["self"], token).json() == {"data": shown["data"]}
    # BUT a form body is 415
    form = account.http.post("orders", headers={"Authorization": f"Bearer {token}"}, data={"ext_ref": "x"})
    assert form.status_code == 415


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda d: d["data"]["relationships"].pop("order_channel"), "/data/relationships/order_channel"),
        (lambda d: d["data"]["relationships"]["order_channel"]["data"].update(id=99999),
         "/data/relationships/order_channel"),
        (lambda d: d["data"]["attributes"]["order_lines"][1].update(quantity=0),
         "/data/attributes/order_lines/1/quantity"),
        (lambda d: d["data"]["attributes"]["order_lines"][0].update(unit_price="80"),
         "/data/attributes/order_lines/0/unit_price"),
        (lambda d: d["data"]["attributes"]["order_lines"][0].update(weight_unit="stone"),
         "/data/attributes/order_lines/0/weight_unit"),
        (lambda d: d["data"]["attributes"]["delivery_address"].update(country_code="DNK"),
         "/data/attributes/delivery_address/country_code"),
        (lambda d: d["data"]["attributes"].update(currency="kroner"), "/data/attributes/currency"),
        (lambda d: d["data"]["attributes"].update(status="shipped"), "/data/attributes/status"),
    ],
)  # fmt: skip
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(account: Account, change: Any, pointer: str) -> None:
    token = account.login()
    document = account.order_document()
    change(document)
    # WHEN a malformed order is posted THEN 422 whose pointer and detail name the field
    answer = account.call("POST", "orders", token, document)
    assert answer.status_code == 422, answer.text
    error = error_of(answer)
    assert error["source"]["pointer"] == pointer
    assert pointer.removeprefix("/data/").split("/")[-1] in error["detail"]
    # AND no order exists, no webhook was queued
    assert account.sim.orders(ACCOUNT) == [] and account.sim.pending() == []


def test_a_document_of_another_type_is_409_and_an_unknown_route_404_in_jsonapi_shape(account: Account) -> None:
    token = account.login()
    wrong = account.call("POST", "orders", token, {"data": {"type": "shipments", "attributes": {}}})
    assert wrong.status_code == 409 and error_of(wrong)["source"]["pointer"] == "/data/type"
    assert error_of(account.call("GET", "orders/abc", token))["status"] == "404"
    assert error_of(account.call("GET", "parcels", token))["status"] == "404"
    assert error_of(account.call("PUT", "orders", token))["status"] == "405"


# ---- ext_ref ------------------------------------------------------------------------------------------------------


def test_ext_ref_is_unique_per_order_channel(account: Account) -> None:
    token = account.login()
    first = account.create_order(token, "RB-1021")
    # WHEN the same ext_ref is posted again in the same channel (a retry after a lost response) THEN 422
    again = account.call("POST", "orders", token, account.order_document("RB-1021"))
    assert again.status_code == 422
    assert error_of(again)["source"]["pointer"] == "/data/attributes/ext_ref"
    # AND the lookup the client makes before posting finds the one order
    found = account.call("GET", "orders", token, params={"filter[ext_ref]": "RB-1021"}).json()["data"]
    assert [o["id"] for o in found] == [first["id"]]
    # BUT the same ext_ref in another channel is another order
    assert account.create_order(token, "RB-1021", channel=account.webshop)["id"] != first["id"]
    # AND a PATCH may not take another order's ext_ref in its channel
    second = account.create_order(token, "RB-1022")
    taken = account.call(
        "PATCH", f"orders/{second['id']}", token, {"data": {"type": "orders", "id": second["id"],
                                                            "attributes": {"ext_ref": "RB-1021"}}}
    )  # fmt: skip
    assert taken.status_code == 422


def test_unique_ext_ref_is_a_switch(account: Account) -> None:
    account.sim.rules.unique_ext_ref = False
    token = account.login()
    account.create_order(token, "RB-1")
    assert account.call("POST", "orders", token, account.order_document("RB-1")).status_code == 201


# ---- rates and status ---------------------------------------------------------------------------------------------


def test_an_order_without_a_known_rate_is_missing_rate_until_a_rate_is_set(account: Account) -> None:
    token = account.login()
    order = account.create_order(token, rate=99999)
    assert order["attributes"]["status"] == "missing_rate"
    # WHEN the rate is patched in THEN the order is pending
    patched = account.call(
        "PATCH", f"orders/{order['id']}", token,
        {"data": {"type": "orders", "id": int(order["id"]),
                  "relationships": {"shipping_rate": {"data": {"type": "shipping_rates", "id": account.home}}}}},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["attributes"]["status"] == "pending"


def test_a_drop_point_rate_without_a_drop_point_is_an_error_until_one_is_set(account: Account) -> None:
    token = account.login()
    order = account.create_order(token, rate=account.parcel_shop)
    assert order["attributes"]["status"] == "error"
    assert "drop point" in order["attributes"]["error_message"]
    point = {"drop_point_id": "PN-8000-1", "name": "Netto Aarhus C", "zip": "8000", "country_code": "DK"}
    patched = account.call(
        "PATCH", f"orders/{order['id']}", token,
        {"data": {"type": "orders", "attributes": {"drop_point": point}}},
    )  # fmt: skip
    attributes = patched.json()["data"]["attributes"]
    assert attributes["status"] == "pending" and attributes["error_message"] is None


def test_patch_dispatched_marks_every_line_and_delete_removes_the_order(account: Account) -> None:
    token = account.login()
    order = account.create_order(token)
    sent = account.call(
        "PATCH", f"orders/{order['id']}", token, {"data": {"type": "orders", "attributes": {"status": "dispatched"}}}
    ).json()["data"]["attributes"]
    assert sent["status"] == "dispatched"
    assert {line["status"] for line in sent["order_lines"]} == {"dispatched"}
    other = account.create_order(token, "RB-2")
    assert account.call("DELETE", f"orders/{other['id']}", token).status_code == 204
    assert account.call("GET", f"orders/{other['id']}", token).status_code == 404


# ---- rate limits and faults ---------------------------------------------------------------------------------------


def test_a_burst_beyond_the_bucket_is_429_with_retry_after_and_the_bucket_refills(account: Account) -> None:
    token = account.sim.add_api_token(ACCOUNT)
    # GIVEN 40 calls at one instant (the burst) WHEN one more comes THEN 429 with Retry-After
    answers = [account.call("GET", "order_channels", token).status_code for _ in range(41)]
    assert answers == [200] * 40 + [429]
    refused = account.call("GET", "order_channels", token)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert error_of(refused)["title"] == "Too Many Requests"
    # WHEN a second passes THEN two more calls go through (2 a second), the third waits again
    account.clock.advance(1)
    assert [account.call("GET", "order_channels", token).status_code for _ in range(3)] == [200, 200, 429]


def test_injected_server_errors_are_sporadic_5xx_in_jsonapi_shape_and_seeded() -> None:
    def statuses() -> list[int]:
        account = open_account(seed=3)
        token = account.sim.add_api_token(ACCOUNT)
        account.sim.faults.server_error_rate = 0.5
        return [account.call("GET", "order_channels", token).status_code for _ in range(30)]

    first = statuses()
    assert first == statuses()  # a seeded run replays the same answers
    assert set(first) - {200} <= {500, 502, 503} and 200 in first and len(set(first)) > 1


def test_a_dropped_response_still_committed_the_order(account: Account) -> None:
    token = account.login()
    account.sim.faults.drop_response_rate = 1.0
    with pytest.raises(httpx.ReadError):
        account.call("POST", "orders", token, account.order_document("RB-9"))
    account.sim.faults.drop_response_rate = 0.0
    # THEN the retry is 422 (the ext_ref exists) and the lookup adopts the committed order
    assert account.call("POST", "orders", token, account.order_document("RB-9")).status_code == 422
    assert len(account.call("GET", "orders", token, params={"filter[ext_ref]": "RB-9"}).json()["data"]) == 1


# ---- control API --------------------------------------------------------------------------------------------------


def test_the_control_api_seeds_an_account_and_validates_fault_switches_and_rules() -> None:
    sim = WebshipperSimulator(clock=FakeClock(), epoch=EPOCH)
    control = httpx.Client(transport=transport(sim), base_url=f"{ROOT}/_control/")
    seeded = control.post(
        "accounts",
        json={"name": "lager2", "users": [{"email": "a@b.dk", "password": "pw"}],
              "carriers": [{"name": "GLS", "alias": "gls"}], "channels": [{"channel_label": "Rackbeat"}],
              "rates": [{"name": "GLS", "carrier": "gls", "channel": "Rackbeat"}]},
    )  # fmt: skip
    assert seeded.status_code == 201, seeded.text
    assert control.post("accounts", json={"name": "lager2"}).status_code == 409
    bad = control.post("accounts", json={"name": "x", "rates": [{"name": "r", "carrier": "dhl", "channel": "c"}]})
    assert bad.status_code == 400 and "rates.0.carrier" in bad.text
    token = control.post("accounts/lager2/api-tokens").json()["token"]
    assert control.post("accounts/nowhere/api-tokens").status_code == 404
    # an order placed in Webshipper from another channel, through the same rules as the API
    channel = {"data": {"type": "order_channels", "id": seeded.json()["channels"]["Rackbeat"]}}
    document = {
        "data": {
            "type": "orders",
            "attributes": {"ext_ref": "WEB-1", "order_lines": []},
            "relationships": {"order_channel": channel},
        }
    }
    placed = control.post("accounts/lager2/orders", json=document)
    assert placed.status_code == 201 and placed.json()["data"]["attributes"]["status"] == "missing_rate"
    assert control.post("accounts/lager2/orders", json=document).status_code == 422
    api = httpx.Client(transport=transport(sim), base_url=f"{ROOT}/lager2/v2/")
    assert len(api.get("orders", headers={"Authorization": f"Bearer {token}"}).json()["data"]) == 1
    # fault switches: webhook ones are accepted (Webshipper sends webhooks), out of range refused naming it
    assert control.put("faults", json={"webhook_duplicate_rate": 0.5, "server_error_rate": 0.1}).status_code == 200
    assert sim.delivery_faults.duplicate_rate == 0.5
    refused = control.put("faults", json={"webhook_lose_rate": 2, "throttle_rate": 0.2})
    assert refused.status_code == 400 and "webhook_lose_rate" in refused.json()["errors"]
    assert sim.faults.throttle_rate == 0.0  # nothing changed
    assert control.put("rules", json={"token_ttl_seconds": 60}).json()["token_ttl_seconds"] == 60
    assert control.put("rules", json={"burst": 0}).status_code == 400
    assert control.put("rules", json={"colour": "red"}).status_code == 400


def test_the_snapshot_counts_everything_and_shows_no_secret(account: Account) -> None:
    token = account.login()
    api_token = account.sim.add_api_token(ACCOUNT)
    account.create_order(token)
    account.call(
        "POST", "webhooks", token,
        {"data": {"type": "webhooks", "attributes": {"url": "https://hooks.test/ws", "topic": "order/created",
                                                     "secret": "webhook-secret-123"}}},
    )  # fmt: skip
    control = httpx.Client(transport=transport(account.sim), base_url=f"{ROOT}/_control/")
    state = control.get("state")
    assert state.status_code == 200
    snapshot = state.json()
    (row,) = snapshot["accounts"]
    assert row["counts"]["orders"] == 1 and row["orders_by_status"] == {"pending": 1}
    assert row["webhooks"] == [{"id": row["webhooks"][0]["id"], "topic": "order/created", "enabled": True,
                                "health": "healthy"}]  # fmt: skip
    assert snapshot["tokens"] == {"oauth_live": 1, "oauth_expired": 0, "api": 1}
    for secret in (token, api_token, PASSWORD, EMAIL, "webhook-secret-123"):
        assert secret not in state.text
    for secret in (token, api_token, PASSWORD, "webhook-secret-123"):
        assert secret not in repr(account.sim.state)


def test_served_under_the_local_endpoint_at_sim_webshipper(account: Account) -> None:
    # GIVEN the simulator mounted as the local stack mounts it, its links built on the mounted address
    endpoint = LocalEndpoint(lambda *call: (404, {}, b""), {"webshipper": (account.sim, "")})
    base = endpoint.start()
    account.sim.public_url = f"{base}/_sim/webshipper"
    try:
        with httpx.Client(base_url=f"{base}/_sim/webshipper") as http:
            # WHEN a client takes a token and follows a link over real HTTP
            grant = http.post(
                f"/{ACCOUNT}/v2/oauth/token",
                params={"grant_type": "password", "username": EMAIL, "password": PASSWORD},
            )
            headers = {"Authorization": f"Bearer {grant.json()['access_token']}", "Accept": JSONAPI}
            rates = http.get(f"/{ACCOUNT}/v2/shipping_rates", headers=headers)
            carrier = http.get(rates.json()["data"][0]["relationships"]["carrier"]["links"]["related"], headers=headers)
            state = http.get("/_control/state")
        # THEN the API is under /<account>/v2, every link resolves, and the control API is beside it
        assert rates.status_code == 200 and len(rates.json()["data"]) == 2
        assert carrier.json()["data"]["attributes"]["alias"] == "gls"
        assert state.json()["system"] == "webshipper"
    finally:
        endpoint.stop()
