"""DynamoDB tables on the embedded stack: where moto's table model differs from DynamoDB in ways the product can
feel (atomic conditional writes) or that make a long run slow down as the table grows (how a Query finds its items).
Each change keeps moto's answers as they were; `tests/component/test_embedded_aws.py` and
`tests/component/test_dynamodb_tables.py` hold them to DynamoDB's behaviour.
"""

from __future__ import annotations

import bisect
import copy
import inspect
import itertools
import threading
from collections import defaultdict
from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any
from unittest import mock

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table as MotoTable
from moto.dynamodb.responses import DynamoHandler


def atomic_item_writes(stack: ExitStack) -> None:
    """DynamoDB checks a write's condition, writes the item and answers with it (ReturnValues) as one step; moto
    checks, then writes, without a lock, so two threads' conditional puts (two containers claiming one lease) could
    both succeed. And moto's request handler reads the old item before the write and the new one after it, outside
    the write: another thread's update in between would make two callers see the same new value (two rate-limit
    slots alike) or a stale old one (`set_state`'s previous state). One lock over the whole of each item write, the
    handler's reads included, gives them DynamoDB's atomicity."""
    writes = threading.RLock()
    for owner in (DynamoDBBackend, DynamoHandler):
        for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
            original = getattr(owner, name)

            def atomic(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                with writes:
                    return _original(*args, **kwargs)

            stack.enter_context(mock.patch.object(owner, name, atomic))


def _sort_value(key: DynamoType) -> Any:
    # DynamoDB orders strings by their UTF-8 bytes, which is the order of their code points, i.e. Python's; numbers
    # by value and binary by bytes, as `cast_value` compares too (moto sorts with it).
    return key.cast_value


_BISECTED = frozenset({"EQ", "=", "LT", "<", "LE", "<=", "GT", ">", "GE", ">=", "BETWEEN", "BEGINS_WITH"})


class SortedPartition(dict[DynamoType, Any]):
    """One partition's items by sort key, as moto keeps them, with the sort keys also held in order: a Query then
    finds its key range by bisection, as DynamoDB does from its B-tree, instead of comparing every item of the
    partition (the connection's partition holds its whole event log)."""

    def __init__(self, items: dict[DynamoType, Any] | None = None) -> None:
        super().__init__()
        self.ordered: list[DynamoType] = []
        for key, item in (items or {}).items():
            self[key] = item

    def __setitem__(self, key: DynamoType, item: Any) -> None:
        if key not in self:
            bisect.insort(self.ordered, key, key=_sort_value)
        super().__setitem__(key, item)

    def __delitem__(self, key: DynamoType) -> None:
        super().__delitem__(key)
        self._forget(key)

    def pop(self, key: DynamoType, *default: Any) -> Any:
        if key in self:
            self._forget(key)
        return super().pop(key, *default)

    def _forget(self, key: DynamoType) -> None:
        del self.ordered[_left(self.ordered, _sort_value(key))]

    def __deepcopy__(self, memo: dict[int, Any]) -> SortedPartition:  # moto copies tables for backups and restores
        return SortedPartition({copy.deepcopy(key, memo): copy.deepcopy(item, memo) for key, item in self.items()})

    def update(self, *_: Any, **__: Any) -> None:
        raise NotImplementedError("moto writes a partition one key at a time; this would lose the order")

    def setdefault(self, *_: Any, **__: Any) -> Any:
        raise NotImplementedError("moto writes a partition one key at a time; this would lose the order")

    def popitem(self) -> Any:
        raise NotImplementedError("moto writes a partition one key at a time; this would lose the order")

    def clear(self) -> None:
        raise NotImplementedError("moto writes a partition one key at a time; this would lose the order")

    def in_range(self, comparison: str | None, bounds: list[DynamoType], after: Any, forward: bool) -> list[Any]:
        """The items whose sort key meets the key condition, in order, beyond the page's start key (`after`).

        Queries run in the workflow threads while others write: the bisection works on one copy of the key order
        (a single copy is atomic), so an insert elsewhere in the partition cannot shift the range under it."""
        ordered = self.ordered.copy()
        operator = (comparison or "").upper()
        values = [bound.cast_value for bound in bounds]
        first, last = 0, len(ordered)
        if operator in ("EQ", "="):
            first, last = _left(ordered, values[0]), _right(ordered, values[0])
        elif operator in ("LT", "<"):
            last = _left(ordered, values[0])
        elif operator in ("LE", "<="):
            last = _right(ordered, values[0])
        elif operator in ("GT", ">"):
            first = _right(ordered, values[0])
        elif operator in ("GE", ">=", "BEGINS_WITH"):
            first = _left(ordered, values[0])
        elif operator == "BETWEEN":
            first, last = _left(ordered, values[0]), _right(ordered, values[1])
        if after is not None and forward:
            first = max(first, _right(ordered, after))
        elif after is not None:
            last = min(last, _left(ordered, after))
        keys: Iterable[DynamoType] = ordered[first:last]
        if operator == "BEGINS_WITH":  # the keys with the prefix run from its place up to the first key without it
            keys = itertools.takewhile(lambda key: key.cast_value.startswith(values[0]), keys)
        elif operator and operator not in _BISECTED:
            keys = [key for key in keys if key.compare(comparison, bounds)]  # type: ignore[arg-type]
        found = (self.get(key) for key in keys)  # an item deleted since the copy is simply not there
        return [item for item in found if item is not None]


def _left(ordered: list[DynamoType], value: Any) -> int:
    return bisect.bisect_left(ordered, value, key=_sort_value)


def _right(ordered: list[DynamoType], value: Any) -> int:
    return bisect.bisect_right(ordered, value, key=_sort_value)


def partition_queries(stack: ExitStack) -> None:
    """DynamoDB answers a Query from the one partition and the key range asked for. moto sorts every item of the
    table for each Query and compares every item of the partition, so a Query's cost grew with the whole event log
    (a long chaos run slowed to minutes per hundred orders). A table Query now starts from the items of its
    partition in the key range and after the page's start key, found by bisection; moto still applies the
    condition, filters, limits and pages as before. Index queries keep moto's way."""
    asked = threading.local()  # per thread: queries run concurrently in the workflow threads
    original_init, original_query, original_all_items = MotoTable.__init__, MotoTable.query, MotoTable.all_items
    signature = inspect.signature(original_query)

    def init(table: MotoTable, *args: Any, **kwargs: Any) -> None:
        original_init(table, *args, **kwargs)
        if table.range_key_attr:
            table.items = defaultdict(SortedPartition)

    def all_items(table: MotoTable) -> list[Any]:
        key = getattr(asked, "query", None)
        if key is None or key[0] is not table:
            return original_all_items(table)
        _, hash_key, comparison, bounds, after, forward = key
        partition: SortedPartition | None = table.items.get(hash_key)  # every table with a sort key gets them (init)
        return [] if partition is None else partition.in_range(comparison, bounds, after, forward)

    def query(
        table: MotoTable, hash_key: Any, range_comparison: Any, range_objs: Any, *args: Any, **kwargs: Any
    ) -> Any:
        named = signature.bind(table, hash_key, range_comparison, range_objs, *args, **kwargs).arguments
        if named.get("index_name") or not table.range_key_attr or hash_key is None:
            return original_query(table, hash_key, range_comparison, range_objs, *args, **kwargs)
        start = named.get("exclusive_start_key") or {}
        after = DynamoType(start[table.range_key_attr]).cast_value if table.range_key_attr in start else None
        forward = named.get("scan_index_forward", True) is not False
        asked.query = (table, hash_key, range_comparison, range_objs, after, forward)
        try:
            return original_query(table, hash_key, range_comparison, range_objs, *args, **kwargs)
        finally:
            asked.query = None

    stack.enter_context(mock.patch.object(MotoTable, "__init__", init))
    stack.enter_context(mock.patch.object(MotoTable, "all_items", all_items))
    stack.enter_context(mock.patch.object(MotoTable, "query", query))
