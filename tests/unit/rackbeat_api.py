"""Calling the Rackbeat simulator as Crossdock does, for the `test_rackbeat*_sim.py` modules.

They go through a real httpx client (headers, `/api` root, status codes) rather than the simulator's Python API, so
each module sees exactly what Crossdock's Rackbeat client would.
"""

from __future__ import annotations

from typing import Any

import httpx

from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

BASE_URL = "https://app.rackbeat.com/api/"
HOOK_URL = "https://hooks.example.com/rb"


def rackbeat_client(sim: RackbeatSimulator, key: str | None) -> httpx.Client:
    """A client with Rackbeat's required headers; `key` None sends no `Authorization` (to see the 401)."""
    headers = {"Accept": "application/json", "User-Agent": "crossdock-tests (dev@example.com)"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(transport=transport(sim, root="/api"), base_url=BASE_URL, headers=headers)


def subscribe(api: httpx.Client, *events: str) -> None:
    for event in events:
        assert api.post("webhooks", json={"event": event, "url": HOOK_URL}).status_code == 201


def sent(sim: RackbeatSimulator) -> list[tuple[str, str]]:
    """(event, key) of every delivery Rackbeat has queued and not yet made, in order."""
    return [(d.event, d.json()["key"]) for d in sim.pending()]


def product(api: httpx.Client, number: str) -> dict[str, Any]:
    body: dict[str, Any] = api.get(f"products/{number}").json()["product"]
    return body
