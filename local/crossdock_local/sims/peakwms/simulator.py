"""`PeakwmsSimulator`: the resource modules composed into one PeakWMS, with its request pipeline and control API.

The pipeline answers in the order a real API would: `/{customer}/api/integration/v1/...` (live host) or
`/{customer}/sandbox/api/integration/v1/...` (the sandbox host, seen P1: api-test) — an unknown customer is 404 —,
an outage and the injected faults of the shared base's `FaultPlan` (hang, throttle, 5xx, then after the commit a
lost response or a crash), then the API key (401: missing, unknown, revoked, another customer's or the other
host's), the customer's 240 a minute (sliding window; 429 with `Retry-After: 15`, guess) and the handler. Writes
queue webhooks; `deliver()` sends them without the simulator's lock. `/_control/...` calls (control.py) and the
Python methods here work on the same state under the same lock.
"""

from __future__ import annotations

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
    json_response,
)
from crossdock_local.sims.base.refusal import refusal_as_value_error
from crossdock_local.sims.base.single_outbox import SingleOutbox
from crossdock_local.sims.base.system_control import SystemControl
from crossdock_local.sims.base.throttle import SlidingWindow, too_many_requests
from crossdock_local.sims.base.wall_clock import WallClock
from crossdock_local.sims.base.webhooks import Delivery, DeliveryReport, WebhookOutbox
from crossdock_local.sims.peakwms import auth, control, fulfilment, history, orders, products, stock, webhooks
from crossdock_local.sims.peakwms.rules import PeakwmsRules
from crossdock_local.sims.peakwms.session import Handler, Route, Session
from crossdock_local.sims.peakwms.state import CustomerState, PeakwmsState, Record
from crossdock_local.sims.peakwms.wire import (
    SERVER_ERROR_CODE,
    THROTTLED_CODE,
    Refused,
    error_body,
)

API_ROOT = "api/integration/v1"
SANDBOX = "sandbox"
FAULT_ANSWERS = FaultAnswers(
    outage=error_body("Service Unavailable", SERVER_ERROR_CODE),
    throttled=error_body("Too Many Requests", THROTTLED_CODE),
    server_error=error_body("An unexpected error occurred", SERVER_ERROR_CODE),
    server_error_statuses=(500, 502, 503),
)
ROUTES: tuple[Route, ...] = (
    *auth.ROUTES,
    *products.ROUTES,
    *stock.ROUTES,
    *orders.ROUTES,
    *webhooks.ROUTES,
    *history.ROUTES,
)


class PeakwmsSimulator(SingleOutbox, WallClock, SystemControl):
    """PeakWMS integration API v1 as the fact sheet describes it (see the package docstring).

    Python control API: `seed_customer`, `warehouses`, `add_warehouse`, `revoke_keys`, `receive_stock`,
    `adjust_stock`, `pack`, `ship`, `change_ean`, `close_purchase_order`, `refund`, `set_sending`, `sales_order`,
    `sales_orders`, `pick_orders`, `products`, `stock`, `sales_history`, `rules` (the guesses' switches), `faults`,
    `delivery_faults`, `deliver`, `pending`, `delivery_log`, `calls_by_route`. A refusal raises ValueError with
    PeakWMS's error body. `seed` seeds the faults and the delivery faults (`delivery:<seed>`); `epoch` is the Unix
    time the clock's present stands for (default: now)."""

    system = "peakwms"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        seed: int | None = None,
        epoch: float | None = None,
        rules: PeakwmsRules | None = None,
        webhook_sink: WebhookSink | None = None,
    ) -> None:
        super().__init__(clock)
        self.state = PeakwmsState()
        chosen_rules = rules or PeakwmsRules()
        self._outbox = WebhookOutbox[Delivery](
            webhook_sink,
            webhooks.headers,
            max_attempts=chosen_rules.webhook_attempts,
            seed=None if seed is None else f"delivery:{seed}",
        )
        self.faults = Faults(seed=seed)
        self.rules = chosen_rules
        self.calls_by_route: Counter[tuple[str, str]] = Counter()
        self._window = SlidingWindow(self.rules.requests_per_minute, 60.0)
        self._start_wall_clock(epoch)
        self._customer_in_path = ""
        self._sandbox_in_path = False
        for method, pattern, handler in ROUTES:
            self._route(method, pattern, handler)
        self._register_control(control.ROUTES)

    # ---- webhooks (SingleOutbox: outbox, delivery_log, pending) ---------------------------------------------------

    def deliver(self, limit: int | None = None) -> DeliveryReport:
        """Send the webhooks waiting, without the simulator's lock (the receiver may call PeakWMS back)."""
        self.outbox.max_attempts = self.rules.webhook_attempts  # the rule may have changed since the last call
        return super().deliver(limit)

    def _emit(self, session: Session, event: int, body: Record, subject: str) -> None:
        webhooks.queue(self._outbox, session, event, body, subject)

    # ---- control API (Python side) -------------------------------------------------------------------------------

    def seed_customer(
        self, customer: str, api_key: str | None = None, *, sandbox: bool = False, warehouses: list[str] | None = None
    ) -> str:
        """A PeakWMS customer (with the default warehouse "Main", or `warehouses`) and an API key for it (`api_key`,
        or a new one); a customer that exists gets another key. Answers the key."""
        body: Record = {"name": customer, "sandbox": sandbox}
        if api_key is not None:
            body["apiKey"] = api_key
        if warehouses is not None:
            body["warehouses"] = warehouses
        with self._session() as session:
            return str(control.seed_customer(session, body)["apiKey"])

    def warehouses(self, customer: str) -> list[str]:
        return list(self.customer(customer).warehouses)

    def add_warehouse(self, customer: str, name: str) -> list[str]:
        """Another warehouse (the first stays the default); answers the customer's warehouses."""
        with self._session(customer) as session:
            return control.add_warehouse(session, name)

    def revoke_keys(self, customer: str) -> int:
        """Every API key of the customer answers 401 from now on."""
        with self._session(customer) as session:
            return auth.revoke(session.state, customer)

    def receive_stock(
        self, customer: str, product_id: str, variant_id: str, quantity: int, warehouse: str | None = None
    ) -> Record:
        """Goods arrive at the warehouse: +`quantity` on the shelf, a 100 with the new total, held orders released
        once all their lines can be met. Answers the stock item."""
        body = {"productId": product_id, "variantId": variant_id, "quantity": quantity, "warehouse": warehouse}
        with self._session(customer) as session:
            return control.receive_stock(session, body)

    def adjust_stock(
        self,
        customer: str,
        product_id: str,
        variant_id: str,
        quantity: int,
        *,
        reason: str = "Count",
        warehouse: str | None = None,
    ) -> Record:
        """A stock count or correction: the shelf changes by `quantity` (negative: taken away); a 100."""
        body = {"productId": product_id, "variantId": variant_id, "quantity": quantity, "warehouse": warehouse}
        with self._session(customer) as session:
            return control.adjust_stock(session, {**body, "reason": reason})

    def set_sending(self, customer: str, event: int, enabled: bool) -> None:
        """The merchant switches a message's sending on or off in PeakWMS's UI (seen P2)."""
        with self._session(customer) as session:
            control.set_sending(session, {str(event): enabled})

    def pack(
        self,
        customer: str,
        order_id: str,
        lines: dict[str, int] | None = None,
        *,
        tracking_number: str | None = None,
        tracking_url: str | None = None,
        payment_captured: bool = False,
    ) -> Record:
        """A pick order of `lines` (orderLineId → quantity) or of everything not packed yet is packed: 110, 102
        with only its lines, and 109 once the whole order is packed. Answers the pick order."""
        with self._session(customer) as session:
            return fulfilment.pack(
                session,
                order_id,
                lines,
                tracking_number=tracking_number,
                tracking_url=tracking_url,
                payment_captured=payment_captured,
            )

    def ship(self, customer: str, order_id: str) -> Record:
        """The packed parcels leave; a fully packed order becomes Shipped (109). Answers the order."""
        with self._session(customer) as session:
            return fulfilment.ship(session, order_id)

    def change_ean(self, customer: str, product_id: str, variant_id: str, ean: str) -> Record:
        """An EAN changed in PeakWMS: 101 and 105. Answers the product."""
        with self._session(customer) as session:
            return fulfilment.change_ean(session, product_id, variant_id, ean)

    def close_purchase_order(
        self,
        customer: str,
        lines: list[Record],
        average_costs: dict[tuple[str, str], float] | None = None,
    ) -> Record:
        """A purchase order closed: its goods received (100s), costs set, 103 and 105s. Answers the purchase order."""
        with self._session(customer) as session:
            return fulfilment.close_purchase_order(session, lines, average_costs)

    def refund(self, customer: str, order_id: str, amount: object, lines: dict[str, int] | None = None) -> Record:
        """A full or partial refund made in PeakWMS: 104. Answers its payload."""
        with self._session(customer) as session:
            return fulfilment.refund(session, order_id, amount, lines)

    def pick_orders(self, customer: str, order_id: str) -> list[Record]:
        with self._session(customer) as session:
            rows = session.customer.of("pick_orders").values()
            return [dict(p) for p in sorted(rows, key=lambda p: int(p["id"])) if p["orderId"] == order_id]

    def sales_order(self, customer: str, order_id: str) -> Record | None:
        """The newest sales order of a host `orderId` as the API shows it, or None."""
        with self._session(customer) as session:
            found = orders.by_order_id(session.customer, order_id)
            return None if found is None else orders.view(found)

    def sales_orders(self, customer: str) -> list[Record]:
        with self._session(customer) as session:
            return [orders.view(o) for o in sorted(session.customer.of("sales_orders").values(), key=orders.sort_key)]

    def products(self, customer: str) -> list[Record]:
        with self._session(customer) as session:
            rows = sorted(session.customer.of("products").values(), key=lambda r: int(r["id"]))
            return [products.view(session.customer, r) for r in rows]

    def stock(self, customer: str) -> list[Record]:
        with self._session(customer) as session:
            return [dict(r) for r in sorted(session.customer.of("stock").values(), key=lambda r: int(r["id"]))]

    def sales_history(self, customer: str) -> list[Record]:
        with self._session(customer) as session:
            return [dict(r) for r in history.stored(session)]

    def customer(self, name: str) -> CustomerState:
        return self.state.customers[name]

    def snapshot(self) -> dict[str, Any]:
        """`GET /_control/state`: per customer its warehouses, products, stock, orders by state and the webhooks;
        never an API key."""
        with self._lock:
            return {
                **super().snapshot(),
                "customers": [control.customer_snapshot(c) for c in self.state.customers.values()],
                "keys": {"live": sum(1 for k in self.state.keys.values() if not k.revoked)},
                "rules": asdict(self.rules),
                "webhooks": {"pending": len(self.pending()), "attempts": len(self.delivery_log)},
            }

    # ---- request pipeline ----------------------------------------------------------------------------------------

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        customer, sandbox, rest = _split(request.path)
        if customer is None or customer not in self.state.customers:
            return json_response(404, error_body("Not found", "4040"))
        plan = FaultPlan(self.faults, self.clock(), request.method, request.path, FAULT_ANSWERS)
        early = plan.before()
        if early is not None:
            return early
        self._customer_in_path, self._sandbox_in_path = customer, sandbox  # read by the guard, under the lock
        response = _worded(self.router.dispatch(replace(request, path=rest)))
        plan.after(response)
        return response

    def _new_session(self, customer: str | None = None) -> Session:
        return Session(self.state, self.rules, self.unix_now, customer_name=customer, emit=self._emit)

    @contextmanager
    def _session(self, customer: str | None = None) -> Iterator[Session]:
        """A change made from Python under the lock, with the handlers' rules: a refusal raises ValueError with
        PeakWMS's error body."""
        with self._lock:
            if customer is not None and customer not in self.state.customers:
                raise KeyError(customer)
            with refusal_as_value_error():
                yield self._new_session(customer)

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        key = (method, pattern)

        def guarded(request: SimRequest, **params: str) -> SimResponse:
            self.calls_by_route[key] += 1
            session = self._new_session(self._customer_in_path)
            try:
                auth.check(session, request, self._sandbox_in_path)
                refused = self._throttle(self._customer_in_path)
                if refused is not None:
                    return refused
                return handler(session, request, **params)
            except Refused as refusal:
                return refusal.response

        self.router.add(method, pattern, guarded)

    def _throttle(self, customer: str) -> SimResponse | None:
        self._window.limit = self.rules.requests_per_minute  # the rules may have changed since the last call
        wait = self._window.admit(customer, self.clock())
        if wait is None:
            return None
        retry_after = wait if self.rules.retry_after_from_window else self.rules.retry_after_seconds
        return too_many_requests(retry_after, error_body("Too Many Requests", THROTTLED_CODE))


def _worded(response: SimResponse) -> SimResponse:
    """The router's own 404 and 405 (`{"message"}`) in PeakWMS's error body, like every other refusal."""
    if response.status not in (404, 405) or not response.body:
        return response
    body = response.json()
    if isinstance(body, dict) and "errorCode" not in body:
        code = "4040" if response.status == 404 else "4050"  # guess
        return json_response(response.status, error_body(str(body.get("message", "")), code))
    return response


def _split(path: str) -> tuple[str | None, bool, str]:
    """`/{customer}[/sandbox]/api/integration/v1/rest` → (customer, sandbox?, "/rest")."""
    customer, _, rest = path.lstrip("/").partition("/")
    sandbox = rest.startswith(SANDBOX + "/")
    if sandbox:
        rest = rest[len(SANDBOX) + 1 :]
    if not customer or not (rest == API_ROOT or rest.startswith(API_ROOT + "/")):
        return None, False, ""
    return customer, sandbox, "/" + rest[len(API_ROOT) :].lstrip("/")
