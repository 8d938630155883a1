"""Relay-style connection pages as Shopify's Admin GraphQL answers them, shared by the simulator's pagers.

Each pager (`shopify.connection` by offset, `shopify_catalog.page_by_id` by id, the orders search by sort key) keeps
its own cursors; what they have in common is how `first`/`last` cut the page and the shape of the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

_Item = TypeVar("_Item")


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
