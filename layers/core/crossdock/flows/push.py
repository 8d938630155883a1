"""Commands from an outbound queue, run by the command table of the connection's integration.

A command for a connection that is gone or not active is dropped with the reason (and the event that asked for it,
when it names one, ends `skipped`); a command no integration knows cannot succeed by retrying, so it is logged and
dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crossdock import registry
from crossdock.aws.observability import logger
from crossdock.connections.model import ConnectionState
from crossdock.store.outcome import Outcome
from crossdock.store.repositories import KeptInTable


@dataclass(frozen=True)
class PushDeps(KeptInTable):
    """What the push function provides; command handlers see it as `ports.CommandPorts`."""

    clients: Any
    request_stock_push: Callable[[str], None]
    continue_stock_push: Callable[[str], None]
    now: Callable[[], float]
    sleep: Callable[[float], None]
    seconds_left: Callable[[], float]


def run_command(command: dict[str, Any], deps: PushDeps) -> str:
    connection_id = str(command.get("connection_id"))
    connection = deps.connections.load(connection_id)
    name = str(command.get("command"))
    if connection is None or connection.state is not ConnectionState.ACTIVE:
        outcome = Outcome.skipped(
            f"connection {connection_id} is {connection.state.value if connection else 'deleted'}"
        )
        if command.get("event_sk"):
            deps.events.finish(connection_id, str(command["event_sk"]), outcome.status, outcome.reason)
        return outcome.reason
    handler = registry.integration(connection.kind).commands.get(name)
    if handler is None:
        logger.error("unknown outbound command", extra={"command": name})
        return f"unknown command {name}"
    return handler(connection, command, deps)
