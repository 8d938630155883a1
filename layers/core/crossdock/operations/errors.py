"""How an operator command says no: the CLI turns these into a message and exit code 1."""

from __future__ import annotations


class OperatorError(Exception):
    """The command cannot be carried out; the message says why, for a person."""


class NotFound(OperatorError):
    """The connection, event, stack or queue named does not exist."""


class Refused(OperatorError):
    """The thing exists, but the command would be wrong for it (retrying an event that is done, …)."""
