"""bench/shopify_graphql.py runs small here, so a change that breaks it fails `make test` (no timing is checked)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_the_shopify_graphql_bench_runs_small_and_prints_both_rates() -> None:
    # GIVEN the bench at five requests per document WHEN it runs
    done = subprocess.run(
        [sys.executable, str(PROJECT / "bench" / "shopify_graphql.py"), "--requests", "5"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # THEN it succeeds and prints one rate per document, and nothing else
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [re.sub(r"\s+\d+ requests/s$", "", line).strip() for line in lines] == ["Order query", "SetStock mutation"]
