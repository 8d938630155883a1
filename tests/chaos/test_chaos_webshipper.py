"""A small Webshipper chaos run on every `make test` (the full one is `make chaos`): orders booked in Rackbeat,
orders of another channel placed in Webshipper and paid Shopify orders sent by the operator's sync, each wave
shipped in Webshipper, through Webshipper 5xx, 429s, latency, writes that commit and then lose their answer, every
grant token expiring mid-run and webhooks duplicated, reordered, held back and lost (the poll brings those in),
and Rackbeat 5xx, 429s and writes
that commit and then lose their answer or kill their invocation. Then no order may be lost, duplicated or
mismatched (shipped once with its tracking, one Shopify fulfilment with it), nothing left in flight, no secret in a
log line."""

from __future__ import annotations

import io

from crossdock_local.scenarios.chaos_webshipper import WebshipperChaosConfig, render, run_chaos_webshipper


def test_orders_and_shipments_survive_webshipper_and_rackbeat_faults() -> None:
    # GIVEN 40 orders made in waves of 20 while every fault is on
    config = WebshipperChaosConfig(orders=40, wave=20, seed=11)
    # WHEN the run ends (faults off, the stack settled, what was left shipped)
    figures = run_chaos_webshipper(config, io.StringIO())
    report = render(config, figures)
    # THEN the faults did happen
    faults = figures.faults
    assert faults["Webshipper 5xx"] > 0 and faults["Webshipper 429"] > 0, report
    assert faults["Webshipper 401 (token expired)"] > 0 and faults["Rackbeat 5xx"] > 0, report
    assert faults["Webshipper webhooks lost"] > 0, report
    # AND every order is in the other system exactly once, shipped once with its tracking, and nothing is left over
    audit = figures.audit
    assert audit.exported == audit.exported_expected > 0 and audit.imported == audit.imported_expected > 0, report
    assert audit.fulfilments == audit.fulfilments_expected > 0, report
    assert audit.shipped_in_rackbeat == audit.exported + audit.imported, report
    assert figures.lost == [] and figures.duplicated == [] and figures.mismatched == [], report
    assert figures.unfinished == [] and figures.leaked_secrets == [], report
    assert figures.log_lines > 100, report
