"""The embedded stack asks moto's response classes for one handler name at a time (`aws/moto_dispatch.py`); the
answer must be moto's own list of the class's functions, for every response class and every action name."""

from __future__ import annotations

from pathlib import Path

import moto.core.responses as moto_responses
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores, method_names_from_class

from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.aws.moto_dispatch import FunctionNames

APP = Path(__file__).parent / "embedded_app" / "template.yaml"


def _response_classes() -> list[type]:
    found: list[type] = []
    pending: list[type] = [BaseResponse]
    while pending:
        clazz = pending.pop()
        found.append(clazz)
        pending.extend(clazz.__subclasses__())
    return found


def test_handler_names_are_motos_own() -> None:
    with EmbeddedAws(template=APP):
        assert vars(moto_responses)["method_names_from_class"] is FunctionNames
        classes = _response_classes()  # those of the services the stack has called: Lambda, SQS, DynamoDB, …
        assert len(classes) >= 5
        for clazz in classes:
            own = method_names_from_class(clazz)  # moto's, from moto.core.utils
            names = FunctionNames(clazz)
            assert sorted(names) == sorted(own), clazz
            asked = {*own, *(camelcase_to_underscores(name) for name in ("GetItem", "Nope", "SendMessage")), "urls"}
            assert {name for name in asked if name in names} == set(own) & asked, clazz
            assert 1 not in names
