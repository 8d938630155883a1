"""Shopify simulator, app side: install (OAuth), expiring tokens and their rotation, uninstall, privacy webhooks.

HTTP parts (token endpoint, control routes, the Admin API refusing tokens) go through the simulator's HTTP handling
with an httpx client, as Crossdock's own client would; signatures are checked independently of the simulator's code
(fact sheet `../shared/reference/shopify.md`, "App install" and "Webhooks").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from sim_fakes import FakeClock, RecordingSink

from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "nordlys-design.myshopify.com"
SECRET = "shpss_add_shop_secret"
TOKEN = "shpat_add_shop"
CLIENT_ID = "crossdock-client-id"
CLIENT_SECRET = "shpss_crossdock_client_secret"
CALLBACK = "https://crossdock.example.com/shopify/callback"
COMPLIANCE = "https://crossdock.example.com/shopify/compliance"
HOOK = "https://crossdock.example.com/shopify/webhooks"
GRAPHQL = "/admin/api/2026-04/graphql.json"
TOKEN_PATH = "/admin/oauth/access_token"
PROBE = '{ order(id: "gid://shopify/Order/1") { id } }'
INVALID = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def make_sim(clock: FakeClock | None = None, sink: RecordingSink | None = None, **app: Any) -> ShopifySimulator:
    sim = ShopifySimulator(clock=clock or FakeClock(), webhook_sink=sink or RecordingSink(), seed=5)
    sim.add_shop(SHOP, SECRET, TOKEN)
    settings: dict[str, Any] = {
        "scopes": "read_orders,write_inventory",
        "compliance_uri": COMPLIANCE,
        "redirect_uris": [CALLBACK],
        **app,
    }
    sim.register_app(CLIENT_ID, CLIENT_SECRET, **settings)
    return sim


def client(sim: ShopifySimulator, token: str | None = None) -> httpx.Client:
    headers = {"X-Shopify-Access-Token": token} if token else {}
    return httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}", headers=headers)


def hex_hmac(secret: str, params: dict[str, str]) -> str:
    """The fact sheet's recipe, written out independently: drop hmac, sort, join k=v with &, hex digest."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("hmac", "signature"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def authorize_url(scope: str | None = "read_orders,write_products", state: str = "nonce-123", **extra: str) -> str:
    query = {"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": state, **extra}
    if scope is not None:
        query["scope"] = scope
    return f"https://{SHOP}/admin/oauth/authorize?{urlencode(query)}"


def callback_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def token_request(sim: ShopifySimulator, **body: str) -> httpx.Response:
    with client(sim) as http:
        return http.post(TOKEN_PATH, json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **body})


def install(sim: ShopifySimulator, **approve: Any) -> dict[str, Any]:
    """Approve and redeem the code; the token answer."""
    code = callback_params(sim.approve(SHOP, authorize_url(), **approve))["code"]
    response = token_request(sim, code=code)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def refresh(sim: ShopifySimulator, refresh_token: str) -> httpx.Response:
    return token_request(sim, grant_type="refresh_token", refresh_token=refresh_token)


def admin_status(sim: ShopifySimulator, token: str) -> int:
    with client(sim, token) as http:
        response = http.post(GRAPHQL, json={"query": PROBE})
    if response.status_code == 401:
        assert response.json() == {"errors": INVALID}
    return response.status_code


def hmac_b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# ---- install request and approval ----------------------------------------------------------------------------------


def test_install_query_hmac_verifies_with_the_client_secret_only() -> None:
    clock = FakeClock()
    sim = make_sim(clock)
    clock.now += 42.9

    query = sim.install_request(SHOP, CLIENT_ID)

    assert set(query) == {"hmac", "host", "shop", "timestamp"}
    assert hmac.compare_digest(query["hmac"], hex_hmac(CLIENT_SECRET, query))
    assert not hmac.compare_digest(query["hmac"], hex_hmac("shpss_someone_else", query))
    assert query["shop"] == SHOP
    assert base64.b64decode(query["host"]).decode() == "admin.shopify.com/store/nordlys-design"
    assert int(query["timestamp"]) == int(sim.now().timestamp())
    with client(sim) as http:
        routed = http.get(f"/_control/shops/{SHOP}/install", params={"client_id": CLIENT_ID})
        unknown = http.get(f"/_control/shops/{SHOP}/install", params={"client_id": "nope"})
    assert routed.status_code == 200 and routed.json() == {"query": query}
    assert unknown.status_code == 400


def test_approve_signs_the_callback_and_the_code_redeems_once() -> None:
    sim = make_sim()
    with client(sim) as http:
        approved = http.post(f"/_control/shops/{SHOP}/approve", json={"authorize_url": authorize_url()})
    assert approved.status_code == 200
    callback = approved.json()["callback_url"]
    assert callback.startswith(f"{CALLBACK}?")
    params = callback_params(callback)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert (params["shop"], params["state"]) == (SHOP, "nonce-123")
    assert hmac.compare_digest(params["hmac"], hex_hmac(CLIENT_SECRET, params))

    first = token_request(sim, code=params["code"])
    again = token_request(sim, code=params["code"])

    assert first.status_code == 200
    answer = first.json()
    assert set(answer) == {"access_token", "scope", "expires_in", "refresh_token", "refresh_token_expires_in"}
    assert answer["scope"] == "read_orders,write_products"  # what the URL asked for
    assert (answer["expires_in"], answer["refresh_token_expires_in"]) == (3600, 90 * 24 * 3600)
    assert admin_status(sim, answer["access_token"]) == 200
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert sim.token_requests == {"authorization_code": 1}
    shop = sim.shop(SHOP)
    assert (shop.app_client_id, shop.app_secret) == (CLIENT_ID, CLIENT_SECRET)  # webhooks now signed by the app


def test_granted_scopes_follow_the_merchant_then_the_url_then_the_app() -> None:
    sim = make_sim()
    assert install(sim, grant_scopes="read_orders")["scope"] == "read_orders"
    code = callback_params(sim.approve(SHOP, authorize_url(scope=None)))["code"]
    assert token_request(sim, code=code).json()["scope"] == "read_orders,write_inventory"


def test_form_encoded_request_and_non_expiring_app() -> None:
    sim = make_sim(expiring_tokens=False)
    code = callback_params(sim.approve(SHOP, authorize_url()))["code"]
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code}
    with client(sim) as http:
        response = http.post(TOKEN_PATH, data=form)
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "scope"}


def test_refused_token_requests() -> None:
    clock = FakeClock()
    sim = make_sim(clock)
    code = callback_params(sim.approve(SHOP, authorize_url()))["code"]

    wrong_secret = token_request(sim, code=code, client_secret="shpss_wrong")
    missing = token_request(sim)
    unknown_code = token_request(sim, code="not-a-code")
    clock.now += 601  # the code lived ten minutes (Guess)
    expired = token_request(sim, code=code)

    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (400, "invalid_client")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert (unknown_code.status_code, unknown_code.json()["error"]) == (400, "invalid_grant")
    assert (expired.status_code, expired.json()["error"]) == (400, "invalid_grant")
    assert all("error_description" in r.json() for r in (wrong_secret, missing, unknown_code, expired))
    assert sim.token_requests == {}


def test_approve_refuses_unknown_app_unlisted_redirect_and_foreign_urls() -> None:
    sim = make_sim()
    unknown = authorize_url().replace(CLIENT_ID, "stranger")
    elsewhere = authorize_url().replace(urlencode({"x": CALLBACK})[2:], "https%3A%2F%2Fevil.example%2Fcb")
    with pytest.raises(ValueError, match="Could not find Shopify API application"):
        sim.approve(SHOP, unknown)
    with pytest.raises(ValueError, match="redirect_uri is not whitelisted"):
        sim.approve(SHOP, elsewhere)
    with pytest.raises(ValueError, match="authorize"):
        sim.approve(SHOP, f"https://{SHOP}/admin/oauth/other?client_id={CLIENT_ID}")
    with client(sim) as http:
        refused = http.post(f"/_control/shops/{SHOP}/approve", json={"authorize_url": elsewhere})
    assert refused.status_code == 400 and "whitelisted" in refused.json()["errors"]


def test_install_into_a_shop_the_simulator_did_not_know() -> None:
    sim = make_sim()
    domain = "ny-butik.myshopify.com"
    url = authorize_url().replace(SHOP, domain)
    code = callback_params(sim.approve(domain, url))["code"]
    answer = token_request(sim, code=code).json()
    with client(sim, answer["access_token"]) as http:
        assert http.post(GRAPHQL, json={"query": PROBE}).status_code == 200
    assert sim.shop(domain).app_client_id == CLIENT_ID
    with pytest.raises(ValueError, match="myshopify"):
        sim.install_request("evil.example.com", CLIENT_ID)


# ---- expiring tokens and rotation ----------------------------------------------------------------------------------


def test_expiring_token_works_until_its_lifetime_then_401() -> None:
    clock = FakeClock()
    sim = make_sim(clock, token_lifetime=120.0)
    answer = install(sim)
    assert answer["expires_in"] == 120

    clock.now += 119
    assert admin_status(sim, answer["access_token"]) == 200
    clock.now += 1
    assert admin_status(sim, answer["access_token"]) == 401
    assert admin_status(sim, TOKEN) == 200  # the add_shop token never expires


def test_refresh_rotation_keeps_the_old_refresh_token_until_the_replacement_is_used() -> None:
    sim = make_sim()
    first = install(sim)

    lost = refresh(sim, first["refresh_token"])  # pretend this answer never reached the app
    retry = refresh(sim, first["refresh_token"])  # the app retries with the token it still holds
    assert lost.status_code == retry.status_code == 200
    second = retry.json()
    assert second["refresh_token"] not in (first["refresh_token"], lost.json()["refresh_token"])
    assert refresh(sim, first["refresh_token"]).status_code == 200  # still unused replacements: still valid

    assert admin_status(sim, second["access_token"]) == 200  # the app starts using the replacement

    retired = refresh(sim, first["refresh_token"])
    assert (retired.status_code, retired.json()["error"]) == (400, "invalid_grant")
    assert refresh(sim, lost.json()["refresh_token"]).status_code == 400  # abandoned sibling (Guess)
    assert refresh(sim, second["refresh_token"]).status_code == 200
    assert sim.token_requests == {"authorization_code": 1, "refresh_token": 4}


def test_refreshing_with_the_replacement_retires_the_old_refresh_token() -> None:
    sim = make_sim()
    first = install(sim)
    second = refresh(sim, first["refresh_token"]).json()

    third = refresh(sim, second["refresh_token"])

    assert third.status_code == 200
    assert refresh(sim, first["refresh_token"]).status_code == 400
    assert admin_status(sim, first["access_token"]) == 200  # issued access tokens live out their hour


def test_drop_token_responses_commits_the_grant_and_loses_the_answer() -> None:
    sim = make_sim()
    code = callback_params(sim.approve(SHOP, authorize_url()))["code"]
    sim.drop_token_responses = 1

    with pytest.raises(httpx.ReadError):
        token_request(sim, code=code)

    assert sim.drop_token_responses == 0
    assert sim.token_requests == {"authorization_code": 1}  # committed
    assert token_request(sim, code=code).json()["error"] == "invalid_grant"  # the code was spent

    answer = install(sim)
    sim.drop_token_responses = 1
    with pytest.raises(httpx.ReadError):
        refresh(sim, answer["refresh_token"])
    assert refresh(sim, answer["refresh_token"]).status_code == 200  # the retained token recovers


def test_server_error_fault_on_the_token_endpoint_commits_nothing() -> None:
    sim = make_sim()
    code = callback_params(sim.approve(SHOP, authorize_url()))["code"]
    sim.faults.server_error_rate = 1.0
    assert token_request(sim, code=code).status_code in (502, 503)
    sim.faults.server_error_rate = 0.0
    assert token_request(sim, code=code).status_code == 200


def test_random_drop_fault_applies_to_the_token_endpoint() -> None:
    sim = make_sim()
    code = callback_params(sim.approve(SHOP, authorize_url()))["code"]
    sim.faults.drop_response_rate = 1.0
    with pytest.raises(httpx.ReadError):
        token_request(sim, code=code)
    assert sim.token_requests == {"authorization_code": 1}


# ---- uninstall -----------------------------------------------------------------------------------------------------


def test_uninstall_emits_app_uninstalled_then_revokes_tokens_and_subscriptions() -> None:
    sink = RecordingSink()
    sim = make_sim(sink=sink)
    for topic in ("app/uninstalled", "orders/create"):
        sim.subscribe(SHOP, topic, HOOK)
    oauth = install(sim)

    sim.uninstall(SHOP)

    assert sim.deliver().delivered == 1
    (url, headers, body), *_ = sink.by_topic("app/uninstalled")
    assert url == HOOK
    assert headers["X-Shopify-Hmac-Sha256"] == hmac_b64(CLIENT_SECRET, body)
    payload = json.loads(body)
    expected = {"id", "name", "email", "domain", "myshopify_domain", "country_code", "currency", "plan_name"}
    assert expected | {"created_at", "updated_at"} <= set(payload)
    assert (payload["myshopify_domain"], payload["currency"]) == (SHOP, "DKK")
    for token in (TOKEN, oauth["access_token"]):
        assert admin_status(sim, token) == 401
    assert refresh(sim, oauth["refresh_token"]).status_code == 400
    assert sim.shop(SHOP).subscriptions == []
    sim.create_order(SHOP, {"line_items": []})
    assert sim.deliver().delivered == 0

    again = install(sim)  # the merchant can install again
    assert admin_status(sim, again["access_token"]) == 200
    assert sim.shop(SHOP).uninstalled_at is None


def test_uninstall_of_an_add_shop_shop() -> None:
    sink = RecordingSink()
    sim = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=2)
    sim.add_shop(SHOP, SECRET, TOKEN)
    sim.subscribe(SHOP, "APP_UNINSTALLED", HOOK)

    sim.uninstall(SHOP)
    sim.deliver()

    _, headers, body = sink.calls[0]
    assert headers["X-Shopify-Topic"] == "app/uninstalled"
    assert headers["X-Shopify-Hmac-Sha256"] == hmac_b64(SECRET, body)
    assert admin_status(sim, TOKEN) == 401


def test_drop_subscriptions_removes_them_without_telling_the_app() -> None:
    sink = RecordingSink()
    sim = make_sim(sink=sink)
    sim.subscribe(SHOP, "orders/create", HOOK)
    sim.subscribe(SHOP, "orders/create", "https://backup.example.com/hooks")
    sim.subscribe(SHOP, "orders/paid", HOOK)
    sim.create_order(SHOP, {"line_items": []})  # queued before the removal: discarded with it

    assert sim.drop_subscriptions(SHOP, "orders/create") == 2
    assert sim.drop_subscriptions(SHOP, "ORDERS_CREATE") == 0

    assert [s.topic for s in sim.shop(SHOP).subscriptions] == ["orders/paid"]
    sim.create_order(SHOP, {"line_items": []}, paid=True)
    sim.deliver()
    assert [headers["X-Shopify-Topic"] for _, headers, _ in sink.calls] == ["orders/paid"]


# ---- mandatory privacy webhooks ------------------------------------------------------------------------------------

CUSTOMER_ORDER = {
    "email": "mette@example.com",
    "phone": "+4512345678",
    "customer": {"email": "mette@example.com", "phone": "+4512345678", "first_name": "Mette"},
    "line_items": [],
}


def test_privacy_webhooks_shapes_and_signatures() -> None:
    sink = RecordingSink()
    sim = make_sim(sink=sink)
    install(sim)
    order = sim.create_order(SHOP, CUSTOMER_ORDER)
    customer_id = order["customer"]["id"]

    data_request = sim.request_customer_data(SHOP, customer_id, [order["id"]])
    sim.redact_customer(SHOP, 999, [1, 2])
    sim.uninstall(SHOP)
    sim.redact_shop(SHOP)  # works after uninstall: Shopify sends it 48 h later
    sim.deliver()

    shop_ref = {"shop_id": data_request["shop_id"], "shop_domain": SHOP}
    assert isinstance(shop_ref["shop_id"], int)
    expected = {
        "customers/data_request": {
            **shop_ref,
            "orders_requested": [order["id"]],
            "customer": {"id": customer_id, "email": "mette@example.com", "phone": "+4512345678"},
            "data_request": {"id": data_request["data_request"]["id"]},
        },
        "customers/redact": {
            **shop_ref,
            "customer": {"id": 999, "email": None, "phone": None},
            "orders_to_redact": [1, 2],
        },
        "shop/redact": shop_ref,
    }
    for topic, payload in expected.items():
        (url, headers, body), *_ = sink.by_topic(topic)
        assert url == COMPLIANCE
        assert json.loads(body) == payload
        assert hmac.compare_digest(headers["X-Shopify-Hmac-Sha256"], hmac_b64(CLIENT_SECRET, body))
        assert headers["X-Shopify-Shop-Domain"] == SHOP
        assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"] and headers["X-Shopify-Triggered-At"]


def test_privacy_webhook_needs_a_compliance_uri() -> None:
    sink = RecordingSink()
    sim = ShopifySimulator(clock=FakeClock(), webhook_sink=sink, seed=3)
    sim.add_shop(SHOP, SECRET, TOKEN)
    with pytest.raises(ValueError, match="compliance"):
        sim.redact_shop(SHOP)

    sim.redact_shop(SHOP, uri="https://explicit.example.com/gdpr")
    sim.deliver()
    url, headers, body = sink.calls[0]
    assert url == "https://explicit.example.com/gdpr"
    assert headers["X-Shopify-Hmac-Sha256"] == hmac_b64(SECRET, body)


# ---- control API: state ----------------------------------------------------------------------------------------------


def test_the_control_state_counts_each_shops_records_and_shows_no_secret() -> None:
    # GIVEN a shop installed through OAuth (expiring tokens), with a product, an order and its pending webhook,
    # and a second shop added directly
    sim = make_sim()
    tokens = install(sim)
    sim.subscribe(SHOP, "orders/create", HOOK)
    sim.create_product(SHOP, {"title": "Kop", "variants": [{"sku": "MUG-S"}, {"sku": "MUG-L"}]})
    sim.create_order(SHOP, {"email": "a@example.com", "line_items": [{"sku": "MUG-S", "quantity": 1, "price": "49"}]})
    sim.add_shop("second.myshopify.com", "shpss_second_secret", "shpat_second")
    # WHEN an operator reads the state through the control API
    with client(sim) as http:
        answer = http.get("/_control/state")
    # THEN each shop shows its counts and whether it is installed
    assert answer.status_code == 200
    state = answer.json()
    shops = {shop["domain"]: shop for shop in state["shops"]}
    assert shops[SHOP]["installed"] is True and shops[SHOP]["app_client_id"] == CLIENT_ID
    assert shops[SHOP]["counts"] == {
        "orders": 1,
        "products": 1,
        "variants": 2,
        "locations": 1,
        "subscriptions": 1,
        "pending_deliveries": 1,
    }
    assert shops["second.myshopify.com"]["counts"]["orders"] == 0
    assert state["system"] == "shopify" and state["webhooks"]["pending"] == 1
    # AND no token or secret appears anywhere in it
    secrets = [SECRET, TOKEN, CLIENT_SECRET, "shpss_second_secret", "shpat_second"]
    secrets += [tokens["access_token"], tokens["refresh_token"]]
    assert all(secret and secret not in answer.text for secret in secrets)
    # WHEN the app is uninstalled THEN the state says so
    sim.uninstall(SHOP)
    with client(sim) as http:
        after = {shop["domain"]: shop for shop in http.get("/_control/state").json()["shops"]}
    assert after[SHOP]["installed"] is False and after[SHOP]["counts"]["subscriptions"] == 0
