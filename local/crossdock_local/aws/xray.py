"""X-Ray sampling rules as the embedded runtime knows them: checked against the API's limits, never applied (the
embedded stack traces nothing). Limits from X-Ray's `SamplingRule` reference."""

from __future__ import annotations

from typing import Any

# The string fields of a rule (all required) and their largest lengths.
_TEXT_FIELDS: dict[str, int] = {
    "RuleName": 32,
    "ResourceARN": 500,
    "ServiceName": 64,
    "ServiceType": 64,
    "Host": 64,
    "HTTPMethod": 10,
    "URLPath": 128,
}


def xray_rule_problems(rule: dict[str, Any]) -> list[str]:
    """What X-Ray would refuse in `rule`, one message per field; empty when it is acceptable."""
    problems = []
    for name, longest in _TEXT_FIELDS.items():
        value = rule.get(name)
        if not isinstance(value, str) or not value:
            problems.append(f"SamplingRule.{name} is required")
        elif len(value) > longest:
            problems.append(f"SamplingRule.{name} is longer than {longest} characters")
    number_checks = (("FixedRate", 0.0, 1.0), ("Priority", 1, 9999), ("ReservoirSize", 0, None), ("Version", 1, 1))
    for name, least, most in number_checks:
        try:
            value = float(rule[name])
        except (KeyError, TypeError, ValueError):
            problems.append(f"SamplingRule.{name} must be a number")
            continue
        if value < least or (most is not None and value > most):
            bounds = f"{least}–{most}" if most is not None else f"at least {least}"
            problems.append(f"SamplingRule.{name} must be {bounds}, not {rule[name]}")
    return problems
