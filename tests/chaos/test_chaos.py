"""A small chaos run on every `make test` (the full one is `make chaos`): orders, refunds and stock changes under
duplicate and shuffled deliveries, Rackbeat 5xx, 429s, timeouts, lost answers and an outage, and Lambda processes
dying between stages, between a Rackbeat write and the mapping write, and while dispatching. Then nothing may be
lost, duplicated or mismatched, nothing left in flight, and no secret in any log line the functions wrote."""

from __future__ import annotations

import io

from crossdock_local.scenarios.chaos import ChaosConfig, render, run_chaos


def test_orders_refunds_and_stock_survive_the_faults() -> None:
    config = ChaosConfig(orders=80, wave=40, shops=2, outage_seconds=240, seed=11)
    log = io.StringIO()
    figures = run_chaos(config, log)
    report = render(config, figures)
    assert figures.faults["Lambda crashes"] > 0 and figures.faults["Rackbeat 5xx"] > 0, report
    assert figures.faults["Rackbeat 429"] > 0 and figures.faults["Shopify repeated deliveries"] > 0, report
    assert figures.lost == [] and figures.duplicated == [] and figures.mismatched == [], report
    assert figures.unfinished == [] and figures.leaked_secrets == [], report
    assert figures.expected_in_rackbeat > 0 and figures.credit_notes == figures.refunds, report
    assert figures.log_lines > 100  # the secrets were looked for in real log lines
