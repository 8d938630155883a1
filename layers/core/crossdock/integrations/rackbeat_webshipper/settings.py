"""Settings of a `rackbeat_webshipper` connection: SPEC §3's keys, flat.

Keys are the names SPEC uses; unknown keys are rejected (a typo must not be silently ignored). The types, forms and
rules across keys live here, and every broken rule of a document is reported at once under its key; whether what
the settings name exists in Rackbeat or Webshipper is `settings_save`'s job.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from crossdock.connections.model import Settings

# One problem of a settings document, as every kind reports it (`dotted.key: message`).
from crossdock.integrations.rackbeat_shopify.settings import SettingProblem

RULE = "setting_rule"
SKIP_RULES = "skip_rules"
WITHOUT_RULES = {SKIP_RULES: True}

__all__ = ["WITHOUT_RULES", "RackbeatWebshipperSettings", "SettingProblem", "settings_problems"]


def _rule(reason: str, field: str | None = None) -> PydanticCustomError:
    if field is None:
        return PydanticCustomError(RULE, "{reason}", {"reason": reason})
    return PydanticCustomError(RULE, "{field}: {reason}", {"field": field, "reason": reason})


def _as_text(value: Any) -> Any:
    """Webshipper's ids and Rackbeat's delivery term ids may come as JSON numbers; kept as text, as mappings do."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _id(value: str) -> str:
    if not re.fullmatch(r"[0-9]+", value.strip()) or int(value) == 0:
        raise _rule(f"must be an id (a positive number), not '{value}'")
    return str(int(value))  # "007" and "7" name the same record


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _rule("must not be blank")
    return value.strip()


def _positive(value: int) -> int:
    if value <= 0:
        raise _rule(f"must be a positive Rackbeat number, not {value}")
    return value


Id = Annotated[str, BeforeValidator(_as_text), AfterValidator(_id)]
Text = Annotated[str, BeforeValidator(_as_text), AfterValidator(_not_blank)]
RackbeatNumber = Annotated[int, AfterValidator(_positive)]


class RackbeatWebshipperSettings(Settings):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The Webshipper channel orders from Rackbeat are created in; orders coming back are read from every channel.
    order_channel: Id | None = None
    # Rackbeat delivery term id → Webshipper shipping rate id.
    delivery_term_rates: dict[Id, Id] = Field(default_factory=dict)
    send_addresses: bool = True
    default_payment_terms: RackbeatNumber | None = None
    default_customer_group: RackbeatNumber | None = None
    excluded_customer_groups: list[RackbeatNumber] = Field(default_factory=list)
    # Unset: an order naming an unknown product ends needs_attention; set: the product is created in this group.
    product_group: RackbeatNumber | None = None
    default_employee: RackbeatNumber | None = None
    default_layout: RackbeatNumber | None = None
    default_vat_zone: Literal["domestic", "eu", "abroad"] = "domestic"
    use_product_default_location: bool = True
    default_location: Text | None = None
    order_transfer: Literal["both", "rackbeat_to_webshipper", "webshipper_to_rackbeat"] = "both"
    transfer_when: Literal["order_booked", "shipment_shipped"] = "order_booked"
    line_location_filter: Text = "all"
    # The Rackbeat customer of a Webshipper order whose customer can be neither matched nor created.
    default_customer: RackbeatNumber | None = None
    tracking_to_shopify: bool = True

    @model_validator(mode="after")
    def _rules_across_keys(self, info: ValidationInfo) -> RackbeatWebshipperSettings:
        if info.context and info.context.get(SKIP_RULES):
            return self
        broken = self.broken_rules()
        if broken:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(type=_rule(p.message, p.field), loc=tuple(p.field.split(".")), input=None)
                    for p in broken
                ],
            )
        return self

    def broken_rules(self) -> list[SettingProblem]:
        """Every rule across keys the settings break, all at once."""
        broken: list[SettingProblem] = []
        # Orders sent to Webshipper need a channel to land in; guessing one would mix them into a shop's channel.
        if self.order_transfer != "webshipper_to_rackbeat" and self.order_channel is None:
            broken.append(SettingProblem("order_channel", f"required when order_transfer is '{self.order_transfer}'"))
        if not self.use_product_default_location and self.default_location is None:
            broken.append(SettingProblem("default_location", "required when use_product_default_location is false"))
        if self.default_customer_group is not None and self.default_customer_group in self.excluded_customer_groups:
            broken.append(
                SettingProblem(
                    "excluded_customer_groups",
                    f"must not hold default_customer_group ({self.default_customer_group}): the customers created "
                    "from Webshipper would never be transferred",
                )
            )
        return broken


def settings_problems(error: ValidationError) -> list[SettingProblem]:
    """Every problem pydantic found, each under the setting's dotted key, in the words an operator needs."""
    problems = []
    for found in error.errors():
        context = found.get("ctx") or {}
        path = ".".join(str(part) for part in found["loc"] if part != "[key]")
        field = str(context.get("field") or path or "settings")
        if found["type"] == RULE:
            message = str(context["reason"])
        elif found["type"] == "extra_forbidden":
            message = "is not a setting of a rackbeat_webshipper connection (check the spelling)"
        else:
            message = found["msg"]
        problems.append(SettingProblem(field, message))
    return problems
