"""The embedded API Gateway's Cognito user-pool authorizer (a REST API's COGNITO_USER_POOLS type).

What API Gateway does before it invokes a method that names one: it reads the token from the identity header
(`Authorization`; the bare token or `Bearer <token>`), and lets the request through only when the token is one of
the pool's id tokens now: signed RS256 with a key of the pool's JWKS, issued by the pool (`iss`), for one of its
app clients (`aud`), `token_use` "id" (a method without OAuth scopes takes id tokens only: an access token is
refused), and not expired (`exp`, on the stack's clock, which issued it). Anything else is answered 401
`{"message": "Unauthorized"}` and the function is never invoked.

The function sees the token's claims in `requestContext.authorizer.claims` as a REST API gives them: every value
a string, a list (`cognito:groups`) joined by commas, `exp` and `iat` written as dates (`Tue Apr 04 18:39:39 UTC
2023`), other numbers (`auth_time`) as their digits.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from crossdock_local.aws import cognito

_DATE_CLAIMS = frozenset({"exp", "iat"})
_KEYS_LOCK = threading.Lock()
_KEYS: list[KeySet] = []


def _public_keys() -> KeySet:
    with _KEYS_LOCK:
        if not _KEYS:
            _KEYS.append(cognito.public_keys())
        return _KEYS[0]


@dataclass(frozen=True)
class CognitoAuthorizer:
    """One authorizer of an API: its pool, the header it reads, and how to know the pool's clients and the time."""

    name: str
    user_pool_id: str
    issuer: str
    header: str
    client_ids: Callable[[], frozenset[str]]
    now: Callable[[], float]

    def claims(self, headers: Mapping[str, str]) -> dict[str, str] | None:
        """The claims to hand the function, or None when the request is to be refused with a 401."""
        token = _token(headers, self.header)
        if token is None:
            return None
        try:
            decoded = jwt.decode(token, _public_keys(), algorithms=["RS256"])
        except (JoseError, ValueError):
            return None  # not a JWT, another algorithm, an unknown key or a forged signature
        found = decoded.claims
        if found.get("iss") != self.issuer or found.get("token_use") != "id":
            return None
        if found.get("aud") not in self.client_ids():
            return None
        expires = found.get("exp")
        if not isinstance(expires, int | float) or expires <= self.now():
            return None
        return {name: _claim_text(name, value) for name, value in found.items()}


def _token(headers: Mapping[str, str], header: str) -> str | None:
    wanted = header.lower()
    value = next((text for name, text in headers.items() if name.lower() == wanted), "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        value = rest.strip()
    return value or None


def _claim_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if name in _DATE_CLAIMS and isinstance(value, int | float):
        return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
    return str(value)


def authorizers_of(
    auth: Mapping[str, Any], account_id: str, region: str, now: Callable[[], float]
) -> dict[str, CognitoAuthorizer]:
    """A SAM Api's `Auth.Authorizers` (resolved): the Cognito ones by name; others are not run locally."""
    found: dict[str, CognitoAuthorizer] = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        arn = spec.get("UserPoolArn")
        if not isinstance(arn, str):
            raise ValueError(f"authorizer {name}: only Cognito user-pool authorizers run in the embedded runtime")
        pool_id = arn.rsplit("/", 1)[-1]
        header = (spec.get("Identity") or {}).get("Header", "Authorization")
        found[name] = CognitoAuthorizer(
            name=name,
            user_pool_id=pool_id,
            issuer=cognito.issuer(region, pool_id),
            header=header,
            client_ids=functools.partial(cognito.client_ids, account_id, region, pool_id),
            now=now,
        )
    return found
