"""Reading a control call's JSON body into a strict pydantic model: an unknown field or a bad value is refused with
PeakWMS's 400 naming the field, before anything changes."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from crossdock_local.sims.peakwms.wire import invalid

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def parsed(model: type[M], body: object) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as bad:
        first = bad.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise invalid(where, first["msg"]) from None
