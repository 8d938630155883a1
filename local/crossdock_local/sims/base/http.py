"""The plain request/response pair every simulator answers, whichever way it is reached (in process or over HTTP)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class SimRequest:
    method: str
    path: str  # relative to the simulator's root, always starting with "/"
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def bearer(self) -> str | None:
        """The token of `Authorization: Bearer <token>`, or None when the header is missing or of another scheme."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def json_default(value: Any) -> Any:
    """Money stays exact on the wire: a Decimal is written as its string, as the platforms send amounts."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> SimResponse:
    body = json.dumps(payload, default=json_default).encode()
    return SimResponse(status, body, {"content-type": "application/json", **(headers or {})})
