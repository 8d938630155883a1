"""The template's Cognito user pools, app clients and groups, on moto's cognito-idp.

Made through moto's backend rather than boto3: a cognito-idp client loads its service model (a tenth of a second)
and the stack would pay for it at every start, used or not. The pools behave as moto's own do (InitiateAuth, the
admin calls, the JWKS at `/<pool id>/.well-known/jwks.json`), with two changes while the stack runs (`install`):

- Tokens are issued on the stack's virtual clock (`iat`, `exp`), the one the embedded API Gateway's authorizer
  checks them against, so advancing the clock past an hour expires them as an hour would.
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
