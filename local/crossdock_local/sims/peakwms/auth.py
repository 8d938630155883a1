"""API keys: `Authorization: Bearer <api key>` on every call (seen P1), `GET /ping` to check them.

Seen P1: a static key per customer, no expiry or refresh. Guess: an unknown, revoked or other customer's key, or a
sandbox key on the live host (and the other way round), is 401 with PeakWMS's error body; the body never repeats
the key.
"""

from __future__ import annotations

import secrets

from crossdock_local.sims.base import SimRequest, SimResponse, json_response
from crossdock_local.sims.peakwms.session import Route, Session
from crossdock_local.sims.peakwms.state import ApiKey, CustomerState, PeakwmsState
from crossdock_local.sims.peakwms.wire import UNAUTHORIZED_CODE, refuse


def issue(state: PeakwmsState, customer: CustomerState, value: str | None = None) -> str:
    key = value or "pwms_" + secrets.token_urlsafe(24)
    if key in state.keys:
        raise refuse(409, "this API key is in use", "4090", "api_key")
    state.keys[key] = ApiKey(key, customer.name, customer.sandbox)
    return key


def revoke(state: PeakwmsState, customer: str) -> int:
    revoked = 0
    for key in state.keys.values():
        if key.customer == customer and not key.revoked:
            key.revoked = True
            revoked += 1
    return revoked


def check(session: Session, request: SimRequest, sandbox: bool) -> None:
    value = request.bearer()
    if value is None:
        raise refuse(401, "Authorization: Bearer <api key> is required", UNAUTHORIZED_CODE)
    key = session.state.keys.get(value)
    if key is None or key.revoked or key.customer != session.customer_name or key.sandbox != sandbox:
        raise refuse(401, "The API key is invalid or revoked", UNAUTHORIZED_CODE)


def ping(session: Session, request: SimRequest) -> SimResponse:
    # Guess: the answer's body (P1 only looks at the status).
    return json_response(200, {"message": "pong", "customer": session.customer.name})


ROUTES: tuple[Route, ...] = (("GET", "/ping", ping),)
