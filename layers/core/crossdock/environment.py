"""A Lambda function's environment, read once into a typed model when its module is imported (the cold start).

Each function declares what it reads as a subclass of `FunctionEnvironment` (fields named as the variables, in lower
case) and calls `read(os.environ)` at import; the library itself never reads `os.environ`, it is handed the values.
A variable that is missing or not a number fails the cold start with its name, as a misconfigured deployment should.
Kept free of pydantic: ingest reads its environment too, and its cold start stays small (bench/cold_import.py).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Self

# Set by the local runtime in every function's environment (crossdock_local.aws), never by template.yaml: what only
# a local run may do (an install's addresses taken from the request's Host header) asks for it by this name.
LOCAL_STACK_VARIABLE = "CROSSDOCK_LOCAL_STACK"


class MisconfiguredFunction(RuntimeError):
    """The function's environment lacks a variable it needs, or holds one it cannot read."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class FunctionEnvironment:
    """What every function has (template.yaml `Globals`): the table, the secrets' key, and the Rackbeat call budget."""

    table_name: str
    key_id: str | None = None
    stage: str | None = None
    # A function's own share of Rackbeat calls a minute (per container), and the account's shared budget.
    rackbeat_calls_per_minute: float | None = None
    rackbeat_account_calls_per_minute: float | None = None
    rackbeat_timeout_seconds: float | None = None
    # `true` only in the local runtime (LOCAL_STACK_VARIABLE).
    crossdock_local_stack: bool = False

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> Self:
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            name = field.name.upper()
            raw = environ.get(name, "").strip()
            required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            if not raw:
                if required:
                    raise MisconfiguredFunction(f"environment variable {name} is missing")
                continue
            values[field.name] = _convert(name, raw, hints[field.name])
        return cls(**values)


def _convert(name: str, raw: str, hint: Any) -> Any:
    kinds = [arg for arg in typing.get_args(hint) if arg is not type(None)] if _is_optional(hint) else [hint]
    kind = kinds[0]
    if kind is str:
        return raw
    if kind is bool:
        if raw.lower() not in ("true", "false"):
            raise MisconfiguredFunction(f"environment variable {name} is not true or false: {raw!r}")
        return raw.lower() == "true"
    if typing.get_origin(kind) is dict:  # a JSON object of text, e.g. target system → queue URL
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise MisconfiguredFunction(f"environment variable {name} is not a JSON object of text: {raw!r}")
        return value
    if kind in (float, int):
        try:
            return kind(raw)
        except ValueError:
            raise MisconfiguredFunction(f"environment variable {name} is not a number: {raw!r}") from None
    raise TypeError(f"{name}: unsupported environment type {hint!r}")


def _is_optional(hint: Any) -> bool:
    return isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
