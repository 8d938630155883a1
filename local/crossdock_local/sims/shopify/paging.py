"""Relay-style connection pages as Shopify's Admin GraphQL answers them, shared by the simulator's pagers.

Each pager (`connection` by offset, `page_by_id` by id, the orders search by sort key) keeps
its own cursors; what they have in common is how `first`/`last` cut the page and the shape of the answer.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from crossdock_local.sims.shopify.errors import ApiError

_Item = TypeVar("_Item")
T = TypeVar("T")


def first_or_last(window: Sequence[_Item], args: dict[str, Any]) -> Sequence[_Item]:
    """The page a query asked for out of what its cursors left: the first `first` items, else the last `last`."""
    if args.get("first") is not None:
        return window[: args["first"]]
    if args.get("last") is not None:
        return window[len(window) - args["last"] :] if args["last"] else window[:0]
    return window


def connection_page(edges: list[dict[str, Any]], *, has_next_page: bool, has_previous_page: bool) -> dict[str, Any]:
    """A page in the Connection shape (`nodes`, `edges`, `pageInfo`).

    The caller says whether pages lie on either side, because each pager's cursors (offsets, ids, sort keys) tell it
    differently."""
    return {
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": has_next_page,
            "hasPreviousPage": has_previous_page,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def connection(items: list[dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A lazily paged connection with `nodes`, `edges {cursor node}` and `pageInfo`; cursors are opaque offsets."""

    def resolve(args: dict[str, Any]) -> dict[str, Any]:
        start = _decode_cursor(args.get("after")) + 1 if args.get("after") else 0
        end = len(items)
        if args.get("before"):
            end = min(end, _decode_cursor(args["before"]))
        window = first_or_last(list(enumerate(items))[start:end], args)
        edges = [{"cursor": _encode_cursor(index), "node": node} for index, node in window]
        return connection_page(
            edges,
            has_next_page=bool(window) and window[-1][0] < len(items) - 1,
            has_previous_page=bool(window) and window[0][0] > 0,
        )

    return resolve


def _encode_cursor(index: int) -> str:
    return base64.b64encode(json.dumps({"last_index": index}).encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    try:
        return int(json.loads(base64.b64decode(str(cursor)))["last_index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(f"Invalid cursor '{cursor}'", "argumentLiteralsIncompatible") from exc


def _encode_id_cursor(legacy_id: int) -> str:
    return base64.b64encode(json.dumps({"last_id": legacy_id, "last_value": str(legacy_id)}).encode()).decode()


def _decode_id_cursor(cursor: Any) -> int:
    try:
        return int(json.loads(base64.b64decode(str(cursor)))["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(f"Invalid cursor '{cursor}'", "argumentLiteralsIncompatible") from exc


def page_by_id(
    items: Sequence[T], args: dict[str, Any], id_of: Callable[[T], int], to_node: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of id-ordered `items`; only the page is converted to GraphQL nodes (30,000 variants stay cheap)."""
    ids = [id_of(item) for item in items]
    start = bisect.bisect_right(ids, _decode_id_cursor(args["after"])) if args.get("after") else 0
    end = bisect.bisect_left(ids, _decode_id_cursor(args["before"])) if args.get("before") else len(ids)
    window = first_or_last(range(start, max(start, end)), args)
    edges = [{"cursor": _encode_id_cursor(ids[index]), "node": to_node(items[index])} for index in window]
    return connection_page(
        edges,
        has_next_page=bool(window) and window[-1] < len(ids) - 1,
        has_previous_page=bool(window) and window[0] > 0,
    )


class LazyConnection:
    """A nested connection: paged (with cursors) when a query selects it, all nodes at once for a bulk export."""

    def __init__(self, nodes: Callable[[], list[dict[str, Any]]]) -> None:
        self.all_nodes = nodes

    def __call__(self, args: dict[str, Any]) -> dict[str, Any]:
        return connection(self.all_nodes())(args)
