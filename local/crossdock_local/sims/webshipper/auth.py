"""Tokens: the password grant `POST /oauth/token`, stored API tokens, and `GET /oauth_access_tokens`.

Seen W5: `POST /v2/oauth/token?grant_type=password&username=<email>&password=<pw>` answers `{"access_token"}`;
Guess: the rest of the answer is Doorkeeper's (`token_type`, `expires_in` seconds, `created_at`), and a wrong
password is OAuth's 400 `invalid_grant` (RFC 6749 §5.2). Guess: a grant's token lives `rules.token_ttl_seconds`
of the simulator's clock (2 h); a stored API token never expires. Every other call carries `Authorization: Bearer`
(doc W1); the pipeline answers 401 for a token missing, unknown, expired, revoked, of another account, or of a
user since deleted (seed 003: deleting the user breaks the link) — see `caller`.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.webshipper.listing import by_id, listing
from crossdock_local.sims.webshipper.session import Route, Session
from crossdock_local.sims.webshipper.state import AccountState, Record, Token, WebshipperState
from crossdock_local.sims.webshipper.wire import id_param, jsonapi, not_found, refuse


def issue(
    state: WebshipperState, account: AccountState, kind: str, user: int | None, now: float, ttl: float | None
) -> Token:
    state.last_token_id += 1
    token = Token(
        id=state.last_token_id,
        value=secrets.token_urlsafe(32),
        kind="oauth" if kind == "oauth" else "api",
        account=account.name,
        user=user,
        issued_at=now,
        expires_at=None if ttl is None else now + ttl,
    )
    state.tokens[token.value] = token
    return token


def password_grant(session: Session, request: SimRequest) -> SimResponse:
    # Seen W5: the credentials sit in the query string; Guess: a form body is read as well (RFC 6749's way).
    form = {k: v[0] for k, v in parse_qs(request.body.decode(errors="replace")).items()} if request.body else {}
    grant = request.arg("grant_type") or form.get("grant_type")
    username = (request.arg("username") or form.get("username") or "").strip().lower()
    password = request.arg("password") or form.get("password") or ""
    if grant != "password":
        return _oauth_error("unsupported_grant_type", "grant_type must be password")
    if not username or not password:
        return _oauth_error("invalid_request", "username and password are required")
    account = session.account
    user = account.users.get(username)
    if user is None or user.deleted or not secrets.compare_digest(user.password, password):
        return _oauth_error("invalid_grant", "The provided authorization grant is invalid")
    ttl = session.rules.token_ttl_seconds
    token = issue(session.state, account, "oauth", user.id, session.clock, ttl)
    return json_response(
        200,
        {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": int(ttl),
            "created_at": int(session.unix_now),
        },
    )


def caller(session: Session, request: SimRequest) -> Token:
    """The caller's live bearer token for the path's account, or 401 (the client re-authenticates once)."""
    value = request.bearer()
    if value is None:
        raise refuse(401, "Authorization: Bearer <token> is required")
    token = session.state.tokens.get(value)
    if token is None or token.account != session.account_name or not token.live(session.clock):
        raise refuse(401, "The access token is invalid, expired or revoked")
    if token.user is not None and not any(u.id == token.user and not u.deleted for u in session.account.users.values()):
        raise refuse(401, "The user of this access token no longer exists")
    return token


def revoke(session: Session, request: SimRequest, id: str) -> SimResponse:
    """Guess: `DELETE /oauth_access_tokens/{id}` revokes a token of the account (the spec shows `revoked_at`, not how
    it is set); the token answers 401 from then on and stays listed with its `revoked_at`."""
    wanted = id_param(id, "oauth_access_tokens")
    for token in session.state.tokens.values():
        if token.account == session.account_name and token.id == wanted:
            token.revoked_at = token.revoked_at or session.timestamp()
            return jsonapi(204, None)
    raise not_found("oauth_access_tokens", id)


def list_tokens(session: Session, request: SimRequest) -> SimResponse:
    """Doc W1: `expires_in` (an epoch), `scopes`, `revoked_at`; never the token itself."""
    rows = [_token_record(session, t) for t in session.state.tokens.values() if t.account == session.account_name]
    return listing(session, request, "oauth_access_tokens", rows, {"id": by_id("_id")})


def _token_record(session: Session, token: Token) -> Record:
    def epoch(moment: float) -> int:
        return int(session.unix_now + moment - session.clock)

    return {
        "_id": token.id,
        "expires_in": None if token.expires_at is None else epoch(token.expires_at),
        "scopes": [],  # Guess: the spec names scopes but no values; a grant's token may do everything
        "revoked_at": token.revoked_at,
        "token_type": token.kind,
    }


def _oauth_error(error: str, description: str) -> SimResponse:
    return json_response(400, {"error": error, "error_description": description})


ROUTES: tuple[Route, ...] = (
    ("POST", "/oauth/token", password_grant, "public"),
    ("GET", "/oauth_access_tokens", list_tokens, "token"),
    ("DELETE", "/oauth_access_tokens/{id}", revoke, "token"),
)
