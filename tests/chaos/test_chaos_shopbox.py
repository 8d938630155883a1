"""A small Shopbox chaos run on every `make test` (the full one is `make chaos`): till sales at two branches polled
into Rackbeat through Shopbox 500s (page 1 more often), 429s, late listings and every login token expiring mid-run,
the poll function dying between reading a basket and queuing it or losing its answer, and Rackbeat 5xx, 429s and
writes that commit and then lose their answer or kill their invocation. Then no sale may be lost, duplicated or
mismatched (target, location, total, stock per branch), nothing left in flight, no secret in a log line."""

from __future__ import annotations

import io

from crossdock_local.scenarios.chaos_shopbox import ShopboxChaosConfig, render, run_chaos_shopbox


def test_till_sales_survive_shopbox_and_rackbeat_faults() -> None:
    # GIVEN 80 sales rung up in waves of 20 while every fault is on
    config = ShopboxChaosConfig(sales=80, wave=20, seed=11)
    # WHEN the run ends (faults off, two quiet polls, the stack settled)
    figures = run_chaos_shopbox(config, io.StringIO())
    report = render(config, figures)
    # THEN the faults did happen
    faults = figures.faults
    assert faults["Shopbox 5xx"] > 0 and faults["Shopbox 401 (token expired)"] > 0, report
    assert faults["Rackbeat 5xx"] > 0 and faults["Lambda crashes"] > 0, report
    assert faults["poll crashed between reading and queuing"] > 0, report
    # AND every sale is in Rackbeat exactly once, as the till rang it up, and nothing is left over
    assert figures.audit.sales == 80 and figures.audit.rackbeat_orders == 80, report
    assert figures.lost == [] and figures.duplicated == [] and figures.mismatched == [], report
    assert figures.unfinished == [] and figures.leaked_secrets == [], report
    assert figures.audit.stock_compared > 0 and figures.log_lines > 100, report
