"""Reaching a simulator in process: an httpx transport, so a Crossdock client needs only a different transport."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from crossdock_local.sims.base.faults import ResponseDropped, ResponseHung
from crossdock_local.sims.base.http import SimRequest
from crossdock_local.sims.base.simulator import Simulator


def request_from_httpx(request: httpx.Request, root: str = "") -> SimRequest:
    parts = urlsplit(str(request.url))
    path = parts.path
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return SimRequest(
        method=request.method,
        path=path,
        query=parse_qs(parts.query, keep_blank_values=True),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.read(),
    )


def transport(sim: Simulator, root: str = "") -> httpx.MockTransport:
    """An httpx transport that answers from `sim`; `root` is the URL path prefix the client's base URL carries."""

    def handler(request: httpx.Request) -> httpx.Response:
        try:
            answer = sim.handle(request_from_httpx(request, root))
        except ResponseDropped as dropped:
            raise httpx.ReadError("simulated: response lost after commit", request=request) from dropped
        except ResponseHung as hung:
            # In process there is no socket to time out on: the client sees what its timeout would raise.
            raise httpx.ReadTimeout("simulated: no answer in time", request=request) from hung
        return httpx.Response(answer.status, content=answer.body, headers=answer.headers)

    return httpx.MockTransport(handler)
