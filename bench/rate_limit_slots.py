"""The stock sweep's rate-limiter slots (issue 18): what a `reconcile-stock` run of Rackbeat ⇄ Shopify writes to
DynamoDB for the shared Rackbeat limiter (`store.rate_limits`), with its per-item reads announced
(`RackbeatClient.expecting`: the limiter claims their slots a lease of up to 8 at a time) and not announced (as
before: the poll function's own share of 120 calls a minute spaces its calls 0.5 s apart, slower than the account's
0.13 s step, so leases fall back to one slot; the sweep's 4 readers now and then make one of two).

One metered embedded stack, as `cost_per_order.py` builds it: two shops on one Rackbeat account with stock sync on
and Rackbeat location L1 (so each item's stock is read on its own: a catalog page, then a call per item), the demo
catalog published. After two quiet hours, each shop's `reconcile-stock` schedule is fired `--runs` times with the
reads not announced, then `--runs` times announced (side by side, same stack, same catalog). Each run is metered.

Prints per mode: write units (and those of UpdateItem) per run, Rackbeat calls per run, limiter claims per run and the
slots they claimed, slots claimed but unused when the run ended (the account's next free slot after the run's last
call), Rackbeat calls in the busiest 60 s (the simulator's own clock; its limit is 480, the limiter's 456), the
closest two calls, and 429 answers; then the ratio of write units.

Run: .venv/bin/python bench/rate_limit_slots.py [--runs 3] [--items 40]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import functools
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import cost_run

from crossdock import pacing
from crossdock.integrations.clients import DEFAULT_RACKBEAT_CALLS_PER_MINUTE
from crossdock.integrations.rackbeat_shopify.settings import RackbeatStatus
from crossdock.store import rate_limits
from crossdock_local.scenarios import demo, demo_catalog

STEP = 60.0 / DEFAULT_RACKBEAT_CALLS_PER_MINUTE


class AdmittedCalls:
    """The Rackbeat simulator's sliding window, recording when each admitted call came (the simulator's clock)."""

    def __init__(self, window: Any) -> None:
        self._window = window
        self.times: list[float] = []

    def admit(self, caller: str, now: float) -> int | None:
        refused: int | None = self._window.admit(caller, now)
        if refused is None:
            self.times.append(now)
        return refused

    def __getattr__(self, name: str) -> Any:
        return getattr(self._window, name)


@dataclass
class Claims:
    """Every lease the limiters claimed (its size), as `AccountRateLimiter._claim` was asked for it."""

    sizes: list[int] = field(default_factory=list)
    slots: list[float] = field(default_factory=list)  # every slot a call was given, in order

    @contextlib.contextmanager
    def recorded(self) -> Iterator[None]:
        limiter = rate_limits.AccountRateLimiter
        claim, take = limiter._claim, limiter._take

        def claiming(self_: rate_limits.AccountRateLimiter, now: Decimal, size: int) -> Decimal:
            first = claim(self_, now, size)
            self.sizes.append(size)
            return first

        def taking(self_: rate_limits.AccountRateLimiter, now: Decimal) -> Decimal:
            slot = take(self_, now)
            self.slots.append(float(slot))
            return slot

        setattr(limiter, "_claim", claiming)  # noqa: B010 (a bench's observer, put back below)
        setattr(limiter, "_take", taking)  # noqa: B010
        try:
            yield
        finally:
            setattr(limiter, "_claim", claim)  # noqa: B010
            setattr(limiter, "_take", take)  # noqa: B010


@contextlib.contextmanager
def unannounced() -> Iterator[None]:
    """The sweep as before its reads were announced: `expecting` plans nothing, each call claims as it comes."""
    announced = pacing.expecting

    @contextlib.contextmanager
    def nothing(pacer: Any, calls: int) -> Iterator[None]:
        yield

    setattr(pacing, "expecting", nothing)  # noqa: B010 (put back below)
    try:
        yield
    finally:
        setattr(pacing, "expecting", announced)  # noqa: B010


@dataclass
class Run:
    write_units: float
    updates: float
    rackbeat_calls: float
    claims: list[int]
    unused_slots: int
    calls: list[float]  # when the simulator admitted each Rackbeat call (its clock)
    slots: list[float]  # the slots the limiter gave them


@dataclass
class Mode:
    name: str
    runs: list[Run] = field(default_factory=list)
    refused: int = 0  # 429 answers while its runs ran

    def per_run(self, value: float) -> float:
        return value / len(self.runs)

    def lines(self) -> list[str]:
        runs = self.runs
        claims = [size for run in runs for size in run.claims]
        calls = sorted(time for run in runs for time in run.calls)
        busiest = max((bisect.bisect_left(calls, t + 60.0) - i for i, t in enumerate(calls)), default=0)
        slots = sorted(slot for run in runs for slot in run.slots)
        closest = min((b - a for a, b in itertools.pairwise(slots)), default=0.0)
        sizes = ", ".join(f"{size} x{claims.count(size)}" for size in sorted(set(claims), reverse=True))
        return [
            f"{self.name}:",
            f"  DynamoDB write units a run: {self.per_run(sum(r.write_units for r in runs)):.1f} "
            f"({self.per_run(sum(r.updates for r in runs)):.1f} of them UpdateItem)",
            f"  Rackbeat calls a run: {self.per_run(sum(r.rackbeat_calls for r in runs)):.1f}; limiter claims a run: "
            f"{self.per_run(len(claims)):.1f} (lease sizes: {sizes})",
            f"  slots claimed but unused when a run ended: {max(r.unused_slots for r in runs)} at most",
            f"  busiest 60 s: {busiest} Rackbeat calls (simulator's limit 480, the limiter's "
            f"{DEFAULT_RACKBEAT_CALLS_PER_MINUTE:.0f}); closest two slots {closest:.3f} s apart "
            f"(the step: {STEP:.3f} s); 429 answers: {self.refused}",
        ]


def measure(runs: int, items: int, seed: int) -> tuple[Mode, Mode, str]:
    skus = [f"SKU-{n:03d}" for n in range(1, items + 1)]
    with cost_run.metered_stack("rate-limit-slots", seed) as metered:
        stack = metered.stack
        settings = {**demo.demo_settings(RackbeatStatus.INVOICED_AND_SHIPPED), **demo_catalog.catalog_settings()}
        shop = stack.create_connection(settings, rackbeat_seed=demo_catalog.seed_reference_data)
        outlet = stack.create_connection(settings, shop_domain=demo_catalog.OUTLET_DOMAIN, rackbeat_account=shop)
        demo_catalog.publish_catalog(stack, shop, skus, stock=10_000)
        stack.settle()
        stack.aws.clock.advance(cost_run.QUIET_SECONDS)
        stack.settle()  # every due schedule once: what the sweeps find to correct is corrected before the runs
        admitted = AdmittedCalls(stack.rackbeat._limiter)
        stack.rackbeat._limiter = admitted
        sweeps = [
            (group, name)
            for group, name in stack.aws.scheduler.scheduled()
            if name.startswith("poll-reconcile-stock-") and name.endswith((shop.connection_id, outlet.connection_id))
        ]
        modes = (Mode("not announced (before)"), Mode("announced (after)"))
        for mode in modes:
            refused = stack.rackbeat.calls_by_status.get(429, 0)
            with unannounced() if mode is modes[0] else contextlib.nullcontext():
                for _ in range(runs):
                    for group, name in sweeps:
                        mode.runs.append(_run(metered, admitted, group, name))
            mode.refused = stack.rackbeat.calls_by_status.get(429, 0) - refused
        described = (
            f"{len(sweeps)} reconcile-stock schedules (2 shops on one Rackbeat account, location L1, {items} items), "
            f"each fired {runs} times per mode"
        )
    return modes[0], modes[1], described


def _run(metered: cost_run.Metered, admitted: AdmittedCalls, group: str, name: str) -> Run:
    stack = metered.stack
    claims = Claims()
    first_call = len(admitted.times)
    with claims.recorded():
        _, window = metered.window(functools.partial(_fire, stack, group, name))
    calls = admitted.times[first_call:]
    return Run(
        write_units=window.usage(1).dynamodb_write_units,
        updates=window.grouped("dynamodb", "Table", "by_operation").get("UpdateItem", 0.0),
        rackbeat_calls=window.after.calls["rackbeat"] - window.before.calls["rackbeat"],
        claims=claims.sizes,
        unused_slots=_unused(metered, claims.slots),
        calls=calls,
        slots=claims.slots,
    )


def _fire(stack: Any, group: str, name: str) -> None:
    stack.aws.scheduler.fire(name, group)
    stack.settle()


def _unused(metered: cost_run.Metered, slots: list[float]) -> int:
    """Slots the account's limiter item had handed out beyond the run's last call (claimed, not used by it)."""
    if not slots:
        return 0
    table = metered.stack.aws.table_name("Table")
    items = metered._table_reader.scan(TableName=table, FilterExpression="begins_with(pk, :p)",
                                       ExpressionAttributeValues={":p": {"S": "RATE#rackbeat#"}})["Items"]  # fmt: skip
    next_slot = max(float(item["next_slot"]["N"]) for item in items)
    return max(0, round((next_slot - max(slots)) / STEP) - 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each schedule per mode")
    parser.add_argument("--items", type=int, default=len(demo.DEMO_SKUS), help="catalog items (<= 999)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    before, after, described = measure(args.runs, args.items, args.seed)
    print(described)
    for mode in (before, after):
        print("\n".join(mode.lines()))
    ratio = before.per_run(sum(r.write_units for r in before.runs)) / max(
        1e-9, after.per_run(sum(r.write_units for r in after.runs))
    )
    print(f"write units a run, not announced / announced: {ratio:.2f}")
    print(f"the functions' logs: {cost_run.log_path('rate-limit-slots')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
