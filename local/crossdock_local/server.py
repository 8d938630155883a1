"""One local HTTP endpoint for the whole embedded stack, like `sam local start-api` plus the simulators.

`/webhooks/...` (and every other path of template.yaml's APIs, `/admin/...`) goes to the API routes (through the
embedded API Gateway), `/_sim/<system>/...` to that system's simulator, and `/_aws/<service>/...` to the AWS service
a browser calls directly (Cognito's sign-in), so a client or a curl command talks to everything over real HTTP.

The server keeps connections open (HTTP/1.1 keep-alive), as API Gateway and the real platforms do: a function's
httpx client sends every call of its container over the connection it already has. Werkzeug's development server,
used before, closed the connection after every answer, so each simulator call paid a TCP connect, a new server
thread and a teardown (issue 12: a tenth of a chaos run's time).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from crossdock_local.sims.base import ResponseDropped, ResponseHung, SimRequest, Simulator

SIM_PREFIX = "/_sim/"
AWS_PREFIX = "/_aws/"
CONTROL_PREFIX = "_control/"
_log = logging.getLogger(__name__)

ApiCall = Callable[[str, str, dict[str, str], bytes, dict[str, list[str]]], tuple[int, dict[str, str], bytes]]
Answer = tuple[int, dict[str, str], bytes]
# An AWS service's answer: method, path below its prefix, raw query string, headers, body.
AwsCall = Callable[[str, str, str, dict[str, str], bytes], Answer]
# Headers this server writes itself from the answer it sends (hop-by-hop, or the length of what it sends).
_OWN_HEADERS = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive"})


class _Cut(Exception):
    """The connection is to be cut without an answer, after `seconds` (0: at once)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"cut after {seconds}s")
        self.seconds = seconds


class LocalEndpoint:
    """The embedded API and the simulators behind one threaded HTTP/1.1 server with keep-alive."""

    def __init__(
        self,
        api: ApiCall,
        simulators: dict[str, tuple[Simulator, str]],
        aws_services: dict[str, AwsCall] | None = None,
    ) -> None:
        """`simulators` maps a system to its simulator and the path its real API lives under (Rackbeat: /api);
        `aws_services` an AWS service's name (`cognito-idp`) to what answers for it under `/_aws/<name>`."""
        self._api = api
        self._simulators = simulators
        self._aws_services = aws_services or {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to one request (`target`: path and query string, as on the request line); raises `_Cut`
        when the simulator wants the connection cut instead."""
        parts = urlsplit(target)
        path = parts.path or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        if path.startswith(AWS_PREFIX):
            service, _, rest = path[len(AWS_PREFIX) :].partition("/")
            aws_call = self._aws_services.get(service)
            if aws_call is None:
                return 404, {"Content-Type": "application/json"}, b'{"message": "no such AWS service here"}'
            return aws_call(method, "/" + rest, parts.query, headers, body)
        if not path.startswith(SIM_PREFIX):
            # API Gateway hands the function the decoded path; the simulators decode their own path parameters,
            # as the in-process transport leaves them encoded (an item number may hold an encoded slash).
            return self._api(method, unquote(path), headers, body, query)
        system, _, rest = path[len(SIM_PREFIX) :].partition("/")
        mounted = self._simulators.get(system)
        # The control API is the simulator's own, beside the platform's API rather than under its root.
        root = mounted[1] if mounted and not rest.startswith(CONTROL_PREFIX) else ""
        if mounted is None or not ("/" + rest).startswith(root):
            return 404, {"Content-Type": "application/json"}, b'{"message": "no such simulator"}'
        try:
            answer = mounted[0].handle(
                SimRequest(method, "/" + rest[len(root.lstrip("/")) :].lstrip("/"), query, headers, body)
            )
        except ResponseDropped as dropped:
            # The write is committed; the connection is cut so the client never sees the answer.
            raise _Cut(0.0) from dropped
        except ResponseHung as hung:
            # Outside the simulator's lock: only this request waits. A client with a shorter read timeout gives
            # up first; then the connection is cut, never answered.
            raise _Cut(hung.seconds) from hung
        return answer.status, dict(answer.headers), answer.body

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serves in a background thread; returns the base URL (port 0 picks a free port)."""
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="crossdock-endpoint", daemon=True)
        self._thread.start()
        return f"http://{host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


class _Server(ThreadingHTTPServer):
    # A thread per connection; a client's idle keep-alive connection must not hold the process open at exit.
    daemon_threads = True

    def __init__(self, address: tuple[str, int], endpoint: LocalEndpoint) -> None:
        super().__init__(address, _Handler)
        self.endpoint = endpoint


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client asks to close
    # On a kept-alive connection the answer's head and body are two writes: with Nagle's algorithm the body waits
    # for the client's delayed ACK of the head, 40 ms a call on loopback.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): ", ".join(self.headers.get_all(name, [])) for name in self.headers}
        try:
            status, answer_headers, answer_body = self.server.endpoint.answer(self.command, self.path, headers, body)
        except _Cut as cut:
            if cut.seconds:
                time.sleep(cut.seconds)  # the hang being simulated: real time, on this connection's thread only
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 - a server answers 500 for a failing handler and keeps serving
            _log.exception("local endpoint: %s %s failed", self.command, self.path)
            status, answer_headers, answer_body = 500, {"Content-Type": "text/plain"}, b"internal server error"
        self.send_response(status, _phrase(status))
        for name, value in answer_headers.items():
            if name.lower() not in _OWN_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer_body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer_body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """One access-log line per request would drown the demo's output."""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
