"""The settings of a `peakwms_shopify` connection (SPEC §4, issue 16): the contract's keys and defaults, dotted
sections, every problem at once under its key; and the shop's `web_url`, a storefront URL refused naming it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossdock.integrations.peakwms_shopify.settings import (
    MESSAGES,
    PeakwmsShopifySettings,
    SettingProblem,
    settings_problems,
)
from crossdock.integrations.peakwms_shopify.web_url import shop_domain_of


def _problems(document: dict[str, object]) -> list[SettingProblem]:
    with pytest.raises(ValidationError) as refused:
        PeakwmsShopifySettings.model_validate(document)
    return settings_problems(refused.value)


def test_a_name_and_country_are_enough_and_the_defaults_follow_the_contract() -> None:
    # GIVEN only the required fields
    settings = PeakwmsShopifySettings.model_validate({"shop_name": "AcmeDK", "country": "dk"})
    # THEN the country is upper-cased and SPEC §4's defaults apply
    assert (settings.shop_name, settings.country) == ("AcmeDK", "DK")
    assert settings.main_shop and not settings.create_suppliers_from_vendor and not settings.use_shopify_pos
    assert settings.locations == {} and settings.history.start_date is None
    assert not settings.fulfillment.notify_customer
    # AND the four recommended messages are on, the other three off
    on = {name for name in MESSAGES if getattr(settings.messages, name)}
    assert on == {"stock_adjustments", "ean_updates", "order_packed_capture", "payment_captured"}
    assert set(MESSAGES) - on == {"average_cost_price", "purchase_order_closed", "order_refunded"}


def test_locations_are_keyed_by_the_numeric_shopify_location_id() -> None:
    # GIVEN a location as a number, one as a gid, each to a warehouse
    settings = PeakwmsShopifySettings.model_validate(
        {
            "shop_name": "AcmeDK",
            "country": "DK",
            "locations": {"0071": "Main", "gid://shopify/Location/72": "Odense"},
            "history": {"start_date": "2025-06-01"},
        }
    )
    # THEN both are kept by the number the webhooks name them with
    assert settings.locations == {"71": "Main", "72": "Odense"}
    assert settings.history.start_date is not None and settings.history.start_date.isoformat() == "2025-06-01"


def test_every_broken_key_is_reported_at_once_under_its_dotted_name() -> None:
    # GIVEN a document with a missing name, a bad country, a bad location id, a blank warehouse, a typo in a
    # message and a date that is none
    problems = _problems(
        {
            "country": "Denmark",
            "locations": {"shop-1": "Main", "5": " "},
            "messages": {"stock_adjustment": False},
            "history": {"start_date": "last year"},
        }
    )
    # THEN each problem names its key
    fields = {problem.field for problem in problems}
    assert fields == {
        "shop_name",
        "country",
        "locations.shop-1",
        "locations.5",
        "messages.stock_adjustment",
        "history.start_date",
    }
    assert any("not a setting of a peakwms_shopify" in p.message for p in problems)
    assert any("ISO 3166" in p.message for p in problems)


@pytest.mark.parametrize(
    "typed",
    [
        "acme-dk.myshopify.com",
        "https://acme-dk.myshopify.com",
        "https://Acme-DK.myshopify.com/",
        " acme-dk.myshopify.com/admin ",
    ],
)
def test_the_admin_domain_is_accepted_with_or_without_its_scheme(typed: str) -> None:
    assert shop_domain_of(typed) == "acme-dk.myshopify.com"


@pytest.mark.parametrize("typed", ["https://www.acme.dk", "acme.dk", "https://acme-dk.myshopify.com.evil.io", ""])
def test_a_storefront_url_is_refused_in_words_that_say_what_to_give(typed: str) -> None:
    with pytest.raises(ValueError, match=r"myshopify\.com") as refused:
        shop_domain_of(typed)
    assert "storefront" in str(refused.value) or "empty" in str(refused.value)
