"""The cost model of `bench/cost_per_order.py`: a dated price table, and what measured usage costs under it.

Pure arithmetic, no AWS: billing units (as `crossdock_local.aws_usage` meters them) to dollars with the prices in
`prices_eu_west_1.json`; Express workflow billing (duration rounded up to 100 ms, memory in 64 MB chunks); and the
longest waits a state machine's Retry rules allow, for Express's 5-minute limit. Tested by
`tests/unit/test_cost_model.py`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

PRICES = Path(__file__).with_name("prices_eu_west_1.json")
GIB = 1024**3  # AWS's "GB" for log and storage volumes
EXPRESS_MAX_SECONDS = 300  # an Express execution is stopped after 5 minutes
EXPRESS_MEMORY_CHUNK_MB = 64
EXPRESS_DURATION_STEP = Decimal("0.1")  # seconds


class PriceTableError(ValueError):
    """The price table is missing something or holds something that is not a price; the message names it."""


@dataclass(frozen=True)
class Price:
    key: str
    usd: Decimal | None  # None: no price was found (the line stays unpriced)
    per: int  # usd is the price of this many units
    unit: str
    source: str
    taken: str  # the date the price was read
    eu_west_1: bool  # whether the source gives the eu-west-1 figure itself
    note: str

    def cost(self, quantity: float | int | Decimal) -> Decimal | None:
        if self.usd is None:
            return None
        return Decimal(str(quantity)) * self.usd / self.per


@dataclass(frozen=True)
class PriceTable:
    region: str
    looked_up: str
    prices: dict[str, Price]

    @classmethod
    def load(cls, path: Path = PRICES) -> PriceTable:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as unreadable:
            raise PriceTableError(f"{path}: cannot be read as JSON: {unreadable}") from unreadable
        if not isinstance(document, dict):
            raise PriceTableError(f"{path}: the top level must be an object")
        for name in ("region", "looked_up", "prices"):
            if name not in document:
                raise PriceTableError(f"{path}: missing field {name!r}")
        if not isinstance(document["prices"], dict):
            raise PriceTableError(f"{path}: 'prices' must be an object of prices by key")
        prices = {key: _price(path, key, entry) for key, entry in document["prices"].items()}
        return cls(str(document["region"]), str(document["looked_up"]), prices)

    def __getitem__(self, key: str) -> Price:
        if key not in self.prices:
            raise PriceTableError(f"the price table has no price {key!r}")
        return self.prices[key]


def _price(path: Path, key: str, entry: Any) -> Price:
    where = f"{path}: prices.{key}"
    if not isinstance(entry, dict):
        raise PriceTableError(f"{where} must be an object")
    for name in ("usd", "per", "unit", "source", "taken", "eu_west_1"):
        if name not in entry:
            raise PriceTableError(f"{where}: missing field {name!r}")
    usd: Decimal | None = None
    if entry["usd"] is not None:
        try:
            usd = Decimal(str(entry["usd"]))
        except InvalidOperation as bad:
            raise PriceTableError(f"{where}.usd: {entry['usd']!r} is not a number") from bad
        if not usd.is_finite() or usd < 0:
            raise PriceTableError(f"{where}.usd: {entry['usd']!r} is not a price")
    per = entry["per"]
    if not isinstance(per, int) or isinstance(per, bool) or per <= 0:
        raise PriceTableError(f"{where}.per: {per!r} must be a positive whole number of units")
    if not isinstance(entry["eu_west_1"], bool):
        raise PriceTableError(f"{where}.eu_west_1: must be true or false")
    return Price(
        key=key,
        usd=usd,
        per=per,
        unit=str(entry["unit"]),
        source=str(entry["source"]),
        taken=str(entry["taken"]),
        eu_west_1=entry["eu_west_1"],
        note=str(entry.get("note", "")),
    )


@dataclass(frozen=True)
class Usage:
    """What a run used, in billing units, summed over the run's orders."""

    orders: int
    api_gateway_requests: int = 0
    lambda_invocations: int = 0
    lambda_gb_seconds: float = 0.0
    sqs_standard_requests: int = 0
    sqs_fifo_requests: int = 0
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    dynamodb_stored_bytes: int = 0
    state_transitions: int = 0
    kms_requests: int = 0
    scheduler_invocations: int = 0
    log_bytes: int = 0
    log_retention_months: float = 1.0  # how long each logged byte is stored (the log groups' retention)
    xray_traces: int = 0

    @property
    def log_byte_months(self) -> float:
        return self.log_bytes * self.log_retention_months

    def __post_init__(self) -> None:
        if self.orders <= 0:
            raise ValueError(f"orders: {self.orders} must be positive to price usage per order")
        for item in fields(self):
            if getattr(self, item.name) < 0:
                raise ValueError(f"{item.name}: {getattr(self, item.name)} must not be negative")


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    per_order: float  # billing units per order
    price: Price

    @property
    def per_1000_orders(self) -> Decimal | None:
        return self.price.cost(Decimal(str(self.per_order)) * 1000)


# (service, what is billed, Usage field, price key, divisor turning the field into the price's unit)
_LINES: tuple[tuple[str, str, str, str, int], ...] = (
    ("API Gateway", "REST API requests", "api_gateway_requests", "apigateway_rest_requests", 1),
    ("Lambda", "invocations", "lambda_invocations", "lambda_requests", 1),
    ("Lambda", "duration, GB-seconds (arm64)", "lambda_gb_seconds", "lambda_gb_seconds_arm64", 1),
    ("SQS", "standard queue requests (64 KB chunks)", "sqs_standard_requests", "sqs_standard_requests", 1),
    ("SQS", "FIFO queue requests (64 KB chunks)", "sqs_fifo_requests", "sqs_fifo_requests", 1),
    ("DynamoDB", "write request units", "dynamodb_write_units", "dynamodb_write_request_units", 1),
    ("DynamoDB", "read request units", "dynamodb_read_units", "dynamodb_read_request_units", 1),
    ("DynamoDB", "storage added, GB for a month", "dynamodb_stored_bytes", "dynamodb_storage_gb_month", GIB),
    ("Step Functions", "Standard state transitions", "state_transitions", "stepfunctions_standard_transitions", 1),
    ("KMS", "requests", "kms_requests", "kms_requests", 1),
    ("EventBridge Scheduler", "invocations", "scheduler_invocations", "scheduler_invocations", 1),
    ("CloudWatch Logs", "ingestion, GB", "log_bytes", "logs_ingestion_gb", GIB),
    ("CloudWatch Logs", "storage over the retention, GB-months", "log_byte_months", "logs_storage_gb_month", GIB),
    ("X-Ray", "traces recorded", "xray_traces", "xray_traces_recorded", 1),
)


def cost_lines(usage: Usage, prices: PriceTable) -> list[CostLine]:
    """One line per billed item, in units per order and dollars per 1,000 orders."""
    return [
        CostLine(service, item, getattr(usage, field_name) / divisor / usage.orders, prices[key])
        for service, item, field_name, key, divisor in _LINES
    ]


def total_per_1000_orders(lines: list[CostLine]) -> Decimal:
    """The priced lines' sum (unpriced lines are listed by `unpriced`)."""
    return sum((cost for line in lines if (cost := line.per_1000_orders) is not None), Decimal(0))


def unpriced(lines: list[CostLine]) -> list[CostLine]:
    return [line for line in lines if line.price.usd is None and line.per_order > 0]


def express_execution_usd(seconds: float, memory_mb: int, prices: PriceTable) -> Decimal:
    """One Express execution: a request, plus its duration rounded up to 100 ms times its memory in 64 MB chunks."""
    if seconds < 0:
        raise ValueError(f"seconds: {seconds} must not be negative")
    if memory_mb <= 0:
        raise ValueError(f"memory_mb: {memory_mb} must be positive")
    steps = max(1, math.ceil(Decimal(str(seconds)) / EXPRESS_DURATION_STEP))
    billed_seconds = steps * EXPRESS_DURATION_STEP
    gigabytes = Decimal(math.ceil(memory_mb / EXPRESS_MEMORY_CHUNK_MB) * EXPRESS_MEMORY_CHUNK_MB) / 1024
    request = prices["stepfunctions_express_requests"].cost(1)
    duration = prices["stepfunctions_express_gb_seconds"].cost(billed_seconds * gigabytes)
    if request is None or duration is None:
        raise PriceTableError("the price table has no Express workflow prices")
    return request + duration


@dataclass(frozen=True)
class RetryWait:
    """How long one Retry rule of a Task state can keep an execution waiting before it gives up."""

    state: str
    errors: tuple[str, ...]
    attempts: int
    longest_seconds: float  # every backoff at its full length
    expected_seconds: float  # with full jitter a backoff is drawn between 0 and its length: half on average


def retry_waits(definition: dict[str, Any]) -> list[RetryWait]:
    """Every Retry rule of every state, with the backoff it allows (ASL: IntervalSeconds default 1, BackoffRate 2,
    MaxAttempts 3; MaxDelaySeconds caps each wait)."""
    waits = []
    for name, state in definition.get("States", {}).items():
        for rule in state.get("Retry", []):
            interval = float(rule.get("IntervalSeconds", 1))
            rate = float(rule.get("BackoffRate", 2.0))
            attempts = int(rule.get("MaxAttempts", 3))
            cap = float(rule.get("MaxDelaySeconds", math.inf))
            longest = sum(min(interval * rate**attempt, cap) for attempt in range(attempts))
            expected = longest / 2 if rule.get("JitterStrategy", "NONE") == "FULL" else longest
            waits.append(RetryWait(name, tuple(rule["ErrorEquals"]), attempts, longest, expected))
    return waits
