"""The console when something runs out or fails, in chromium on its own embedded stack (tests/browser/conftest):
a system that cannot be read leaves its fields free text and says so above the tabs; an id token that expired on the
stack's clock is refreshed once, and the console signs out when that does not help.

A module of its own: the session test moves the stack's clock by hours, which no other page test must see."""

from __future__ import annotations

import base64
import calendar
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import boto3
import httpx
import pytest
from console_pages import Console, screenshot, sign_in
from playwright.sync_api import Page, Request, Response, Route, expect

from crossdock_local.aws.api_authorizer import CognitoAuthorizer

HOURS = 3600
SESSION_ENDED = "Your session has ended; sign in again."


def _faults(console: Console, system: str, switches: dict[str, Any]) -> None:
    """A simulator's fault switches, set through its control API as an operator sets them (docs/simulators.md)."""
    answer = httpx.put(f"{console.stack.base_url}/_sim/{system}/_control/faults", json=switches, timeout=10)
    assert answer.status_code == 200, answer.text


def test_a_system_that_cannot_be_read_is_named_and_its_fields_take_free_text(page: Page, console: Console) -> None:
    # GIVEN the merchant signed in, and Rackbeat refusing every request (500s) while Shopify answers
    sign_in(page, console, console.first.email)
    _faults(console, "rackbeat", {"server_error_rate": 1.0})
    try:
        # WHEN they open the settings of their Rackbeat ⇄ Shopify connection, at its Order tab
        page.goto(f"{console.url}#/connections/{console.first.connection_id}/settings")
        page.get_by_role("tab", name="Order").click()
        # THEN above the tabs the console names Rackbeat as the system it could not read, not Shopify, and says its
        # fields take free text meanwhile
        notice = page.locator("#settings-unavailable")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Rackbeat could not be read just now")
        expect(notice).to_contain_text("take free text meanwhile")
        expect(notice).not_to_contain_text("Shopify")
        # AND a field that lists Rackbeat's locations is a text field keeping its stored value
        rackbeat_location = page.locator('[data-path="fulfillment.rackbeat_location"]')
        assert rackbeat_location.evaluate("input => [input.tagName, input.type]") == ["INPUT", "text"]
        expect(rackbeat_location).to_have_value("L1")
        # AND the Shopify drop-down still lists the shop's locations and can be chosen from
        shop_location = page.locator('[data-path="fulfillment.shopify_location"]')
        assert shop_location.evaluate("select => select.tagName") == "SELECT"
        offered = shop_location.locator("option:not([value=''])")
        assert offered.count() >= 1
        shop_location.select_option(offered.first.get_attribute("value"))
        expect(shop_location).to_have_value(offered.first.get_attribute("value") or "")
        screenshot(page, "settings-unavailable")
    finally:
        _faults(console, "rackbeat", {"server_error_rate": 0.0})
    # WHEN Rackbeat answers again and the merchant reloads the form
    page.get_by_role("button", name="Reload").click()
    # THEN the notice is gone and Rackbeat's locations are a drop-down again
    expect(notice).to_be_hidden()
    expect(page.locator('select[data-path="fulfillment.rackbeat_location"]')).to_have_value("L1")


# ---- the session: what the authorizer saw, what the page asked Cognito --------------------------------------------


def _payload(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (the authorizer has verified or refused it already)."""
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _epoch(date: str) -> int:
    """A REST API's date claim (`Tue Apr 04 18:39:39 UTC 2023`) as epoch seconds."""
    return calendar.timegm(time.strptime(date, "%a %b %d %H:%M:%S UTC %Y"))


@dataclass(frozen=True)
class Seen:
    """One request as the admin API's authorizer judged it: the `exp` of the token it was shown, and the claims it
    handed the function (None: answered 401)."""

    presented_exp: int
    claims: dict[str, str] | None


@dataclass
class Session:
    seen: list[Seen] = field(default_factory=list)
    refreshes: int = 0
    admin_requests: list[Request] = field(default_factory=list)


@pytest.fixture
def session(page: Page, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """Every authorizer decision of the stack's admin API (the server's side), and the page's refreshes and admin
    API requests (the browser's side)."""
    recorded = Session()
    judge: Callable[[CognitoAuthorizer, Mapping[str, str]], dict[str, str] | None] = CognitoAuthorizer.claims

    def claims(self: CognitoAuthorizer, headers: Mapping[str, str]) -> dict[str, str] | None:
        found = judge(self, headers)
        token = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
        recorded.seen.append(Seen(int(_payload(token)["exp"]) if token.count(".") == 2 else 0, found))
        return found

    def on_request(request: Request) -> None:
        if "/_aws/cognito-idp/" in request.url and "REFRESH_TOKEN_AUTH" in (request.post_data or ""):
            recorded.refreshes += 1
        elif "/admin/" in request.url:
            recorded.admin_requests.append(request)

    monkeypatch.setattr(CognitoAuthorizer, "claims", claims)
    page.on("request", on_request)
    yield recorded


def _the_list(response: Response, status: int) -> bool:
    return urlparse(response.url).path.endswith("/admin/connections") and response.status == status


def _tokens(page: Page) -> list[str | None]:
    found: list[str | None] = page.evaluate(
        "[sessionStorage.getItem('crossdock.id_token'), sessionStorage.getItem('crossdock.refresh_token')]"
    )
    return found


def test_an_expired_id_token_is_refreshed_once_and_a_second_401_signs_out(
    page: Page, console: Console, session: Session
) -> None:
    # GIVEN the merchant signed in: an id token for 60 minutes on the stack's clock, and a refresh token
    clock = console.stack.aws.clock
    sign_in(page, console, console.first.email)
    rows = page.locator("#connections-table tbody tr")
    expect(rows).to_have_count(2)
    signed_in = session.seen[-1].claims
    assert signed_in is not None
    refresh_token = _tokens(page)[1]
    assert refresh_token
    # WHEN the stack's clock moves two hours, past the id token's expiry, and they reload the list
    clock.advance(2 * HOURS)
    moved_to = int(clock.time())
    session.seen.clear()
    with page.expect_response(lambda response: _the_list(response, 200)):
        page.get_by_role("button", name="Filter").click()
    # THEN the authorizer refused the expired token once, the page refreshed it once (REFRESH_TOKEN_AUTH), and the
    # same call passed with a token issued on the stack's clock, expiring an hour after the move
    assert [seen.claims is None for seen in session.seen] == [True, False]
    expired, renewed = session.seen[0].presented_exp, session.seen[1].claims
    assert renewed is not None and session.refreshes == 1
    assert expired == _epoch(signed_in["exp"]) and expired <= moved_to
    assert _epoch(renewed["exp"]) > expired
    assert moved_to <= _epoch(renewed["iat"]) and _epoch(renewed["exp"]) == _epoch(renewed["iat"]) + HOURS
    assert renewed["email"] == console.first.email and renewed["custom:tenant"] == console.first.tenant
    # AND the merchant is still signed in, on the list, and no message about the session was shown
    expect(page.locator("#who-email")).to_have_text(console.first.email)
    expect(rows).to_have_count(2)
    expect(page.get_by_role("alert")).to_be_empty()

    # WHEN the id token expires again and the refreshed one has expired too by the time the call is repeated (the
    # clock moves while Cognito answers the refresh)
    def late_refresh(route: Route) -> None:
        answer = route.fetch()
        clock.advance(2 * HOURS)
        route.fulfill(response=answer)

    clock.advance(2 * HOURS)
    session.seen.clear()
    page.route("**/_aws/cognito-idp/", late_refresh)
    page.get_by_role("button", name="Filter").click()
    # THEN the repeated call's 401 signs the merchant out, without a second refresh, both tokens gone from the tab
    expect(page.locator("#page-sign-in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(SESSION_ENDED)
    page.unroute("**/_aws/cognito-idp/")
    assert [seen.claims is None for seen in session.seen] == [True, True]
    assert session.seen[1].presented_exp > session.seen[0].presented_exp  # a new token, refused as expired
    assert session.refreshes == 2 and _tokens(page) == [None, None]
    # AND the refresh token never went to the admin API, in a header or a body
    for request in session.admin_requests:
        assert refresh_token not in json.dumps(request.headers) + (request.post_data or "")


def test_a_revoked_refresh_token_signs_out_at_the_next_401(page: Page, console: Console, session: Session) -> None:
    # GIVEN the merchant signed in, and then signed out everywhere by an operator (AdminUserGlobalSignOut revokes
    # their refresh tokens; the id token works until it expires)
    sign_in(page, console, console.first.email)
    expect(page.locator("#connections-table tbody tr")).to_have_count(2)
    cognito = boto3.client("cognito-idp", region_name=console.stack.aws.region)
    cognito.admin_user_global_sign_out(UserPoolId=console.stack.user_pool_id, Username=console.first.email)
    # WHEN the id token expires on the stack's clock and they reload the list
    console.stack.aws.clock.advance(2 * HOURS)
    session.seen.clear()
    page.get_by_role("button", name="Filter").click()
    # THEN Cognito refuses the refresh, the call is not repeated, and the console signs out saying why
    expect(page.locator("#page-sign-in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(SESSION_ENDED)
    assert [seen.claims is None for seen in session.seen] == [True]
    assert session.refreshes == 1 and _tokens(page) == [None, None]
