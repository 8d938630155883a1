"""A small PeakWMS chaos run on every `make test` (the full one is `make chaos`): authorised Shopify orders through
a PeakWMS ⇄ Shopify connection set up by its guided setup, some held for stock and released by receipts, packed
(some in two pick orders), shipped, counted and partly refunded by the warehouse, through PeakWMS 5xx, 429s, writes
that commit and then lose their answer or kill their invocation, webhooks duplicated, reordered and held back, older
stock totals re-sent after newer ones, Shopify 5xx, lost answers and duplicated webhooks — and webhooks lost on both
sides: a share of the orders never get an order webhook, a share of the pick orders never send their 102. Then no
order may be lost, duplicated or mismatched: once in PeakWMS (the lost ones brought by `shopify#orders`), fulfilled
per pick order with its tracking (a lost 102's pick order by `peakwms#orders`, without tracking), captured once
within the authorisation, refunds once (those made while their pack was on its way too), stock equal in both;
nothing left in flight or needing attention, no secret in a log line. The same losses with both sweeps' schedules
removed break that promise: the sweeps are what keeps it."""

from __future__ import annotations

import io

from crossdock_local.scenarios.chaos_peakwms import PeakwmsChaosConfig, render, run_chaos_peakwms


def test_orders_packs_captures_refunds_and_stock_survive_peakwms_and_shopify_faults() -> None:
    # GIVEN 30 orders taken in waves of 15 while every fault is on, a fifth of the orders losing their Shopify order
    # webhooks and a fifth of the pick orders their PeakWMS 102, and every tenth order (offset 5) refunded by
    # PeakWMS right after packing, its 102 still on its way (a 104 before the capture is parked until the pack)
    config = PeakwmsChaosConfig(
        orders=30,
        wave=15,
        seed=11,
        shopify_webhook_lose_share=0.2,
        peakwms_webhook_lose_share=0.2,
        refund_in_flight=True,
    )
    # WHEN the run ends (faults off, time for the sweeps, what was left received, packed, shipped and refunded)
    figures = run_chaos_peakwms(config, io.StringIO())
    report = render(config, figures)
    # THEN the faults did happen, losses on both sides among them
    faults = figures.faults
    assert faults["PeakWMS 5xx"] > 0 and faults["PeakWMS 429"] > 0 and faults["Shopify 5xx"] > 0, report
    assert faults["Shopify webhooks lost"] > 0 and faults["PeakWMS webhooks lost"] > 0, report
    # AND every order is in PeakWMS once, fulfilled with its pick orders' tracking and captured once; refunds once
    audit = figures.audit
    assert audit.in_peakwms == audit.orders == 30 and audit.fulfilled == audit.captured == 30, report
    assert audit.pick_orders > audit.orders and audit.refunds > 0, report
    assert audit.stock_equal == audit.stock_checked > 0, report
    # AND each order whose 102 was lost was fulfilled and captured by the PeakWMS sweep
    assert figures.recovered_packs == len(figures.losses.packs) > 0, report
    assert figures.lost == [] and figures.duplicated == [] and figures.mismatched == [], report
    assert figures.unfinished == [] and figures.leaked_secrets == [], report
    assert figures.log_lines > 100, report


def test_without_the_sweeps_lost_webhooks_lose_orders_and_packs() -> None:
    # GIVEN a run like the one above, smaller, with both sweeps' schedules removed after the setup
    config = PeakwmsChaosConfig(
        orders=12, wave=12, seed=11, shopify_webhook_lose_share=0.3, peakwms_webhook_lose_share=0.3, sweeps=False
    )
    # WHEN it ends
    figures = run_chaos_peakwms(config, io.StringIO())
    report = render(config, figures)
    # THEN webhooks were lost on both sides
    losses = figures.losses
    assert losses.shopify_orders and losses.packs, report
    # AND the promise is broken: the orders that got no webhook never reached PeakWMS, and the orders whose 102 was
    # lost are neither fulfilled nor captured
    assert not figures.ok, report
    assert sorted(figures.lost) == sorted(f"Shopify order {o} in PeakWMS" for o in losses.shopify_orders), report
    for order_id in losses.packs:
        assert f"Shopify order {order_id}: captured 0 times" in figures.mismatched, report
    assert figures.recovered_packs == 0, report
