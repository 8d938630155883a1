"""Connection kind → integration, and system → connector parts, found by name and imported on first use.

This is the one line a new integration adds. Nothing here imports an integration or a connector at import time:
ingest asks only for a webhook source (a small module without pydantic or httpx) and must keep its cold start small
(bench/cold_import.py); the rest is imported by whoever first needs it. Because the imports are by name, any layer
may ask the registry without depending on the integrations statically (import-linter sees no edge).
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Mapping
from functools import cache, reduce
from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:
    from crossdock.connections.model import Connection
    from crossdock.integration import Integration
    from crossdock.ports import StreamHandler, WebhookSource

# kind → the module whose `INTEGRATION` describes it.
INTEGRATIONS: dict[str, str] = {
    "rackbeat_shopify": "crossdock.integrations.rackbeat_shopify.integration",
    "rackbeat_shopbox": "crossdock.integrations.rackbeat_shopbox.integration",
    "rackbeat_webshipper": "crossdock.integrations.rackbeat_webshipper.integration",
    "peakwms_shopify": "crossdock.integrations.peakwms_shopify.integration",
}

# system → the connector module whose `SOURCE` authenticates the system's webhooks (see `ports.WebhookSource`).
WEBHOOK_SOURCES: dict[str, str] = {
    "shopify": "crossdock.connectors.shopify.inbound",
    "rackbeat": "crossdock.connectors.rackbeat.inbound",
    "webshipper": "crossdock.connectors.webshipper.inbound",
    "peakwms": "crossdock.connectors.peakwms.inbound",
}


class UnknownKind(LookupError):
    """No integration is registered for this connection kind."""


def kinds() -> tuple[str, ...]:
    return tuple(INTEGRATIONS)


@cache
def integration(kind: str) -> Integration:
    module = INTEGRATIONS.get(kind)
    if module is None:
        raise UnknownKind(f"no integration for connection kind {kind!r}")
    found: Integration = importlib.import_module(module).INTEGRATION
    return found


def poll_streams(kind: str) -> Mapping[str, StreamHandler]:
    """The polled streams of a connection kind (none for a kind the registry does not know)."""
    if kind not in INTEGRATIONS:
        return {}
    return integration(kind).poll_streams


@cache
def webhook_source(system: str) -> WebhookSource | None:
    module = WEBHOOK_SOURCES.get(system)
    if module is None:
        return None
    found: WebhookSource = importlib.import_module(module).SOURCE
    return found


@cache
def _connections() -> Any:
    from pydantic import Field, TypeAdapter  # here, not at import: ingest asks the registry for webhook sources only

    models = tuple(integration(kind).connection_model for kind in INTEGRATIONS)
    # One kind is a plain model; two or more are a union discriminated on `kind`.
    union: Any = models[0] if len(models) == 1 else Annotated[reduce(operator.or_, models), Field(discriminator="kind")]
    return TypeAdapter(union)


def parse_connection(fields: dict[str, Any]) -> Connection:
    """A stored connection (or one written by an earlier release: no `kind` means `rackbeat_shopify`)."""
    kind = fields.get("kind") or "rackbeat_shopify"
    if kind not in INTEGRATIONS:
        raise UnknownKind(f"no integration for connection kind {kind!r}")
    connection: Connection = _connections().validate_python({**fields, "kind": kind})
    return connection
