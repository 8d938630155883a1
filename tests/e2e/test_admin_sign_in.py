"""Signing in to the admin API on the embedded stack: users made by an operator, InitiateAuth through the local
endpoint's Cognito (as a browser calls Cognito), and the AdminApi's Cognito authorizer in front of every route."""

from __future__ import annotations

import base64
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from crossdock_local import cli
from crossdock_local.aws.endpoint import AwsEndpoint, endpoint_state
from crossdock_local.stack import LocalStack, SignInRefused

PASSWORD = "Fjord-Harbour-2026"
_numbers = itertools.count(1)


def _email(who: str) -> str:
    return f"{who}{next(_numbers)}@example.dk"


def _me(stack: LocalStack, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return httpx.get(f"{stack.admin_api_url}/admin/me", headers=headers, timeout=30)


def test_a_merchant_user_signs_in_and_the_api_knows_their_tenant(stack: LocalStack) -> None:
    # GIVEN a merchant user of tenant acme, made by an operator
    email = _email("anna")
    made = stack.create_user(email, PASSWORD, tenant="acme")
    # WHEN they sign in (InitiateAuth over HTTP, as the console does) and call the admin API with the id token
    token = stack.sign_in(email, PASSWORD)
    bare, bearer = _me(stack, token), _me(stack, f"Bearer {token}")
    # THEN the API knows who they are, bare token or bearer alike
    assert bare.status_code == 200, bare.text
    assert bare.json() == {"user": made.user, "email": email, "operator": False, "tenant": "acme"}
    assert bearer.status_code == 200 and bearer.json() == bare.json()


def test_an_operator_is_known_as_one(stack: LocalStack) -> None:
    # GIVEN an operator
    email = _email("ops")
    stack.create_user(email, PASSWORD, operator=True)
    # WHEN they sign in and ask who they are
    answer = _me(stack, stack.sign_in(email, PASSWORD))
    # THEN they are an operator of no tenant
    assert answer.status_code == 200, answer.text
    assert answer.json()["operator"] is True and answer.json()["tenant"] is None


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "not-a-token", "Bearer eyJhbGciOiJub25lIn0.e30."])
def test_a_request_without_a_valid_token_is_401_before_the_function(
    stack: LocalStack, authorization: str | None
) -> None:
    # GIVEN no token, or one that is no token of the pool
    before = stack.aws.usage()["lambda"].get("AdminApiFunction", {}).get("invocations", 0)
    # WHEN it calls the admin API
    answer = _me(stack, authorization)
    # THEN API Gateway's 401, and the function was never invoked
    assert answer.status_code == 401 and answer.json() == {"message": "Unauthorized"}
    assert stack.aws.usage()["lambda"].get("AdminApiFunction", {}).get("invocations", 0) == before


def test_the_openapi_document_needs_no_token(stack: LocalStack) -> None:
    # GIVEN no token WHEN the OpenAPI document is asked for THEN it is served (its route says Authorizer: NONE)
    answer = httpx.get(f"{stack.admin_api_url}/admin/openapi.json", timeout=30)
    assert answer.status_code == 200 and "/admin/me" in answer.json()["paths"]


def test_a_wrong_password_is_refused_by_cognito(stack: LocalStack) -> None:
    # GIVEN a user WHEN they sign in with another password THEN Cognito refuses, and no token is issued
    email = _email("bo")
    stack.create_user(email, PASSWORD, tenant="acme")
    with pytest.raises(SignInRefused, match="Incorrect username or password"):
        stack.sign_in(email, PASSWORD + "x")


def test_the_tokens_verify_against_the_jwks_cognito_serves_for_the_pool(stack: LocalStack) -> None:
    # GIVEN a signed-in user
    email = _email("cai")
    stack.create_user(email, PASSWORD, tenant="globex")
    token = stack.sign_in(email, PASSWORD)
    # WHEN the pool's JWKS is read where Cognito publishes it, through the local endpoint
    jwks = httpx.get(f"{stack.cognito_endpoint}/{stack.user_pool_id}/.well-known/jwks.json", timeout=10)
    # THEN the id token verifies against it, issued by the pool to the console's client
    assert jwks.status_code == 200
    claims = jwt.decode(token, KeySet.import_key_set(jwks.json()), algorithms=["RS256"]).claims
    assert claims["iss"] == f"https://cognito-idp.{stack.aws.region}.amazonaws.com/{stack.user_pool_id}"
    assert claims["aud"] == stack.user_pool_client_id and claims["custom:tenant"] == "globex"


def test_a_token_expires_after_its_hour_on_the_stacks_clock(stack: LocalStack) -> None:
    # GIVEN a token that works now
    email = _email("dan")
    stack.create_user(email, PASSWORD, tenant="acme")
    token = stack.sign_in(email, PASSWORD)
    assert _me(stack, token).status_code == 200
    # WHEN an hour passes on the stack's clock
    stack.aws.clock.advance(3601)
    # THEN the same token is refused, and a new sign-in works again
    assert _me(stack, token).status_code == 401
    assert _me(stack, stack.sign_in(email, PASSWORD)).status_code == 200


def _initiate_auth(stack: LocalStack, flow: str, parameters: dict[str, str]) -> httpx.Response:
    """InitiateAuth over HTTP at the stack's Cognito endpoint, as the console sends it."""
    return httpx.post(
        stack.cognito_endpoint + "/",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        json={"AuthFlow": flow, "ClientId": stack.user_pool_client_id, "AuthParameters": parameters},
        timeout=10,
    )


def test_a_refreshed_id_token_is_issued_on_the_stacks_clock_and_lasts_the_clients_hour(stack: LocalStack) -> None:
    # GIVEN a signed-in user with a refresh token, whose id token the stack's clock has moved two hours past
    email = _email("fia")
    stack.create_user(email, PASSWORD, tenant="acme")
    signed = _initiate_auth(stack, "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": PASSWORD}).json()
    first = signed["AuthenticationResult"]
    stack.aws.clock.advance(2 * 3600)
    moved_to = int(stack.aws.clock.time())
    assert _me(stack, first["IdToken"]).status_code == 401
    # WHEN the refresh token is exchanged (REFRESH_TOKEN_AUTH)
    refreshed = _initiate_auth(stack, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": first["RefreshToken"]})
    # THEN a new id token, stamped on the stack's clock (not the real one, two hours behind), for the app client's
    # IdTokenValidity (60 minutes, template.yaml), which the authorizer lets through; no new refresh token
    assert refreshed.status_code == 200, refreshed.text
    result = refreshed.json()["AuthenticationResult"]
    assert "RefreshToken" not in result and result["ExpiresIn"] == 3600
    old, new = _unverified(first["IdToken"]), _unverified(result["IdToken"])
    assert int(new["iat"]) >= moved_to and int(new["exp"]) == int(new["iat"]) + 3600
    assert int(new["exp"]) > int(old["exp"]) + 2 * 3600 - 60
    assert _me(stack, result["IdToken"]).status_code == 200


def test_a_refresh_token_is_refused_after_the_clients_twelve_hours(stack: LocalStack) -> None:
    # GIVEN a signed-in user's refresh token (RefreshTokenValidity 12 hours, template.yaml)
    email = _email("gus")
    stack.create_user(email, PASSWORD, tenant="acme")
    signed = _initiate_auth(stack, "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": PASSWORD}).json()
    refresh = {"REFRESH_TOKEN": signed["AuthenticationResult"]["RefreshToken"]}
    # WHEN 11 hours pass THEN it still gives id tokens
    stack.aws.clock.advance(11 * 3600)
    assert _initiate_auth(stack, "REFRESH_TOKEN_AUTH", refresh).status_code == 200
    # WHEN the twelfth hour has passed THEN Cognito refuses it as expired, naming no token
    stack.aws.clock.advance(3600)
    refused = _initiate_auth(stack, "REFRESH_TOKEN_AUTH", refresh)
    assert refused.status_code == 400
    assert refused.json()["__type"].endswith("NotAuthorizedException")
    assert refused.json()["message"] == "Refresh Token has expired"


def _unverified(token: str) -> dict[str, Any]:
    """A JWT's claims without checking its signature (the authorizer checks that)."""
    part = token.split(".")[1]
    found: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return found


def test_crossdock_users_creates_and_lists_through_the_local_stack(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN `crossdock serve`'s state file with the stack's AWS endpoint, and a password in a file
    with AwsEndpoint() as aws:
        state = tmp_path / "state.json"
        state.write_text(json.dumps({"base_url": stack.base_url, "aws": endpoint_state(stack.aws, aws.start())}))
        secret = tmp_path / "password"
        secret.write_text(PASSWORD + "\n")
        email = _email("eva")
        # WHEN an operator makes a merchant user, tries an operator with a tenant, and lists the users
        created = cli.main(
            [
                "users",
                "create",
                "--local",
                str(state),
                "--email",
                email,
                "--tenant",
                "acme",
                "--password-file",
                str(secret),
            ]
        )
        made = capsys.readouterr().out
        with pytest.raises(SystemExit) as both:
            cli.main(["users", "create", "--local", str(state), "--email", email, "--tenant", "a", "--operator"])
        capsys.readouterr()
        taken = cli.main(["users", "create", "--local", str(state), "--email", email, "--tenant", "acme"])
        refusal = capsys.readouterr().err
        listed = cli.main(["users", "list", "--local", str(state), "--json"])
        users = json.loads(capsys.readouterr().out)
    # THEN the user was made and signs in with the file's password, which no output shows
    assert created == 0 and email in made and PASSWORD not in made
    assert _me(stack, stack.sign_in(email, PASSWORD)).json()["tenant"] == "acme"
    # AND an operator with a tenant is a usage error, a taken e-mail a refusal naming the field
    assert both.value.code == 2
    assert taken == 1 and "email: a user with this e-mail exists already" in refusal
    # AND the list shows the user with their tenant
    assert listed == 0
    assert {"email": email, "tenant": "acme", "operator": False} == {
        key: value
        for key, value in next(u for u in users if u["email"] == email).items()
        if key in ("email", "tenant", "operator")
    }
