"""`crossdock connections choices <connection>` (issue 17): what each settings field of the connection may name in
the live systems — Rackbeat's groups, layouts, locations …, the shop's locations, Shopbox's branches and
categories, Webshipper's channels and rates, PeakWMS's warehouses — through `crossdock.operations.choices`, the
same reads the admin API's `GET /admin/connections/{id}/choices` answers with.

A table of field, value and label (the value is what `settings set` takes), then one line per system that could
not be read and why; `--json` gives `{connection_id, kind, choices: {field: [{value, label}]}, unavailable}`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from crossdock.operations import choices
from crossdock.operations.target import OperatorTarget
from crossdock_local import operator_output as out

Command = Callable[[OperatorTarget, argparse.Namespace], str]
AddCommand = Callable[[Any, str, Command, str], argparse.ArgumentParser]


def add_commands(connection_commands: Any, command: AddCommand) -> None:
    """Adds `connections choices`; an onboarding command (the connection's secrets are read through the stack's KMS
    key to call the systems)."""
    parser = command(
        connection_commands, "choices", _choices, "what each setting may name in the systems (ids and their names)"
    )
    parser.add_argument("connection_id")
    parser.set_defaults(onboarding=True)


def _choices(target: OperatorTarget, args: argparse.Namespace) -> str:
    read = choices.read_choices(target, args.connection_id)
    if args.json:
        return out.as_json(read)
    lines = [f"setting choices of connection {read.connection_id} ({read.kind})"]
    rows = [(field, choice.value, choice.label) for field, offered in read.choices.items() for choice in offered]
    empty = [field for field, offered in read.choices.items() if not offered]
    if rows:
        lines.append(out.table(["FIELD", "VALUE", "LABEL"], rows))
    if empty:
        lines.append(f"nothing to choose from in the systems for: {', '.join(empty)}")
    if not read.choices and not read.unavailable:
        lines.append(f"a {read.kind} connection's settings name nothing in another system")
    lines += [f"{system} could not be read: {reason}" for system, reason in read.unavailable.items()]
    return "\n".join(lines)
