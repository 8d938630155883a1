"""IAM's evaluation of identity-based policies: what AWS decides for one request of one role.

The rules modelled are IAM's documented ones for a single account without resource policies, permission
boundaries, session policies or SCPs (IAM User Guide, "Policy evaluation logic"):
- a request is denied unless some statement allows it; an explicit Deny in any statement wins over every Allow;
- `Action`/`NotAction` match case-insensitively, `Resource`/`NotResource` case-sensitively, both with the
  wildcards `*` (any run of characters, `:` and `/` included) and `?` (one character);
- every condition operator in a statement's `Condition` must hold (AND), any value of one key may match (OR); a key
  absent from the request does not match (`…IfExists`: it does), except for the negated string operators.

An operator this module does not know makes the policy fail to compile (`UnsupportedPolicy`), loudly and before
anything runs: an unknown condition must never silently allow, nor silently deny a call AWS would allow.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

Effect = Literal["Allow", "Deny"]
# A request's condition context: key (lower case, as IAM compares keys) → its values.
Context = Mapping[str, tuple[str, ...]]


class UnsupportedPolicy(ValueError):
    """A policy uses something the evaluator does not model (an operator, an element): it cannot be trusted."""


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "StringEquals", "ArnLikeIfExists"
    key: str  # lower case
    values: tuple[str, ...]

    def holds(self, context: Context) -> bool:
        base, if_exists = _split_operator(self.operator)
        present = context.get(self.key)
        if base == "Null":
            wants_absent = self.values[0].lower() == "true"
            return (present is None) == wants_absent
        if present is None:
            # A missing key matches nothing, so a negated operator holds (IAM User Guide, "…IfExists").
            return if_exists or base in _NEGATED
        if base in _NEGATED:
            test = _OPERATORS[_NEGATED[base]]
            return not any(test(value, pattern) for value in present for pattern in self.values)
        test = _OPERATORS[base]
        return any(test(value, pattern) for value in present for pattern in self.values)


@dataclass(frozen=True)
class Statement:
    """One statement of a role's policy, compiled; `source` names where it came from (policy name, index)."""

    source: str
    effect: Effect
    actions: tuple[str, ...]  # lower case
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool
    conditions: tuple[Condition, ...] = ()
    managed: bool = False  # from an AWS managed policy, not the template's own

    def applies(self, action: str, resource: str, context: Context) -> bool:
        action_match = any(_matches(pattern, action.lower()) for pattern in self.actions)
        if action_match == self.not_actions:
            return False
        resource_match = any(_matches(pattern, resource) for pattern in self.resources)
        if resource_match == self.not_resources:
            return False
        return all(condition.holds(context) for condition in self.conditions)

    def describe(self) -> str:
        kind = "NotAction" if self.not_actions else "Action"
        return f"{self.source}: {self.effect} {kind} {list(self.actions)} on {list(self.resources)}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool
    allowed_by: tuple[Statement, ...] = field(default=())  # every Allow statement that matched


@dataclass(frozen=True)
class Policies:
    """Every statement of one role (inline and managed policies together: IAM does not rank them)."""

    statements: tuple[Statement, ...]

    def decide(self, action: str, resource: str, context: Context | None = None) -> Decision:
        context = context or {}
        applying = [statement for statement in self.statements if statement.applies(action, resource, context)]
        if any(statement.effect == "Deny" for statement in applying):
            return Decision(allowed=False, explicit_deny=True)
        allows = tuple(statement for statement in applying if statement.effect == "Allow")
        return Decision(allowed=bool(allows), explicit_deny=False, allowed_by=allows)

    def without(self, statement: Statement) -> Policies:
        return Policies(tuple(s for s in self.statements if s is not statement))


def compile_document(source: str, document: Mapping[str, Any], *, managed: bool = False) -> list[Statement]:
    """A policy document's statements; raises `UnsupportedPolicy` for anything not modelled."""
    raw = document.get("Statement", [])
    statements = [raw] if isinstance(raw, dict) else list(raw)
    compiled = []
    for index, statement in enumerate(statements):
        name = f"{source}[{statement.get('Sid', index)}]"
        unknown = set(statement) - {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
        if unknown:
            raise UnsupportedPolicy(f"{name}: {sorted(unknown)} not modelled in an identity-based policy")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise UnsupportedPolicy(f"{name}: Effect must be Allow or Deny, not {statement.get('Effect')!r}")
        if ("Action" in statement) == ("NotAction" in statement):
            raise UnsupportedPolicy(f"{name}: exactly one of Action and NotAction")
        if ("Resource" in statement) == ("NotResource" in statement):
            raise UnsupportedPolicy(f"{name}: exactly one of Resource and NotResource")
        compiled.append(
            Statement(
                source=name,
                effect=statement["Effect"],
                actions=tuple(a.lower() for a in _strings(statement.get("Action", statement.get("NotAction")))),
                not_actions="NotAction" in statement,
                resources=_strings(statement.get("Resource", statement.get("NotResource"))),
                not_resources="NotResource" in statement,
                conditions=_conditions(name, statement.get("Condition", {})),
                managed=managed,
            )
        )
    return compiled


def _conditions(source: str, block: Mapping[str, Any]) -> tuple[Condition, ...]:
    conditions = []
    for operator, keys in block.items():
        if operator.startswith(("ForAnyValue:", "ForAllValues:")):
            raise UnsupportedPolicy(f"{source}: set operator {operator} is not modelled")
        base, _ = _split_operator(operator)
        if base not in _OPERATORS and base not in _NEGATED and base != "Null":
            raise UnsupportedPolicy(f"{source}: condition operator {operator} is not modelled")
        for key, values in keys.items():
            conditions.append(Condition(operator, key.lower(), _strings(values)))
    return tuple(conditions)


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str(item).lower() if isinstance(item, bool) else str(item) for item in items)


def _split_operator(operator: str) -> tuple[str, bool]:
    if operator.endswith("IfExists"):
        return operator[: -len("IfExists")], True
    return operator, False


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    # fnmatch's `[...]` classes are not IAM's: escape them, keep only `*` and `?`.
    escaped = pattern.replace("[", "[[]")
    return re.compile(fnmatch.translate(escaped), re.DOTALL)


def _matches(pattern: str, value: str) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    return _pattern(pattern).match(value) is not None


def _string_like(value: str, pattern: str) -> bool:
    return _matches(pattern, value)


def _arn_like(value: str, pattern: str) -> bool:
    # ArnLike compares each of the six colon-separated parts, wildcards staying within their part.
    value_parts, pattern_parts = value.split(":", 5), pattern.split(":", 5)
    if len(value_parts) != 6 or len(pattern_parts) != 6:
        return False
    return all(_matches(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _bool(value: str, pattern: str) -> bool:
    return value.lower() == pattern.lower()


_OPERATORS = {
    "StringEquals": lambda value, pattern: value == pattern,
    "StringEqualsIgnoreCase": lambda value, pattern: value.lower() == pattern.lower(),
    "StringLike": _string_like,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": _bool,
}
# A negated operator holds when its positive form matches none of the values.
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def all_statements(groups: Iterable[list[Statement]]) -> Policies:
    return Policies(tuple(statement for group in groups for statement in group))
