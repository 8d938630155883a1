"""Shopify bulk operations (reference/shopify.md "Rate limits"): start one, follow it, read its JSONL result.

A bulk query costs a handful of calls whatever the size of what it reads: `bulkOperationRunQuery` starts it, the
`bulkOperation` query follows it until COMPLETED, and the result is a JSONL file at a signed URL (a line per node
of the root connection, each followed by the nodes of its nested connections carrying `__parentId`). The file is
downloaded once per container into the scratch space and re-read by every chunk that follows, so a step resumed
after a crash reads the same lines in the same order.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError, RetryableError

RUNNING = frozenset({"CREATED", "RUNNING"})
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
_FILES: dict[str, Path] = {}  # result URL → its local copy, per container
# The HTTP transport downloads go through: None is the network; the in-process tests answer from a simulator.
transport: httpx.BaseTransport | None = None


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str  # CREATED, RUNNING, COMPLETED, FAILED, CANCELED, EXPIRED …
    url: str  # empty while running, and when the query matched nothing
    root_objects: int
    error_code: str | None = None

    @property
    def running(self) -> bool:
        return self.status in RUNNING


def start(shopify: ShopifyAdmin, query: str) -> str:
    """Starts a bulk query; returns the operation's id. Shopify runs a few at once per shop and refuses more with a
    user error (`LIMIT_REACHED`): that is a wait, not a failure."""
    answer = shopify.run(queries.RUN_BULK_QUERY, {"query": query})["bulkOperationRunQuery"]
    errors = answer.get("userErrors") or []
    if errors:
        first = errors[0]
        if first.get("code") == "LIMIT_REACHED":
            raise RetryableError(f"Shopify runs other bulk operations on {shopify.shop_domain}: {first.get('message')}")
        raise PermanentError(f"Shopify refused the bulk query: {first.get('message')}", FailureClass.BUG)
    return str(answer["bulkOperation"]["id"])


def status(shopify: ShopifyAdmin, operation_id: str) -> BulkOperation:
    node = shopify.run(queries.BULK_OPERATION, {"id": operation_id}, expected_cost=1)["bulkOperation"]
    if node is None:
        raise PermanentError(f"Shopify has no bulk operation {operation_id}", FailureClass.BUG)
    return BulkOperation(
        id=operation_id,
        status=str(node["status"]),
        url=str(node.get("url") or ""),
        root_objects=int(node.get("rootObjectCount") or 0),
        error_code=node.get("errorCode"),
    )


def finished(operation: BulkOperation, what: str) -> BulkOperation:
    """The operation once it completed; a failed, cancelled or expired one is a `PermanentError` naming `what`."""
    if operation.status != "COMPLETED":
        raise PermanentError(f"Shopify's {what} ended {operation.status} ({operation.error_code or 'no error code'})")
    return operation


def raw_lines(url: str) -> Iterator[bytes]:
    """The result's non-empty lines, undecoded (a reader decodes only the lines it wants); none for an empty URL
    (Shopify gives no file when nothing matched)."""
    if not url:
        return
    with _local_copy(url).open("rb") as result:
        for raw in result:
            if raw.strip():
                yield raw


def _local_copy(url: str) -> Path:
    cached = _FILES.get(url)
    if cached is not None and cached.exists():
        return cached
    target = Path(tempfile.gettempdir()) / f"crossdock-export-{hashlib.sha256(url.encode()).hexdigest()[:24]}.jsonl"
    partial = target.with_suffix(".part")
    try:
        with (
            httpx.Client(transport=transport, timeout=DOWNLOAD_TIMEOUT) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise RetryableError(f"the bulk result file answered {response.status_code}")
            with partial.open("wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
    except httpx.TransportError as lost:
        raise RetryableError(f"reading the bulk result file failed: {type(lost).__name__}") from lost
    partial.replace(target)
    _FILES[url] = target
    return target
