"""`ShopboxSimulator`: the resource modules composed into one Shopbox, with its request pipeline and control API.

The pipeline answers in the order a real API would: the path under `/api/v3` (anything else is 404), an outage
and the injected faults (hang, throttle, 500) of the shared base's `FaultPlan`, then the route's guard — the token
in the query string (401 when missing, unknown or expired), 5 requests a second per token (Guess; 429 with
`Retry-After`), the client chosen by `client=` (403 for one the login cannot act for) — and the handler. The
`/_control/...` calls (control.py) and the Python methods here work on the same state under the same lock.
"""

from __future__ import annotations

import json
import random
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
from crossdock_local.sims.base.http import json_response
from crossdock_local.sims.base.refusal import refusal_as_value_error
from crossdock_local.sims.base.single_outbox import SingleOutbox
from crossdock_local.sims.base.system_control import SystemControl
from crossdock_local.sims.base.throttle import SlidingWindow, too_many_requests
from crossdock_local.sims.base.wall_clock import WallClock
from crossdock_local.sims.base.webhooks import Delivery, WebhookOutbox
from crossdock_local.sims.shopbox import auth, baskets, branches, control, inventories, products, push, tags
from crossdock_local.sims.shopbox.rules import ShopboxRules
from crossdock_local.sims.shopbox.sale_generator import varied_sale
from crossdock_local.sims.shopbox.session import Access, Handler, Route, Session
from crossdock_local.sims.shopbox.state import ClientState, Record, ShopboxState
from crossdock_local.sims.shopbox.wire import Refused, error_body, render, reshaped

API_ROOT = "/api/v3"
WINDOW_SECONDS = 1.0
FAULT_ANSWERS = FaultAnswers(
    outage=error_body(503, "Service Unavailable"),
    throttled=error_body(429, "Too Many Requests"),
    # Seen S3: the sporadic failures are 500s.
    server_error=error_body(500, "Internal server error"),
    server_error_statuses=(500,),
)
ROUTES: tuple[Route, ...] = (
    *auth.ROUTES,
    *branches.ROUTES,
    *tags.ROUTES,
    *products.ROUTES,
    *inventories.ROUTES,
    *baskets.ROUTES,
)


class ShopboxSimulator(SingleOutbox, WallClock, SystemControl):
    """Shopbox POS as the fact sheet describes it (see the package docstring).

    Python control API: `seed_client`, `add_client`, `add_login`, `grant`, `revoke`, `set_password`,
    `add_api_token`, `add_branch`, `add_tag`, `upsert_product`, `delete_product`, `set_stock`, `stock`, `sell`,
    `sell_varied`, `cancel_basket`, `basket`, `baskets`, `expire_login_tokens`, `client`, `rules` (the guesses'
    switches), `faults`, `calls_by_route`, and the optional stock-delta push's `set_stock_push`, `deliver`,
    `pending`, `delivery_log`.
    `seed` seeds the faults' random source (also the sporadic 500 on `page=1`), the push's delivery faults
    (`delivery:<seed>`) and the varied sales (`sales:<seed>`); `epoch` is the Unix time the clock's present stands
    for (default: now), so `crdate` and `tstamp` move with a virtual or fake clock."""

    system = "shopbox"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        seed: int | None = None,
        epoch: float | None = None,
        rules: ShopboxRules | None = None,
        webhook_sink: WebhookSink | None = None,
    ) -> None:
        super().__init__(clock)
        self._outbox = WebhookOutbox[Delivery](
            webhook_sink,
            push.headers,
            max_attempts=push.MAX_ATTEMPTS,
            seed=None if seed is None else f"delivery:{seed}",
        )
        self.faults = Faults(seed=seed)
        self.rules = rules or ShopboxRules()
        self.state = ShopboxState()
        self.calls_by_route: Counter[tuple[str, str]] = Counter()
        # Its own stream, so varied sales replay for a seed whatever faults are switched on.
        self._sales_rng = random.Random(None if seed is None else f"sales:{seed}")
        self._limiter = SlidingWindow(self.rules.requests_per_second, WINDOW_SECONDS)
        self._start_wall_clock(epoch)
        for method, pattern, handler, access in ROUTES:
            self._route(method, pattern, handler, access)
        self._register_control(control.ROUTES)

    @property
    def unix_now(self) -> int:
        """Wall time in whole Unix seconds, moving with the simulator's clock (what `crdate` and `tstamp` carry)."""
        return int(super().unix_now)

    # ---- the optional stock-delta push (SingleOutbox: outbox, delivery_log, pending, deliver) ----------------------

    def set_stock_push(self, client_uid: int, url: str | None) -> None:
        """Switch the client's stock-delta push on (to `url`) or off (None)."""
        with self._session(client_uid) as session:
            push.set_push_url(session.tenant, url)

    # ---- control API (Python side) -------------------------------------------------------------------------------

    def seed_client(
        self,
        name: str,
        *,
        username: str | None = None,
        password: str | None = None,
        branches: dict[str, list[str]] | None = None,
        tags: list[str] | tuple[str, ...] = (),
    ) -> Record:
        """A client with a login (when `username` is given), branches (name → its cash registers) and tags, as
        `POST /_control/clients` makes it: answers its `uid`, `branches` (as the API shows them), `tags`, `login`."""
        body: Record = {
            "name": name,
            "branches": [{"name": b, "cash_registers": regs} for b, regs in (branches or {}).items()],
            "tags": list(tags),
        }
        if username is not None:
            body["login"] = {"username": username, "password": password}
        with self._session() as session:
            return control.seed_client(session, body)

    def add_client(self, name: str) -> int:
        with self._session() as session:
            return control.add_client(session, name).uid

    def add_login(self, username: str, password: str, clients: list[int], **names: str) -> int:
        """A login that may act for `clients` (several: the tenant choice of `GET /clients/myclients`)."""
        with self._session() as session:
            return control.add_login(session, username, password, clients, **names).uid

    def grant(self, username: str, client_uid: int) -> None:
        with self._session() as session:
            control.grant(session, username, client_uid)

    def revoke(self, username: str, client_uid: int) -> None:
        """The login may no longer act for the client: its calls naming it answer 403."""
        with self._session() as session:
            control.revoke(session, username, client_uid)

    def set_password(self, username: str, password: str) -> None:
        """The user changes their password in Shopbox; a log-in with the old one is 401."""
        with self._session() as session:
            control.set_password(session, username, password)

    def add_api_token(self, client_uid: int) -> str:
        """A long-lived `api-token` for one client (it never expires)."""
        with self._session() as session:
            return auth.issue_api_token(session.state, self.client(client_uid), session.clock).value

    def add_branch(
        self,
        client_uid: int,
        name: str,
        registers: list[str] | tuple[str, ...] = ("Kasse 1",),
        *,
        city: str | None = None,
        is_closed: bool = False,
    ) -> Record:
        with self._session(client_uid) as session:
            return control.add_branch(session, name, list(registers), city=city, is_closed=is_closed)

    def add_tag(self, client_uid: int, name: str) -> Record:
        with self._session(client_uid) as session:
            return render(control.add_tag(session, name))

    def upsert_product(self, client_uid: int, body: Record) -> Record:
        """What `POST /products/create-or-update` does, from Python (a user editing the catalogue in Shopbox)."""
        with self._session(client_uid) as session:
            product, _ = products.upsert(session, body)
            return render(product)

    def delete_product(self, client_uid: int, product_uid: int) -> None:
        """A user removes a product in Shopbox's back office (its stock rows go with it); KeyError if unknown."""
        with self._session(client_uid) as session:
            products.delete(session.tenant, product_uid)

    def set_stock(
        self, client_uid: int, branch: int, product: int, quantity: int, variance: int | None = None
    ) -> Record:
        """Count (branch, product, variance) to `quantity` in Shopbox itself (not through the API)."""
        with self._session(client_uid) as session:
            key = inventories.stock_key(session.tenant, branch, product, variance)
            return render(session.tenant.set_stock(key, quantity, session.next_uid))

    def stock(self, client_uid: int, branch: int, product: int, variance: int | None = None) -> int:
        with self._lock:
            return self.client(client_uid).stock((branch, product, variance))

    def sell(
        self,
        client_uid: int,
        branch: int,
        cash_register: int,
        lines: list[Record],
        *,
        customer: Record | None = None,
        made_at: float | None = None,
        payments: list[Record] | None = None,
        return_of: int | None = None,
    ) -> Record:
        """Ring up a sale at the till; answers the basket as `GET /baskets/{uid}` shows it. `lines`:
        `[{product, product_variance?, quantity, selling_price?, discount?, name?}]` (prices in øre). A return
        has negative quantities, and names the sale it hands back with `return_of` when rung up against it."""
        body: Record = {"branch": branch, "cash_register": cash_register, "lines": lines, "customer": customer}
        if return_of is not None:
            body["return_of"] = return_of
        if made_at is not None:
            body["made_at"] = made_at
        if payments is not None:
            body["payments"] = payments
        with self._session(client_uid) as session:
            return baskets.detail_view(session, baskets.sell(session, body))

    def sell_varied(self, client_uid: int, count: int = 1, *, returns: bool = False) -> list[Record]:
        """`count` varied sales at the client's open tills (sale_generator.py), each as `sell` answers it."""
        with self._session(client_uid) as session:
            sales = [
                baskets.sell(session, varied_sale(self._sales_rng, session.tenant, returns=returns))
                for _ in range(count)
            ]
            return [baskets.detail_view(session, basket) for basket in sales]

    def cancel_basket(self, basket_uid: int) -> Record:
        """The sale is cancelled in Shopbox later: `canceled` flips and `tstamp` moves on."""
        with self._session() as session:
            found = session.state.basket(basket_uid)
            if found is None:
                raise KeyError(basket_uid)
            client, basket = found
            session.client = client
            return baskets.detail_view(session, baskets.cancel(session, client, basket))

    def basket(self, basket_uid: int) -> Record:
        """A basket as its detail call shows it (listed yet or not); KeyError if unknown."""
        with self._session() as session:
            found = session.state.basket(basket_uid)
            if found is None:
                raise KeyError(basket_uid)
            return baskets.detail_view(session, found[1])

    def baskets(self, client_uid: int) -> list[Record]:
        """Every basket of the client, oldest first, as detail calls show them (an audit's view)."""
        with self._session(client_uid) as session:
            rows = sorted(session.tenant.baskets.values(), key=lambda b: (b["crdate"], b["uid"]))
            return [baskets.detail_view(session, basket) for basket in rows]

    def expire_login_tokens(self) -> int:
        """Every login token expires now (the next call with one is 401); API tokens are left alone."""
        with self._session() as session:
            return control.expire_login_tokens(session)

    def client(self, client_uid: int) -> ClientState:
        """The client's records, to read or change from Python; KeyError if unknown."""
        return self.state.clients[client_uid]

    def snapshot(self) -> dict[str, Any]:
        """`GET /_control/state`: per client how many of each resource it holds, the logins, the tokens counted
        by kind and the rules; never a token, a password or a username."""
        with self._lock:
            now = self.clock()
            clients = [
                {
                    "uid": client.uid,
                    "name": client.name,
                    "counts": {
                        "branches": len(client.branches),
                        "cash_registers": len(client.registers),
                        "tags": len(client.tags),
                        "products": len(client.products),
                        "variances": sum(len(p["product_variances"]) for p in client.products.values()),
                        "inventories": len(client.inventories),
                        "baskets": len(client.baskets),
                        "baskets_canceled": sum(1 for b in client.baskets.values() if b["canceled"]),
                        "baskets_not_yet_listed": sum(1 for b in client.baskets.values() if b["_listed_at"] > now),
                    },
                    "stock_push": client.push_url is not None,
                }
                for client in self.state.clients.values()
            ]
            tokens = list(self.state.tokens.values())
            return {
                **super().snapshot(),
                "clients": clients,
                "logins": len(self.state.logins),
                "tokens": {
                    "login_live": sum(1 for t in tokens if t.kind == "login" and t.live(now)),
                    "login_expired": sum(1 for t in tokens if t.kind == "login" and not t.live(now)),
                    "api": sum(1 for t in tokens if t.kind == "api"),
                },
                "rules": asdict(self.rules),
                "stock_push": {"pending": len(self.pending()), "attempts": len(self.delivery_log)},
            }

    # ---- request pipeline ----------------------------------------------------------------------------------------

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        if request.path != API_ROOT and not request.path.startswith(API_ROOT + "/"):
            return reshaped(json_response(404, error_body(404, "Not found")), self.rules)
        plan = FaultPlan(self.faults, self.clock(), request.method, request.path, FAULT_ANSWERS)
        early = plan.before()
        if early is not None:
            return reshaped(early, self.rules)
        response = reshaped(
            self.router.dispatch(replace(request, path=request.path[len(API_ROOT) :] or "/")), self.rules
        )
        plan.after(response)
        return response

    def _new_session(self) -> Session:
        return Session(self.state, self.rules, self.clock(), self.unix_now, self.faults.roll, sold=self._sold)

    def _sold(self, client: ClientState, basket: Record, sign: int) -> None:
        push.queue_sale(self._outbox, client, basket, sign)

    @contextmanager
    def _session(self, client_uid: int | None = None) -> Iterator[Session]:
        """A change made from Python under the lock, with the handlers' rules: a refusal raises ValueError with
        the API's error body."""
        with self._lock:
            session = self._new_session()
            if client_uid is not None:
                session.client = self.client(client_uid)
            with refusal_as_value_error():
                yield session

    def _route(self, method: str, pattern: str, handler: Handler, access: Access) -> None:
        key = (method, pattern)

        def guarded(request: SimRequest, **params: str) -> SimResponse:
            self.calls_by_route[key] += 1
            session = self._new_session()
            try:
                if access == "public":
                    refused = self._throttle("login:" + _username(request))
                else:
                    token = session.token = auth.caller(session, request)
                    refused = self._throttle(token.value)
                    if refused is None and access == "client":
                        session.client = auth.choose_client(session, request, token)
                if refused is not None:
                    return refused
                return handler(session, request, **params)
            except Refused as refusal:
                return refusal.response

        self.router.add(method, pattern, guarded)

    def _throttle(self, caller: str) -> SimResponse | None:
        self._limiter.limit = self.rules.requests_per_second  # the rule may have changed since the last call
        retry_after = self._limiter.admit(caller, self.clock())
        if retry_after is None:
            return None
        return too_many_requests(retry_after, error_body(429, "Too Many Requests"))


def _username(request: SimRequest) -> str:
    """Log-ins are limited per username (Guess: Shopbox would limit per address; locally every caller shares
    one), so one connection's refreshes don't throttle another's."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return ""
    name = body.get("username") if isinstance(body, dict) else None
    return name.strip().lower() if isinstance(name, str) else ""
