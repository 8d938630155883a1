"""A small PeakWMS chaos run on every `make test` (the full one is `make chaos`): authorised Shopify orders through
a PeakWMS ⇄ Shopify connection set up by its guided setup, some held for stock and released by receipts, packed
(some in two pick orders), shipped, counted and partly refunded by the warehouse, through PeakWMS 5xx, 429s, writes
that commit and then lose their answer or kill their invocation, webhooks duplicated, reordered and held back, older
stock totals re-sent after newer ones, and Shopify 5xx, lost answers and duplicated webhooks. Then no order may be
lost, duplicated or mismatched: once in PeakWMS, fulfilled per pick order with its tracking, captured once within
the authorisation, refunds once, stock equal in both; nothing left in flight or needing attention, no secret in a
log line."""

from __future__ import annotations

import io

from crossdock_local.scenarios.chaos_peakwms import PeakwmsChaosConfig, render, run_chaos_peakwms


def test_orders_packs_captures_refunds_and_stock_survive_peakwms_and_shopify_faults() -> None:
    # GIVEN 30 orders taken in waves of 15 while every fault is on
    config = PeakwmsChaosConfig(orders=30, wave=15, seed=11)
    # WHEN the run ends (faults off, the stack settled, what was left received, packed, shipped and refunded)
    figures = run_chaos_peakwms(config, io.StringIO())
    report = render(config, figures)
    # THEN the faults did happen
    faults = figures.faults
    assert faults["PeakWMS 5xx"] > 0 and faults["PeakWMS 429"] > 0 and faults["Shopify 5xx"] > 0, report
    # AND every order is in PeakWMS once, fulfilled with its pick orders' tracking and captured once; refunds once
    audit = figures.audit
    assert audit.in_peakwms == audit.orders == 30 and audit.fulfilled == audit.captured == 30, report
    assert audit.pick_orders > audit.orders and audit.refunds > 0, report
    assert audit.stock_equal == audit.stock_checked > 0, report
    assert figures.lost == [] and figures.duplicated == [] and figures.mismatched == [], report
    assert figures.unfinished == [] and figures.leaked_secrets == [], report
    assert figures.log_lines > 100, report
