"""The settings model of a `rackbeat_shopbox` connection (SPEC §2 and the sales poll): defaults, the rules a save is
checked against without asking Rackbeat or Shopbox, every problem at once under its dotted key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from crossdock.integrations.rackbeat_shopbox.settings import (
    RackbeatShopboxSettings,
    SalesStatus,
    SettingProblem,
    settings_problems,
)
from crossdock.integrations.rackbeat_shopbox.settings_check import settings_problems_of

MINIMAL: dict[str, Any] = {"sales": {"customer_number": 900}}
PRODUCTS_FROM_SHOPBOX: dict[str, Any] = {
    **MINIMAL,
    "product_sync": "shopbox",
    "uid_field_id": 11,
    "variant_field_id": 12,
    "default_category_group": 1,
}


def problems_of(settings: dict[str, Any]) -> list[SettingProblem]:
    with pytest.raises(ValidationError) as rejected:
        RackbeatShopboxSettings.model_validate(settings)
    return settings_problems(rejected.value)


def fields_of(problems: list[SettingProblem]) -> list[str]:
    return [problem.field for problem in problems]


def test_defaults_poll_every_five_minutes_and_book_till_sales_invoiced_and_shipped() -> None:
    # GIVEN only the customer of till sales WHEN read THEN SPEC §2's defaults and the contract's sales section
    settings = RackbeatShopboxSettings.model_validate(MINIMAL)
    assert settings.initial_sync == "none"
    assert settings.product_sync == "off"
    assert settings.create_boms_in_shopbox is False
    assert settings.add_vat is True
    assert settings.locations == {} and settings.categories == {}
    assert (settings.sales.enabled, settings.sales.poll_minutes, settings.sales.overlap_minutes) == (True, 5, 30)
    assert settings.sales.rackbeat_status is SalesStatus.INVOICED_AND_SHIPPED
    assert settings.sales.employee_number is None


def test_uids_from_json_numbers_are_kept_as_text_and_leading_zeros_dropped() -> None:
    # GIVEN Shopbox's uids and Rackbeat's field ids as JSON numbers and padded text
    settings = RackbeatShopboxSettings.model_validate(
        {
            **PRODUCTS_FROM_SHOPBOX,
            "uid_field_id": "011",
            "locations": {55: "L1"},
            "categories": {"0012": 3},
            "main_location_shopbox": 55,
        }
    )
    # THEN they are the text the mapping keys and field values use
    assert settings.uid_field_id == "11"
    assert settings.locations == {"55": "L1"}
    assert settings.categories == {"12": 3}
    assert settings.main_location_shopbox == "55"
    assert settings.rackbeat_location_of("55") == "L1"


def test_an_unmapped_branch_falls_back_to_the_main_rackbeat_location() -> None:
    settings = RackbeatShopboxSettings.model_validate(
        {**MINIMAL, "locations": {"55": "L1"}, "main_location_rackbeat": "L9"}
    )
    assert settings.rackbeat_location_of("56") == "L9"


def test_boms_in_shopbox_only_when_products_go_from_rackbeat() -> None:
    # GIVEN BOMs asked for while products come from Shopbox WHEN validated THEN refused naming the key
    problems = problems_of({**PRODUCTS_FROM_SHOPBOX, "create_boms_in_shopbox": True})
    assert [str(p) for p in problems] == [
        "create_boms_in_shopbox: only applies when product_sync is 'rackbeat' or 'both', not 'shopbox'"
    ]
    # AND with Rackbeat as the source (or both) they are allowed
    for direction in ("rackbeat", "both"):
        allowed = {**PRODUCTS_FROM_SHOPBOX, "product_sync": direction, "create_boms_in_shopbox": True}
        assert RackbeatShopboxSettings.model_validate(allowed).create_boms_in_shopbox


def test_the_customer_of_till_sales_is_required_while_sales_are_transferred() -> None:
    # GIVEN sales on and no customer THEN refused under sales.customer_number
    problems = problems_of({})
    assert fields_of(problems) == ["sales.customer_number"]
    assert "required when sales.enabled is true" in problems[0].message
    # AND with sales off the customer may be left out
    assert RackbeatShopboxSettings.model_validate({"sales": {"enabled": False}}).sales.customer_number is None


@pytest.mark.parametrize(("minutes", "allowed"), [(0, False), (1, True), (5, True), (120, True), (121, False)])
def test_the_poll_runs_every_1_to_120_minutes(minutes: int, allowed: bool) -> None:
    document = {"sales": {"customer_number": 900, "poll_minutes": minutes}}
    if allowed:
        assert RackbeatShopboxSettings.model_validate(document).sales.poll_minutes == minutes
    else:
        assert [str(p) for p in problems_of(document)] == [
            f"sales.poll_minutes: must be between 1 and 120 minutes, not {minutes}"
        ]


def test_the_overlap_reaches_back_at_most_a_day_and_never_forward() -> None:
    for minutes in (-1, 1441):
        document = {"sales": {"customer_number": 900, "overlap_minutes": minutes}}
        assert fields_of(problems_of(document)) == ["sales.overlap_minutes"]


def test_late_cancellations_are_looked_for_1_to_31_days_back() -> None:
    # GIVEN no choice, the daily re-read reaches one day back
    assert RackbeatShopboxSettings.model_validate({"sales": {"customer_number": 900}}).sales.cancellation_days == 1
    # WHEN a week is chosen THEN it is kept, and WHEN 0 or more than a month THEN it is refused naming the key
    week = {"sales": {"customer_number": 900, "cancellation_days": 7}}
    assert RackbeatShopboxSettings.model_validate(week).sales.cancellation_days == 7
    for days in (0, 32):
        document = {"sales": {"customer_number": 900, "cancellation_days": days}}
        assert [str(p) for p in problems_of(document)] == [
            f"sales.cancellation_days: must be between 1 and 31 days, not {days}"
        ]


def test_only_the_five_targets_of_a_till_sale_are_offered() -> None:
    # GIVEN a Shopify target that makes no sense for a sale handed over at the till
    problems = problems_of({"sales": {"customer_number": 900, "rackbeat_status": "ready_to_ship"}})
    assert fields_of(problems) == ["sales.rackbeat_status"]
    for status in SalesStatus:
        document = {"sales": {"customer_number": 900, "rackbeat_status": status.value}}
        assert RackbeatShopboxSettings.model_validate(document).sales.rackbeat_status is status


@pytest.mark.parametrize(
    "moving", [{"product_sync": "rackbeat"}, {"product_sync": "both", "default_category_group": 1}]
)
def test_moving_products_needs_both_custom_fields(moving: dict[str, Any]) -> None:
    # GIVEN products synced without the fields that bind them WHEN validated THEN both keys are named
    problems = problems_of({**MINIMAL, **moving})
    assert fields_of(problems) == ["uid_field_id", "variant_field_id"]
    assert problems[0].message == f"required when product_sync is '{moving['product_sync']}'"


def test_the_initial_sync_needs_the_fields_and_a_product_group() -> None:
    problems = problems_of({**MINIMAL, "initial_sync": "shopbox_to_rackbeat"})
    assert [str(p) for p in problems] == [
        "uid_field_id: required when initial_sync is 'shopbox_to_rackbeat'",
        "variant_field_id: required when initial_sync is 'shopbox_to_rackbeat'",
        "default_category_group: required when initial_sync is 'shopbox_to_rackbeat'",
    ]


def test_products_from_shopbox_need_a_fallback_product_group() -> None:
    document = {**PRODUCTS_FROM_SHOPBOX}
    del document["default_category_group"]
    assert [str(p) for p in problems_of(document)] == [
        "default_category_group: required when product_sync is 'shopbox'"
    ]


def test_one_field_cannot_hold_both_the_product_and_the_variant_uid() -> None:
    problems = problems_of({**PRODUCTS_FROM_SHOPBOX, "variant_field_id": "11"})
    assert fields_of(problems) == ["variant_field_id"]
    assert "another field than uid_field_id (11)" in problems[0].message


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({**MINIMAL, "locations": {"front": "L1"}}, "locations.front"),
        ({**MINIMAL, "locations": {"55": " "}}, "locations.55"),
        ({**MINIMAL, "categories": {"12": 0}}, "categories.12"),
        ({**MINIMAL, "uid_field_id": "abc"}, "uid_field_id"),
        ({**MINIMAL, "main_location_shopbox": "main"}, "main_location_shopbox"),
        ({**MINIMAL, "product_sync": "shopify"}, "product_sync"),
        ({**MINIMAL, "initial_sync": "enabled"}, "initial_sync"),
        ({**MINIMAL, "shipping_product_number": "FRAGT"}, "shipping_product_number"),
        ({"sales": {"customer_number": 900, "interval_minutes": 5}}, "sales.interval_minutes"),
    ],
)
def test_a_wrong_value_or_unknown_key_is_named(document: dict[str, Any], field: str) -> None:
    assert fields_of(problems_of(document)) == [field]


def test_every_problem_of_a_document_is_listed_at_once() -> None:
    # GIVEN a wrong type, a bad map key, a broken sales rule and a broken rule across keys
    document = {
        "add_vat": "maybe",
        "locations": {"front": "L1"},
        "create_boms_in_shopbox": True,
        "sales": {"poll_minutes": 0},
    }
    # WHEN checked as `settings validate` checks (without the accounts)
    settings, problems = settings_problems_of(document, None, None)
    # THEN nothing is accepted and each problem is there once, under its key
    assert settings is None
    assert sorted(fields_of(problems)) == [
        "add_vat",
        "create_boms_in_shopbox",
        "locations.front",
        "sales.customer_number",
        "sales.poll_minutes",
    ]
