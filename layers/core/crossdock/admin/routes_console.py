"""The web console's files (`/console`, `/console/{proxy+}`, no authorizer: the page signs in itself) and its
`config.json`: where the admin API is, which Cognito endpoint and app client the sign-in uses.

The files are the package's `console/` folder, read once per container; only the names found there are served, so a
path can never reach outside it. The API's own routes are the only thing the page talks to besides Cognito, which
the Content-Security-Policy states (no other origin, no inline script, no frames).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated

CONSOLE_FILES = Path(__file__).with_name("console")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
# The admin API's base URL when the console is served elsewhere; unset, the page finds the API where /console is.
API_BASE_VARIABLE = "ADMIN_API_BASE"
# Cognito's endpoint for InitiateAuth; unset, AWS's regional one. A relative one (the local endpoint's
# /_aws/cognito-idp/) is read by the page against its own origin.
COGNITO_ENDPOINT_VARIABLE = "COGNITO_ENDPOINT"
CLIENT_ID_VARIABLE = "USER_POOL_CLIENT_ID"


@cache
def _files() -> dict[str, tuple[str, bytes]]:
    return {
        path.name: (_TYPES[path.suffix], path.read_bytes())
        for path in CONSOLE_FILES.iterdir()
        if path.is_file() and path.suffix in _TYPES
    }


def console_config(environment: dict[str, str] | None = None) -> dict[str, str]:
    """What config.json says: `{api_base, cognito_endpoint, client_id, region}`, from the function's environment."""
    env = os.environ if environment is None else environment
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
    return {
        "api_base": env.get(API_BASE_VARIABLE, ""),
        "cognito_endpoint": env.get(COGNITO_ENDPOINT_VARIABLE) or f"https://cognito-idp.{region}.amazonaws.com/",
        "client_id": env.get(CLIENT_ID_VARIABLE, ""),
        "region": region,
    }


def _security_headers(config: dict[str, str]) -> dict[str, str]:
    connect = ["'self'"]
    for url in (config["cognito_endpoint"], config["api_base"]):
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            connect.append(f"{parts.scheme}://{parts.netloc}")
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {' '.join(connect)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # A new deployment's files are fetched again rather than mixed with an old page's.
        "Cache-Control": "no-cache",
    }


def _file(name: str) -> Response[bytes]:
    config = console_config()
    found = _files().get(name)
    if found is None:
        return Response(404, "application/json", json.dumps({"message": f"no console file {name}"}).encode())
    content_type, body = found
    return Response(200, content_type, body, headers=_security_headers(config))


@router.get("/console", include_in_schema=False)
def console_page() -> Response[bytes]:
    """The page itself at `/console/`; `/console` redirects there so the page's relative links resolve."""
    if not router.current_event.path.endswith("/"):
        return Response(301, "text/plain", b"", headers={"Location": "console/"})
    return _file("index.html")


@router.get("/console/config.json", include_in_schema=False)
def console_settings() -> Response[str]:
    config = console_config()
    if not config["client_id"]:
        message = f"the console is not configured: {CLIENT_ID_VARIABLE} is not set"
        return Response(500, "application/json", json.dumps({"message": message}))
    return Response(200, "application/json", json.dumps(config), headers=_security_headers(config))


@router.get("/console/<name>", include_in_schema=False)
def console_file(name: str) -> Response[bytes]:
    return _file(name)
