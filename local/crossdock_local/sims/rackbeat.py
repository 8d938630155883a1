"""In-memory simulator of the Rackbeat ERP API.

Follows the fact sheet `shared/reference/rackbeat.md`: bearer-key auth, 480 requests/minute per token, singular
envelopes for one resource and plural envelopes with paging fields answered as HTTP 206 for lists,
`simple_filter[<field>]` / `search=` filters, 422 `{"errors": {"<field.path>": ["..."]}}`, orders that go
draft → booked → shipment → shipped → invoice, and webhooks authenticated by a static token with the minimal
body `{"key_name": ..., "key": ...}`. Whatever the sheet marks as a guess, or this module had to invent, carries a
"Guess:" comment so the client stays tolerant of the alternatives.

Money is kept as `Decimal` in the state (a test can read `sim.state(account_id).orders[1]["total"]`) and emitted as
strings with at least two decimals ("199.00"); quantities and percentages are emitted as JSON numbers. Input money
may be a JSON number or a string.

Rounding: a line's net is `quantity * line_price * (1 - discount_percentage / 100)` and its VAT is
`net * vat_percentage / 100`, both kept exact. Each line shows them rounded half-up to 2 dp; the order's
`total_excl_vat` and `total_vat` are the exact sums rounded half-up to 2 dp and `total` is their sum. So the shown
line amounts can differ from the order totals by a cent; the order totals are authoritative.
"""

from __future__ import annotations

import copy
import json
import math
import re
import secrets
import string
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from crossdock_local.sims.base import (
    ResponseDropped,
    ResponseHung,
    SimRequest,
    SimResponse,
    Simulator,
    WebhookSink,
    json_response,
)

if TYPE_CHECKING:
    from crossdock_local.sims.rackbeat_credit import Credit
    from crossdock_local.sims.rackbeat_stock import Inventory

Record = dict[str, Any]
Errors = dict[str, list[str]]

CENT = Decimal("0.01")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
VAT_ZONES = ("domestic", "eu", "abroad")
# Guess: the default VAT rate of a line when the body gives none (Danish 25 % at home, 0 % for EU/abroad).
DEFAULT_VAT = {"domestic": Decimal(25), "eu": Decimal(0), "abroad": Decimal(0)}
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
WINDOW_SECONDS = 60.0
# Emitted as JSON numbers; every other Decimal is money and is emitted as a string.
NUMBER_KEYS = frozenset(
    {
        "quantity",
        "stock_quantity",
        "in_order_quantity",
        "available_quantity",
        "discount_percentage",
        "vat_percentage",
        "weight",
        "days",
        "credited_quantity",  # Guess: invoice lines count what credit notes took back (rackbeat_credit.py)
        # Guess: a product group's VAT fields are percentages (the sheet names the fields only).
        "vat_domestic",
        "vat_eu",
        "vat_abroad",
    }
)
TOKEN_ALPHABET = string.ascii_letters + string.digits
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")

# Filterable fields per list (`simple_filter[<field>]`). Guesses: `contact_email` on customers, `other_reference` on
# orders and `order_number` on customer-invoices are not confirmed by the sheet (only `number` and `ean` are seen).
CUSTOMER_FILTERS = frozenset({"number", "contact_email", "ean", "company_name", "customer_group_id", "is_barred"})
PRODUCT_FILTERS = frozenset({"number", "barcode", "name", "is_barred"})
ORDER_FILTERS = frozenset({"number", "other_reference", "customer_id", "is_booked", "is_shipped", "is_invoiced"})
INVOICE_FILTERS = frozenset({"number", "order_number", "customer_id", "other_reference", "is_booked"})
REFERENCE_FILTERS = frozenset({"number", "name"})
WEBHOOK_FILTERS = frozenset({"event", "url", "is_active"})

CUSTOMER_SEARCH = ("number", "company_name", "contact_email", "contact_phone", "ean")
PRODUCT_SEARCH = ("number", "name", "description", "barcode")
ORDER_SEARCH = ("number", "other_reference", "heading", "note")
INVOICE_SEARCH = ("number", "order_number", "other_reference", "heading")
REFERENCE_SEARCH = ("number", "name")

CUSTOMER_TEXT = ("company_name", "contact_email", "contact_phone", "currency", "locale", "ean")
ORDER_TEXT = ("other_reference", "heading", "note", "currency", "order_date", "deliver_at")
PRODUCT_TEXT = ("name", "description", "barcode")
PRODUCT_MONEY = ("sales_price", "recommended_sales_price", "cost_price", "recommended_cost_price")


class _Fail(Exception):
    """Aborts a handler with a ready answer; raised before anything is written."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class WebhookDelivery:
    """One webhook call as Rackbeat would make it (`outbox` holds these when no sink is set)."""

    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class AccountState:
    """One Rackbeat company; every dict is keyed by the resource's number (reference data by str(number))."""

    id: int
    name: str
    customers: dict[int, Record] = field(default_factory=dict)
    products: dict[str, Record] = field(default_factory=dict)
    orders: dict[int, Record] = field(default_factory=dict)
    shipments: dict[int, Record] = field(default_factory=dict)  # keyed by shipment id
    invoices: dict[int, Record] = field(default_factory=dict)
    webhooks: dict[int, Record] = field(default_factory=dict)  # keyed by webhook id
    employees: dict[str, Record] = field(default_factory=dict)
    layouts: dict[str, Record] = field(default_factory=dict)
    payment_terms: dict[str, Record] = field(default_factory=dict)
    customer_groups: dict[str, Record] = field(default_factory=dict)
    locations: dict[str, Record] = field(default_factory=dict)
    delivery_terms: dict[str, Record] = field(default_factory=dict)
    product_groups: dict[str, Record] = field(default_factory=dict)
    fields: dict[int, Record] = field(default_factory=dict)  # custom field definitions, keyed by field id
    lots: dict[str, Record] = field(default_factory=dict)  # BOMs; a lot number is never also a product number
    adjustments: dict[int, Record] = field(default_factory=dict)  # inventory regulations, keyed by id
    credit_notes: dict[int, Record] = field(default_factory=dict)  # customer credit notes (rackbeat_credit.py)
    # Guess: per-customer item prices, customer number → product number → price row (rackbeat_credit.py).
    customer_prices: dict[int, dict[str, Record]] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------------------
# small pure helpers


def _now() -> str:
    # Guess: Rackbeat shows local (Copenhagen) time without a zone; the simulator uses UTC in the same format.
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return value is True or value == 1


def _money_text(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        value = value.quantize(CENT)
    return f"{value:f}"


def _render(value: Any, key: str = "") -> Any:
    """JSON-ready copy: drops `_private` keys, money → "12.50", quantities/percentages → numbers."""
    if isinstance(value, dict):
        return {k: _render(v, k) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_render(item, key) for item in value]
    if isinstance(value, Decimal):
        if key in NUMBER_KEYS:
            return int(value) if value == value.to_integral_value() else float(value)
        return _money_text(value)
    return value


def _fail(status: int, payload: Any) -> _Fail:
    return _Fail(json_response(status, payload))


def _not_found() -> _Fail:
    return _fail(404, {"message": "Not found"})


def _invalid(errors: Errors) -> _Fail:
    return _fail(422, {"errors": errors})


def _raise_if(errors: Errors) -> None:
    if errors:
        raise _invalid(errors)


def _body(request: SimRequest) -> Record:
    if not request.body.strip():
        return {}
    try:
        body = request.json()
    except ValueError as error:
        raise _fail(400, {"message": "Invalid JSON"}) from error
    if not isinstance(body, dict):
        raise _invalid({"body": ["The body must be a JSON object."]})
    return body


def _refuse_if_cancelled(order: Record, action: str) -> None:
    """A cancelled order is closed for good (cancellation lives in rackbeat_credit.py)."""
    if order["is_cancelled"]:
        # Guess: wording; the sheet shows only the is_cancelled flag.
        raise _invalid({"order": [f"Order is cancelled and can not be {action}"]})


def _wants_suppress(request: SimRequest) -> bool:
    if _truthy(request.arg("suppress_webhooks", "")):
        return True
    try:
        body = request.json()
    except ValueError:
        return False
    return isinstance(body, dict) and _truthy(body.get("suppress_webhooks"))


def _bearer(request: SimRequest) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _label(name: str) -> str:
    return name.replace("_", " ")


def _copy_text(body: Record, names: Iterable[str], out: Record, errors: Errors) -> None:
    for name in names:
        if name not in body:
            continue
        value = body[name]
        if value is not None and not isinstance(value, str):
            errors[name] = [f"The {_label(name)} must be a string."]
        else:
            out[name] = value


def _copy_refs(body: Record, refs: dict[str, dict[str, Record]], out: Record, errors: Errors) -> None:
    """Reference ids (layout, payment terms, ...) must name seeded reference data; null clears them."""
    for name, table in refs.items():
        if name not in body:
            continue
        value = body[name]
        if value is not None and str(value) not in table:
            errors[name] = [f"The selected {_label(name)} is invalid."]
        else:
            out[name] = value


def _next_number(existing: Iterable[int]) -> int:
    return max(existing, default=0) + 1


def _claim_number(existing: dict[int, Record], given: Any, errors: Errors) -> int:
    """The number a new customer/order gets: the given one if free, else (null/absent) highest + 1.

    Guess: customer and order numbers are positive integers (webhook keys carry them as strings)."""
    if given is None:
        return _next_number(existing)
    number = _int(given)
    if number is None or number < 1:
        errors["number"] = ["The number must be a positive integer."]
        return 0
    if number in existing:
        errors["number"] = ["The number has already been taken."]
    return number


# ----------------------------------------------------------------------------------------------------------------
# lists: filters, ordering, paging


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return value == _truthy(wanted)
    if value is None:
        return wanted == ""
    if isinstance(value, Decimal):
        other = _decimal(wanted)
        return other is not None and other == value
    return str(value) == wanted


def _filter_rows(
    request: SimRequest, rows: list[Record], filterable: frozenset[str], searchable: tuple[str, ...]
) -> list[Record]:
    for key, values in request.query.items():
        found = re.fullmatch(r"simple_filter\[(\w+)\]", key)
        if found is None:
            continue
        name = found.group(1)
        if name not in filterable:
            raise _invalid({name: [f"Property '{name}' is not filterable"]})
        rows = [row for row in rows if _matches(row.get(name), values[0])]
    needle = (request.arg("search") or "").strip().lower()
    if needle:
        rows = [row for row in rows if any(needle in str(row.get(f) or "").lower() for f in searchable)]
    # Stamps are fixed-width `YYYY-MM-DD HH:MM:SS` text, so comparing the text orders them in time.
    since = _stamp_bound(request, "updated_at_from", "00:00:00")
    until = _stamp_bound(request, "updated_at_to", "23:59:59")
    if since:
        rows = [row for row in rows if str(row.get("updated_at", "")) >= since]
    if until:
        rows = [row for row in rows if str(row.get("updated_at", "")) <= until]
    return rows


def _stamp_bound(request: SimRequest, name: str, day_edge: str) -> str | None:
    """One end of a date range in the sheet's `YYYY-MM-DD HH:MM:SS` format; anything else is a 422 rather than a
    silently wrong text comparison."""
    value = (request.arg(name) or "").strip()
    if not value:
        return None
    if not STAMP.fullmatch(value):
        raise _invalid({name: [f"The {_label(name)} does not match the format Y-m-d H:i:s."]})
    # Guess: a bare date covers the whole day (from its first second / to its last).
    return value if " " in value else f"{value} {day_edge}"


def _order_rows(request: SimRequest, rows: list[Record]) -> list[Record]:
    by = request.arg("order_by")
    if not by or not rows or by not in rows[0]:
        return rows  # unknown sort fields are ignored (guess), keeping the default order by number/id
    descending = (request.arg("order_direction") or "asc").lower() == "desc"
    present = [row for row in rows if row.get(by) is not None]
    missing = [row for row in rows if row.get(by) is None]
    return sorted(present, key=lambda row: row[by], reverse=descending) + missing


def _paging(request: SimRequest) -> tuple[int, int]:
    errors: Errors = {}
    page, limit = _int(request.arg("page", "1")), _int(request.arg("limit", str(DEFAULT_LIMIT)))
    if page is None or page < 1:
        errors["page"] = ["The page must be at least 1."]
    # Guess: above the (seen) maximum of 1000 answers 422 rather than silently clamping.
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [f"The limit must be between 1 and {MAX_LIMIT}."]
    _raise_if(errors)
    assert page is not None and limit is not None
    return page, limit


def _page_response(
    request: SimRequest,
    plural: str,
    rows: list[Record],
    render: Callable[[Record], Any],
    filterable: frozenset[str],
    searchable: tuple[str, ...],
) -> SimResponse:
    page, limit = _paging(request)
    rows = _order_rows(request, _filter_rows(request, rows, filterable, searchable))
    chunk = rows[(page - 1) * limit : page * limit]
    return json_response(
        206,
        {
            plural: [render(row) for row in chunk],
            "total": len(rows),
            "pages": max(1, math.ceil(len(rows) / limit)),  # guess: an empty list still reports one page
            "limit": limit,
            "page": page,
        },
    )


class SimulatorPart:
    """Base of the modules that add resources to a `RackbeatSimulator` (stock, credit notes): they work on the
    caller's account under the simulator's lock."""

    def __init__(self, sim: RackbeatSimulator) -> None:
        self._sim = sim

    @property
    def _acct(self) -> AccountState:
        return self._sim._acct


# ----------------------------------------------------------------------------------------------------------------
# the simulator


class RackbeatSimulator(Simulator):
    """Rackbeat as the fact sheet describes it; see the module docstring. Control API: `add_account`,
    `add_api_key`, `seed_*`, `state`, `faults`, `outbox`, `calls`, `calls_by_status`, `calls_by_route`, and the
    warehouse-side changes `adjust_stock`, `set_stock`, `set_field_value` (read back with `product_stock`).

    Product groups, custom fields, lots, `/items`, stock per location and inventory adjustments live in
    `rackbeat_stock.Inventory`, which works on the same account state under the same lock. Credit notes, order
    cancellation and customer prices live in `rackbeat_credit.Credit` the same way (control: `credit_notes`,
    `seed_customer_price`)."""

    system = "rackbeat"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        rate_limit_per_minute: int = 480,
        webhook_sink: WebhookSink | None = None,
    ) -> None:
        super().__init__(clock)
        self.rate_limit_per_minute = rate_limit_per_minute
        self.webhook_sink = webhook_sink
        self.accounts: dict[int, AccountState] = {}
        self.outbox: list[WebhookDelivery] = []  # deliveries when no sink is set
        self.failed_deliveries: list[WebhookDelivery] = []  # sink answered non-2xx or raised; see redeliver_failed
        self.calls_by_route: Counter[tuple[str, str]] = Counter()
        self._keys: dict[str, int] = {}
        self._hits: dict[str, deque[float]] = {}
        self._pending: list[WebhookDelivery] = []
        self._account: AccountState | None = None  # the caller's account while a request is handled (under lock)
        self._suppress = False
        self._ids = Counter[str]()  # sim-wide ids: shipments, lines, webhooks, adjustments
        # Imported here rather than at the top because rackbeat_stock builds on this module's helpers.
        from crossdock_local.sims import rackbeat_credit, rackbeat_stock

        self._inventory: Inventory = rackbeat_stock.Inventory(self)
        self._credit: Credit = rackbeat_credit.Credit(self)
        self._register_routes()

    # ---- control API (Python side) ----------------------------------------------------------------------------

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
        return self.accounts[account_id]

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
            product = self._new_product(str(number), name)
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
            customer = self._new_customer(number or _next_number(account.customers))
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
        with self._as_user(account_id, suppress=not emit):
            self._inventory.set_field_value(str(number), field_id, value)

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
        adjustment is created and booked, and `product.stock_changed` goes out through the outbox or sink like any
        other webhook. Returns the booked adjustment (state); ValueError with the API's errors when refused."""
        with self._as_user(account_id):
            return self._inventory.adjust(str(number), Decimal(str(delta)), location, reason)

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
        with self._as_user(account_id):  # one hold of the lock: the delta can't go stale before it is booked
            delta = Decimal(str(quantity)) - self._inventory.stock_of(str(number), location)
            if delta == 0:
                return None
            return self._inventory.adjust(str(number), delta, location, reason)

    def product_stock(self, account_id: int, number: str, location: str | None = None) -> Decimal:
        """A product's stock, in total or at one location (0 where it never had any); KeyError if unknown."""
        with self._lock:
            product = self.state(account_id).products[str(number)]
            if location is None:
                stock: Decimal = product["stock_quantity"]
                return stock
            return Decimal(product["_locations"].get(str(location), Decimal(0)))

    def credit_notes(self, account_id: int) -> list[Record]:
        """Every credit note of the account as the API shows it (rendered copies), by number."""
        with self._lock:
            notes = self.state(account_id).credit_notes
            return [_render(notes[number]) for number in sorted(notes)]

    def seed_customer_price(
        self,
        account_id: int,
        customer_number: int,
        product_number: str,
        sales_price: Decimal | str | int,
        currency: str = "DKK",
    ) -> Record:
        """A customer's own price (net of VAT) for a product; KeyError if either is unknown."""
        from crossdock_local.sims import rackbeat_credit

        with self._lock:
            return rackbeat_credit.seed_customer_price(
                self.state(account_id), customer_number, str(product_number), Decimal(str(sales_price)), currency
            )

    def redeliver_failed(self) -> int:
        """Retry webhook deliveries the sink refused (Rackbeat retries for ~24 h); returns how many now failed."""
        with self._lock:
            retry, self.failed_deliveries = self.failed_deliveries, []
        for delivery in retry:
            self._deliver(delivery)
        return len(self.failed_deliveries)

    def _seed(self, table: dict[str, Record], number: int | str, **fields: Any) -> Record:
        with self._lock:
            record = {"number": number, **fields}
            table[str(number)] = record
            return record

    # ---- request pipeline ------------------------------------------------------------------------------------------

    def handle(self, request: SimRequest) -> SimResponse:
        # Webhooks go out after the lock is released, so a sink that calls back into the simulator (in-process or
        # over HTTP from another thread) can re-fetch the resource without deadlocking.
        try:
            return super().handle(request)
        finally:
            self._flush_webhooks()

    def _handle_locked(self, request: SimRequest) -> SimResponse:
        faults = self.faults
        if self.clock() < faults.outage_until:
            return json_response(503, {"message": "Service Unavailable"})
        mutating = request.method.upper() in MUTATING
        hang_after_commit = False
        if faults.roll(faults.timeout_rate):
            if not (mutating and faults.roll(0.5)):
                raise ResponseHung(faults.hang_seconds)
            hang_after_commit = True
        if faults.roll(faults.throttle_rate):
            wait = faults._rng.randint(1, max(1, faults.max_retry_after))
            return json_response(429, {"message": "Too Many Attempts."}, {"Retry-After": str(wait)})
        if faults.roll(faults.server_error_rate):
            # The faults' own RNG, so a seeded Faults replays the same status codes.
            status = self.faults._rng.choice((500, 502, 503))
            return json_response(status, {"message": "Server Error"})
        key = _bearer(request)
        account_id = self._keys.get(key) if key else None
        if key is None or account_id is None:
            return json_response(401, {"message": "Unauthenticated."})
        throttled = self._throttle(key)
        if throttled is not None:
            return throttled
        response = self._dispatch(request, self.accounts[account_id])
        if mutating and response.status < 300:
            if faults.on_committed_write is not None and faults.roll(faults.crash_after_write_rate):
                faults.on_committed_write()
            if hang_after_commit:
                raise ResponseHung(faults.hang_seconds)
        if mutating and faults.roll(faults.drop_response_rate):
            raise ResponseDropped(f"{request.method} {request.path}")
        return response

    def _dispatch(self, request: SimRequest, account: AccountState) -> SimResponse:
        with self._acting_as(account, suppress=_wants_suppress(request)):
            try:
                return self.router.dispatch(request)
            except _Fail as failure:
                return failure.response

    @contextmanager
    def _acting_as(self, account: AccountState, suppress: bool = False) -> Iterator[AccountState]:
        """Make `account` the one handlers and `_emit` work on; the caller holds the lock. Both API requests and the
        Python control methods go through here, so a change made either way follows the same rules and webhooks."""
        previous = self._account, self._suppress
        self._account, self._suppress = account, suppress
        try:
            yield account
        finally:
            self._account, self._suppress = previous

    @contextmanager
    def _as_user(self, account_id: int, suppress: bool = False) -> Iterator[AccountState]:
        """A change made from Python the way a person in Rackbeat's UI makes it: under the lock, with the handlers'
        rules (a refusal raises ValueError carrying the API's error body) and webhooks delivered once the lock is
        released, as `handle` does."""
        try:
            with self._lock, self._acting_as(self.state(account_id), suppress) as account:
                try:
                    yield account
                except _Fail as failure:
                    raise ValueError(failure.response.json()) from None
        finally:
            self._flush_webhooks()

    def _throttle(self, key: str) -> SimResponse | None:
        """Sliding 60-s window per token; only admitted requests take a slot."""
        now = self.clock()
        window = self._hits.setdefault(key, deque())
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) < self.rate_limit_per_minute:
            window.append(now)
            return None
        retry_after = max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
        # Guess: the header name and integer seconds follow Laravel's throttle middleware.
        return json_response(
            429,
            {"message": "Too Many Attempts."},
            {
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(self.rate_limit_per_minute),
                "X-RateLimit-Remaining": "0",
            },
        )

    @property
    def _acct(self) -> AccountState:
        assert self._account is not None, "handler called outside a request"
        return self._account

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _route(self, method: str, pattern: str, handler: Callable[..., SimResponse]) -> None:
        key = (method, pattern)

        def counted(request: SimRequest, **params: str) -> SimResponse:
            self.calls_by_route[key] += 1
            return handler(request, **params)

        self.router.add(method, pattern, counted)

    def _register_routes(self) -> None:
        # Literal paths before `{number}` patterns: the router takes the first match.
        routes: list[tuple[str, str, Callable[..., SimResponse]]] = [
            ("GET", "/self", self._get_self),
            ("POST", "/tokens/replace-current", self._replace_token),
            ("GET", "/customers", self._list_customers),
            ("POST", "/customers", self._create_customer),
            ("GET", "/customers/{number}", self._get_customer),
            ("PUT", "/customers/{number}", self._update_customer),
            ("GET", "/products", self._list_products),
            ("POST", "/products", self._create_product),
            ("GET", "/products/{number}", self._get_product),
            ("PUT", "/products/{number}", self._update_product),
            ("DELETE", "/products/{number}", self._delete_product),
            ("GET", "/products/{number}/locations", self._product_locations),
            ("GET", "/orders", self._list_orders),
            ("POST", "/orders", self._create_booked_order),
            ("POST", "/orders/drafts", self._create_draft),
            ("GET", "/orders/shipments/{shipment_id}", self._get_shipment),
            ("POST", "/orders/shipments/{shipment_id}/mark-shipped", self._mark_shipped),
            ("GET", "/orders/{number}", self._get_order),
            ("PUT", "/orders/{number}", self._update_order),
            ("POST", "/orders/{number}/book", self._book_order_route),
            ("POST", "/orders/{number}/reopen", self._reopen_order),
            ("POST", "/orders/{number}/create-shipment", self._create_shipment),
            ("GET", "/orders/{number}/shipments", self._list_shipments),
            ("POST", "/orders/{number}/convert-to-invoice", self._convert_to_invoice),
            ("GET", "/customer-invoices", self._list_invoices),
            ("GET", "/customer-invoices/{number}", self._get_invoice),
            ("POST", "/customer-invoices/{number}/book", self._book_invoice),
            ("GET", "/webhooks", self._list_webhooks),
            ("POST", "/webhooks", self._create_webhook),
            ("DELETE", "/webhooks/{webhook_id}", self._delete_webhook),
            *self._inventory.routes(),
            *self._credit.routes(),
        ]
        for method, pattern, handler in routes:
            self._route(method, pattern, handler)
        for path, plural, attribute in (
            ("/employees", "employees", "employees"),
            ("/layouts", "layouts", "layouts"),
            ("/payment-terms", "payment_terms", "payment_terms"),
            ("/customer-groups", "customer_groups", "customer_groups"),
            ("/locations", "locations", "locations"),
            ("/delivery-terms", "delivery_terms", "delivery_terms"),
        ):
            self._route("GET", path, self._reference_lister(plural, attribute))

    # ---- webhooks out ----------------------------------------------------------------------------------------------

    def _emit(self, event: str, key: Any, key_name: str = "number") -> None:
        """Queue a delivery to every active webhook of the caller's account subscribed to `event`."""
        if self._suppress:
            return
        account = self._acct
        body = json.dumps({"key_name": key_name, "key": str(key)}).encode()
        for hook in account.webhooks.values():
            if hook["event"] != event or not hook["is_active"]:
                continue
            headers = {
                "Rackbeat-Webhook-Token": hook["_token"],
                "Rackbeat-Webhook-Event": event,
                "Rackbeat-Account-Id": str(account.id),
                "User-Agent": "Rackbeat Webhook",
                "Content-Type": "application/json",
            }
            self._pending.append(WebhookDelivery(hook["url"], headers, body))

    def _flush_webhooks(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for delivery in pending:
            self._deliver(delivery)

    def _deliver(self, delivery: WebhookDelivery) -> None:
        if self.webhook_sink is None:
            with self._lock:
                self.outbox.append(delivery)
            return
        try:
            delivery.status = self.webhook_sink(delivery.url, dict(delivery.headers), delivery.body)
        except Exception:  # noqa: BLE001 - a failing receiver must not break the API call that triggered it
            delivery.status = 0
        if not 200 <= delivery.status < 300:
            with self._lock:
                self.failed_deliveries.append(delivery)

    # ---- account ---------------------------------------------------------------------------------------------------

    def _get_self(self, request: SimRequest) -> SimResponse:
        account = self._acct
        return json_response(200, {"user_account": {"id": account.id, "name": account.name}})

    def _replace_token(self, request: SimRequest) -> SimResponse:
        old = _bearer(request)
        new = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(64))
        self._keys.pop(old or "", None)
        self._keys[new] = self._acct.id
        return json_response(200, {"token": new})

    def _reference_lister(self, plural: str, attribute: str) -> Callable[[SimRequest], SimResponse]:
        def lister(request: SimRequest) -> SimResponse:
            table: dict[str, Record] = getattr(self._acct, attribute)
            return _page_response(request, plural, list(table.values()), _render, REFERENCE_FILTERS, REFERENCE_SEARCH)

        return lister

    # ---- customers -------------------------------------------------------------------------------------------------

    def _new_customer(self, number: int) -> Record:
        stamp = _now()
        # Guess: defaults for a Danish company (DKK, da, domestic).
        return {
            "number": number,
            "company_name": "",
            "contact_email": None,
            "contact_phone": None,
            "currency": "DKK",
            "locale": "da",
            "vat_zone": "domestic",
            "customer_group_id": None,
            "layout_id": None,
            "payment_terms_id": None,
            "ean": None,
            "is_barred": False,
            "addresses": [],
            "created_at": stamp,
            "updated_at": stamp,
        }

    def _customer_fields(self, body: Record, creating: bool) -> Record:
        account = self._acct
        errors: Errors = {}
        out: Record = {}
        if creating and not (isinstance(body.get("company_name"), str) and body["company_name"].strip()):
            errors["company_name"] = ["The company name field is required."]
        _copy_text(body, CUSTOMER_TEXT, out, errors)
        _copy_refs(
            body,
            {
                "customer_group_id": account.customer_groups,
                "layout_id": account.layouts,
                "payment_terms_id": account.payment_terms,
            },
            out,
            errors,
        )
        email = out.get("contact_email")
        if email and "@" not in email:
            errors["contact_email"] = ["The contact email must be a valid email address."]
        if "vat_zone" in body:
            if body["vat_zone"] not in VAT_ZONES:
                errors["vat_zone"] = ["The selected vat zone is invalid."]
            out["vat_zone"] = body["vat_zone"]
        if "is_barred" in body:
            out["is_barred"] = _truthy(body["is_barred"])
        if "addresses" in body:
            if not isinstance(body["addresses"], list):
                errors["addresses"] = ["The addresses must be an array."]
            out["addresses"] = copy.deepcopy(body["addresses"])
        _raise_if(errors)
        return out

    def _customer(self, number: str) -> Record:
        customer = self._acct.customers.get(_int(number) or 0)
        if customer is None:
            raise _not_found()
        return customer

    def _list_customers(self, request: SimRequest) -> SimResponse:
        rows = [self._acct.customers[n] for n in sorted(self._acct.customers)]
        return _page_response(request, "customers", rows, _render, CUSTOMER_FILTERS, CUSTOMER_SEARCH)

    def _create_customer(self, request: SimRequest) -> SimResponse:
        body = _body(request)
        errors: Errors = {}
        number = _claim_number(self._acct.customers, body.get("number"), errors)
        _raise_if(errors)
        fields = self._customer_fields(body, creating=True)
        customer = self._new_customer(number)
        customer.update(fields)
        self._acct.customers[number] = customer
        self._emit("customer.created", number)
        return json_response(201, {"customer": _render(customer)})

    def _get_customer(self, request: SimRequest, number: str) -> SimResponse:
        return json_response(200, {"customer": _render(self._customer(number))})

    def _update_customer(self, request: SimRequest, number: str) -> SimResponse:
        customer = self._customer(number)
        customer.update(self._customer_fields(_body(request), creating=False), updated_at=_now())
        self._emit("customer.updated", customer["number"])  # guess: event name by analogy with product.updated
        return json_response(200, {"customer": _render(customer)})

    # ---- products --------------------------------------------------------------------------------------------------

    def _new_product(self, number: str, name: str) -> Record:
        stamp = _now()
        return {
            "number": number,
            "name": name,
            "description": None,
            "barcode": None,
            "sales_price": Decimal(0),
            "recommended_sales_price": Decimal(0),
            "cost_price": Decimal(0),
            "recommended_cost_price": Decimal(0),
            "group": None,
            "stock_quantity": Decimal(0),
            "is_barred": False,
            "inventory_enabled": True,
            "default_location": None,
            "physical": {"weight": Decimal(0), "weight_unit": "g"},
            "created_at": stamp,
            "updated_at": stamp,
            "_locations": {},  # location number → stock there
            "_field_values": {},  # custom field id → value
            "_stock_moved": False,  # set once stock is registered (adjustment booked, shipment shipped)
        }

    def _product_fields(self, body: Record, creating: bool) -> Record:
        errors: Errors = {}
        out: Record = {}
        if creating and not (isinstance(body.get("name"), str) and body["name"].strip()):
            errors["name"] = ["The name field is required."]
        _copy_text(body, PRODUCT_TEXT, out, errors)
        for name in PRODUCT_MONEY:
            if name in body:
                amount = _decimal(body[name])
                if amount is None:
                    errors[name] = [f"The {_label(name)} must be a number."]
                out[name] = amount
        for flag in ("is_barred", "inventory_enabled"):
            if flag in body:
                out[flag] = _truthy(body[flag])
        for nested in ("default_location", "physical"):
            if nested in body:
                out[nested] = copy.deepcopy(body[nested])
        if "group" in body:
            out["group"] = self._group_ref(body["group"], errors)
        # stock_quantity is not writable here: stock moves through adjustments and shipments.
        _raise_if(errors)
        return out

    def _group_ref(self, value: Any, errors: Errors) -> Record | None:
        """`group: {"number": n}` naming a product group of the account; null leaves the item without a group."""
        if value is None:
            return None
        if not isinstance(value, dict) or value.get("number") is None:
            errors["group"] = ['The group must be an object like {"number": 1}.']
            return None
        group = self._acct.product_groups.get(str(value["number"]))
        if group is None:
            errors["group.number"] = ["The selected group number is invalid."]
            return None
        return {"number": group["number"]}

    def _group_view(self, ref: Any) -> Record | None:
        """How an item shows its group: number and the group's current name."""
        if ref is None:
            return None
        number = ref.get("number") if isinstance(ref, dict) else ref
        group = self._acct.product_groups.get(str(number))
        return {"number": number, "name": group["name"] if group else None}

    def _new_item(self, body: Record) -> Record:
        """A product or lot built from a create body, not yet stored. Products and lots share one number space so
        `/items/{number}` names exactly one of them."""
        number = body.get("number")
        errors: Errors = {}
        if not isinstance(number, str | int) or isinstance(number, bool) or not str(number).strip():
            errors["number"] = ["The number field is required."]
        elif str(number) in self._acct.products or str(number) in self._acct.lots:
            errors["number"] = ["The number has already been taken."]
        _raise_if(errors)
        fields = self._product_fields(body, creating=True)
        if "inventory_enabled" not in body and fields.get("group") is not None:
            # Guess: a new item keeps stock or not as its product group says, unless the body says otherwise.
            group = self._acct.product_groups[str(fields["group"]["number"])]
            fields["inventory_enabled"] = bool(group["has_inventory"])
        item = self._new_product(str(number), fields["name"])
        item.update(fields)
        return item

    def _product(self, number: str) -> Record:
        product = self._acct.products.get(unquote(number))
        if product is None:
            raise _not_found()
        return product

    def _reservations(self) -> dict[str, dict[str | None, Decimal]]:
        """Item number → location number (None where the line names none) → quantity booked orders still have to
        ship. Guess: booked, not cancelled orders reserve what is left to ship of each line (positive lines only),
        at the line's own location_id; that is what in_order_quantity shows."""
        held: dict[str, dict[str | None, Decimal]] = {}
        for order in self._acct.orders.values():
            if not order["is_booked"] or order["is_shipped"] or order["is_cancelled"]:
                continue
            # Only a partly shipped order has shipped quantities to subtract; skipping the lookup keeps lists fast.
            shipped = self._quantities(order, shipped_only=True) if order["is_partly_shipped"] else Counter[int]()
            for line in order["lines"]:
                left = line["quantity"] - shipped[line["id"]]
                if left > 0:
                    per_location = held.setdefault(line["item_id"], {})
                    per_location[line["location_id"]] = per_location.get(line["location_id"], Decimal(0)) + left
        return held

    def _render_product(self, product: Record, held: dict[str, dict[str | None, Decimal]] | None = None) -> Any:
        """A product (or lot) as the API shows it; `held` is `_reservations()` when a list already computed it."""
        reservations = self._reservations() if held is None else held
        reserved = sum(reservations.get(product["number"], {}).values(), Decimal(0))
        return _render(
            {
                **product,
                "group": self._group_view(product.get("group")),
                "in_order_quantity": reserved,
                "available_quantity": product["stock_quantity"] - reserved,
            }
        )

    def _list_products(self, request: SimRequest) -> SimResponse:
        rows = self._inventory.filter_field_eq(request, [self._acct.products[n] for n in sorted(self._acct.products)])
        held = self._reservations()
        return _page_response(
            request, "products", rows, lambda row: self._render_product(row, held), PRODUCT_FILTERS, PRODUCT_SEARCH
        )

    def _create_product(self, request: SimRequest) -> SimResponse:
        product = self._new_item(_body(request))
        self._acct.products[product["number"]] = product
        self._emit("product.created", product["number"])
        return json_response(201, {"product": self._render_product(product)})

    def _get_product(self, request: SimRequest, number: str) -> SimResponse:
        return json_response(200, {"product": self._render_product(self._product(number))})

    def _update_product(self, request: SimRequest, number: str) -> SimResponse:
        product = self._product(number)
        product.update(self._product_fields(_body(request), creating=False), updated_at=_now())
        self._emit("product.updated", product["number"])
        return json_response(200, {"product": self._render_product(product)})

    def _delete_product(self, request: SimRequest, number: str) -> SimResponse:
        product = self._product(number)
        if product.get("_stock_moved"):
            # SPEC: an item with registered stock can't be deleted (it would orphan its stock history).
            raise _invalid({"number": ["Item has stock movements and cannot be deleted"]})
        if any(line["item_id"] == product["number"] for lot in self._acct.lots.values() for line in lot["lines"]):
            # Guess: nor can a component of a lot, which would be left pointing at nothing.
            raise _invalid({"number": ["Item is used in a lot and cannot be deleted"]})
        del self._acct.products[product["number"]]
        self._emit("product.deleted", product["number"])  # guess: event name by analogy with product.created
        return SimResponse(204)

    def _product_locations(self, request: SimRequest, number: str) -> SimResponse:
        product = self._product(number)
        stock: dict[str, Decimal] = product["_locations"]
        held = self._reservations().get(product["number"], {})
        # Guess: a location where booked orders reserve the item shows up even if it never held stock (available
        # goes negative there), as the product's own available_quantity can.
        numbers = sorted(set(stock) | {location for location in held if location is not None})
        rows = [
            {
                "number": location,
                "name": self._acct.locations.get(location, {}).get("name"),
                "stock_quantity": stock.get(location, Decimal(0)),
                "in_order_quantity": held.get(location, Decimal(0)),
                "available_quantity": stock.get(location, Decimal(0)) - held.get(location, Decimal(0)),
            }
            for location in numbers
        ]
        return _page_response(request, "product_locations", rows, _render, REFERENCE_FILTERS, REFERENCE_SEARCH)

    # ---- orders: creation and editing ------------------------------------------------------------------------------

    def _order_customer(self, body: Record, errors: Errors) -> Record | None:
        if body.get("customer_id") is None:
            errors["customer_id"] = ["The customer id field is required."]
            return None
        customer = self._acct.customers.get(_int(body["customer_id"]) or 0)
        if customer is None:
            errors["customer_id"] = ["The selected customer id is invalid."]
        elif customer["is_barred"]:
            errors["customer_id"] = ["The customer is barred."]  # guess: wording
        return customer

    def _order_header(self, body: Record, errors: Errors) -> Record:
        """Header fields a draft body may set: texts, reference ids and address_* / delivery_address_* fields."""
        account = self._acct
        out: Record = {}
        _copy_text(body, ORDER_TEXT, out, errors)
        _copy_text(body, [k for k in body if k.startswith(("address_", "delivery_address_"))], out, errors)
        _copy_refs(
            body,
            {
                "layout_id": account.layouts,
                "employee_id": account.employees,
                "our_reference_id": account.employees,
                "payment_terms_id": account.payment_terms,
                "delivery_terms": account.delivery_terms,
            },
            out,
            errors,
        )
        if "vat_zone" in body:
            if body["vat_zone"] not in VAT_ZONES:
                errors["vat_zone"] = ["The selected vat zone is invalid."]
            out["vat_zone"] = body["vat_zone"]
        return out

    def _order_line(self, raw: Any, index: int, vat_zone: str, errors: Errors) -> Record | None:
        prefix = f"lines.{index}."
        if not isinstance(raw, dict):
            errors[f"lines.{index}"] = ["The line must be an object."]
            return None
        product = self._acct.products.get(str(raw.get("item_id"))) if raw.get("item_id") is not None else None
        if product is None:
            errors[prefix + "item_id"] = ["Product needed"]
        location = raw.get("location_id")
        if location is not None and str(location) not in self._acct.locations:
            errors[prefix + "location_id"] = ["The selected location id is invalid."]
        defaults = {
            "quantity": None,
            "line_price": product["sales_price"] if product else Decimal(0),
            "discount_percentage": Decimal(0),
            "vat_percentage": DEFAULT_VAT[vat_zone],
        }
        amounts = {key: self._line_amount(raw, key, default, prefix, errors) for key, default in defaults.items()}
        discount = amounts["discount_percentage"]
        if discount is not None and not 0 <= discount <= 100:
            errors[prefix + "discount_percentage"] = ["The discount percentage must be between 0 and 100."]
        if product is None or None in amounts.values() or prefix + "discount_percentage" in errors:
            return None
        text = raw.get("name")
        return self._priced_line(
            product,
            text if isinstance(text, str) and text else product["name"],
            location,
            **{key: value for key, value in amounts.items() if value is not None},
        )

    @staticmethod
    def _line_amount(raw: Record, key: str, default: Decimal | None, prefix: str, errors: Errors) -> Decimal | None:
        """A numeric line field, its default when absent/null; records a 422 message when missing or not numeric."""
        if raw.get(key) is None:
            if default is None:
                errors[prefix + key] = [f"The {_label(key)} field is required."]
            return default
        amount = _decimal(raw[key])
        if amount is None:
            errors[prefix + key] = [f"The {_label(key)} must be a number."]
        return amount

    def _priced_line(
        self,
        product: Record,
        name: str,
        location: Any,
        *,
        quantity: Decimal,
        line_price: Decimal,
        discount_percentage: Decimal,
        vat_percentage: Decimal,
    ) -> Record:
        net = quantity * line_price * (1 - discount_percentage / 100)
        vat = net * vat_percentage / 100
        return {
            "id": self._next_id("line"),
            "item_id": product["number"],
            "name": name,
            "quantity": quantity,
            "line_price": line_price,
            "discount_percentage": discount_percentage,
            "vat_percentage": vat_percentage,
            "location_id": None if location is None else str(location),
            # Guess: field names of the per-line amounts.
            "line_total_excl_vat": _round(net),
            "line_vat": _round(vat),
            "line_total": _round(net) + _round(vat),
            "_net": net,
            "_vat": vat,
        }

    def _order_lines(self, raw_lines: Any, vat_zone: str, errors: Errors) -> list[Record]:
        if raw_lines is None:
            return []
        if not isinstance(raw_lines, list):
            errors["lines"] = ["The lines must be an array."]
            return []
        lines = [self._order_line(raw, index, vat_zone, errors) for index, raw in enumerate(raw_lines)]
        return [line for line in lines if line is not None]

    @staticmethod
    def _totals(lines: list[Record]) -> Record:
        net = _round(sum((line["_net"] for line in lines), Decimal(0)))
        vat = _round(sum((line["_vat"] for line in lines), Decimal(0)))
        return {"total_excl_vat": net, "total_vat": vat, "total": net + vat}

    def _new_order(self, body: Record) -> Record:
        """Validate a draft body completely, then build the order record (not yet stored)."""
        errors: Errors = {}
        customer = self._order_customer(body, errors)
        number = _claim_number(self._acct.orders, body.get("number"), errors)
        header = self._order_header(body, errors)
        vat_zone = header.get("vat_zone") or (customer or {}).get("vat_zone") or "domestic"
        lines = self._order_lines(body.get("lines"), vat_zone if vat_zone in VAT_ZONES else "domestic", errors)
        _raise_if(errors)
        assert customer is not None
        stamp = _now()
        order: Record = {
            "number": number,
            "customer_id": customer["number"],
            "customer": {k: customer[k] for k in ("number", "company_name", "contact_email")},
            "currency": customer["currency"],
            "vat_zone": vat_zone,
            "layout_id": customer["layout_id"],
            "payment_terms_id": customer["payment_terms_id"],
            "employee_id": None,
            "our_reference_id": None,
            "delivery_terms": None,
            "other_reference": None,
            "heading": None,
            "note": None,
            "order_date": stamp[:10],
            "deliver_at": None,
        }
        order.update(header)
        order.update(
            lines=lines,
            **self._totals(lines),
            is_booked=False,
            is_shipped=False,
            is_partly_shipped=False,
            is_ready_for_shipping=False,
            is_invoiced=False,
            is_partly_invoiced=False,
            is_ready_for_invoicing=False,
            is_cancelled=False,
            booked_at=None,
            invoice_number=None,
            created_at=stamp,
            updated_at=stamp,
        )
        return order

    def _store_order(self, request: SimRequest, book_by_default: bool) -> SimResponse:
        body = _body(request)
        order = self._new_order(body)
        self._acct.orders[order["number"]] = order
        self._emit("order.created", order["number"])
        # Guess: POST /orders books unless the body says "is_draft": true or "book": false.
        if book_by_default and body.get("is_draft") is not True and body.get("book") is not False:
            self._book(order)
        return json_response(201, {"order": _render(order)})

    def _create_draft(self, request: SimRequest) -> SimResponse:
        return self._store_order(request, book_by_default=False)

    def _create_booked_order(self, request: SimRequest) -> SimResponse:
        return self._store_order(request, book_by_default=True)

    def _order(self, number: str) -> Record:
        order = self._acct.orders.get(_int(number) or 0)
        if order is None:
            raise _not_found()
        return order

    def _list_orders(self, request: SimRequest) -> SimResponse:
        rows = [self._acct.orders[n] for n in sorted(self._acct.orders)]
        return _page_response(request, "orders", rows, _render, ORDER_FILTERS, ORDER_SEARCH)

    def _get_order(self, request: SimRequest, number: str) -> SimResponse:
        return json_response(200, {"order": _render(self._order(number))})

    def _update_order(self, request: SimRequest, number: str) -> SimResponse:
        order, body = self._order(number), _body(request)
        errors: Errors = {}
        if order["is_booked"] and "lines" in body:
            raise _invalid({"lines": ["Lines of a booked order can not be edited."]})
        header = self._order_header(body, errors)
        vat_zone = str(header.get("vat_zone") or order["vat_zone"])
        vat_zone = vat_zone if vat_zone in VAT_ZONES else "domestic"  # a bad zone is already a 422
        lines = self._order_lines(body["lines"], vat_zone, errors) if "lines" in body else order["lines"]
        _raise_if(errors)
        order.update(header, lines=lines, **self._totals(lines), updated_at=_now())
        self._emit("order.updated", order["number"])  # guess: event name
        return json_response(200, {"order": _render(order)})

    # ---- orders: transitions ---------------------------------------------------------------------------------------

    def _book(self, order: Record) -> None:
        order.update(is_booked=True, booked_at=_now(), updated_at=_now())
        self._refresh_flags(order)
        self._emit("order.booked", order["number"])
        self._announce_reservations(order)

    def _announce_reservations(self, order: Record) -> None:
        """Booking or reopening an order changes what its items have available: one `product.stock_changed` per
        stock-keeping item on it. Guess: Rackbeat's stock event covers reservations, not only stock movements (a
        shop showing available stock must hear about both)."""
        stamp = _now()
        changed: list[str] = []
        for line in order["lines"]:
            product = self._acct.products.get(line["item_id"])
            if product is None or not product["inventory_enabled"] or line["quantity"] <= 0:
                continue
            if product["number"] not in changed:
                product["updated_at"] = stamp  # guess: availability counts as a change of the product
                changed.append(product["number"])
        for number in changed:
            self._emit("product.stock_changed", number)

    def _book_order_route(self, request: SimRequest, number: str) -> SimResponse:
        order = self._order(number)
        _body(request)  # {"mail": {"send": false}} is accepted; no mail is simulated
        _refuse_if_cancelled(order, "booked")
        if order["is_booked"]:
            raise _invalid({"order": ["Order is already booked"]})
        if not order["lines"]:
            raise _invalid({"lines": ["An order without lines can not be booked."]})  # guess
        self._book(order)
        return json_response(200, {"order": _render(order)})

    def _reopen_order(self, request: SimRequest, number: str) -> SimResponse:
        order = self._order(number)
        if not order["is_booked"]:
            raise _invalid({"order": ["Order is not booked"]})
        if order["is_invoiced"] or self._order_shipments(order):
            # Guess: an order with shipments or an invoice can't be reopened.
            raise _invalid({"order": ["Order has shipments or invoices and can not be reopened"]})
        order.update(is_booked=False, booked_at=None, updated_at=_now())
        self._refresh_flags(order)
        self._announce_reservations(order)
        return json_response(200, {"order": _render(order)})

    def _order_shipments(self, order: Record) -> list[Record]:
        return [s for s in self._acct.shipments.values() if s["order_number"] == order["number"]]

    def _quantities(self, order: Record, shipped_only: bool) -> Counter[int]:
        """Quantity per order line id already put on (shipped) shipments."""
        totals: Counter[int] = Counter()
        for shipment in self._order_shipments(order):
            if shipped_only and not shipment["is_shipped"]:
                continue
            for line in shipment["lines"]:
                totals[line["line_id"]] += line["quantity"]
        return totals

    def _refresh_flags(self, order: Record) -> None:
        shipped = self._quantities(order, shipped_only=True)
        wanted = [line for line in order["lines"] if line["quantity"] > 0]
        all_shipped = bool(wanted) and all(shipped[line["id"]] >= line["quantity"] for line in wanted)
        any_shipped = any(shipped[line["id"]] > 0 for line in wanted)
        open_order = order["is_booked"] and not order["is_cancelled"]
        order.update(
            is_shipped=all_shipped,
            is_partly_shipped=any_shipped and not all_shipped,
            is_ready_for_shipping=open_order and not all_shipped,  # guess: meaning of the flag
            is_ready_for_invoicing=open_order and not order["is_invoiced"],  # guess: meaning of the flag
        )

    def _shipment_lines(self, order: Record, body: Record) -> list[Record]:
        """Lines for a new shipment: everything not yet on a shipment, or (guess) the body's
        `lines: [{"line_id", "quantity"}]` for a partial shipment."""
        taken = self._quantities(order, shipped_only=False)
        remaining = {line["id"]: line["quantity"] - taken[line["id"]] for line in order["lines"]}
        by_id = {line["id"]: line for line in order["lines"]}
        wanted: list[tuple[int, Decimal]] = [(k, v) for k, v in remaining.items() if v > 0]
        if isinstance(body.get("lines"), list):
            errors: Errors = {}
            wanted = []
            for index, raw in enumerate(body["lines"]):
                line_id = _int(raw.get("line_id")) if isinstance(raw, dict) else None
                quantity = _decimal(raw.get("quantity")) if isinstance(raw, dict) else None
                if line_id is None or line_id not in remaining:
                    errors[f"lines.{index}.line_id"] = ["The selected line id is invalid."]
                elif quantity is None or not 0 < quantity <= remaining[line_id]:
                    errors[f"lines.{index}.quantity"] = ["The quantity exceeds what is left to ship."]
                else:
                    wanted.append((line_id, quantity))
            _raise_if(errors)
        return [
            {
                "line_id": line_id,
                "item_id": by_id[line_id]["item_id"],
                "name": by_id[line_id]["name"],
                "quantity": quantity,
                "location_id": by_id[line_id]["location_id"],
            }
            for line_id, quantity in wanted
        ]

    def _create_shipment(self, request: SimRequest, number: str) -> SimResponse:
        order = self._order(number)
        _refuse_if_cancelled(order, "shipped")
        if not order["is_booked"] or order["is_cancelled"]:
            raise _invalid({"order": ["Order must be booked before it can be shipped"]})
        if order["is_shipped"]:
            raise _invalid({"order": ["Order is already shipped"]})
        lines = self._shipment_lines(order, _body(request))
        if not lines:
            raise _invalid({"order": ["Order has nothing left to ship"]})
        shipment_id = self._next_id("shipment")
        shipment = {
            "id": shipment_id,
            "order_number": order["number"],
            "is_shipped": False,
            "shipped_at": None,
            "lines": lines,
            "created_at": _now(),
        }
        self._acct.shipments[shipment_id] = shipment
        return json_response(201, {"order_shipment": _render(shipment)})

    def _shipment(self, shipment_id: str) -> Record:
        shipment = self._acct.shipments.get(_int(shipment_id) or 0)
        if shipment is None:
            raise _not_found()
        return shipment

    def _get_shipment(self, request: SimRequest, shipment_id: str) -> SimResponse:
        return json_response(200, {"order_shipment": _render(self._shipment(shipment_id))})

    def _list_shipments(self, request: SimRequest, number: str) -> SimResponse:
        rows = sorted(self._order_shipments(self._order(number)), key=lambda s: s["id"])
        return _page_response(request, "order_shipments", rows, _render, frozenset({"id", "is_shipped"}), ())

    def _mark_shipped(self, request: SimRequest, shipment_id: str) -> SimResponse:
        shipment = self._shipment(shipment_id)
        _body(request)  # Guess: {"pick": true} — stock is drawn either way; the flag's exact effect is unknown.
        if shipment["is_shipped"]:
            raise _invalid({"order_shipment": ["Shipment is already shipped"]})
        shipment.update(is_shipped=True, shipped_at=_now())
        changed = self._draw_stock(shipment["lines"])
        order = self._acct.orders[shipment["order_number"]]
        self._refresh_flags(order)
        order["updated_at"] = _now()
        self._emit("order_shipment.shipped", shipment["id"], key_name="id")
        for number in changed:
            self._emit("product.stock_changed", number)
        return json_response(200, {"order_shipment": _render(shipment)})

    def _draw_stock(self, lines: list[Record]) -> list[str]:
        """Take shipped quantities off each product's stock (and its location's); returns changed product numbers."""
        changed: list[str] = []
        for line in lines:
            product = self._acct.products.get(line["item_id"])
            if product is None or not product["inventory_enabled"]:
                continue
            product["stock_quantity"] -= line["quantity"]
            if line["location_id"] is not None:
                per_location = product["_locations"]
                location = line["location_id"]
                per_location[location] = per_location.get(location, Decimal(0)) - line["quantity"]
            product["updated_at"] = _now()
            product["_stock_moved"] = True
            if product["number"] not in changed:
                changed.append(product["number"])
        return changed

    # ---- invoices --------------------------------------------------------------------------------------------------

    def _convert_to_invoice(self, request: SimRequest, number: str) -> SimResponse:
        order = self._order(number)
        _refuse_if_cancelled(order, "invoiced")
        if order["is_invoiced"]:
            raise _invalid({"order": ["Order is already invoiced"]})
        if not order["is_booked"]:
            raise _invalid({"order": ["Order must be booked before it can be invoiced"]})  # guess
        book = _truthy(request.arg("book", "false"))  # guess: default is not to book
        invoice_number = _next_number(self._acct.invoices)
        stamp = _now()
        invoice = {
            "number": invoice_number,
            "order_number": order["number"],
            "customer_id": order["customer_id"],
            "customer": copy.deepcopy(order["customer"]),
            "currency": order["currency"],
            "vat_zone": order["vat_zone"],
            "other_reference": order["other_reference"],
            "heading": order["heading"],
            "note": order["note"],
            # Guess: each invoice line counts how much of it credit notes took back (see rackbeat_credit.py).
            "lines": [{**line, "credited_quantity": Decimal(0)} for line in copy.deepcopy(order["lines"])],
            "total_excl_vat": order["total_excl_vat"],
            "total_vat": order["total_vat"],
            "total": order["total"],
            "is_booked": book,
            "booked_at": stamp if book else None,
            "stock_returned": False,
            "invoice_date": stamp[:10],
            "created_at": stamp,
            "updated_at": stamp,
        }
        self._acct.invoices[invoice_number] = invoice
        order.update(is_invoiced=True, invoice_number=invoice_number, updated_at=stamp)
        self._refresh_flags(order)
        if book:
            self._emit("customer_invoice.booked", invoice_number)
        return json_response(201, {"invoice_id": invoice_number})

    def _invoice(self, number: str) -> Record:
        invoice = self._acct.invoices.get(_int(number) or 0)
        if invoice is None:
            raise _not_found()
        return invoice

    def _list_invoices(self, request: SimRequest) -> SimResponse:
        rows = [self._acct.invoices[n] for n in sorted(self._acct.invoices)]
        return _page_response(request, "customer_invoices", rows, _render, INVOICE_FILTERS, INVOICE_SEARCH)

    def _get_invoice(self, request: SimRequest, number: str) -> SimResponse:
        return json_response(200, {"customer_invoice": _render(self._invoice(number))})

    def _book_invoice(self, request: SimRequest, number: str) -> SimResponse:
        invoice = self._invoice(number)
        if invoice["is_booked"]:
            raise _invalid({"customer_invoice": ["Invoice is already booked"]})
        invoice.update(is_booked=True, booked_at=_now(), updated_at=_now())
        self._emit("customer_invoice.booked", invoice["number"])
        return json_response(200, {"customer_invoice": _render(invoice)})

    # ---- webhook registrations -------------------------------------------------------------------------------------

    def _list_webhooks(self, request: SimRequest) -> SimResponse:
        rows = [self._acct.webhooks[i] for i in sorted(self._acct.webhooks)]
        event = request.arg("event")
        if event:
            rows = [row for row in rows if row["event"] == event]
        return _page_response(request, "webhooks", rows, _render, WEBHOOK_FILTERS, ("event", "url"))

    def _create_webhook(self, request: SimRequest) -> SimResponse:
        body = _body(request)
        errors: Errors = {}
        event, url = body.get("event"), body.get("url")
        if not isinstance(event, str) or not re.fullmatch(r"[a-z_]+\.[a-z_]+", event):
            errors["event"] = ["The event field is required and must be a dotted event name."]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors["url"] = ["The url must be a valid URL."]
        _raise_if(errors)
        active = _truthy(body.get("is_active", True))
        for hook in self._acct.webhooks.values():
            if hook["event"] == event and hook["url"] == url:
                hook["is_active"] = active
                return json_response(200, {"webhook": _render(hook)})  # upsert: no token (guess: 200 not 201)
        token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(32))
        hook = {
            "id": self._next_id("webhook"),
            "event": event,
            "url": url,
            "is_active": active,
            "created_at": _now(),
            "_token": token,
        }
        self._acct.webhooks[hook["id"]] = hook
        return json_response(201, {"webhook": {**_render(hook), "token": token}})

    def _delete_webhook(self, request: SimRequest, webhook_id: str) -> SimResponse:
        if self._acct.webhooks.pop(_int(webhook_id) or 0, None) is None:
            raise _not_found()
        return SimResponse(204)  # guess: empty 204
