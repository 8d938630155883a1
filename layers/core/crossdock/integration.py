"""What an integration tells the rest of Crossdock about itself: one `Integration` per connection kind.

A flow finds the integration of a connection through `crossdock.registry` and then speaks only through this
description: which settings model and connection shape the kind has, which handler an inbound event goes to
(its route table), which outbound commands it runs, and how its order workflow's stages are run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import Connection, Settings
from crossdock.ports import CommandPorts, DispatchPorts, InboundEvent, OrderWorkflow, StockSync, StreamHandler
from crossdock.store.outcome import Outcome

# An inbound event's handler: the event (with its connection, settings in force) and what dispatch offers.
InboundHandler = Callable[[InboundEvent, DispatchPorts], Outcome]
# An outbound command's handler: returns a one-line summary of what it did, for the log.
CommandHandler = Callable[[Connection, dict[str, Any], CommandPorts], str]


@dataclass(frozen=True)
class Route:
    """Events of `source` with one of `topics` go to `handle`."""

    source: str
    topics: frozenset[str]
    handle: InboundHandler
    # Handled whatever the connection's state (an app's uninstall and privacy requests arrive after it).
    any_state: bool = False


@dataclass(frozen=True)
class Integration:
    kind: str
    connection_model: type[Connection]
    settings_model: type[Settings]
    routes: tuple[Route, ...]
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    order_workflow: OrderWorkflow | None = None
    # The streams the poll function reads for a connection of this kind (one schedule each), by stream name.
    poll_streams: Mapping[str, StreamHandler] = field(default_factory=dict)
    # The kind's stock push (`flows.stock_push`): its source and target; None for a kind that pushes no stock.
    stock: StockSync | None = None
    # Anything else a kind keeps for its own functions (install, initial sync …) stays in its package.

    def route(self, source: str, topic: str) -> Route | None:
        for route in self.routes:
            if route.source == source and topic in route.topics:
                return route
        return None
