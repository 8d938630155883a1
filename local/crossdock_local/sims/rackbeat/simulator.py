"""`RackbeatSimulator`: the resource modules composed into one Rackbeat, with its request pipeline and control API.

The pipeline answers in the order Rackbeat would: an outage, injected faults (hang, throttle, 5xx), the bearer key
(401), the 480-requests-a-minute window per key (429 with `Retry-After`), then the route. Each handler gets a
`Session` for the caller's account; the control methods (`seed_*`, `adjust_stock`, …) work on the same state under
the same lock, and those a person would do in Rackbeat's UI go through the handlers' rules and webhooks. Webhooks
wait in the shared base's outbox until `deliver()`: never sent inside the call that caused them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from crossdock_local.sims.base import (
    FaultAnswers,
    FaultPlan,
    SimRequest,
    SimResponse,
    Simulator,
    WebhookSink,
    json_response,
)
from crossdock_local.sims.base.throttle import SlidingWindow, too_many_requests
from crossdock_local.sims.base.webhooks import Attempt, DeliveryReport, OutboxSwitches, WebhookOutbox
from crossdock_local.sims.rackbeat import (
    auth,
    credit_notes,
    customers,
    fields,
    invoices,
    lots,
    orders,
    products,
    reference_lists,
    shipments,
    stock,
    webhooks,
)
from crossdock_local.sims.rackbeat.catalogue import new_product
from crossdock_local.sims.rackbeat.session import Handler, Route, Session
from crossdock_local.sims.rackbeat.state import AccountState, RackbeatDelivery, Record
from crossdock_local.sims.rackbeat.webhooks import DeliveryRules
from crossdock_local.sims.rackbeat.wire import Refused, bearer, next_number, render, wants_suppress

WINDOW_SECONDS = 60.0
READS = frozenset({"GET", "HEAD"})  # methods whose handlers change nothing
# Rackbeat's wording of an outage, a throttle and a server error (the base's defaults are Laravel's, as Rackbeat's).
FAULT_ANSWERS = FaultAnswers(
    outage={"message": "Service Unavailable"},
    throttled={"message": "Too Many Attempts."},
    server_error={"message": "Server Error"},
    server_error_statuses=(500, 502, 503),
)
# Every resource's routes. The router takes the first match, so within a module literal paths come before `{...}`
# patterns; across modules no two patterns of one method match the same path.
ROUTES: tuple[Route, ...] = (
    *auth.ROUTES,
    *customers.ROUTES,
    *products.ROUTES,
    *fields.ROUTES,
    *lots.ROUTES,
    *orders.ROUTES,
    *shipments.ROUTES,
    *invoices.ROUTES,
    *credit_notes.ROUTES,
    *stock.ROUTES,
    *webhooks.ROUTES,
    *reference_lists.ROUTES,
)


class RackbeatSimulator(OutboxSwitches, Simulator):
    """Rackbeat as the fact sheet describes it (see the package docstring). Control API: `add_account`,
    `add_api_key`, `seed_*`, `state`, `faults`, the webhooks' `deliver`, `pending`, `failed_deliveries`,
    `given_up_deliveries`, `delivery_faults`, `delivery_log` and `outbox`, `calls`, `calls_by_status`,
    `calls_by_route`, the warehouse-side changes `adjust_stock`, `set_stock`, `set_field_value` (read back with
    `product_stock`), `credit_notes` and `seed_customer_price`.

    `seed` seeds the webhook delivery faults (`delivery:<seed>`), so a seeded run sends the same deliveries;
    `webhook_rules` are the guessed parts of Rackbeat's delivery (retries, `Content-Type`)."""

    system = "rackbeat"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        rate_limit_per_minute: int = 480,
        webhook_sink: WebhookSink | None = None,
        *,
        seed: int | None = None,
        webhook_rules: DeliveryRules | None = None,
    ) -> None:
        super().__init__(clock)
        # One sliding 60-s window per API key; only admitted requests take a slot.
        self._limiter = SlidingWindow(rate_limit_per_minute, WINDOW_SECONDS)
        self.accounts: dict[int, AccountState] = {}
        self.calls_by_route: Counter[tuple[str, str]] = Counter()
        self._webhooks = webhooks.Deliveries(
            self._lock, webhook_sink, webhook_rules or DeliveryRules(), None if seed is None else f"delivery:{seed}"
        )
        self._keys: dict[str, int] = {}
        self._session: Session | None = None  # the caller's while a request is handled (under the lock)
        self._ids = Counter[str]()  # sim-wide ids: shipments, lines, webhooks, adjustments
        for method, pattern, handler in ROUTES:
            self._route(method, pattern, handler)

    @property
    def rate_limit_per_minute(self) -> int:
        return self._limiter.limit

    @rate_limit_per_minute.setter
    def rate_limit_per_minute(self, limit: int) -> None:
        self._limiter.limit = limit  # a test lowers it mid-run to see 429s

    # ---- webhooks out --------------------------------------------------------------------------------------------

    @property
    def outbox(self) -> WebhookOutbox[RackbeatDelivery]:
        """The shared base's outbox holding Rackbeat's deliveries (see `webhooks.Deliveries`)."""
        return self._webhooks.outbox

    @property
    def delivery_log(self) -> list[Attempt]:
        """Every delivery attempt, in order: delivery and event id, account, event, URL, status or error."""
        return self.outbox.log

    def pending(self, account_id: int | None = None) -> list[RackbeatDelivery]:
        """Deliveries not yet made (of `account_id`, or all): new ones and refused ones waiting for their retry."""
        return self.outbox.pending(None if account_id is None else str(account_id))

    @property
    def failed_deliveries(self) -> list[RackbeatDelivery]:
        """Pending deliveries the sink has refused (non-2xx or raised) at least once; the next `deliver` retries."""
        return [delivery for delivery in self.pending() if delivery.attempts > 0]

    @property
    def given_up_deliveries(self) -> list[RackbeatDelivery]:
        """Deliveries refused on every allowed attempt (`webhook_rules.max_attempts`), and so dropped."""
        with self._lock:
            return list(self._webhooks.given_up)

    def deliver(self, limit: int | None = None, *, account_id: int | None = None) -> DeliveryReport:
        """Send pending deliveries (of `account_id`, or all) through the sink, retrying refused ones; call it after
        the API call that caused them has answered. No lock is held while the sink runs: the receiver may call
        Rackbeat back (in process, or over HTTP from another thread under `crossdock serve`)."""
        return self.outbox.deliver(limit, tenant=None if account_id is None else str(account_id))

    # ---- control API (Python side) -------------------------------------------------------------------------------

    def add_account(self, api_key: str, name: str = "Rackbeat Demo ApS") -> int:
        with self._lock:
            account_id = len(self.accounts) + 1
            self.accounts[account_id] = AccountState(id=account_id, name=name)
            self.add_api_key(account_id, api_key)
            return account_id

    def add_api_key(self, account_id: int, api_key: str) -> None:
        with self._lock:
            if api_key in self._keys:
                raise ValueError("API key already in use")
            self.state(account_id)  # KeyError for unknown accounts
            self._keys[api_key] = account_id

    def state(self, account_id: int) -> AccountState:
        """The account's records, to read or change from Python (what a read worked out is forgotten then)."""
        account = self.accounts[account_id]
        account.forget_held()
        return account

    def snapshot(self) -> dict[str, Any]:
        """`GET /_control/state`: per account, how many of each resource it holds and its webhook deliveries.

        Counts, not records: an audit reads records through the API or `state()`; API keys and webhook tokens are
        secrets and never appear here."""
        with self._lock:
            accounts = [
                {
                    "id": account.id,
                    "name": account.name,
                    "counts": {name: len(table) for name, table in vars(account).items() if isinstance(table, dict)},
                }
                for account in self.accounts.values()
            ]
            pending = self.pending()
            return {
                **super().snapshot(),
                "accounts": accounts,
                "webhooks": {
                    "pending": len(pending),
                    "failed": sum(1 for delivery in pending if delivery.attempts > 0),
                    "given_up": len(self._webhooks.given_up),
                    "attempts": len(self.delivery_log),
                },
            }

    def seed_product(
        self,
        account_id: int,
        number: str,
        name: str,
        sales_price: Decimal | str | int = 0,
        *,
        cost_price: Decimal | str | int = 0,
        stock_quantity: Decimal | int | None = None,
        location_stock: dict[str, Decimal | int] | None = None,
        inventory_enabled: bool = True,
        barcode: str | None = None,
        **extra: Any,
    ) -> Record:
        """A product with stock; `location_stock` maps location number → quantity (total defaults to its sum)."""
        with self._lock:
            locations = {str(k): Decimal(v) for k, v in (location_stock or {}).items()}
            total = Decimal(stock_quantity) if stock_quantity is not None else sum(locations.values(), Decimal(0))
            product = new_product(str(number), name)
            product.update(
                sales_price=Decimal(str(sales_price)),
                cost_price=Decimal(str(cost_price)),
                stock_quantity=total,
                inventory_enabled=inventory_enabled,
                barcode=barcode,
                _locations=locations,
                # Guess: seeded stock stands for stock registered before the simulation started, so an item seeded
                # with stock can't be deleted, as one whose stock came from an adjustment can't.
                _stock_moved=total != 0 or any(locations.values()),
                **extra,
            )
            self.state(account_id).products[str(number)] = product
            return product

    def seed_customer(
        self, account_id: int, number: int | None = None, company_name: str = "Customer", **fields: Any
    ) -> Record:
        with self._lock:
            account = self.state(account_id)
            customer = customers.new_customer(number or next_number(account.customers))
            customer.update(company_name=company_name, **fields)
            account.customers[customer["number"]] = customer
            return customer

    def seed_location(self, account_id: int, number: str, name: str, parent_number: str | None = None) -> Record:
        return self._seed(self.state(account_id).locations, number, name=name, parent_number=parent_number)

    def seed_employee(self, account_id: int, number: int | str, name: str, email: str | None = None) -> Record:
        return self._seed(self.state(account_id).employees, number, name=name, email=email)

    def seed_layout(self, account_id: int, number: int | str, name: str) -> Record:
        return self._seed(self.state(account_id).layouts, number, name=name)

    def seed_payment_terms(self, account_id: int, number: int | str, name: str, days: int = 8) -> Record:
        return self._seed(self.state(account_id).payment_terms, number, name=name, days=Decimal(days))

    def seed_customer_group(self, account_id: int, number: int | str, name: str) -> Record:
        return self._seed(self.state(account_id).customer_groups, number, name=name)

    def seed_delivery_terms(self, account_id: int, number: int | str, name: str) -> Record:
        return self._seed(self.state(account_id).delivery_terms, number, name=name)

    def seed_product_group(
        self,
        account_id: int,
        number: int | str,
        name: str,
        has_inventory: bool = True,
        *,
        vat_domestic: Decimal | int | str = 25,
        vat_eu: Decimal | int | str = 0,
        vat_abroad: Decimal | int | str = 0,
    ) -> Record:
        """A product group; products join it with `group: {"number": ...}` and show its name."""
        return self._seed(
            self.state(account_id).product_groups,
            number,
            name=name,
            has_inventory=has_inventory,
            vat_domestic=Decimal(str(vat_domestic)),
            vat_eu=Decimal(str(vat_eu)),
            vat_abroad=Decimal(str(vat_abroad)),
        )

    def seed_field(
        self,
        account_id: int,
        field_id: int,
        name: str,
        type: str = "checkbox",  # Rackbeat's own name for the field's kind: "checkbox", "text", "number", ...
        for_: str = "item",
    ) -> Record:
        """A custom field definition (`for_` is "item" or "customer"); values start unset."""
        with self._lock:
            record = {"id": field_id, "name": name, "type": type, "for": for_}
            self.state(account_id).fields[field_id] = record
            return record

    def set_field_value(self, account_id: int, number: str, field_id: int, value: Any, *, emit: bool = True) -> None:
        """Set one custom field value on a product as a user in Rackbeat would (`product.updated` follows unless
        `emit` is false). Raises ValueError with the API's error body when the API would refuse."""
        with self._as_user(account_id, suppress=not emit) as session:
            fields.set_field_value(session, str(number), field_id, value)

    def adjust_stock(
        self,
        account_id: int,
        number: str,
        delta: Decimal | int | str,
        location: str | None = None,
        *,
        reason: str = "warehouse count",
    ) -> Record:
        """A warehouse worker registers `delta` units of a product (at `location`) in Rackbeat's UI: an inventory
        adjustment is created and booked, and `product.stock_changed` is queued for `deliver` like any other
        webhook. Returns the booked adjustment (state); ValueError with the API's errors when refused."""
        with self._as_user(account_id) as session:
            return stock.adjust(session, str(number), Decimal(str(delta)), location, reason)

    def set_stock(
        self,
        account_id: int,
        number: str,
        quantity: Decimal | int | str,
        location: str | None = None,
        *,
        reason: str = "warehouse count",
    ) -> Record | None:
        """Count a product to `quantity` (at `location`, else in total) by booking the difference; None when the
        count already matches (Rackbeat refuses a zero-change adjustment)."""
        with self._as_user(account_id) as session:  # one hold of the lock: the delta can't go stale before booking
            delta = Decimal(str(quantity)) - stock.stock_of(session.account, str(number), location)
            if delta == 0:
                return None
            return stock.adjust(session, str(number), delta, location, reason)

    def product_stock(self, account_id: int, number: str, location: str | None = None) -> Decimal:
        """A product's stock, in total or at one location (0 where it never had any); KeyError if unknown."""
        with self._lock:
            product = self.state(account_id).products[str(number)]
            if location is None:
                total: Decimal = product["stock_quantity"]
                return total
            return Decimal(product["_locations"].get(str(location), Decimal(0)))

    def credit_notes(self, account_id: int) -> list[Record]:
        """Every credit note of the account as the API shows it (rendered copies), by number."""
        with self._lock:
            notes = self.state(account_id).credit_notes
            return [render(notes[number]) for number in sorted(notes)]

    def seed_customer_price(
        self,
        account_id: int,
        customer_number: int,
        product_number: str,
        sales_price: Decimal | str | int,
        currency: str = "DKK",
    ) -> Record:
        """A customer's own price (net of VAT) for a product; KeyError if either is unknown."""
        with self._lock:
            return customers.seed_customer_price(
                self.state(account_id), customer_number, str(product_number), Decimal(str(sales_price)), currency
            )

    def _seed(self, table: dict[str, Record], number: int | str, **fields: Any) -> Record:
        with self._lock:
            record = {"number": number, **fields}
            table[str(number)] = record
            return record

    # ---- request pipeline ----------------------------------------------------------------------------------------

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        plan = FaultPlan(self.faults, self.clock(), request.method, request.path, FAULT_ANSWERS)
        early = plan.before()
        if early is not None:
            return early
        key = bearer(request)
        account_id = self._keys.get(key) if key else None
        if key is None or account_id is None:
            return json_response(401, {"message": "Unauthenticated."})
        retry_after = self._limiter.admit(key, self.clock())
        if retry_after is not None:
            # Guess: the header names and integer seconds follow Laravel's throttle middleware.
            limit = {"X-RateLimit-Limit": str(self.rate_limit_per_minute), "X-RateLimit-Remaining": "0"}
            return too_many_requests(retry_after, {"message": "Too Many Attempts."}, limit)
        response = self._dispatch(request, self.accounts[account_id])
        plan.after(response)
        return response

    def _dispatch(self, request: SimRequest, account: AccountState) -> SimResponse:
        # Reads in a row may share what booked orders hold; anything else may change it (fulfilment.reservations).
        account.reading = request.method in READS
        if not account.reading:
            account.forget_held()
        try:
            with self._acting_as(account, suppress=wants_suppress(request)):
                try:
                    return self.router.dispatch(request)
                except Refused as refusal:
                    return refusal.response
        finally:
            account.reading = False

    @contextmanager
    def _acting_as(self, account: AccountState, suppress: bool = False) -> Iterator[Session]:
        """Make `account` the one handlers work on; the caller holds the lock. Both API requests and the Python
        control methods go through here, so a change made either way follows the same rules and webhooks."""
        previous = self._session
        self._session = Session(account, self._ids, self._keys, self._webhooks.announce, suppress)
        try:
            yield self._session
        finally:
            self._session = previous

    @contextmanager
    def _as_user(self, account_id: int, suppress: bool = False) -> Iterator[Session]:
        """A change made from Python the way a person in Rackbeat's UI makes it: under the lock, with the handlers'
        rules (a refusal raises ValueError carrying the API's error body) and webhooks queued for `deliver`, as an
        API call's are."""
        account = self.state(account_id)
        with self._lock, self._acting_as(account, suppress) as session:
            account.forget_held()
            try:
                yield session
            except Refused as refusal:
                raise ValueError(refusal.response.json()) from None

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        key = (method, pattern)

        def counted(request: SimRequest, **params: str) -> SimResponse:
            self.calls_by_route[key] += 1
            assert self._session is not None, "handler called outside a request"
            return handler(self._session, request, **params)

        self.router.add(method, pattern, counted)
