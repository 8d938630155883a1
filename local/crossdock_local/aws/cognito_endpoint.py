"""`<endpoint>/_aws/cognito-idp/…`: moto's Cognito user pools over HTTP, as https://cognito-idp.<region>.amazonaws.com/
answers, so a browser (the console's sign-in page) or `curl` calls InitiateAuth, and reads a pool's
`/<pool id>/.well-known/jwks.json`, exactly as it would in AWS.

The request goes to moto's own server app in-process (the state the stack's pools live in), with the regional host
Cognito has: InitiateAuth is unsigned, and moto finds the region of an unsigned request from the host alone (its
server mode would take us-east-1, where the stack has no pool).
"""

from __future__ import annotations

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

Answer = tuple[int, dict[str, str], bytes]
# Hop-by-hop, or written again by the client for the body it sends.
_NOT_FORWARDED = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding"})


class CognitoEndpoint:
    def __init__(self, region: str) -> None:
        self._app = DomainDispatcherApplication(create_backend_app)
        self._base_url = f"https://cognito-idp.{region}.amazonaws.com"

    def answer(self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes) -> Answer:
        """moto's answer to one request, `path` being what follows `/_aws/cognito-idp` (`/` for the API)."""
        forwarded = {name: value for name, value in headers.items() if name.lower() not in _NOT_FORWARDED}
        response = Client(self._app).open(
            path or "/",
            base_url=self._base_url,
            method=method,
            headers=forwarded,
            data=body,
            query_string=query_string,
        )
        answer_headers = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
        return response.status_code, answer_headers, response.get_data()
