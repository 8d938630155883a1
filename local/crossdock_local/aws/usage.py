"""Metering the AWS work the stack does, in the units AWS bills, so that `bench/cost_per_order.py` can price it.

Calls are told apart by who makes them: application code (handlers, tests, the demo); the embedded runtime acting
as AWS itself (the SQS poller of event source mappings, whose requests AWS bills as SQS requests too); the embedded
runtime's own bookkeeping (provisioning, reading execution histories), which is not counted; and moto internals
(Step Functions invoking Lambda), which are not API calls anyone makes and show up as Lambda invocations instead.

Besides counting calls by operation, the counter meters what the bill is made of:
- DynamoDB on-demand request units, from the real sizes of the items each request touches: 1 write unit per KB
  written (the larger of the item before and after; a failed condition still pays for the item it read), 1 read
  unit per 4 KB read strongly consistent and half that eventually consistent, twice for transactions, Query and
  Scan by the bytes of every item read (filters and projections read as much), and the global secondary indexes'
  own writes. The item states come from a second, uncounted client reading the table around each request; that
  slows the embedded stack by about a fifth, so this metering is off until `meter_dynamodb` is set.
- SQS billed requests: every 64 KB chunk of a request's payload is one request; empty receives are kept apart,
  as idle polling is paid per month whatever the orders are.
- The seconds Step Functions executions wait (retry backoff, Wait states), which an Express workflow is billed for.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from botocore.client import BaseClient

_SDK_PACKAGES = ("botocore", "boto3")
# Modules whose frames wrap botocore's call (this one, and the embedded runtime's crash point): not callers.
_WRAPPERS = (__name__, "crossdock_local.aws.embedded")

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
SQS_CHUNK_BYTES = 64 * 1024

# Errors after which DynamoDB has done the work of the request (read the item, evaluated the condition) and bills
# it; any other error (validation, throttling) is refused before that.
_BILLED_FAILURES = ("ConditionalCheckFailedException", "TransactionCanceledException")
# Request parameters that change what a Query or Scan returns but not what it reads.
_RESULT_SHAPING = ("FilterExpression", "ProjectionExpression", "AttributesToGet", "Select", "QueryFilter", "ScanFilter")
# Request parameters that decide which items a Query or Scan page reads.
_PAGE_PARAMETERS = (
    "TableName",
    "IndexName",
    "KeyConditionExpression",
    "KeyConditions",
    "ExclusiveStartKey",
    "Limit",
    "ConsistentRead",
    "ScanIndexForward",
    "Segment",
    "TotalSegments",
)


# -- sizes and units: DynamoDB's and SQS's billing rules -----------------------------------------------------------


def attribute_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's wire form ({"S": "..."}, {"N": "12.5"}, {"M": {...}}, ...)."""
    if len(value) != 1:
        raise ValueError(f"not a DynamoDB attribute value: {sorted(value)}")
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return number_size(str(data))
    if kind == "B":
        return len(_raw_bytes(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(item).encode()) for item in data)
    if kind == "NS":
        return sum(number_size(str(item)) for item in data)
    if kind == "BS":
        return sum(len(_raw_bytes(item)) for item in data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(item) for item in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(item) for name, item in data.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: Mapping[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1 (leading and trailing zeros do not count)."""
    try:
        digits = Decimal(text).normalize().as_tuple().digits
    except InvalidOperation as bad:
        raise ValueError(f"not a DynamoDB number: {text!r}") from bad
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def write_units(size_bytes: int, *, transactional: bool = False) -> int:
    """Write request units for writing an item of this size (at least 1, even for an item that is not there)."""
    units = max(1, math.ceil(size_bytes / WRITE_UNIT_BYTES))
    return units * 2 if transactional else units


def read_units(size_bytes: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read request units for reading this many bytes in one read (at least one 4 KB unit, even for nothing)."""
    units = max(1, math.ceil(size_bytes / READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


def sqs_billed_requests(payload_bytes: int) -> int:
    """SQS bills every 64 KB chunk of a request's payload as one request."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def sqs_message_bytes(body: str, attributes: Mapping[str, Mapping[str, Any]] | None = None) -> int:
    """A message's payload: its body plus each message attribute's name, type and value."""
    size = len(body.encode())
    for name, attribute in (attributes or {}).items():
        size += len(name.encode()) + len(str(attribute.get("DataType", "")).encode())
        if "StringValue" in attribute:
            size += len(str(attribute["StringValue"]).encode())
        if "BinaryValue" in attribute:
            size += len(_raw_bytes(attribute["BinaryValue"]))
    return size


def _raw_bytes(value: Any) -> bytes:
    """Binary values are base64 text on the wire and bytes in boto3's parameters."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return base64.b64decode(value)


# -- the counter -------------------------------------------------------------------------------------------------


@dataclass
class TableUnits:
    read_units: float = 0.0
    write_units: float = 0.0
    by_operation: dict[str, float] = field(default_factory=dict)  # units of either kind per operation
    # Write units by what was written: "<operation> <item kind>" for the item itself, "<index> <item kind>" for a
    # global secondary index's own write (the item kind is its sort key's first '#'-separated part).
    writes_by_kind: dict[str, float] = field(default_factory=dict)

    def add(self, operation: str, read: float, write: float, kinds: Mapping[str, float] | None = None) -> None:
        self.read_units += read
        self.write_units += write
        self.by_operation[operation] = self.by_operation.get(operation, 0.0) + read + write
        for kind, units in (kinds or {}).items():
            self.writes_by_kind[kind] = self.writes_by_kind.get(kind, 0.0) + units


@dataclass
class QueueRequests:
    billed: dict[str, int] = field(default_factory=dict)  # operation -> billed requests (64 KB chunks)
    empty_receives: int = 0


class ApiCallCounter:
    """Wraps botocore's calls process-wide while installed: counts every call by who made it, and meters DynamoDB
    and SQS in billing units (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles: dict[int, str | None] = {}  # id(client) -> bucket name, None = not counted
        self._original_call: Any = None
        self._original_request: Any = None
        self._readers: dict[str, Any] = {}
        self._tables = _TableShapes()
        self.app: dict[str, dict[str, int]] = {}
        self.runtime: dict[str, dict[str, int]] = {}
        self.dynamodb: dict[str, TableUnits] = {}  # by table name
        self.sqs: dict[str, QueueRequests] = {}  # by queue type: "standard", "fifo"
        self.waited_seconds = 0.0
        self.meter_dynamodb = False

    def install(self) -> None:
        client_class: Any = BaseClient  # _make_api_call/_make_request are private to botocore, hence untyped
        original_call, original_request = client_class._make_api_call, client_class._make_request
        counter = self

        def counting_make_api_call(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            role = counter._role(client)
            if role is None:
                return original_call(client, operation_name, api_params)
            counter._count(role, client, operation_name)
            if client.meta.service_model.service_name != "sqs":
                return original_call(client, operation_name, api_params)
            try:
                response = original_call(client, operation_name, api_params)
            except Exception:
                counter._meter_sqs(operation_name, api_params, None)
                raise
            counter._meter_sqs(operation_name, api_params, response)
            return response

        def metering_make_request(client: BaseClient, operation_model: Any, request_dict: Any, context: Any) -> Any:
            def send() -> Any:
                return original_request(client, operation_model, request_dict, context)

            if not counter.meter_dynamodb or client.meta.service_model.service_name != "dynamodb":
                return send()
            if counter._role(client) is None:
                return send()
            # The wire form: DynamoDB JSON whatever layer (client or resource) made the call.
            params = json.loads(request_dict.get("body") or b"{}")
            return counter._meter_dynamodb(client.meta.region_name, operation_model.name, params, send)

        self._original_call, self._original_request = original_call, original_request
        client_class._make_api_call = counting_make_api_call
        client_class._make_request = metering_make_request

    def uninstall(self) -> None:
        if self._original_call is not None:
            client_class: Any = BaseClient
            client_class._make_api_call = self._original_call
            client_class._make_request = self._original_request
            self._original_call = self._original_request = None

    def assign(self, client: BaseClient, role: str | None) -> BaseClient:
        """Count the client's calls as "runtime" ones, or not at all (None); the client must outlive the counter."""
        self._roles[id(client)] = role
        return client

    def record_wait(self, seconds: float) -> None:
        """A Step Functions execution waited this long (retry backoff, a Wait state)."""
        if seconds > 0:
            with self._lock:
                self.waited_seconds += seconds

    def timed(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """`sleep`, recording each wait as a Step Functions execution's."""

        def recorded_sleep(seconds: float) -> None:
            self.record_wait(seconds)
            sleep(seconds)

        return recorded_sleep

    def _role(self, client: BaseClient) -> str | None:
        role = self._roles.get(id(client), "app")
        if role == "app" and _called_from_moto():
            return None
        return role

    def _count(self, role: str, client: BaseClient, operation: str) -> None:
        bucket = self.runtime if role == "runtime" else self.app
        service = client.meta.service_model.service_name
        with self._lock:
            operations = bucket.setdefault(service, {})
            operations[operation] = operations.get(operation, 0) + 1

    def _meter_sqs(self, operation: str, params: Mapping[str, Any], response: Mapping[str, Any] | None) -> None:
        queue_type = "fifo" if str(params.get("QueueUrl", "")).endswith(".fifo") else "standard"
        empty = False
        if operation == "SendMessage":
            payload = sqs_message_bytes(params.get("MessageBody", ""), params.get("MessageAttributes"))
        elif operation == "SendMessageBatch":
            entries = params.get("Entries", [])
            payload = sum(sqs_message_bytes(e.get("MessageBody", ""), e.get("MessageAttributes")) for e in entries)
        elif operation == "ReceiveMessage" and response is not None:
            messages = response.get("Messages", [])
            empty = not messages
            payload = sum(sqs_message_bytes(m.get("Body", ""), m.get("MessageAttributes")) for m in messages)
        else:
            payload = 0
        with self._lock:
            queue = self.sqs.setdefault(queue_type, QueueRequests())
            if empty:
                queue.empty_receives += 1
            else:
                queue.billed[operation] = queue.billed.get(operation, 0) + sqs_billed_requests(payload)

    def _meter_dynamodb(self, region: str, operation: str, params: dict[str, Any], send: Callable[[], Any]) -> Any:
        meter = _DynamoDbRequest(self._reader(region), self._tables, operation, params)
        meter.read_before()
        http, parsed = send()
        error = parsed.get("Error", {}).get("Code", "") if isinstance(parsed, dict) else ""
        if http.status_code < 300 or any(error.endswith(code) for code in _BILLED_FAILURES):
            charges = meter.charges(parsed, succeeded=http.status_code < 300)
            with self._lock:
                for table, read, write, kinds in charges:
                    self.dynamodb.setdefault(table, TableUnits()).add(operation, read, write, kinds)
        return http, parsed

    def _reader(self, region: str) -> Any:
        """An uncounted low-level client that reads the table around metered requests."""
        with self._lock:
            if region not in self._readers:
                reader: Any = boto3.client("dynamodb", region_name=region)
                self._roles[id(reader)] = None
                self._readers[region] = reader
            return self._readers[region]


def _called_from_moto() -> bool:
    """Whether the first caller outside boto3/botocore (and the wrappers around its calls) is moto."""
    frame = sys._getframe(1)
    while frame is not None:
        module: str = frame.f_globals.get("__name__", "")
        if not (module.startswith(_SDK_PACKAGES) or module in _WRAPPERS):
            return module.startswith("moto.")
        frame = frame.f_back  # type: ignore[assignment]
    return False


# -- DynamoDB request metering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    included: tuple[str, ...]


@dataclass(frozen=True)
class _TableShape:
    keys: tuple[str, ...]
    indexes: tuple[_Index, ...]


class _TableShapes:
    """Key schema and global secondary indexes per table, read once (DescribeTable, uncounted)."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, str], _TableShape] = {}
        self._lock = threading.Lock()

    def get(self, reader: Any, table: str) -> _TableShape:
        key = (reader.meta.region_name, table)
        with self._lock:
            if key in self._shapes:
                return self._shapes[key]
        description = reader.describe_table(TableName=table)["Table"]
        indexes = tuple(
            _Index(
                name=index["IndexName"],
                keys=tuple(part["AttributeName"] for part in index["KeySchema"]),
                projection=index.get("Projection", {}).get("ProjectionType", "ALL"),
                included=tuple(index.get("Projection", {}).get("NonKeyAttributes", [])),
            )
            for index in description.get("GlobalSecondaryIndexes", [])
        )
        shape = _TableShape(tuple(part["AttributeName"] for part in description["KeySchema"]), indexes)
        with self._lock:
            self._shapes[key] = shape
        return shape


@dataclass
class _Write:
    table: str
    key: dict[str, Any]
    kind: str  # put, update, delete, check
    new_item: dict[str, Any] | None  # what a put writes
    transactional: bool
    before: dict[str, Any] | None = None


Charge = tuple[str, float, float, dict[str, float]]  # table, read units, write units, write units by kind


class _DynamoDbRequest:
    """One DynamoDB request: the item states it needs read before it runs, then the units it was billed."""

    def __init__(self, reader: Any, tables: _TableShapes, operation: str, params: dict[str, Any]) -> None:
        self._reader = reader
        self._tables = tables
        self._operation = operation
        self._params = params
        self._writes = self._planned_writes()

    def _planned_writes(self) -> list[_Write]:
        p, op = self._params, self._operation
        if op == "PutItem":
            return [self._write(p["TableName"], None, "put", p["Item"], False)]
        if op == "UpdateItem":
            return [self._write(p["TableName"], p["Key"], "update", None, False)]
        if op == "DeleteItem":
            return [self._write(p["TableName"], p["Key"], "delete", None, False)]
        if op == "BatchWriteItem":
            return [
                self._write(table, request["DeleteRequest"]["Key"], "delete", None, False)
                if "DeleteRequest" in request
                else self._write(table, None, "put", request["PutRequest"]["Item"], False)
                for table, requests in p.get("RequestItems", {}).items()
                for request in requests
            ]
        if op == "TransactWriteItems":
            kinds = {"Put": "put", "Update": "update", "Delete": "delete", "ConditionCheck": "check"}
            writes = []
            for entry in p.get("TransactItems", []):
                ((action, spec),) = entry.items()
                writes.append(self._write(spec["TableName"], spec.get("Key"), kinds[action], spec.get("Item"), True))
            return writes
        return []

    def _write(
        self, table: str, key: dict[str, Any] | None, kind: str, item: dict[str, Any] | None, transactional: bool
    ) -> _Write:
        if key is None:
            assert item is not None
            shape = self._tables.get(self._reader, table)
            key = {name: item[name] for name in shape.keys}
        return _Write(table, key, kind, item, transactional)

    def read_before(self) -> None:
        for write in self._writes:
            write.before = self._get(write.table, write.key)

    def charges(self, parsed: dict[str, Any], *, succeeded: bool) -> list[Charge]:
        if self._writes:
            return [self._write_charge(write, succeeded) for write in self._writes]
        return self._read_charges(parsed)

    def _write_charge(self, write: _Write, succeeded: bool) -> Charge:
        if not succeeded or write.kind == "check":
            after = write.before
        elif write.kind == "put":
            after = write.new_item
        elif write.kind == "update":
            after = self._get(write.table, write.key)
        else:
            after = None
        units = write_units(max(item_size(write.before), item_size(after)), transactional=write.transactional)
        item_kind = _item_kind(write.key)
        transact = " (transaction)" if write.transactional else ""
        action = {"put": "Put", "update": "Update", "delete": "Delete", "check": "ConditionCheck"}[write.kind]
        failed = "" if succeeded else " (condition failed)"
        kinds = {f"{action}{transact} {item_kind}{failed}": float(units)}
        if succeeded and write.kind != "check":
            shape = self._tables.get(self._reader, write.table)
            for index in shape.indexes:
                index_units = _index_write_units(index, shape.keys, write.before, after, write.transactional)
                if index_units:
                    change = _index_change(index, shape.keys, write.before, after)
                    kinds[f"GSI {index.name} {item_kind} ({change})"] = float(index_units)
                units += index_units
        return write.table, 0.0, float(units), kinds

    def _read_charges(self, parsed: dict[str, Any]) -> list[Charge]:
        p, op = self._params, self._operation
        if op == "GetItem":
            consistent = bool(p.get("ConsistentRead"))
            item = parsed.get("Item") if not _shapes_result(p) else self._get(p["TableName"], p["Key"])
            return [(p["TableName"], read_units(item_size(item), consistent=consistent), 0.0, {})]
        if op == "BatchGetItem":
            return [
                (
                    table,
                    read_units(item_size(self._get(table, key)), consistent=bool(spec.get("ConsistentRead"))),
                    0.0,
                    {},
                )
                for table, spec in p.get("RequestItems", {}).items()
                for key in spec.get("Keys", [])
            ]
        if op == "TransactGetItems":
            return [
                (
                    entry["Get"]["TableName"],
                    read_units(
                        item_size(self._get(entry["Get"]["TableName"], entry["Get"]["Key"])),
                        consistent=True,
                        transactional=True,
                    ),
                    0.0,
                    {},
                )
                for entry in p.get("TransactItems", [])
            ]
        if op in ("Query", "Scan"):
            items = self._items_read(parsed)
            consistent = bool(p.get("ConsistentRead"))
            return [(p["TableName"], read_units(sum(item_size(i) for i in items), consistent=consistent), 0.0, {})]
        return []

    def _items_read(self, parsed: dict[str, Any]) -> list[dict[str, Any]]:
        """The items a Query or Scan read: what it returned, unless filters or projections shaped the answer, in
        which case the same page is read again without them."""
        if not _shapes_result(self._params):
            items: list[dict[str, Any]] = parsed.get("Items", [])
            return items
        page = {name: self._params[name] for name in _PAGE_PARAMETERS if name in self._params}
        used = set(re.findall(r"[#:][A-Za-z0-9_]+", str(self._params.get("KeyConditionExpression", ""))))
        for placeholders in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in self._params.get(placeholders, {}).items() if k in used}
            if kept:
                page[placeholders] = kept
        call = self._reader.query if self._operation == "Query" else self._reader.scan
        reread: list[dict[str, Any]] = call(**page).get("Items", [])
        return reread

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item


def _item_kind(key: Mapping[str, Any]) -> str:
    """What kind of item a key names, for the write breakdown: its sort key's (else its partition key's) first
    '#'-separated part (when it has one) — the store's item prefixes (EVENT, MAP, LEASE, ...)."""
    for name in ("sk", "pk"):
        value = key.get(name, {})
        if isinstance(value, Mapping) and "#" in str(value.get("S", "")):
            return str(value["S"]).split("#", 1)[0]
    return "?"


def _shapes_result(params: Mapping[str, Any]) -> bool:
    return any(name in params for name in _RESULT_SHAPING)


def _index_write_units(
    index: _Index,
    table_keys: tuple[str, ...],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    transactional: bool,
) -> int:
    """A global secondary index is written when its entry appears, changes or goes: once per entry written, and
    twice (delete + put) when the index key itself changes. Items without the index's key are not in it."""
    old, new = _index_entry(index, table_keys, before), _index_entry(index, table_keys, after)
    if old == new:
        return 0
    if old is not None and new is not None and all(old[k] == new[k] for k in index.keys):
        return write_units(max(item_size(old), item_size(new)), transactional=transactional)
    return sum(write_units(item_size(e), transactional=transactional) for e in (old, new) if e is not None)


def _index_change(
    index: _Index, table_keys: tuple[str, ...], before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    """How a write changed the item's index entry, for the write breakdown: added, removed, its key moved, or the
    projected attributes that changed."""
    old, new = _index_entry(index, table_keys, before), _index_entry(index, table_keys, after)
    if old is None or new is None:
        return "added" if old is None else "removed"
    if any(old[k] != new[k] for k in index.keys):
        return "key moved"
    return "changed " + ",".join(sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n)))


def _index_entry(index: _Index, table_keys: tuple[str, ...], item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None or any(key not in item for key in index.keys):
        return None
    if index.projection == "ALL":
        return item
    names = set(table_keys) | set(index.keys) | (set(index.included) if index.projection == "INCLUDE" else set())
    return {name: value for name, value in item.items() if name in names}
