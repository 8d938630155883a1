"""`crossdock.admin.routes_console`: the console's files and config.json, served without an authorizer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from crossdock.admin import routes_console


def _get(path: str) -> dict[str, Any]:
    resolver = APIGatewayRestResolver(enable_validation=True)
    resolver.include_router(routes_console.router)
    event = {
        "resource": "/console/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"stage": "Prod", "path": f"/Prod{path}", "requestId": "r-1", "resourcePath": path},
        "body": None,
        "isBase64Encoded": False,
    }
    answer: dict[str, Any] = resolver.resolve(event, None)  # type: ignore[arg-type]  # no Lambda context needed
    answer["headers"] = {
        **{k: ", ".join(v) for k, v in (answer.get("multiValueHeaders") or {}).items()},
        **(answer.get("headers") or {}),
    }
    return answer


@pytest.fixture(autouse=True)
def _configured() -> Iterator[None]:
    routes_console.configure(routes_console.ConsoleConfig(client_id="console-client", region="eu-west-1"))
    yield
    routes_console.configure(None)


def test_the_page_is_served_under_the_folder_and_its_bare_address_redirects_there() -> None:
    """GIVEN the console WHEN /console is asked for THEN it redirects to console/ (so the page's relative links
    resolve under a stage prefix too), and /console/ is the page with a policy that allows only its own origin
    and Cognito's."""
    bare = _get("/console")
    assert (bare["statusCode"], bare["headers"]["Location"]) == (301, "console/")
    page = _get("/console/")
    assert page["statusCode"] == 200
    assert page["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Crossdock console</title>" in page["body"]
    policy = page["headers"]["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com" in policy
    assert page["headers"]["X-Content-Type-Options"] == "nosniff"


def test_config_names_the_regional_cognito_endpoint_and_the_app_client() -> None:
    """GIVEN the function's environment WHEN config.json is asked for THEN it names the app client, the region and
    AWS's regional Cognito endpoint, and leaves the API base empty (the API is where the console is)."""
    answer = _get("/console/config.json")
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {
        "api_base": "",
        "cognito_endpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
        "client_id": "console-client",
        "region": "eu-west-1",
    }


def test_config_takes_the_local_cognito_endpoint() -> None:
    """GIVEN the embedded stack's pass-through as the endpoint WHEN config.json is read THEN it names it (relative:
    the page reads it against its own origin), and the policy adds no other origin."""
    routes_console.configure(
        routes_console.ConsoleConfig(
            client_id="c", region="eu-west-1", cognito_endpoint=routes_console.LOCAL_COGNITO_ENDPOINT
        )
    )
    answer = _get("/console/config.json")
    assert json.loads(answer["body"])["cognito_endpoint"] == "/_aws/cognito-idp/"
    assert "connect-src 'self';" in answer["headers"]["Content-Security-Policy"]


def test_config_without_an_app_client_says_what_is_missing() -> None:
    """GIVEN a function that gave no app client WHEN config.json is asked for THEN a 500 says so (a deployment
    fault, not the caller's), and the page itself is still served."""
    routes_console.configure(None)
    answer = _get("/console/config.json")
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"]) == {
        "message": "the console is not configured: the function names no user pool client"
    }
    assert _get("/console/")["statusCode"] == 200


@pytest.mark.parametrize("name", ["missing.js", "..%2Froutes_console.py", "__init__.py"])
def test_only_the_folders_files_are_served(name: str) -> None:
    """GIVEN a name that is not one of the console's files WHEN asked for THEN 404, nothing read outside it."""
    answer = _get(f"/console/{name}")
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"message": f"no console file {name}"}
