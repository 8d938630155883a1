"""What every kind's settings share: a problem under its dotted key, the refusals of a save, and the pieces a
settings model is built from — a broken rule as a pydantic error, every broken rule of a model at once, the
"types only" reading a check uses to look up a broken document's references, and the small value types.

A kind's model (`integrations.<kind>.settings`) keeps its own keys and rules; here only what would otherwise be
written once per kind, so an operator's tools read every kind's refusals alike.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationError, ValidationInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

# The error type of a broken settings rule; its context carries the plain reason (and, for a rule that spans
# several keys, the dotted key it is about, which the error's location alone cannot say).
RULE = "setting_rule"
SKIP_RULES = "skip_rules"
# Validation context: only the values' types and forms (see `rules_skipped`).
WITHOUT_RULES = {SKIP_RULES: True}


@dataclass(frozen=True)
class SettingProblem:
    """One reason a save is refused: the dotted key of the setting and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class SettingsRejected(Exception):
    """The settings break a rule or name something an account does not have; nothing was saved."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        super().__init__("settings rejected:\n" + "\n".join(str(problem) for problem in problems))
        self.problems = problems


class SettingsConflict(Exception):
    """Someone saved the settings since the version this save was based on; nothing was saved."""

    def __init__(self, connection_id: str, expected_version: int, stored_version: int | None) -> None:
        super().__init__(
            f"connection {connection_id}: the settings were changed by someone else (this save was based on "
            f"version {expected_version}, but version {stored_version} is stored now); reload them and save again"
        )
        self.expected_version = expected_version
        self.stored_version = stored_version


class ConnectionNotFound(LookupError):
    """No connection has this id."""


def rule(reason: str, field: str | None = None) -> PydanticCustomError:
    """A broken rule, raised from a validator; `field` when the rule is about another key than the one validated."""
    if field is None:
        return PydanticCustomError(RULE, "{reason}", {"reason": reason})
    return PydanticCustomError(RULE, "{field}: {reason}", {"field": field, "reason": reason})


def refuse(title: str, broken: list[SettingProblem]) -> None:
    """Every broken rule of one model at once (pydantic would stop at a validator's first), each at its key."""
    if broken:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(
                    type=rule(problem.message, problem.field), loc=tuple(problem.field.split(".")), input=None
                )
                for problem in broken
            ],
        )


def rules_skipped(info: ValidationInfo) -> bool:
    """Validated with `WITHOUT_RULES` as context: only the values' types and forms, so the references of a document
    that breaks a rule can still be looked up (`settings_check`). Never for a document that is saved."""
    return bool(info.context and info.context.get(SKIP_RULES))


def problems_of(error: ValidationError, message: Callable[[ErrorDetails], str]) -> list[SettingProblem]:
    """Every problem pydantic found, each under the setting's dotted key, in the words `message` gives it."""
    problems = []
    for found in error.errors():
        context = found.get("ctx") or {}
        # A dict key's location ends in a "[key]" marker; the key itself already names the entry.
        path = ".".join(str(part) for part in found["loc"] if part != "[key]")
        field = str(context.get("field") or path or "settings")
        problems.append(SettingProblem(field, message(found)))
    return problems


def plain_message(found: ErrorDetails, unknown_key: str) -> str:
    """A rule's own reason, `unknown_key` for a key the model does not have, pydantic's words for the rest."""
    if found["type"] == RULE:
        return str((found.get("ctx") or {})["reason"])
    if found["type"] == "extra_forbidden":
        return unknown_key
    return found["msg"]


# ---- value types ---------------------------------------------------------------------------------------------


def as_text(value: Any) -> Any:
    """Ids that may come as JSON numbers are kept as text, as mappings and the platforms' own ids are."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def not_blank(value: str) -> str:
    if not value.strip():
        raise rule("must not be blank")
    return value.strip()


def positive(value: int) -> int:
    if value <= 0:
        raise rule(f"must be a positive Rackbeat number, not {value}")
    return value


Text = Annotated[str, BeforeValidator(as_text), AfterValidator(not_blank)]
RackbeatNumber = Annotated[int, AfterValidator(positive)]


# ---- every problem of a broken document ---------------------------------------------------------------------

_Model = TypeVar("_Model", bound=BaseModel)


def every_problem(
    model: type[_Model],
    document: dict[str, Any],
    validated: Callable[[dict[str, Any]], _Model],
    rules: Callable[[_Model], list[SettingProblem]],
    references: Callable[[_Model], list[SettingProblem]],
    now: dict[str, Any],
) -> tuple[_Model | None, list[SettingProblem]]:
    """(the settings, if valid; every problem of `document` at once). pydantic checks the rules across keys only of
    a document whose values are all valid, and the references are looked up only of a valid one; so a refused
    document (`validated` raises `SettingsRejected`) is read again with its broken values as they are `now`, and
    the `rules` and `references` of what is left are added, each key's first problem only."""
    try:
        settings = validated(document)
    except SettingsRejected as rejected:
        problems = list(rejected.problems)
        checked = salvaged(model, document, problems, now)
        if checked is not None:
            problems += only_new(rules(checked), problems)
            problems += only_new(references(checked), problems)
        return None, problems
    problems = references(settings)
    return (settings if not problems else None), problems


def salvaged(
    model: type[_Model], document: dict[str, Any], problems: list[SettingProblem], now: dict[str, Any]
) -> _Model | None:
    """The document with each broken setting as it is `now` (or at its default), read without the rules across
    keys (those are already among `problems`), so its references can still be looked up; None if even that fails."""
    mended = copy.deepcopy(document)
    for problem in problems:
        _put_back(mended, problem.field.split("."), now)
    try:
        return model.model_validate(mended, context=WITHOUT_RULES)
    except ValidationError:
        return None


def only_new(found: list[SettingProblem], listed: list[SettingProblem]) -> list[SettingProblem]:
    """`found` without the problems of keys `listed` already names (one problem a key is enough to act on)."""
    keys = {problem.field for problem in listed}
    return [problem for problem in found if problem.field not in keys]


def _put_back(document: dict[str, Any], path: list[str], now: dict[str, Any]) -> None:
    *parents, last = path
    for name in parents:
        inner, now_inner = document.get(name), now.get(name) if isinstance(now, dict) else None
        if not isinstance(inner, dict):
            return
        document, now = inner, now_inner if isinstance(now_inner, dict) else {}
    if isinstance(now, dict) and last in now:
        document[last] = now[last]
    else:
        document.pop(last, None)
