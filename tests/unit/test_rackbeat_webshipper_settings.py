"""The settings of a `rackbeat_webshipper` connection (SPEC §3): types, forms and rules across keys, every
problem of a document at once, under its key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossdock.integrations.rackbeat_webshipper.settings import (
    WITHOUT_RULES,
    RackbeatWebshipperSettings,
    SettingProblem,
    settings_problems,
)


def _problems(document: dict[str, object]) -> list[SettingProblem]:
    with pytest.raises(ValidationError) as refused:
        RackbeatWebshipperSettings.model_validate(document)
    return settings_problems(refused.value)


def test_a_channel_alone_is_enough_and_defaults_follow_spec() -> None:
    # GIVEN only the Webshipper channel, as a JSON number
    settings = RackbeatWebshipperSettings.model_validate({"order_channel": 7, "delivery_term_rates": {"3": 12}})
    # THEN ids are kept as text and SPEC §3's defaults apply
    assert settings.order_channel == "7"
    assert settings.delivery_term_rates == {"3": "12"}
    assert settings.send_addresses and settings.use_product_default_location and settings.tracking_to_shopify
    assert (settings.order_transfer, settings.transfer_when, settings.default_vat_zone) == (
        "both",
        "order_booked",
        "domestic",
    )
    assert settings.line_location_filter == "all"


def test_every_broken_form_is_reported_at_once_under_its_key() -> None:
    # GIVEN a document with a bad id, a non-positive number, a bad literal and an unknown key
    problems = _problems(
        {
            "order_channel": "abc",
            "default_payment_terms": 0,
            "transfer_when": "whenever",
            "delivery_term_rate": {},
        }
    )
    # THEN each is named by its key
    fields = {problem.field for problem in problems}
    assert fields == {"order_channel", "default_payment_terms", "transfer_when", "delivery_term_rate"}
    assert any("not a setting of a rackbeat_webshipper" in p.message for p in problems)


def test_rules_across_keys_are_listed_together() -> None:
    # GIVEN orders sent to Webshipper without a channel, a fixed location without one, and the default group excluded
    problems = _problems(
        {"use_product_default_location": False, "default_customer_group": 2, "excluded_customer_groups": [2, 5]}
    )
    # THEN all three rules are reported, each at its key
    assert {p.field for p in problems} == {"order_channel", "default_location", "excluded_customer_groups"}


def test_no_channel_is_needed_when_orders_only_come_from_webshipper() -> None:
    settings = RackbeatWebshipperSettings.model_validate({"order_transfer": "webshipper_to_rackbeat"})
    assert settings.order_channel is None


def test_without_rules_only_types_and_forms_are_checked() -> None:
    # GIVEN a document that breaks a rule across keys WHEN validated without rules THEN it is read (for look-ups)
    settings = RackbeatWebshipperSettings.model_validate({"use_product_default_location": False}, context=WITHOUT_RULES)
    assert settings.default_location is None
