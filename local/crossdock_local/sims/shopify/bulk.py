"""Bulk operations ("Rate limits" of the fact sheet): `bulkOperationRunQuery` and its JSONL result.

At most 5 running per shop; the JSONL has one line per node of the root connection and one per node of a nested
connection, carrying `__parentId`. An operation completes once `bulk_duration` seconds of simulator clock have
passed, checked lazily whenever its shop is looked at. Also the whole catalog service (`Catalog`), which registers
the catalog's root fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crossdock_local.sims.base import (
    SimRequest,
    SimResponse,
    json_response,
)
from crossdock_local.sims.shopify.catalog_values import (
    ACTIVE_BULK_STATUSES,
    BULK_RESULT_TTL,
    MAX_BULK_CONNECTIONS,
    MAX_RUNNING_BULK_OPERATIONS,
    jsonl_encoder,
    user_error,
)
from crossdock_local.sims.shopify.errors import ApiError
from crossdock_local.sims.shopify.graphql_api import GqlField, RootResolver, field_type_name, parse_bulk_query
from crossdock_local.sims.shopify.paging import LazyConnection
from crossdock_local.sims.shopify.products import ProductMutations
from crossdock_local.sims.shopify.scopes import check as check_scope
from crossdock_local.sims.shopify.state import BulkFile, BulkOperation, Shop
from crossdock_local.sims.shopify.webhooks import WebhookDelivery, new_uuid


class Catalog(ProductMutations):
    """The catalog service: store, views, stock and product mutations, bulk operations."""

    def __init__(self, sim: WebhookDelivery) -> None:
        super().__init__(sim)
        resolvers: dict[str, RootResolver] = {
            "location": self.resolve_location,
            "locations": self.resolve_connection,
            "inventoryItem": self.resolve_inventory_item,
            "inventoryItems": self.resolve_connection,
            "productVariant": self.resolve_variant,
            "productVariants": self.resolve_connection,
            "product": self.resolve_product,
            "products": self.resolve_connection,
            "bulkOperation": self.resolve_bulk_operation,
            "currentBulkOperation": self.resolve_current_bulk_operation,
            "productSet": self.idempotent(self.product_set),
            "productUpdate": self.idempotent(self.product_update),
            "productVariantsBulkUpdate": self.idempotent(self.variants_bulk_update),
            "inventoryItemUpdate": self.idempotent(self.inventory_item_update),
            "inventorySetQuantities": self.idempotent(self.set_quantities),
            "bulkOperationRunQuery": self.idempotent(self._run_bulk_query),
        }
        sim.resolvers.update(resolvers)

    def _run_bulk_query(self, shop: Shop, f: GqlField, _version: str) -> dict[str, Any]:
        query = str(f.args["query"])
        try:
            fields = parse_bulk_query(query)
            _check_bulk_shape(fields)
            for root in fields:
                # Guess: a root field the token may not read is refused like any invalid bulk query.
                check_scope(root.name, f.scopes)
        except ApiError as exc:
            error = user_error(["query"], f"Invalid bulk query: {exc.message}", "INVALID")
            return {"bulkOperation": None, "userErrors": [error]}
        self.advance(shop)
        running = [op for op in shop.catalog.bulk_operations if op.status in ACTIVE_BULK_STATUSES]
        if len(running) >= MAX_RUNNING_BULK_OPERATIONS:
            message = (
                f"A maximum of {MAX_RUNNING_BULK_OPERATIONS} bulk query operations can run at the same time for "
                f"this app and shop; running: {', '.join(op.gid for op in running)}"
            )
            return {"bulkOperation": None, "userErrors": [user_error(["query"], message, "LIMIT_REACHED")]}
        operation_record = BulkOperation(
            self.sim.new_id(), query, fields, self.sim.clock(), self.sim.bulk_duration, self.sim.now()
        )
        shop.catalog.bulk_operations.append(operation_record)
        return {"bulkOperation": self.gql_bulk_operation(operation_record), "userErrors": []}

    def advance_all(self) -> None:
        with self.sim.lock:
            for shop in self.sim.shops.values():
                self.advance(shop)

    def advance(self, shop: Shop) -> None:
        """Move the shop's bulk operations along the simulator clock: CREATED → RUNNING → COMPLETED."""
        operations = shop.catalog.bulk_operations
        if not any(op.status in ACTIVE_BULK_STATUSES for op in operations):
            return
        with self.sim.lock:
            now = self.sim.clock()
            for operation in operations:
                if operation.status not in ACTIVE_BULK_STATUSES:
                    continue
                if now - operation.created_clock >= operation.duration:
                    self._complete(shop, operation)
                else:
                    operation.status = "RUNNING"

    def _complete(self, shop: Shop, operation: BulkOperation) -> None:
        try:
            body, objects, roots = self._export(shop, operation.fields)
        except ApiError:
            operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            body, objects, roots = b"", 0, 0
        else:
            operation.status = "COMPLETED"
        operation.completed_at = operation.created_at + timedelta(seconds=operation.duration)
        operation.object_count, operation.root_object_count = objects, roots
        if objects:
            token = new_uuid(self.sim.id_rng).replace("-", "")
            expires = operation.created_clock + operation.duration + BULK_RESULT_TTL
            self.bulk_files[token] = BulkFile(body, expires)
            operation.url = f"{self.sim.public_url}/_bulk/{token}.jsonl"
            operation.file_size = len(body)
        self.sim.emit(
            shop,
            "bulk_operations/finish",
            {
                "admin_graphql_api_id": operation.gid,
                "completed_at": operation.completed_at.astimezone(shop.tz).isoformat(timespec="seconds"),
                "created_at": operation.created_at.astimezone(shop.tz).isoformat(timespec="seconds"),
                "error_code": None if operation.error_code is None else operation.error_code.lower(),
                "status": operation.status.lower(),
                "type": "query",
            },
        )

    def _export(self, shop: Shop, fields: list[GqlField]) -> tuple[bytes, int, int]:
        """The JSONL of a bulk query: root nodes, each followed by its nested connections' nodes (`__parentId`)."""
        root = fields[0]
        node_type, items, _, to_node = self.root_source(shop, root.name, root.args)
        selection = _Selection.of(node_type, _node_selection(root))
        lines: list[str] = []
        encode = jsonl_encoder.encode
        for raw in items:
            node = to_node(raw)
            children: Children = []
            lines.append(encode(_bulk_record(selection, node, children)))
            _bulk_children(node["id"], children, lines, encode)
        body = ("\n".join(lines) + "\n").encode() if lines else b""
        return body, len(lines), len(items)

    def serve_bulk_file(self, request: SimRequest, file_name: str) -> SimResponse:
        """The storage URL of a bulk result: no token needed, as with Shopify's signed URLs; gone after 7 days."""
        bulk_file = self.bulk_files.get(file_name.removesuffix(".jsonl"))
        if bulk_file is None:
            return json_response(404, {"errors": "Not Found"})
        if self.sim.clock() >= bulk_file.expires:
            return json_response(403, {"errors": "Request has expired"})
        return SimResponse(200, bulk_file.body, {"content-type": "application/jsonl"})


def _node_selection(f: GqlField) -> list[GqlField]:
    """A connection's node fields, from `edges { node { ... } }` or `nodes { ... }`."""
    for sub in f.selections:
        if sub.name == "nodes":
            return sub.selections
        if sub.name == "edges":
            for inner in sub.selections:
                if inner.name == "node":
                    return inner.selections
    return []


def _check_bulk_shape(fields: list[GqlField]) -> None:
    """Shopify's bulk limits: one root connection, at most 5 connections, nested at most 2 deep."""
    if len(fields) != 1 or not str(field_type_name("QueryRoot", fields[0].name) or "").endswith("Connection"):
        raise ApiError("Bulk queries must have exactly one top-level field, and it must be a connection.")
    count = 0

    def walk(type_name: str, selections: list[GqlField], depth: int) -> None:
        nonlocal count
        for f in selections:
            field_type = field_type_name(type_name, f.name)
            if field_type is None:
                continue
            if field_type.endswith("Connection"):
                count += 1
                if depth >= 2:
                    raise ApiError("Bulk queries cannot nest connections more than 2 levels deep.")
                if not _node_selection(f):
                    raise ApiError(f"Connection '{f.name}' must select `edges {{ node }}` or `nodes`.")
                walk(field_type.removesuffix("Connection"), _node_selection(f), depth + 1)
            else:
                walk(field_type, f.selections, depth)

    walk("QueryRoot", fields, 0)
    if count > MAX_BULK_CONNECTIONS:
        raise ApiError(f"Bulk queries cannot contain more than {MAX_BULK_CONNECTIONS} connections.")


@dataclass
class _Selection:
    """A bulk query's selection compiled once, so 30,000 records do not look the schema up field by field."""

    type_name: str
    fields: list[tuple[str, GqlField, _Selection | None]]  # key, field, sub-selection (None: a scalar)

    @classmethod
    def of(cls, type_name: str, selections: list[GqlField]) -> _Selection:
        fields: list[tuple[str, GqlField, _Selection | None]] = []
        for f in selections:
            field_type = field_type_name(type_name, f.name)
            if field_type is None:
                fields.append((f.key, f, None))
            elif field_type.endswith("Connection"):
                node_type = field_type.removesuffix("Connection")
                fields.append((f.key, f, cls.of(node_type, _node_selection(f))))
            else:
                fields.append((f.key, f, cls.of(field_type, f.selections)))
        return cls(type_name, fields)


Children = list[tuple[dict[str, Any], _Selection]]


def _bulk_record(selection: _Selection, value: dict[str, Any], children: Children) -> dict[str, Any]:
    """One JSONL object: selected fields embedded, except nested connections, whose nodes go to `children`."""
    out: dict[str, Any] = {}
    for key, f, sub in selection.fields:
        if f.name == "__typename":
            out[key] = selection.type_name
            continue
        raw = value.get(f.name)
        if isinstance(raw, LazyConnection):
            assert sub is not None
            # Every node of a nested connection, on lines of their own: bulk queries ignore first/last.
            children.extend((node, sub) for node in raw.all_nodes())
            continue
        if callable(raw):
            raw = raw(f.args)
        if sub is None or raw is None:
            out[key] = raw
        elif isinstance(raw, list):
            out[key] = [_bulk_record(sub, item, children) for item in raw]
        else:
            out[key] = _bulk_record(sub, raw, children)
    return out


def _bulk_children(parent_id: str, children: Children, lines: list[str], encode: Callable[[Any], str]) -> None:
    for node, selection in children:
        grandchildren: Children = []
        record = _bulk_record(selection, node, grandchildren)
        record["__parentId"] = parent_id
        lines.append(encode(record))
        _bulk_children(node["id"], grandchildren, lines, encode)
