"""Shopify app install, the pure parts: signed query strings, the timestamp window, shop domains, scopes, and the
token endpoint's answers (reference/shopify.md, "App install")."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from crossdock.connectors.shopify import oauth
from crossdock.errors import RetryableError
from crossdock.integrations.rackbeat_shopify import scopes
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings

SECRET = "hush-client-secret"
NOW = 1_780_000_000.0


def shopify_signed(params: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    """Signed as Shopify documents it, written out independently of the code under test."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def install_request(**changes: str) -> dict[str, str]:
    params = {
        "shop": "acme.myshopify.com",
        "timestamp": str(int(NOW)),
        "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ",
    }
    return {**params, **changes}


# -- signed query strings --------------------------------------------------------------------------------------------


def test_a_request_signed_with_the_client_secret_is_accepted() -> None:
    assert oauth.query_is_signed(shopify_signed(install_request()), [SECRET])


def test_a_tampered_parameter_breaks_the_signature() -> None:
    signed = shopify_signed(install_request())
    assert not oauth.query_is_signed({**signed, "shop": "evil.myshopify.com"}, [SECRET])
    assert not oauth.query_is_signed({**signed, "timestamp": str(int(NOW) + 1)}, [SECRET])
    assert not oauth.query_is_signed({**signed, "extra": "1"}, [SECRET])


def test_another_secret_or_no_hmac_is_refused() -> None:
    assert not oauth.query_is_signed(shopify_signed(install_request(), "other-app"), [SECRET])
    assert not oauth.query_is_signed(install_request(), [SECRET])
    assert not oauth.query_is_signed(shopify_signed(install_request()), [])


def test_the_signature_parameter_is_not_part_of_the_signed_message() -> None:
    signed = shopify_signed(install_request())
    assert oauth.query_is_signed({**signed, "signature": "legacy-anything"}, [SECRET])


def test_the_previous_secret_still_verifies_during_a_rotation() -> None:
    assert oauth.query_is_signed(shopify_signed(install_request(), "old"), ["new", "old"])


# -- timestamp window ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, -90, 90, -30])
def test_timestamps_within_90_seconds_are_fresh(offset: int) -> None:
    assert oauth.timestamp_is_fresh(str(int(NOW) + offset), NOW)


@pytest.mark.parametrize("stamp", [str(int(NOW) - 91), str(int(NOW) + 91), "", None, "yesterday"])
def test_old_future_or_garbled_timestamps_are_refused(stamp: str | None) -> None:
    assert not oauth.timestamp_is_fresh(stamp, NOW)


# -- shop domains ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shop", ["acme.myshopify.com", "ACME.myshopify.com", "acme-dk-2.myshopify.com", "9.myshopify.com"]
)
def test_shop_domains_of_shopify_are_accepted(shop: str) -> None:
    assert oauth.is_shop_domain(shop)


@pytest.mark.parametrize(
    "shop",
    [
        "evil.com",
        "acme.myshopify.com.evil.com",
        "-x.myshopify.com",
        "acme.myshopify.com/admin",
        "acme.myshopify.com:8443",
        "a.b.myshopify.com",
        "acme.myshopify.com\n",
        "",
        None,
    ],
)
def test_anything_else_is_not_a_shop_domain(shop: str | None) -> None:
    assert not oauth.is_shop_domain(shop)


# -- scopes ----------------------------------------------------------------------------------------------------------


def settings(**groups: object) -> RackbeatShopifySettings:
    return RackbeatShopifySettings.model_validate({"shipping_product_number": "FRAGT", **groups})


def test_orders_alone_need_only_read_orders() -> None:
    assert scopes.required_scopes(settings()) == {"read_orders"}


def test_the_product_tab_adds_what_its_mutations_need() -> None:
    rackbeat_master = settings(product_sync={"master": "rackbeat"}, stock_sync={"enabled": True})
    assert scopes.required_scopes(rackbeat_master) == {
        "read_orders",
        "write_products",
        "write_inventory",
        "read_locations",
        "write_publications",  # online availability: publishing to the Online Store
    }
    shopify_master = settings(product_sync={"master": "shopify", "default_product_group": 1}, initial_sync="enabled")
    assert scopes.required_scopes(shopify_master) == {
        "read_orders",
        "read_products",
        "read_inventory",
        "read_locations",
    }


def test_a_write_scope_covers_its_read_scope() -> None:
    required = {"read_orders", "read_products", "read_inventory"}
    assert oauth.missing_scopes(required, "read_orders,write_products,write_inventory") == []


def test_missing_scopes_are_named_in_order() -> None:
    required = {"read_orders", "write_products", "write_inventory", "read_locations"}
    assert oauth.missing_scopes(required, "read_orders, read_products") == [
        "read_locations",
        "write_inventory",
        "write_products",
    ]


def test_the_authorize_url_asks_for_an_offline_token() -> None:
    url = oauth.authorize_url("https://acme.myshopify.com", "cid", {"read_orders"}, "https://hub/cb", "st")
    assert url == (
        "https://acme.myshopify.com/admin/oauth/authorize?client_id=cid&scope=read_orders"
        "&redirect_uri=https%3A%2F%2Fhub%2Fcb&state=st"
    )
    assert "grant_options" not in url  # per-user (online) tokens expire with the user's session


# -- the token endpoint ----------------------------------------------------------------------------------------------


def token_endpoint(status: int, answer: object, seen: list[dict[str, str]] | None = None) -> httpx.MockTransport:
    def respond(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/admin/oauth/access_token"
        if seen is not None:
            seen.append(json.loads(request.content))
        return httpx.Response(status, json=answer)

    return httpx.MockTransport(respond)


def client(transport: httpx.MockTransport) -> oauth.ShopifyOAuth:
    return oauth.ShopifyOAuth("https://acme.myshopify.com", "acme.myshopify.com", "cid", SECRET, transport=transport)


def test_an_expiring_grant_carries_its_expiry_times() -> None:
    seen: list[dict[str, str]] = []
    answer = {
        "access_token": "shpat_new",
        "scope": "read_orders",
        "expires_in": 3600,
        "refresh_token": "shprt_new",
        "refresh_token_expires_in": 7_776_000,
    }
    grant = client(token_endpoint(200, answer, seen)).exchange_code("the-code", NOW)
    assert seen == [{"client_id": "cid", "client_secret": SECRET, "code": "the-code"}]
    assert (grant.access_token, grant.refresh_token, grant.expires_at) == ("shpat_new", "shprt_new", NOW + 3600)
    assert grant.refresh_token_expires_at == NOW + 7_776_000
    assert "shpat_new" not in repr(grant) and "shprt_new" not in repr(grant)


def test_a_non_expiring_grant_has_no_refresh_token() -> None:
    grant = client(token_endpoint(200, {"access_token": "shpat_x", "scope": "read_orders"})).exchange_code("c", NOW)
    assert (grant.refresh_token, grant.expires_at) == (None, None)


def test_a_refresh_sends_the_refresh_token_grant() -> None:
    seen: list[dict[str, str]] = []
    answer = {"access_token": "a2", "scope": "", "expires_in": 3600, "refresh_token": "r2"}
    client(token_endpoint(200, answer, seen)).refresh("r1", NOW)
    assert seen == [{"client_id": "cid", "client_secret": SECRET, "grant_type": "refresh_token", "refresh_token": "r1"}]


def test_a_refused_grant_names_shopifys_error_and_no_secret() -> None:
    answer = {"error": "invalid_grant", "error_description": "code the-code was already used"}
    with pytest.raises(oauth.GrantRefused) as refused:
        client(token_endpoint(400, answer)).exchange_code("the-code", NOW)
    assert refused.value.error == "invalid_grant"
    assert "the-code" not in str(refused.value) and SECRET not in str(refused.value)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(status: int) -> None:
    with pytest.raises(RetryableError):
        client(token_endpoint(status, {})).exchange_code("c", NOW)


def test_a_lost_answer_is_retryable() -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    with pytest.raises(RetryableError) as lost:
        client(httpx.MockTransport(cut)).refresh("r1", NOW)
    assert "r1" not in str(lost.value)
