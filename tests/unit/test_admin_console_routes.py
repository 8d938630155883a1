"""`crossdock.admin.routes_console`: the console's files and config.json, served without an authorizer."""

from __future__ import annotations

import json
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
    answer: dict[str, Any] = resolver.resolve(event, None)
    answer["headers"] = {
        **{k: ", ".join(v) for k, v in (answer.get("multiValueHeaders") or {}).items()},
        **(answer.get("headers") or {}),
    }
    return answer


@pytest.fixture(autouse=True)
def _configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv(routes_console.CLIENT_ID_VARIABLE, "console-client")
    monkeypatch.delenv(routes_console.COGNITO_ENDPOINT_VARIABLE, raising=False)
    monkeypatch.delenv(routes_console.API_BASE_VARIABLE, raising=False)


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


def test_config_takes_a_local_cognito_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN COGNITO_ENDPOINT set (the embedded stack's pass-through) WHEN config.json is read THEN it names it."""
    monkeypatch.setenv(routes_console.COGNITO_ENDPOINT_VARIABLE, "/_aws/cognito-idp/")
    assert json.loads(_get("/console/config.json")["body"])["cognito_endpoint"] == "/_aws/cognito-idp/"


def test_config_without_an_app_client_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no USER_POOL_CLIENT_ID WHEN config.json is asked for THEN a 500 names the variable (a deployment fault,
    not the caller's)."""
    monkeypatch.delenv(routes_console.CLIENT_ID_VARIABLE)
    answer = _get("/console/config.json")
    assert answer["statusCode"] == 500
    assert "USER_POOL_CLIENT_ID" in json.loads(answer["body"])["message"]


@pytest.mark.parametrize("name", ["missing.js", "..%2Froutes_console.py", "__init__.py"])
def test_only_the_folders_files_are_served(name: str) -> None:
    """GIVEN a name that is not one of the console's files WHEN asked for THEN 404, nothing read outside it."""
    answer = _get(f"/console/{name}")
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {"message": f"no console file {name}"}
