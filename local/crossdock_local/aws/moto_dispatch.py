"""moto's dispatch of a request to its handler method, without listing the handler class each time.

For every request, moto 5.2 lists every function of the service's response class (`inspect.getmembers`, a walk
of the class and all its bases, sorted) only to ask whether the action's name is one of them: about a fiftieth of
a chaos run's time, in every AWS call the functions make. The answer is the same as asking the class for that one
name, which is what `FunctionNames` does, on the class as it is at that moment (a patched handler counts as moto
would count it). `tests/component/test_moto_dispatch.py` compares the two for every handler class.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import ExitStack
from unittest import mock

import moto.core.responses as moto_responses


class FunctionNames:
    """The names of a class's functions (moto's `method_names_from_class`), asked one name at a time."""

    def __init__(self, clazz: type) -> None:
        self._class = clazz

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._class, name, None))

    def __iter__(self) -> Iterator[str]:
        return iter(name for name, _ in inspect.getmembers(self._class, predicate=inspect.isfunction))


def find_handlers_by_name(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(moto_responses, "method_names_from_class", FunctionNames))
