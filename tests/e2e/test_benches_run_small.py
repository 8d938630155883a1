"""Every benchmark in bench/ runs small here, so a change that breaks one fails `make test` (the bench itself, at
full size, is what prints the ratios; see docs/measurements.md). Assertions are on what the run did — it finished,
printed its figures, and its audit found nothing wrong — never on timings. And a bench prints only its figures:
no JSON log or EMF metric line of the functions reaches its stdout; a bench that runs the embedded stack names the
file they went to, which holds them. bench/shared_rate_limit.py has its own smoke test (test_shared_rate_limit.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def _run(bench: str, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, str(PROJECT / "bench" / bench), *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{bench} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    logged = [line for line in done.stdout.splitlines() if line.lstrip().startswith("{")]
    assert not logged, f"{bench} printed {len(logged)} log line(s) among its figures, the first: {logged[0][:300]}"
    return done.stdout


def _functions_log(printed: str) -> list[dict[str, object]]:
    """The JSON lines in the file the bench says its functions logged to (functions running in several threads at
    once may interleave a line or two: those are left out)."""
    named = re.findall(r"^the functions' logs: (.+)$", printed, flags=re.MULTILINE)
    assert len(named) == 1, f"the bench does not name its functions' log file once:\n{printed}"
    records: list[dict[str, object]] = []
    for line in Path(named[0]).read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records


def _metric_names(records: list[dict[str, object]]) -> set[str]:
    names: set[str] = set()
    for record in records:
        aws = record.get("_aws")
        if isinstance(aws, dict):
            names.update(metric["Name"] for directive in aws["CloudWatchMetrics"] for metric in directive["Metrics"])
    return names


@pytest.fixture(autouse=True)
def _calm_simulators() -> None:
    """The benches run their own stacks, in their own processes; the module's shared stack is not started."""


def test_ingest_work_runs_small_with_a_row_per_webhook_source() -> None:
    printed = _run("ingest_work.py", "--rounds", "1", "--requests", "5")
    # every webhook source has its row: floor, ingest work and whole handler, each handler's ratio to its own floor
    rows = [line.split() for line in printed.splitlines() if line.endswith(("met", "NOT MET"))]
    assert [row[0] for row in rows] == ["shopify", "rackbeat", "rackbeat-account", "webshipper", "peakwms"], printed
    assert all(row[3].endswith("µs") and row[6].endswith("x") for row in rows), printed
    assert "full Shopify request on the embedded stack" in printed and "one real SendMessage" in printed


def test_cold_import_runs_small() -> None:
    printed = _run("cold_import.py", "--samples", "15")
    assert "as in Lambda  ingest handler" in printed and "target ≤ 1.2" in printed
    assert "beyond `import boto3`" in printed and "X-Ray SDK" in printed and "Crossdock's own modules" in printed
    assert "first webhook's AWS clients" in printed and "DynamoDB table resource" in printed


def test_stock_burst_runs_small_and_every_shop_quantity_is_right() -> None:
    printed = _run("stock_burst.py", "--items", "30", "--changes", "100")
    lines = [line for line in printed.splitlines() if line.startswith(("burst:", " live:"))]
    assert len(lines) == 2 and all("shop quantities wrong: 0;" in line for line in lines)
    # the burst's webhooks and stock pushes ran through the functions, and their metric lines went to the log file
    assert {"rackbeat_webhook_200", "event_dispatched"} <= _metric_names(_functions_log(printed))


def test_account_webhooks_runs_small_before_and_after_and_every_follower_ends_right() -> None:
    printed = _run("account_webhooks.py", "--changes", "2", "--followers", "2")
    rows = [line.split() for line in printed.splitlines() if line.split()[:2] in (["2", "before"], ["2", "after"])]
    assert [row[1] for row in rows] == ["before", "after"] and all(row[-1] == "0" for row in rows), printed
    # one follower's webhook a change instead of each follower's, one read instead of each follower's
    assert "after/before: webhooks 0.50, reads 0.50" in printed, printed
    assert {"rackbeat_webhook_200", "event_dispatched"} <= _metric_names(_functions_log(printed))


def test_initial_sync_runs_small() -> None:
    printed = _run("initial_sync.py", "--variants", "300")
    assert "Rackbeat calls / items:" in printed and "Rackbeat rate achieved / allowed:" in printed
    assert "300/300 done" in printed and _functions_log(printed)


def test_shopbox_initial_sync_runs_small() -> None:
    printed = _run("shopbox_initial_sync.py", "--variants", "60")
    assert "Rackbeat calls per item:" in printed and "share of Rackbeat's rate limit used:" in printed
    assert ": done, 60/60 done, 60 items created (60 in Rackbeat)" in printed and _functions_log(printed)


def test_shopbox_sales_runs_small_and_its_audit_passes() -> None:
    printed = _run("shopbox_sales.py", "--sales", "20")
    assert "sale-to-Rackbeat delay p50 / poll interval:" in printed and "Rackbeat calls per sale:" in printed
    assert "Shopbox sales: 20 at two branches" in printed and "audit: OK" in printed and _functions_log(printed)


def test_webshipper_calls_runs_small_and_its_audit_passes() -> None:
    printed = _run("webshipper_calls.py", "--orders", "2")
    assert "Rackbeat ⇄ Webshipper calls per order (2 orders of each kind); audit: OK" in printed
    assert "shipment with tracking → Shopify" in printed and "imported (order/created)" in printed
    assert _functions_log(printed)


def test_cost_per_order_runs_small_and_its_audit_passes() -> None:
    printed = _run("cost_per_order.py", "--orders", "5")
    assert "audit: every paid order reached its target once" in printed
    assert "per 1,000 orders" in printed
    assert "event_dispatched" in _metric_names(_functions_log(printed))
    assert "fixed cost per connection per day" in printed and "shop reconcile-stock, rate(" in printed


def test_cost_shopbox_runs_small_and_its_audit_passes() -> None:
    printed = _run("cost_shopbox.py", "--orders", "6")
    assert "audit: every sale once in Rackbeat at its target" in printed
    assert "per 1,000 till sales at 100 a day, orders and fixed: $" in printed
    assert "café sales-baskets, rate(5 minutes): 288 runs a day" in printed and _functions_log(printed)


def test_cost_webshipper_runs_small_and_its_audit_passes() -> None:
    printed = _run("cost_webshipper.py", "--orders", "3")
    assert "audit: every order once in the other system, shipped in both" in printed
    assert "3 Webshipper orders: 1 Shopify-born and 1 Rackbeat-born exported on order.booked, 1 imported" in printed
    assert "warehouse webshipper-orders, rate(" in printed and _functions_log(printed)


def test_cost_peakwms_runs_small_and_its_audit_passes() -> None:
    printed = _run("cost_peakwms.py", "--orders", "4")
    assert "audit: every order once in PeakWMS, fulfilled with its tracking" in printed
    sweeps = ("warehouse peakwms-orders, rate(", "warehouse shopify-orders, rate(")
    assert all(sweep in printed for sweep in sweeps) and _functions_log(printed)


def test_cost_all_runs_small_with_a_line_per_integration_and_the_all_in_total() -> None:
    printed = _run("cost_all.py", "--orders", "3")
    table = [line.split()[0:3] for line in printed.splitlines() if " ⇄ " in line and line.rstrip().endswith("OK")]
    assert [" ".join(row) for row in table] == [
        "Rackbeat ⇄ Shopify",
        "Rackbeat ⇄ Shopbox",
        "Rackbeat ⇄ Webshipper",
        "PeakWMS ⇄ Shopify",
    ]
    assert "target < $0.15 per 1,000 orders:" in printed and "all-in by service" in printed
    assert "the biggest lines" in printed and "audit: Rackbeat ⇄ Shopify:" in printed


def test_peakwms_products_runs_small_and_every_variant_reaches_peakwms() -> None:
    printed = _run("peakwms_products.py", "--variants", "90", "--small", "30")
    step = next(line for line in printed.splitlines() if line.startswith("step "))
    assert "done, 30/30" in step and "done, 90/90" in step
    products = next(line for line in printed.splitlines() if line.startswith("PeakWMS products"))
    assert products.split()[-2:] == ["30", "90"]
    assert "PeakWMS 429 / calls" in printed and "Shopify throttled / calls" in printed and _functions_log(printed)


def test_peakwms_calls_runs_small_and_its_audit_passes() -> None:
    printed = _run("peakwms_calls.py", "--orders", "2")
    assert "PeakWMS ⇄ Shopify calls per order (2 orders of each kind); audit: OK" in printed
    assert "packed + captured" in printed and "stock adjustment (per SKU)" in printed
    assert _functions_log(printed)


def test_open_events_reads_runs_small_and_prints_each_read_before_and_after() -> None:
    printed = _run("open_events_reads.py", "--connections", "2", "--events", "3")
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "RRU" not in line]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [
        "status",
        "events list --status needs_attention",
        "events list ... --connection c-0",
    ]


def test_rate_limit_slots_runs_small_and_announced_reads_claim_fewer_leases() -> None:
    printed = _run("rate_limit_slots.py", "--runs", "1", "--items", "12")
    claims = [float(n) for n in re.findall(r"limiter claims a run: ([\d.]+)", printed)]
    refused = re.findall(r"429 answers: (\d+)", printed)
    assert len(claims) == 2 and claims[1] < claims[0], printed
    assert refused == ["0", "0"], printed
