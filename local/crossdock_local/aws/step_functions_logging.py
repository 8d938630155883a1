"""Step Functions: a Choice rule asking whether a field is present logs no error when it is absent.

The order workflow's `Route` state asks `"Variable": "$.wait_seconds", "IsPresent": true` (a stage hands back
`wait_seconds` only when the target asked it to come back later), so most executions find the field absent — the
answer IsPresent exists for. moto 5.2's interpreter resolves the rule's `Variable` by evaluating its JSONPath, which
raises `NoSuchJsonPathError` for an absent field; the `Variable` catches that itself and hands the comparison a
"no such variable" marker (IsPresent → false, as AWS answers), but the evaluation underneath has already logged it at
ERROR (`EvalComponent._log_exception`), and with no handler configured Python prints it on stderr: hundreds of
"Exception=NoSuchJsonPathError … $.wait_seconds" lines per chaos run that look like failures and are not.

So while a Choice rule's `Variable` is being resolved, moto's evaluation log drops its records: whatever fails
there, the `Variable` turns into "absent" (moto catches every exception at that point), so the line carries nothing
the execution's answer does not. Everywhere else (a Wait state's `SecondsPath`, a task's `InputPath`, …) moto logs as
before, and those failures still fail the execution with `States.Runtime`. The rule's evaluation itself is moto's,
unchanged. `tests/component/test_embedded_aws.py` runs a Choice on a present and an absent field.
"""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock

# moto's ASL interpreter is untyped.
import moto.stepfunctions.parser.asl.component.eval_component as moto_eval_component
from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import Variable


class _ResolvingChoiceVariable(logging.Filter):
    """Drops moto's evaluation log records on a thread that is resolving a Choice rule's `Variable`."""

    def __init__(self) -> None:
        super().__init__()
        self._thread = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self._thread, "depth", 0)

    def around(self, original: Any) -> Any:
        thread = self._thread

        def _eval_body(variable: Any, env: Any) -> None:
            thread.depth = getattr(thread, "depth", 0) + 1
            try:
                original(variable, env)
            finally:
                thread.depth -= 1

        return _eval_body


def quiet_absent_choice_variables(stack: ExitStack) -> None:
    quiet = _ResolvingChoiceVariable()
    logger = logging.getLogger(moto_eval_component.__name__)
    logger.addFilter(quiet)
    stack.callback(logger.removeFilter, quiet)
    stack.enter_context(mock.patch.object(Variable, "_eval_body", quiet.around(Variable._eval_body)))
