"""Stand-ins the simulator tests hand to the simulators: a clock moved by hand, and a sink recording webhooks.

Shared by the `test_*_sim.py` modules (and the order query tests) so every one of them sees time and deliveries the
same way.
"""

from __future__ import annotations

import json
from typing import Any

Delivery = tuple[str, dict[str, str], bytes]  # (url, headers, raw body), as the simulator hands it to the sink


class FakeClock:
    """The simulator's clock; a test moves it (`clock.now += 3600`) to reach token expiry or a refilled bucket."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSink:
    """Records every webhook delivery; answers `status`, or raises it when it is an exception (a dead endpoint)."""

    def __init__(self, status: int | Exception = 200) -> None:
        self.status = status
        self.calls: list[Delivery] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.calls.append((url, headers, body))
        if isinstance(self.status, Exception):
            raise self.status
        return self.status

    def by_topic(self, topic: str) -> list[Delivery]:
        return [call for call in self.calls if call[1]["X-Shopify-Topic"] == topic]

    def payloads(self, topic: str) -> list[dict[str, Any]]:
        """The decoded bodies of `topic`'s deliveries, in order."""
        return [json.loads(body) for _, _, body in self.by_topic(topic)]

    def topics(self) -> list[tuple[int, str]]:
        """(resource id, topic) of every delivery, in order."""
        return [(json.loads(body)["id"], headers["X-Shopify-Topic"]) for _, headers, body in self.calls]
