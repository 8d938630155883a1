"""bench/shared_rate_limit.py run small (issue 11): three connections on one Rackbeat account, stock and orders from
six containers at once, stay inside the account's 480 calls a minute together through the shared limiter."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "shared_rate_limit.py"


def _bench() -> ModuleType:
    """bench/ holds scripts, not a package: load the bench from its file."""
    spec = importlib.util.spec_from_file_location("bench_shared_rate_limit", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _calm_simulators() -> None:
    """The bench runs its own stacks (one per run); the module's shared stack is not started for it."""


def test_containers_sharing_one_rackbeat_account_stay_inside_its_limit_together() -> None:
    bench = _bench()
    # GIVEN six containers (stock and orders for three shops on one account), two threads each, for 90 s of the
    # stack's clock
    # WHEN they all call Rackbeat through the shared limiter
    result = bench.run("shared", minutes=1.5, threads=2)
    # THEN no 60 s window sees more than Rackbeat's 480 requests, fewer than 1 % are answered 429, and the account
    # was kept busy (the limit was really in play)
    assert result["busiest_window"] <= bench.RACKBEAT_LIMIT
    assert result["throttled"] < 0.01 * result["calls"]
    assert result["busiest_window"] >= 0.5 * bench.RACKBEAT_LIMIT
