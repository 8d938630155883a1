"""Logging in and choosing the tenant: `POST /authenticate/credentials` and `GET /clients/myclients`.

A login's `accessToken` expires after `rules.login_token_ttl_seconds` of the simulator's clock (Guess: 24 h;
`remember_me` is ignored, as the sheet guesses too); a client's `api-token` never expires and acts for its one
client only. Who may call what (401 for a token unknown or expired, 403 for a client the login cannot act for) is
checked by the simulator's pipeline before a handler runs; see `caller` and `choose_client`.
"""

from __future__ import annotations

import hmac
import secrets

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.shopbox.paging import listing
from crossdock_local.sims.shopbox.session import Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Login, Record, ShopboxState, Token
from crossdock_local.sims.shopbox.wire import body_of, refuse, text

ACCESS_TOKEN = "accessToken"
API_TOKEN = "api-token"
CLIENT = "client"


def issue_login_token(session: Session, login: Login) -> Token:
    token = Token(
        value=secrets.token_urlsafe(32),
        kind="login",
        login=login.uid,
        client=None,
        issued_at=session.clock,
        expires_at=session.clock + session.rules.login_token_ttl_seconds,
    )
    session.state.tokens[token.value] = token
    return token


def issue_api_token(state: ShopboxState, client: ClientState, now: float) -> Token:
    token = Token(secrets.token_urlsafe(32), "api", login=None, client=client.uid, issued_at=now, expires_at=None)
    state.tokens[token.value] = token
    return token


def presented_token(request: SimRequest) -> str | None:
    """The token in the query string (`accessToken=` or `api-token=`); Shopbox reads no Authorization header."""
    return request.arg(ACCESS_TOKEN) or request.arg(API_TOKEN) or None


def caller(session: Session, request: SimRequest) -> Token:
    """The caller's live token, or 401 (none, unknown, or expired: the client logs in again)."""
    value = presented_token(request)
    if value is None:
        raise refuse(401, "Missing access token")
    token = session.state.tokens.get(value)
    if token is None or not token.live(session.clock):
        raise refuse(401, "The access token is invalid or has expired")
    return token


def choose_client(session: Session, request: SimRequest, token: Token) -> ClientState:
    """The client `client=` names, if the token may act for it.

    A login acting for a client it has no access to is 403 [seen S1]; an API token used with another client than
    its own is 401, as a token of another client is (fact sheet, behaviour 1)."""
    raw = request.arg(CLIENT)
    if not raw:
        # Guess: a call without `client=` is refused as bad input (the sheet says only that every call carries it).
        raise refuse(400, "client: the client parameter is required", {CLIENT: "is required"})
    client = session.state.clients.get(int(raw)) if raw.isdigit() else None
    if token.kind == "api":
        if client is None or client.uid != token.client:
            raise refuse(401, "The API token does not belong to this client")
        return client
    login = _login_of(session.state, token)
    if client is None or login is None or client.uid not in login.clients:
        raise refuse(403, "You do not have access to this client")
    return client


def _login_of(state: ShopboxState, token: Token) -> Login | None:
    return next((login for login in state.logins.values() if login.uid == token.login), None)


def _authenticate(session: Session, request: SimRequest) -> SimResponse:
    body = body_of(request)
    username = text(body.get("username"), "username", required=True) or ""
    password = text(body.get("password"), "password", required=True) or ""
    login = session.state.logins.get(username.strip().lower())
    # Constant-time compare; the same answer for an unknown user as for a wrong password.
    if login is None or not hmac.compare_digest(login.password.encode(), password.encode()):
        raise refuse(401, "Invalid username or password")
    token = issue_login_token(session, login)
    now = session.unix_now
    return json_response(201, {"accessToken": token.value, "account": login.account(), "crdate": now, "tstamp": now})


def _my_clients(session: Session, request: SimRequest) -> SimResponse:
    token = session.token
    assert token is not None, "a login route ran without a token"
    if token.kind == "api":
        uids = [token.client] if token.client is not None else []
    else:
        login = _login_of(session.state, token)
        uids = list(login.clients) if login is not None else []
    clients = [session.state.clients[uid] for uid in uids if uid in session.state.clients]
    keyword = (request.arg("keyword") or "").strip().lower()
    rows: list[Record] = [
        {"client": client.uid, "client0": {"uid": client.uid, "name": client.name}}
        for client in clients
        if keyword in client.name.lower()
    ]
    return listing(request, "/clients/myclients", rows, session.rules)


ROUTES: list[Route] = [
    ("POST", "/authenticate/credentials", _authenticate, "public"),
    ("GET", "/clients/myclients", _my_clients, "login"),
]
