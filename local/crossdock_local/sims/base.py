"""What every simulator shares: a plain request/response pair, a router, faults and an httpx transport.

A simulator is an in-memory model of one external system that answers HTTP requests exactly as the fact sheet in
`../shared/reference/` describes. It is reached two ways with the same code: in-process through
`transport(sim)` (an `httpx.MockTransport`, so a crossdock client needs only a different transport), or over
real HTTP when `crossdock serve` mounts it under `/_sim/<system>/`.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class SimRequest:
    method: str
    path: str  # relative to the simulator's root, always starting with "/"
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> SimResponse:
    body = json.dumps(payload, default=_json_default).encode()
    return SimResponse(status, body, {"content-type": "application/json", **(headers or {})})


Handler = Callable[..., SimResponse]


class Router:
    """Maps (method, path pattern) to a handler; `{name}` in a pattern captures one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/")
        self._routes.append((method.upper(), re.compile(f"^{regex}/?$"), handler))

    def dispatch(self, request: SimRequest) -> SimResponse:
        path_matched = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_matched = True
            if method == request.method.upper():
                return handler(request, **match.groupdict())
        if path_matched:
            return json_response(405, {"message": "Method not allowed"})
        return json_response(404, {"message": "Not found"})


@dataclass
class Faults:
    """Fault switches an operator or a test turns on to see how Crossdock copes.

    `server_error_rate`: share of requests answered 5xx before doing anything.
    `latency_seconds`: added to every request (real wall time; keep it small).
    `drop_response_rate`: share of *mutating* requests that commit and then lose their response (the client sees a
    transport error, as when a connection is cut after the server wrote).
    `throttle_rate`: share of requests answered 429 with a `Retry-After` of 1–`max_retry_after` seconds, on top of
    the simulator's own rate limit (a platform throttling for its own reasons).
    `timeout_rate`: share of requests that hang for `hang_seconds` of real time and are then cut without an answer
    (half of the mutating ones after committing): a client whose read timeout is shorter sees a timeout.
    `outage_until`: until this moment of the simulator's clock, every request is answered 503 (an outage).
    `on_committed_write`: called after a mutating request committed, with `crash_after_write_rate` — the caller's
    process dies between this write and its next step (the embedded Lambda runtime arms a crash).
    """

    server_error_rate: float = 0.0
    latency_seconds: float = 0.0
    drop_response_rate: float = 0.0
    throttle_rate: float = 0.0
    max_retry_after: int = 5
    timeout_rate: float = 0.0
    hang_seconds: float = 1.5
    outage_until: float = 0.0
    crash_after_write_rate: float = 0.0
    on_committed_write: Callable[[], None] | None = field(default=None, repr=False)
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate


class ResponseDropped(Exception):
    """Raised by a simulator after committing a write whose response is to be lost."""


class ResponseHung(Exception):
    """Raised by a simulator for a request that hangs `seconds` and is then cut without an answer."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"hanging {seconds}s")
        self.seconds = seconds


class Simulator:
    """Base for the simulators: counts calls, applies faults, serialises access (they run under threads)."""

    system = "base"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.faults = Faults()
        self.router = Router()
        self.calls = 0
        self.calls_by_status: dict[int, int] = {}
        self._lock = threading.RLock()

    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request; raises ResponseDropped when a committed write must lose its response."""
        if self.faults.latency_seconds:
            time.sleep(self.faults.latency_seconds)
        with self._lock:
            self.calls += 1
            response = self._handle_locked(request)
            self.calls_by_status[response.status] = self.calls_by_status.get(response.status, 0) + 1
        return response

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        return self.router.dispatch(request)


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


WebhookSink = Callable[[str, dict[str, str], bytes], int]
"""Delivers one webhook: (url, headers, raw body) → HTTP status. The embedded stack passes a function that calls the
API route in-process; `crossdock serve` passes one that POSTs over HTTP."""
