"""How an operator command says no: the CLI turns these into a message and exit code 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class OperatorError(Exception):
    """The command cannot be carried out; the message says why, for a person."""


class NotFound(OperatorError):
    """The connection, event, stack or queue named does not exist."""


class Refused(OperatorError):
    """The thing exists, but the command would be wrong for it (retrying an event that is done, …)."""


class Problem(Protocol):
    """One thing wrong with an operator's input (`SettingProblem` is one)."""

    @property
    def field(self) -> str: ...

    @property
    def message(self) -> str: ...


class Rejected(Refused):
    """What the operator gave is wrong, and nothing was changed: every problem, each naming its field."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        super().__init__(refusal(what, problems))
        self.problems = list(problems)


def refusal(what: str, problems: Sequence[Problem]) -> str:
    """`what:` and then one indented line per problem, `field: message`."""
    return f"{what}:\n" + "\n".join(f"  {problem.field}: {problem.message}" for problem in problems)
