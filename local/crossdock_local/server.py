"""One local HTTP endpoint for the whole embedded stack, like `sam local start-api` plus the simulators.

`/webhooks/...` goes to the API routes of template.yaml (through the embedded API Gateway), and
`/_sim/<system>/...` to that system's simulator, so a client or a curl command talks to everything over real HTTP.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, make_server

from crossdock_local.sims.base import ResponseDropped, ResponseHung, SimRequest, Simulator

SIM_PREFIX = "/_sim/"
# One access-log line per request would drown the demo's output.
logging.getLogger("werkzeug").setLevel(logging.WARNING)

ApiCall = Callable[[str, str, dict[str, str], bytes, dict[str, list[str]]], tuple[int, dict[str, str], bytes]]
StartResponse = Callable[..., Any]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    found = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-").lower()] = environ[key]
    return found


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class LocalEndpoint:
    """A WSGI app over the embedded API and the simulators, served by a threaded werkzeug server."""

    def __init__(self, api: ApiCall, simulators: dict[str, tuple[Simulator, str]]) -> None:
        """`simulators` maps a system to its simulator and the path its real API lives under (Rackbeat: /api)."""
        self._api = api
        self._simulators = simulators
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ["REQUEST_METHOD"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = _headers(environ)
        if path.startswith(SIM_PREFIX):
            system, _, rest = path[len(SIM_PREFIX) :].partition("/")
            mounted = self._simulators.get(system)
            root = mounted[1] if mounted else ""
            if mounted is None or not ("/" + rest).startswith(root):
                start_response(_reason(404), [("Content-Type", "application/json")])
                return [b'{"message": "no such simulator"}']
            try:
                answer = mounted[0].handle(
                    SimRequest(method, "/" + rest[len(root.lstrip("/")) :].lstrip("/"), query, headers, body)
                )
            except ResponseDropped:
                # The write is committed; cut the connection so the client never sees the answer.
                connection: socket.socket = environ["werkzeug.socket"]
                connection.shutdown(socket.SHUT_RDWR)
                start_response(_reason(500), [])
                return [b""]
            except ResponseHung as hung:
                # Outside the simulator's lock: only this request waits. A client with a shorter read timeout gives
                # up first; then the connection is cut, never answered.
                time.sleep(hung.seconds)
                hung_connection: socket.socket = environ["werkzeug.socket"]
                hung_connection.shutdown(socket.SHUT_RDWR)
                start_response(_reason(500), [])
                return [b""]
            start_response(_reason(answer.status), list(answer.headers.items()))
            return [answer.body]
        status, answer_headers, answer_body = self._api(method, path, headers, body, query)
        start_response(_reason(status), list(answer_headers.items()))
        return [answer_body]

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serves in a background thread; returns the base URL (port 0 picks a free port)."""
        self._server = make_server(host, port, self, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="crossdock-endpoint", daemon=True)
        self._thread.start()
        return f"http://{host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
