"""The moto release this runtime's patches were written against, and a check that it is the one installed.

The patches replace moto internals, not its public API: `DynamoDBBackend` and `DynamoHandler` item writes and
`Table.query` (`dynamodb_tables`), the update-expression parser and `Validator.validate` (`dynamodb_expressions`),
`DynamoResult.execute_result` (`dynamodb_answers`), `Item.project`
(`dynamodb_projection`), a queue's attribute dict
(`sqs_attributes`), the Lambda backend's `invoke` that the ASL interpreter calls (`embedded`), a Choice rule
`Variable`'s evaluation and the ASL interpreter's error log (`step_functions_logging`), and the scheduler's
stored schedules (`scheduler`). Their shapes change between moto releases, so a different moto must fail at once,
with what to do, rather than as a strange error deep in a run. `requirements.lock` pins this release; a test holds
the two equal.
"""

from __future__ import annotations

from importlib import metadata

PATCHED_MOTO = "5.2.5"


class UnpatchedMoto(RuntimeError):
    """The installed moto is not the release the embedded runtime's patches were written against."""


def require_patched_moto(installed: str | None = None) -> None:
    found = installed if installed is not None else metadata.version("moto")
    if found != PATCHED_MOTO:
        raise UnpatchedMoto(
            f"moto {found} is installed, but the embedded runtime's patches of moto internals were written against "
            f"moto {PATCHED_MOTO} (crossdock_local/aws/moto_version.py): install requirements.lock's moto, or check "
            "each patch against the new release (their component tests compare them with moto's own answers) and "
            "move PATCHED_MOTO and the lock together"
        )
