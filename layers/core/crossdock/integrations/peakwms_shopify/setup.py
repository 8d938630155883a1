"""The guided setup of a `peakwms_shopify` connection (SPEC §4): five steps, each confirmed (run) or skipped by the
merchant or operator, each resumable after a crash and showing its progress.

The seam is every kind's (`crossdock.integration`: `SetupStep`, `StepChunk`, `SetupDeps`, `GuidedSetup`; the runner
is `flows.guided_setup`, the workflow statemachines/guided_setup.asl.json, the operator's side
`operations.guided_setup`); this module names this kind's steps and their order. Each step lives in its own module
and exports `STEP`; `integration.py` puts them together in `STEP_NAMES`' order.
"""

from __future__ import annotations

from typing import Any, Protocol

from crossdock.integration import GuidedSetup as GuidedSetup
from crossdock.integration import SetupDeps as SetupDeps
from crossdock.integration import StepChunk as StepChunk
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection

FETCH_PRODUCTS = "fetch_products"
CUSTOMS_AND_COST = "customs_and_cost"
RECEIVE_ORDERS = "receive_orders"
STOCK_AND_HISTORY = "stock_and_history"
MESSAGES = "messages"
# SPEC §4's order: products first (orders and stock name them), customs next (optional), then orders, the history
# and stock, and last the messages back to the shop.
STEP_NAMES: tuple[str, ...] = (FETCH_PRODUCTS, CUSTOMS_AND_COST, RECEIVE_ORDERS, STOCK_AND_HISTORY, MESSAGES)


class SetupStep(Protocol):
    """A step of this kind (`crossdock.integration.SetupStep` with the connection as this kind's own)."""

    name: str
    title: str
    optional: bool

    def run_chunk(self, connection: PeakwmsShopifyConnection, deps: SetupDeps, state: dict[str, Any]) -> StepChunk: ...


def guided_setup(*steps: SetupStep) -> GuidedSetup:
    """The steps in `STEP_NAMES`' order (a step that has not landed yet is left out); a step of another name is a
    bug, refused at import."""
    unknown = [step.name for step in steps if step.name not in STEP_NAMES]
    if unknown:
        raise ValueError(f"not a step of the peakwms_shopify setup: {', '.join(unknown)}")
    by_name = {step.name: step for step in steps}
    return GuidedSetup(tuple(by_name[name] for name in STEP_NAMES if name in by_name))
