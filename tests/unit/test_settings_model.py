"""The settings model of a `rackbeat_shopify` connection (SPEC §1.2–1.6): defaults, the rules a save is checked
against without asking Rackbeat, and problems reported under the setting's dotted key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from crossdock.integrations.rackbeat_shopify.settings import (
    RackbeatShopifySettings,
    RackbeatStatus,
    SettingProblem,
    TransferWhen,
    settings_problems,
)

MINIMAL = {"shipping_product_number": "FRAGT"}


def problems_of(settings: dict[str, Any]) -> list[SettingProblem]:
    with pytest.raises(ValidationError) as rejected:
        RackbeatShopifySettings.model_validate(settings)
    return settings_problems(rejected.value)


def only_problem(settings: dict[str, Any]) -> SettingProblem:
    problems = problems_of(settings)
    assert len(problems) == 1, problems
    return problems[0]


def with_tab(tab: str, **values: Any) -> dict[str, Any]:
    return {**MINIMAL, tab: values}


def test_defaults() -> None:
    settings = RackbeatShopifySettings.model_validate(MINIMAL)
    assert settings.initial_sync == "disabled"
    assert (settings.customer_defaults.currency, settings.customer_defaults.language) == ("DKK", "da")
    assert settings.customer_defaults.vat_zone == "domestic"
    assert settings.product_sync.master == "none"
    assert settings.product_sync.online_availability == "always_online"
    assert (settings.stock_sync.enabled, settings.stock_sync.quantity) == (False, "available")
    assert settings.orders.transfer_when is TransferWhen.PAID
    assert settings.orders.rackbeat_status is RackbeatStatus.BOOKED
    assert (settings.orders.unmapped_lines, settings.orders.fallback_product_number) == ("fail", None)
    assert settings.pos.rackbeat_status is RackbeatStatus.INVOICED_AND_SHIPPED
    assert settings.advanced.country_locations == {}


def test_a_full_valid_tab_set_is_accepted() -> None:
    settings = RackbeatShopifySettings.model_validate(
        {
            **MINIMAL,
            "product_sync": {"master": "shopify", "default_product_group": 10, "online_availability": 7},
            "orders": {"unmapped_lines": "fallback", "fallback_product_number": "DIV"},
            "pos": {"customer_number": 100, "rackbeat_location": "L1"},
            "advanced": {"country_locations": {"DK": "L1", "SE": "L2"}},
        }
    )
    # A field id given as a JSON number is kept as text, the way item field values name it.
    assert settings.product_sync.online_availability == "7"


@pytest.mark.parametrize("blank", ["", "   "])
def test_shipping_item_must_not_be_blank(blank: str) -> None:
    problem = only_problem({"shipping_product_number": blank})
    assert problem == SettingProblem("shipping_product_number", "must not be blank")


def test_shipping_item_is_required_and_the_message_says_what_it_is() -> None:
    problem = only_problem({})
    assert problem.field == "shipping_product_number"
    assert problem.message.startswith("is required")
    assert "shipping cost" in problem.message


def test_fallback_lines_need_a_fallback_item() -> None:
    problem = only_problem(with_tab("orders", unmapped_lines="fallback"))
    assert str(problem) == "orders.fallback_product_number: required when orders.unmapped_lines is 'fallback'"


def test_blank_fallback_item_is_refused() -> None:
    problem = only_problem(with_tab("orders", unmapped_lines="fallback", fallback_product_number=" "))
    assert problem == SettingProblem("orders.fallback_product_number", "must not be blank")


def test_shopify_as_product_master_needs_a_product_group() -> None:
    problem = only_problem(with_tab("product_sync", master="shopify"))
    assert str(problem) == "product_sync.default_product_group: required when product_sync.master is 'shopify'"


def test_rackbeat_as_product_master_needs_no_product_group() -> None:
    RackbeatShopifySettings.model_validate(with_tab("product_sync", master="rackbeat"))


@pytest.mark.parametrize("value", ["sometimes", "0", "-3", "7a", "", 0])
def test_online_availability_is_always_online_or_a_field_id(value: Any) -> None:
    problem = only_problem(with_tab("product_sync", online_availability=value))
    assert problem.field == "product_sync.online_availability"
    assert "always_online" in problem.message and "checkbox custom field" in problem.message


def test_online_availability_field_id_is_canonical() -> None:
    settings = RackbeatShopifySettings.model_validate(with_tab("product_sync", online_availability="007"))
    assert settings.product_sync.online_availability == "7"


@pytest.mark.parametrize("country", ["dk", "DNK", "D1", ""])
def test_country_locations_keys_are_iso_alpha_2(country: str) -> None:
    problem = only_problem(with_tab("advanced", country_locations={country: "L1"}))
    assert problem.field == f"advanced.country_locations.{country}"
    assert "ISO 3166 alpha-2" in problem.message


def test_country_locations_values_name_a_location() -> None:
    problem = only_problem(with_tab("advanced", country_locations={"DK": "L1", "SE": " "}))
    assert problem == SettingProblem("advanced.country_locations.SE", "must not be blank")


@pytest.mark.parametrize(
    ("tab", "key"),
    [
        ("pos", "customer_number"),
        ("employees", "web"),
        ("employees", "pos"),
        ("customer_defaults", "customer_group"),
        ("customer_defaults", "layout"),
        ("customer_defaults", "payment_terms"),
        ("product_sync", "default_product_group"),
    ],
)
@pytest.mark.parametrize("number", [0, -1])
def test_rackbeat_numbers_are_positive(tab: str, key: str, number: int) -> None:
    problem = only_problem(with_tab(tab, **{key: number}))
    assert problem == SettingProblem(f"{tab}.{key}", f"must be a positive Rackbeat number, not {number}")


@pytest.mark.parametrize(
    ("tab", "key"),
    [
        ("fulfillment", "rackbeat_location"),
        ("fulfillment", "shopify_location"),
        ("pos", "rackbeat_location"),
        ("advanced", "rounding_product_number"),
        ("customer_defaults", "language"),
    ],
)
def test_named_things_are_not_blank(tab: str, key: str) -> None:
    assert only_problem(with_tab(tab, **{key: ""})) == SettingProblem(f"{tab}.{key}", "must not be blank")


@pytest.mark.parametrize("currency", ["dkk", "DK", "EURO"])
def test_currency_is_an_iso_4217_code(currency: str) -> None:
    problem = only_problem(with_tab("customer_defaults", currency=currency))
    assert problem.field == "customer_defaults.currency"
    assert "ISO 4217" in problem.message


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({**MINIMAL, "colour": "blue"}, "colour"),
        (with_tab("orders", rackbeat_stauts="draft"), "orders.rackbeat_stauts"),
        (with_tab("advanced", country_location={}), "advanced.country_location"),
    ],
)
def test_unknown_keys_are_rejected_by_name(settings: dict[str, Any], field: str) -> None:
    problem = only_problem(settings)
    assert problem.field == field
    assert "not a setting" in problem.message


def test_enumerations_name_the_field() -> None:
    problem = only_problem(with_tab("orders", rackbeat_status="posted"))
    assert problem.field == "orders.rackbeat_status"


def test_every_problem_is_listed_at_once() -> None:
    problems = problems_of(
        {
            "shipping_product_number": " ",
            "colour": "blue",
            "product_sync": {"master": "shopify"},
            "orders": {"unmapped_lines": "fallback"},
            "pos": {"customer_number": 0},
            "advanced": {"country_locations": {"dk": "L1", "SE": ""}},
        }
    )
    assert {problem.field for problem in problems} == {
        "shipping_product_number",
        "colour",
        "product_sync.default_product_group",
        "orders.fallback_product_number",
        "pos.customer_number",
        "advanced.country_locations.dk",
        "advanced.country_locations.SE",
    }


def test_settings_are_frozen() -> None:
    settings = RackbeatShopifySettings.model_validate(MINIMAL)
    with pytest.raises(ValidationError):
        settings.shipping_product_number = "OTHER"  # type: ignore[misc]


def test_reconciliation_defaults() -> None:
    reconciliation = RackbeatShopifySettings.model_validate(MINIMAL).reconciliation
    assert (reconciliation.enabled, reconciliation.interval_minutes, reconciliation.overlap_minutes) == (True, 15, 10)


@pytest.mark.parametrize("interval", [4, 0, -15, 1441])
def test_reconciliation_interval_is_between_5_minutes_and_a_day(interval: int) -> None:
    problem = only_problem(with_tab("reconciliation", interval_minutes=interval, overlap_minutes=0))
    assert problem == SettingProblem(
        "reconciliation.interval_minutes", f"must be between 5 and 1440 minutes, not {interval}"
    )


@pytest.mark.parametrize(("interval", "overlap"), [(5, 0), (5, 4), (1440, 1439), (60, 10)])
def test_reconciliation_window_edges_are_accepted(interval: int, overlap: int) -> None:
    settings = RackbeatShopifySettings.model_validate(
        with_tab("reconciliation", interval_minutes=interval, overlap_minutes=overlap)
    )
    assert (settings.reconciliation.interval_minutes, settings.reconciliation.overlap_minutes) == (interval, overlap)


@pytest.mark.parametrize("overlap", [15, 16])
def test_reconciliation_overlap_is_shorter_than_the_interval(overlap: int) -> None:
    problem = only_problem(with_tab("reconciliation", interval_minutes=15, overlap_minutes=overlap))
    assert problem == SettingProblem(
        "reconciliation.overlap_minutes",
        f"must be shorter than reconciliation.interval_minutes (15), not {overlap}",
    )


def test_a_shorter_interval_alone_names_the_default_overlap_it_collides_with() -> None:
    problem = only_problem(with_tab("reconciliation", interval_minutes=5))
    assert problem.field == "reconciliation.overlap_minutes"
    assert "(5), not 10" in problem.message


def test_reconciliation_overlap_is_not_negative() -> None:
    problem = only_problem(with_tab("reconciliation", overlap_minutes=-1))
    assert problem == SettingProblem("reconciliation.overlap_minutes", "must not be negative, not -1")


def test_reconciliation_can_be_switched_off_and_unknown_keys_are_refused() -> None:
    assert not RackbeatShopifySettings.model_validate(with_tab("reconciliation", enabled=False)).reconciliation.enabled
    problem = only_problem(with_tab("reconciliation", intervall_minutes=30))
    assert problem.field == "reconciliation.intervall_minutes"
    assert "not a setting" in problem.message
