"""The embedded API Gateway's Cognito user-pool authorizer lets through only the pool's id tokens, unexpired, signed
with the pool's key, and hands the function their claims as a REST API does (crossdock_local.aws.api_authorizer)."""

from __future__ import annotations

import base64
import json
from typing import Any, cast

import pytest
from joserfc import jwk, jwt

from crossdock_local.aws import cognito
from crossdock_local.aws.api import ApiGateway, Route
from crossdock_local.aws.api_authorizer import CognitoAuthorizer, authorizers_of
from crossdock_local.aws.clock import VirtualClock

REGION = "eu-west-1"
POOL = "eu-west-1_pool1"
CLIENT = "console-client"
NOW = 1_800_000_000.0  # Fri Jan 15 08:00:00 UTC 2027


def _authorizer(clients: frozenset[str] = frozenset({CLIENT})) -> CognitoAuthorizer:
    return CognitoAuthorizer(
        name="CognitoAuthorizer",
        user_pool_id=POOL,
        issuer=cognito.issuer(REGION, POOL),
        header="Authorization",
        client_ids=lambda: clients,
        now=lambda: NOW,
    )


def _claims(**changes: Any) -> dict[str, Any]:
    """An id token's claims as Cognito (and moto) issues them for a merchant user of two groups."""
    claims: dict[str, Any] = {
        "iss": cognito.issuer(REGION, POOL),
        "sub": "5f1c-user",
        "aud": CLIENT,
        "token_use": "id",
        "iat": int(NOW) - 60,
        "auth_time": int(NOW) - 60,
        "exp": int(NOW) + 3540,
        "cognito:username": "5f1c-user",
        "email": "anna@shop.dk",
        "email_verified": True,
        "custom:tenant": "acme",
        "cognito:groups": ["buyers", "admins"],
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _token(claims: dict[str, Any], key: jwk.RSAKey | None = None) -> str:
    """Signed as the pool signs (RS256, kid "dummy") with its key, or with `key`."""
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key or cognito.signing_key())


def test_an_id_token_of_the_pool_passes_with_its_claims_as_a_rest_api_gives_them() -> None:
    # GIVEN an id token the pool issued a minute ago
    token = _token(_claims())
    # WHEN it comes bare, or as a bearer token
    bare = _authorizer().claims({"Authorization": token})
    bearer = _authorizer().claims({"authorization": f"Bearer {token}"})
    # THEN both pass, with every claim a string: groups joined by commas, exp and iat as dates, flags as words
    assert bare is not None and bare == bearer
    assert bare["cognito:groups"] == "buyers,admins"
    assert bare["custom:tenant"] == "acme" and bare["email"] == "anna@shop.dk" and bare["sub"] == "5f1c-user"
    assert bare["exp"] == "Fri Jan 15 08:59:00 UTC 2027" and bare["iat"] == "Fri Jan 15 07:59:00 UTC 2027"
    assert bare["auth_time"] == str(int(NOW) - 60) and bare["email_verified"] == "true"
    assert bare["token_use"] == "id" and bare["aud"] == CLIENT


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("expired", lambda: _token(_claims(exp=int(NOW) - 1))),
        ("expiring this very second", lambda: _token(_claims(exp=int(NOW)))),
        ("another pool's issuer", lambda: _token(_claims(iss=cognito.issuer(REGION, "eu-west-1_other")))),
        ("another region's issuer", lambda: _token(_claims(iss=cognito.issuer("us-east-1", POOL)))),
        ("an audience that is not one of the pool's clients", lambda: _token(_claims(aud="someone-else"))),
        ("an access token", lambda: _token(_claims(token_use="access", aud=None, client_id=CLIENT))),
        ("no expiry", lambda: _token(_claims(exp=None))),
        ("forged: signed with another key", lambda: _token(_claims(), jwk.RSAKey.generate_key(2048))),
        ("tampered: another tenant put in a signed token", lambda: _tampered(_token(_claims()), tenant="globex")),
        ("unsigned (alg none)", lambda: _unsigned(_claims())),
        ("not a JWT", lambda: "not-a-token"),
    ],
)
def test_anything_but_a_valid_id_token_of_the_pool_is_refused(case: str, token: Any) -> None:
    # GIVEN a token that is wrong in one way
    # WHEN it is presented
    found = _authorizer().claims({"Authorization": token()})
    # THEN it is refused (the gateway answers 401)
    assert found is None, case


def test_no_token_and_an_empty_bearer_are_refused() -> None:
    assert _authorizer().claims({}) is None
    assert _authorizer().claims({"Authorization": ""}) is None
    assert _authorizer().claims({"Authorization": "Bearer "}) is None


def test_a_token_of_a_client_removed_from_the_pool_is_refused() -> None:
    # GIVEN the pool no longer has the app client the token was issued to
    token = _token(_claims())
    # WHEN it is presented
    # THEN it is refused, as the pool's clients are read at each request
    assert _authorizer(clients=frozenset({"a-new-client"})).claims({"Authorization": token}) is None


def test_the_gateway_answers_401_without_invoking_the_function_and_hands_claims_to_it_otherwise() -> None:
    # GIVEN an API whose one route needs the authorizer, in front of a function that records its events
    invoked: list[dict[str, Any]] = []

    class Recorder:
        def invoke(self, function: Any, event: dict[str, Any], *, source: str) -> Any:
            invoked.append(event)
            return type("Result", (), {"error": None, "payload": {"statusCode": 200, "body": "{}"}})()

    gateway = ApiGateway(cast(Any, Recorder()), VirtualClock(), "123456789012")
    gateway.routes.append(Route("admin", "dev", "GET", "/admin/me", cast(Any, None), authorizer=_authorizer()))
    # WHEN a request comes without a token, then with a forged one, then with a valid one
    missing = gateway.request("GET", "/admin/me", {}, b"")
    forged = gateway.request(
        "GET", "/admin/me", {"Authorization": _token(_claims(), jwk.RSAKey.generate_key(2048))}, b""
    )
    valid = gateway.request("GET", "/admin/me", {"Authorization": _token(_claims())}, b"")
    # THEN the first two are API Gateway's 401 and the function never saw them; the third reached it with the claims
    for refused in (missing, forged):
        assert refused.status == 401 and refused.json() == {"message": "Unauthorized"}
        assert refused.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert valid.status == 200 and len(invoked) == 1
    assert invoked[0]["requestContext"]["authorizer"]["claims"]["custom:tenant"] == "acme"


def test_a_sam_apis_cognito_authorizers_are_read_with_their_pool_and_header() -> None:
    # GIVEN AdminApi's resolved Auth (the pool's ARN from GetAtt UserPool.Arn)
    arn = f"arn:aws:cognito-idp:{REGION}:123456789012:userpool/{POOL}"
    auth = {"DefaultAuthorizer": "Cognito", "Authorizers": {"Cognito": {"UserPoolArn": arn, "Identity": {}}}}
    # WHEN it is read
    (found,) = authorizers_of(auth, "123456789012", REGION, lambda: NOW).values()
    # THEN the authorizer checks that pool's issuer and reads Authorization, API Gateway's default header
    assert found.user_pool_id == POOL and found.header == "Authorization"
    assert found.issuer == f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
    with pytest.raises(ValueError, match="only Cognito"):
        authorizers_of({"Authorizers": {"Lambda": {"FunctionArn": "arn:..."}}}, "123456789012", REGION, lambda: NOW)


def _tampered(token: str, *, tenant: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["custom:tenant"] = tenant
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': 'dummy'})}.{part(claims)}."
