"""What the open-events index's shards cost its readers (issue 18): the read request units and Queries of
`crossdock status`, `events list --status needs_attention` (every connection) and one connection's listing, with
the index as the release before keyed it (the bare status: writers and readers patched back to it) and with the 16
shards, side by side in one run on the embedded stack's meter. The writes are the same either way (one index
write when an event opens, one when it closes): bench/cost_per_order.py measures those.

Run: .venv/bin/python bench/open_events_reads.py [--connections 3] [--events 5]
"""

from __future__ import annotations

import argparse
import io
from contextlib import ExitStack
from typing import Any
from unittest import mock

import boto3

from crossdock.operations.target import target_from_resources
from crossdock.store import events
from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack

READS = {
    "status": ["status", "--json"],
    "events list --status needs_attention": ["events", "list", "--status", "needs_attention", "--json"],
    "events list ... --connection c-0": ["events", "list", "--status", "needs_attention", "--connection", "c-0"],
}


def _open_events(table: Any, connections: int, per_connection: int) -> None:
    """Each connection's events, received a minute apart; three in five end needs_attention, the rest run on."""
    for c in range(connections):
        for n in range(per_connection):
            stamp = f"2026-12-07T10:{n % 60:02d}:00.000Z"
            sk = events.record_received(table, f"c-{c}", f"e-{c}-{n}", "shopify", "orders/create", "{}", stamp)
            if n % 5 < 3:
                events.finish_event(
                    table, f"c-{c}", sk, events.EventStatus.NEEDS_ATTENTION, "refused", failure_class="validation"
                )


def _read_units(stack: LocalStack) -> float:
    return float(stack.aws.usage()["dynamodb"].get("Table", {}).get("read_units", 0.0))


def _queries(stack: LocalStack) -> int:
    return int(stack.aws.usage()["api_calls"].get("dynamodb", {}).get("Query", 0))


def measure(bare: bool, connections: int, per_connection: int) -> dict[str, tuple[float, int]]:
    """(read units, Queries) of each read."""
    with ExitStack() as patches:
        if bare:  # the release before: one partition per status
            patches.enter_context(mock.patch.object(events, "open_status", lambda status, _c: status.value))
            patches.enter_context(mock.patch.object(events, "open_status_keys", lambda status, _c=None: [status.value]))
        with LocalStack() as stack:
            _open_events(stack.table, connections, per_connection)
            resources = {logical_id: physical.ref for logical_id, physical in stack.aws.resources.items()}
            target = target_from_resources(
                resources,
                boto3.resource("dynamodb", region_name=stack.aws.region).Table,
                boto3.client("sqs", region_name=stack.aws.region),
                "the embedded stack",
                poll_seconds=0,
            )
            stack.aws.meter_request_units(True)
            measured = {}
            for name, argv in READS.items():
                units, queries = _read_units(stack), _queries(stack)
                assert operator_cli.run([*argv, "--json"] if "--json" not in argv else argv, target, io.StringIO()) == 0
                measured[name] = (_read_units(stack) - units, _queries(stack) - queries)
            return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=3)
    parser.add_argument("--events", type=int, default=5, help="open events per connection")
    arguments = parser.parse_args()
    bare = measure(True, arguments.connections, arguments.events)
    sharded = measure(False, arguments.connections, arguments.events)
    print(f"open-events index reads: {arguments.connections} connections × {arguments.events} open events")
    print("| read | RRU, bare key (before) | Queries | RRU, 16 shards + bare key | Queries | × RRU |")
    print("|---|---|---|---|---|---|")
    for name in READS:
        (b_units, b_queries), (s_units, s_queries) = bare[name], sharded[name]
        ratio = s_units / b_units if b_units else float("nan")
        print(f"| {name} | {b_units:.1f} | {b_queries} | {s_units:.1f} | {s_queries} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
