"""`PUT /_control/rules`: a simulator's guesses (a dataclass of switches) changed over HTTP, all or nothing.

Shared because the switches are checked the same way everywhere: a pydantic model with every field optional and
unknown ones forbidden; a refused body is 400 with `errors` naming each field (as `PUT /_control/faults` answers)
and nothing changes. `field_errors` is that naming, for a system that answers the refusal in its own body.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from crossdock_local.sims.base.http import SimResponse, json_response


def field_errors(invalid: ValidationError) -> dict[str, str]:
    """Each refused field (dotted path) → why."""
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in invalid.errors(include_url=False)}


def put_rules(rules: Any, update: type[BaseModel], body: Any) -> SimResponse:
    """Set the rules `body` names (validated by `update`); answers every rule `update` may set, as it is now."""
    try:
        chosen = update.model_validate(body)
    except ValidationError as invalid:
        return json_response(400, {"message": "invalid rules", "errors": field_errors(invalid)})
    for name, value in chosen.model_dump(exclude_none=True).items():
        setattr(rules, name, value)
    return json_response(200, {name: getattr(rules, name) for name in update.model_fields})
