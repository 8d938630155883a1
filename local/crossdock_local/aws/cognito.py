"""The template's Cognito user pools, app clients and groups, on moto's cognito-idp.

Made through moto's backend rather than boto3: a cognito-idp client loads its service model (a tenth of a second)
and the stack would pay for it at every start, used or not. The pools behave as moto's own do (InitiateAuth, the
admin calls, the JWKS at `/<pool id>/.well-known/jwks.json`), with two changes while the stack runs (`install`):

- Tokens are issued on the stack's virtual clock (`iat`, `exp`), the one the embedded API Gateway's authorizer
  checks them against, so advancing the clock past an hour expires them as an hour would. moto stamps them with
  `int(time.time())` of its models module, which is swapped for the clock's (a refreshed id token issued after the
  clock moved has a later `exp`, whatever the real time). The swap is process-wide, as moto's module is: with two
  stacks alive in one process, the one started last stamps the tokens of both until it stops.
- They last as long as the app client says, as in Cognito (`IdTokenValidity`, `AccessTokenValidity`,
  `RefreshTokenValidity` in `TokenValidityUnits`; Cognito's defaults 1 hour, 1 hour, 30 days): moto gives every id
  and access token an hour and never expires a refresh token. A refresh token past its validity is refused as
  Cognito refuses it (`NotAuthorizedException` "Refresh Token has expired").
- moto imports its RSA signing key from JWK for every pool it makes (a tenth of a second of big-integer checks,
  and every pool has the same key: moto ships one). It is imported once per process, at the first token signed:
  a stack that nobody signs in to never pays for it.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any
from unittest import mock

import moto.cognitoidp.models as moto_cognito
from joserfc import jwk
from joserfc.jwk import KeySet
from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool, cognitoidp_backends
from moto.utilities.utils import load_resource

from crossdock_local.aws.clock import VirtualClock
from crossdock_local.aws.template import Physical

_KEY_LOCK = threading.Lock()
_SIGNING_KEY: list[jwk.RSAKey] = []


def signing_key() -> jwk.RSAKey:
    """moto's private key, imported once per process."""
    with _KEY_LOCK:
        if not _SIGNING_KEY:
            _SIGNING_KEY.append(jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json")))
        return _SIGNING_KEY[0]


def public_keys() -> KeySet:
    """The keys every moto user pool publishes at its `.well-known/jwks.json` (the ones it signs with)."""
    return KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))


class _SharedKey:
    """A pool's `json_web_key`, as a class attribute: reads give the process's one key; moto's own assignment in
    the pool's constructor (of the placeholder below) is dropped."""

    def __get__(self, pool: object, owner: type | None = None) -> Any:
        return self if pool is None else signing_key()

    def __set__(self, pool: object, value: object) -> None:
        """Nothing to keep: every pool signs with `signing_key()`."""


def install(stack: ExitStack, clock: VirtualClock) -> None:
    """Patch moto's cognito-idp for the stack's lifetime (see the module's docstring)."""
    stack.enter_context(mock.patch.object(moto_cognito, "time", SimpleNamespace(time=clock.time)))
    placeholder = SimpleNamespace(RSAKey=SimpleNamespace(import_key=lambda _data: None))
    stack.enter_context(mock.patch.object(moto_cognito, "jwk", placeholder))
    stack.enter_context(mock.patch.object(CognitoIdpUserPool, "json_web_key", _SharedKey(), create=True))
    lifetimes = _Lifetimes(clock)
    for name, wrap in (
        ("create_jwt", lifetimes.create_jwt),
        ("create_refresh_token", lifetimes.create_refresh_token),
        ("create_tokens_from_refresh_token", lifetimes.create_tokens_from_refresh_token),
    ):
        stack.enter_context(mock.patch.object(CognitoIdpUserPool, name, wrap(getattr(CognitoIdpUserPool, name))))


# Cognito's defaults where the app client sets none (CreateUserPoolClient): the value and its unit.
_DEFAULT_VALIDITY = {"IdToken": (1, "hours"), "AccessToken": (1, "hours"), "RefreshToken": (30, "days")}
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def validity_seconds(client: Any, token: str) -> int:
    """How long the app client's `token` ("IdToken", "AccessToken", "RefreshToken") lasts, in seconds."""
    config = getattr(client, "extended_config", None) or {}
    value, unit = _DEFAULT_VALIDITY[token]
    value = int(config.get(f"{token}Validity") or value)
    unit = str((config.get("TokenValidityUnits") or {}).get(token) or unit)
    return value * _UNIT_SECONDS[unit]


class _Lifetimes:
    """Wrappers of moto's pool methods that give tokens the app client's lifetimes, on the stack's clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._refresh_issued: dict[str, float] = {}  # refresh token → when it was issued
        self._lock = threading.Lock()

    def create_jwt(self, original: Any) -> Any:
        def create_jwt(
            pool: Any, client_id: str, username: str, token_use: str, extra_data: dict[str, Any] | None = None
        ) -> Any:
            # moto's callers (create_id_token, create_access_token) give no lifetime: moto's default is an hour.
            token = "IdToken" if token_use == "id" else "AccessToken"
            lifetime = validity_seconds(pool.clients.get(client_id), token)
            return original(pool, client_id, username, token_use, expires_in=lifetime, extra_data=extra_data)

        return create_jwt

    def create_refresh_token(self, original: Any) -> Any:
        def create_refresh_token(pool: Any, client_id: str, username: str) -> tuple[str, str]:
            made: tuple[str, str] = original(pool, client_id, username)
            with self._lock:
                self._refresh_issued[made[0]] = self._clock.time()
            return made

        return create_refresh_token

    def create_tokens_from_refresh_token(self, original: Any) -> Any:
        def create_tokens_from_refresh_token(pool: Any, refresh_token: str) -> Any:
            known = pool.refresh_tokens.get(refresh_token)
            with self._lock:
                issued = self._refresh_issued.get(refresh_token)
            if known is not None and issued is not None:
                lifetime = validity_seconds(pool.clients.get(known[0]), "RefreshToken")
                if self._clock.time() >= issued + lifetime:
                    raise NotAuthorizedError("Refresh Token has expired")
            return original(pool, refresh_token)

        return create_tokens_from_refresh_token


def backend(account_id: str, region: str) -> CognitoIdpBackend:
    found: CognitoIdpBackend = cognitoidp_backends[account_id][region]
    return found


def provision_user_pool(account_id: str, region: str, default_name: str, props: dict[str, Any]) -> Physical:
    """AWS::Cognito::UserPool: its properties are CreateUserPool's, but for the name (`UserPoolName`/`PoolName`)
    and what CloudFormation alone knows (tags, deletion protection)."""
    config = {key: value for key, value in props.items() if key not in ("UserPoolName", "UserPoolTags")}
    config.pop("DeletionProtection", None)
    pool = backend(account_id, region).create_user_pool(props.get("UserPoolName", default_name), config)
    provider = f"cognito-idp.{region}.amazonaws.com/{pool.id}"
    return Physical(
        pool.id,
        {"Arn": pool.arn, "ProviderName": provider, "ProviderURL": f"https://{provider}", "UserPoolId": pool.id},
    )


def provision_user_pool_client(account_id: str, region: str, default_name: str, props: dict[str, Any]) -> Physical:
    """AWS::Cognito::UserPoolClient: its properties are CreateUserPoolClient's."""
    config = {key: value for key, value in props.items() if key not in ("UserPoolId", "GenerateSecret")}
    config.setdefault("ClientName", default_name)
    client = backend(account_id, region).create_user_pool_client(
        props["UserPoolId"], bool(props.get("GenerateSecret", False)), config
    )
    attrs = {"ClientId": client.id, "Name": config["ClientName"]}
    if client.secret:
        attrs["ClientSecret"] = client.secret
    return Physical(client.id, attrs)


def provision_group(account_id: str, region: str, default_name: str, props: dict[str, Any]) -> Physical:
    """AWS::Cognito::UserPoolGroup: its Ref is the group's name."""
    name = props.get("GroupName", default_name)
    backend(account_id, region).create_group(
        props["UserPoolId"], name, props.get("Description", ""), props.get("RoleArn", ""), props.get("Precedence", 0)
    )
    return Physical(name)


def client_ids(account_id: str, region: str, user_pool_id: str) -> frozenset[str]:
    """The pool's app clients now (an id token's `aud` must be one of them); empty if the pool is gone."""
    pool = backend(account_id, region).user_pools.get(user_pool_id)
    return frozenset(pool.clients) if pool is not None else frozenset()


def issuer(region: str, user_pool_id: str) -> str:
    """The `iss` of the pool's tokens: Cognito's (and moto's) `https://cognito-idp.<region>.amazonaws.com/<id>`."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
