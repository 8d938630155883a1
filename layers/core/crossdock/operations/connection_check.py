""" "Test connection" for a connection not created yet (the admin API's `POST /admin/connections/test`): the kind's
create run with `check_only`, so every account is tested against its platform and every setting checked exactly
as a create would, and it stops before its first write (`new_connection.CheckedOnly`). A refusal is the create's
own (`Rejected`, every problem by field); nothing is stored either way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crossdock.operations.new_connection import CheckedOnly


@dataclass(frozen=True)
class ConnectionChecked:
    kind: str
    accepted: bool  # every account answered yes and every setting is valid
    # What the settings name that an account lacks (a create stores and reports them, and waits to activate).
    missing_references: list[str] = field(default_factory=list)


def check_new_connection(create: Callable[..., Any], /, **arguments: Any) -> ConnectionChecked:
    """`create` (a kind's `create_*` operation) with `arguments`, checking only."""
    try:
        create(**arguments, check_only=True)
    except CheckedOnly as checked:
        connection = checked.prepared.connection
        missing = [str(problem) for problem in getattr(checked.prepared, "missing_references", [])]
        return ConnectionChecked(kind=connection.kind, accepted=True, missing_references=missing)
    raise RuntimeError(f"{getattr(create, '__name__', create)} stored a connection while checking only")
