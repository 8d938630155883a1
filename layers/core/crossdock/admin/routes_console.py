"""The web console's files (`/console`, `/console/{proxy+}`, no authorizer: the page signs in itself) and its
`config.json`: where the admin API is, which Cognito endpoint and app client the sign-in uses.

The files are the package's `console/` folder, read once per container; only the names found there are served, so a
path can never reach outside it. The API's own routes are the only thing the page talks to besides Cognito, which
the Content-Security-Policy states (no other origin, no inline script, no frames).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
# Where the embedded stack's endpoint passes Cognito's API through (crossdock_local): relative, so the page reads it
# against its own origin, whatever port `crossdock serve` or a test's stack listens on.
LOCAL_COGNITO_ENDPOINT = "/_aws/cognito-idp/"


@dataclass(frozen=True, kw_only=True)
class ConsoleConfig:
    """What the page needs to sign in and find the API: the user pool's app client and region; Cognito's endpoint
    (empty: AWS's regional one); the admin API's base URL (empty: where the console itself is served)."""

    client_id: str
    region: str
    cognito_endpoint: str = ""
    api_base: str = ""

    def document(self) -> dict[str, str]:
        """config.json: `{api_base, cognito_endpoint, client_id, region}`."""
        return {
            "api_base": self.api_base,
            "cognito_endpoint": self.cognito_endpoint or f"https://cognito-idp.{self.region}.amazonaws.com/",
            "client_id": self.client_id,
            "region": self.region,
        }


_config: ConsoleConfig | None = None


def configure(config: ConsoleConfig | None) -> None:
    """Given once by the function, from its environment (the library reads no environment itself)."""
    global _config
    _config = config


@cache
def _files() -> dict[str, tuple[str, bytes]]:
    return {
        path.name: (_TYPES[path.suffix], path.read_bytes())
        for path in CONSOLE_FILES.iterdir()
        if path.is_file() and path.suffix in _TYPES
    }


def _security_headers() -> dict[str, str]:
    config = _config.document() if _config else {"cognito_endpoint": "", "api_base": ""}
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
    found = _files().get(name)
    if found is None:
        return Response(404, "application/json", json.dumps({"message": f"no console file {name}"}).encode())
    content_type, body = found
    return Response(200, content_type, body, headers=_security_headers())


@router.get("/console", include_in_schema=False)
def console_page() -> Response[bytes]:
    """The page itself at `/console/`; `/console` redirects there so the page's relative links resolve."""
    if not router.current_event.path.endswith("/"):
        return Response(301, "text/plain", b"", headers={"Location": "console/"})
    return _file("index.html")


@router.get("/console/config.json", include_in_schema=False)
def console_settings() -> Response[str]:
    if _config is None or not _config.client_id:
        # A deployment fault, not the caller's: the function was given no app client.
        message = "the console is not configured: the function names no user pool client"
        return Response(500, "application/json", json.dumps({"message": message}))
    return Response(200, "application/json", json.dumps(_config.document()), headers=_security_headers())


@router.get("/console/<name>", include_in_schema=False)
def console_file(name: str) -> Response[bytes]:
    return _file(name)
