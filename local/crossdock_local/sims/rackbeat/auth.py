"""Who the caller is: `GET /self` (the account behind the API key) and `POST /tokens/replace-current`, which
rotates the caller's key (the old one stops working at once; the fact sheet shows only the answer's shape)."""

from __future__ import annotations

import secrets

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.rackbeat.session import Route, Session
from crossdock_local.sims.rackbeat.wire import TOKEN_ALPHABET, bearer


def _get_self(session: Session, request: SimRequest) -> SimResponse:
    account = session.account
    return json_response(200, {"user_account": {"id": account.id, "name": account.name}})


def _replace_token(session: Session, request: SimRequest) -> SimResponse:
    old = bearer(request)
    new = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(64))
    session.api_keys.pop(old or "", None)
    session.api_keys[new] = session.account.id
    return json_response(200, {"token": new})


ROUTES: list[Route] = [
    ("GET", "/self", _get_self),
    ("POST", "/tokens/replace-current", _replace_token),
]
