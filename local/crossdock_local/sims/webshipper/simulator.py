"""`WebshipperSimulator`: the resource modules composed into one Webshipper, with its request pipeline and control API.

The pipeline answers in the order a real API would: `/{account}/v2/...` (an account that does not exist is 404,
as its subdomain would not answer), an outage and the injected faults (hang, throttle, 5xx) of the shared base's
`FaultPlan`, then the route's guard — the bearer token (401 when missing, unknown, expired, revoked, of another
account or of a deleted user), the account's rate limit (Guess: 2 a second, a burst of 40; 429 with
`Retry-After`) — and the handler. Writes queue webhooks; `deliver()` sends them without the simulator's lock.
The `/_control/...` calls (control.py) and the Python methods here work on the same state under the same lock.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import Any

from crossdock_local.sims.base import (
    FaultAnswers,
    FaultPlan,
    Faults,
    SimRequest,
    SimResponse,
    WebhookSink,
)
from crossdock_local.sims.base.refusal import refusal_as_value_error
from crossdock_local.sims.base.single_outbox import SingleOutbox
from crossdock_local.sims.base.system_control import SystemControl
from crossdock_local.sims.base.throttle import LeakyBucket, too_many_requests
from crossdock_local.sims.base.wall_clock import WallClock
from crossdock_local.sims.base.webhooks import Delivery, WebhookOutbox
from crossdock_local.sims.webshipper import (
    auth,
    channels,
    control,
    drop_points,
    orders,
    rates,
    shipments,
    tracking,
    views,
    webhooks,
)
from crossdock_local.sims.webshipper.rules import WebshipperRules
from crossdock_local.sims.webshipper.session import Access, Handler, Route, Session
from crossdock_local.sims.webshipper.state import AccountState, Record, WebshipperState
from crossdock_local.sims.webshipper.wire import Refused, error_body, jsonapi

API_VERSION = "v2"
DEFAULT_PUBLIC_URL = "https://api.webshipper.test"
FAULT_ANSWERS = FaultAnswers(
    outage=error_body(503, "Service Unavailable"),
    throttled=error_body(429, "Too Many Requests"),
    server_error=error_body(500, "Internal Server Error"),
    server_error_statuses=(500, 502, 503),
)
ROUTES: tuple[Route, ...] = (
    *auth.ROUTES,
    *channels.ROUTES,
    *rates.ROUTES,
    *orders.ROUTES,
    *shipments.ROUTES,
    *drop_points.ROUTES,
    *tracking.ROUTES,
    *webhooks.ROUTES,
)


class WebshipperSimulator(SingleOutbox, WallClock, SystemControl):
    """Webshipper API v2 as the fact sheet describes it (see the package docstring).

    Python control API: `seed_account`, `add_api_token`, `delete_user`, `expire_tokens`, `place_order`, `ship`, `track`,
    `order`, `shipment`, `account`, `rules` (the guesses' switches), `faults`, `delivery_faults`, `deliver`,
    `pending`, `delivery_log`, `calls_by_route`. `seed` seeds the faults' random source and the webhooks' delivery
    faults (`delivery:<seed>`); `epoch` is the Unix time the clock's present stands for (default: now), so
    `created_at` and `updated_at` move with a virtual or fake clock; `public_url` is what links are built on
    (`<public_url>/<account>/v2/...`)."""

    system = "webshipper"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        seed: int | None = None,
        epoch: float | None = None,
        rules: WebshipperRules | None = None,
        webhook_sink: WebhookSink | None = None,
        public_url: str = DEFAULT_PUBLIC_URL,
    ) -> None:
        super().__init__(clock)
        self.state = WebshipperState()
        self._outbox = WebhookOutbox[Delivery](
            webhook_sink,
            self._delivery_headers,
            max_attempts=webhooks.MAX_ATTEMPTS,
            on_give_up=self._gave_up,
            seed=None if seed is None else f"delivery:{seed}",
        )
        self.faults = Faults(seed=seed)
        self.rules = rules or WebshipperRules()
        self.public_url = public_url.rstrip("/")
        self.calls_by_route: Counter[tuple[str, str]] = Counter()
        self._buckets: dict[str, LeakyBucket] = {}
        self._start_wall_clock(epoch)
        self._account_in_path = ""
        for method, pattern, handler, access in ROUTES:
            self._route(method, pattern, handler, access)
        self._register_control(control.ROUTES)

    # ---- webhooks (SingleOutbox: outbox, delivery_log, pending, deliver) ------------------------------------------

    def _delivery_headers(self, delivery: Delivery) -> dict[str, str]:
        with self._lock:  # the secret as it is now, read under the lock like every other access to the state
            return webhooks.headers(self.state, delivery)

    def _gave_up(self, delivery: Delivery) -> None:
        last = next((a for a in reversed(self.outbox.log) if a.delivery_id == delivery.delivery_id), None)
        message = "no answer" if last is None else (last.error or f"HTTP {last.status}")
        with self._lock:
            webhooks.give_up(self.state, delivery, message)

    def _emit(self, session: Session, topic: str, kind: str, record: Record) -> None:
        webhooks.queue(self._outbox, session, topic, kind, record)

    # ---- control API (Python side) -------------------------------------------------------------------------------

    def seed_account(
        self,
        name: str,
        *,
        users: list[dict[str, str]] | None = None,
        carriers: list[dict[str, Any]] | None = None,
        channels: list[dict[str, Any]] | None = None,
        rates: list[dict[str, Any]] | None = None,
    ) -> Record:
        """An account as `POST /_control/accounts` makes it; answers the ids (carriers by alias, channels by label,
        rates by name)."""
        body = {"name": name, "users": users or [], "carriers": carriers or [], "channels": channels or []}
        body["rates"] = rates or []
        with self._session() as session:
            return control.seed_account(session, body)

    def add_api_token(self, account: str) -> str:
        with self._session(account) as session:
            return control.api_token(session)

    def delete_user(self, account: str, email: str) -> None:
        with self._session(account) as session:
            control.delete_user(session, email)

    def expire_tokens(self, account: str) -> int:
        with self._session(account) as session:
            return control.expire_tokens(session)

    def place_order(self, account: str, document: Record) -> Record:
        """An order placed in Webshipper itself (another channel); answers its JSON:API document."""
        with self._session(account) as session:
            return control.place_order(session, document)

    def ship(
        self,
        account: str,
        order_id: int,
        *,
        tracking_number: str | None = None,
        tracking_url: str | None = None,
        order_line_ids: list[int] | None = None,
    ) -> Record:
        """The warehouse ships the order in Webshipper; answers the shipment's JSON:API document."""
        body: Record = {"tracking_number": tracking_number, "tracking_url": tracking_url}
        if order_line_ids is not None:
            body["order_line_ids"] = order_line_ids
        with self._session(account) as session:
            return control.ship(session, order_id, body)

    def track(self, account: str, shipment_id: int, status: str, description: str | None = None) -> Record:
        """The carrier scans the shipment's parcel (`in_transit`, `delivered`, `returned`, …); answers the event."""
        with self._session(account) as session:
            return control.track(session, shipment_id, status, description)

    def order(self, account: str, order_id: int) -> Record:
        """An order as `GET /orders/{id}` shows it; KeyError if unknown."""
        with self._session(account) as session:
            return views.document(session, "orders", session.account.of("orders")[order_id])

    def orders(self, account: str) -> list[Record]:
        """Every order of the account, oldest first, as resource objects (an audit's view)."""
        with self._session(account) as session:
            rows = sorted(session.account.of("orders").values(), key=lambda r: int(r["_id"]))
            return [views.document(session, "orders", row)["data"] for row in rows]

    def shipments(self, account: str) -> list[Record]:
        with self._session(account) as session:
            rows = sorted(session.account.of("shipments").values(), key=lambda r: int(r["_id"]))
            return [views.document(session, "shipments", row)["data"] for row in rows]

    def account(self, name: str) -> AccountState:
        return self.state.accounts[name]

    def snapshot(self) -> dict[str, Any]:
        """`GET /_control/state`: per account how many of each resource it holds, orders by status, webhooks by
        topic, users and tokens counted; never a token, a password, an e-mail or a webhook secret."""
        with self._lock:
            now = self.clock()
            tokens = list(self.state.tokens.values())
            accounts = [
                {
                    "name": account.name,
                    "users": sum(1 for u in account.users.values() if not u.deleted),
                    "counts": {kind: len(rows) for kind, rows in account.records.items()},
                    "orders_by_status": dict(Counter(o["status"] for o in account.of("orders").values())),
                    "webhooks": [
                        {"id": h["_id"], "topic": h["topic"], "enabled": h["enabled"], "health": h["health"]}
                        for h in account.of("webhooks").values()
                    ],
                    "webhook_failures": len(account.webhook_failures),
                }
                for account in self.state.accounts.values()
            ]
            return {
                **super().snapshot(),
                "accounts": accounts,
                "tokens": {
                    "oauth_live": sum(1 for t in tokens if t.kind == "oauth" and t.live(now)),
                    "oauth_expired": sum(1 for t in tokens if t.kind == "oauth" and not t.live(now)),
                    "api": sum(1 for t in tokens if t.kind == "api"),
                },
                "rules": asdict(self.rules),
                "webhooks": {"pending": len(self.pending()), "attempts": len(self.delivery_log)},
            }

    # ---- request pipeline ----------------------------------------------------------------------------------------

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        account, version, rest = _split(request.path)
        if account is None or version != API_VERSION or account not in self.state.accounts:
            return jsonapi(404, error_body(404, "Not found"))
        plan = FaultPlan(self.faults, self.clock(), request.method, request.path, FAULT_ANSWERS)
        early = plan.before()
        if early is not None:
            return _worded(early)
        self._account_in_path = account  # read by the route's guard; set and used under the lock
        response = _worded(self.router.dispatch(replace(request, path=rest)))
        plan.after(response)
        return response

    def _new_session(self, account: str | None = None) -> Session:
        return Session(
            self.state,
            self.rules,
            self.clock(),
            self.unix_now,
            self.public_url,
            account_name=account,
            emit=self._emit,
        )

    @contextmanager
    def _session(self, account: str | None = None) -> Iterator[Session]:
        """A change made from Python under the lock, with the handlers' rules: a refusal raises ValueError with
        the API's error body."""
        with self._lock:
            if account is not None and account not in self.state.accounts:
                raise KeyError(account)
            with refusal_as_value_error():
                yield self._new_session(account)

    def _route(self, method: str, pattern: str, handler: Handler, access: Access) -> None:
        key = (method, pattern)

        def guarded(request: SimRequest, **params: str) -> SimResponse:
            self.calls_by_route[key] += 1
            account = self._account_in_path
            session = self._new_session(account)
            try:
                if access == "token":
                    session.token = auth.caller(session, request)
                refused = self._throttle(account)
                if refused is not None:
                    return refused
                return handler(session, request, **params)
            except Refused as refusal:
                return refusal.response

        self.router.add(method, pattern, guarded)

    def _throttle(self, account: str) -> SimResponse | None:
        bucket = self._buckets.setdefault(account, LeakyBucket(self.rules.burst, self.rules.requests_per_second))
        # The rules may have changed since the last call.
        bucket.capacity, bucket.refill_per_second = self.rules.burst, self.rules.requests_per_second
        wait = bucket.take(1, self.clock())
        if wait is None:
            return None
        return too_many_requests(max(1, math.ceil(wait)), error_body(429, "Too Many Requests"))


def _split(path: str) -> tuple[str | None, str, str]:
    """`/{account}/v2/rest` → (account, "v2", "/rest")."""
    parts = path.lstrip("/").split("/", 2)
    if len(parts) < 2 or not parts[0]:
        return None, "", ""
    return parts[0], parts[1], "/" + (parts[2] if len(parts) > 2 else "")


def _worded(response: SimResponse) -> SimResponse:
    """The router's own 404 and 405 (`{"message"}`) as JSON:API error objects, like every other refusal."""
    if response.status < 400 or response.headers.get("content-type") != "application/json":
        return response
    try:
        body = response.json()
    except ValueError:
        return response
    if isinstance(body, dict) and isinstance(body.get("message"), str) and "errors" not in body:
        headers = {k: v for k, v in response.headers.items() if k != "content-type"}
        return jsonapi(response.status, error_body(response.status, body["message"]), headers)
    return response
