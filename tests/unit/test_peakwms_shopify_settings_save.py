"""What a `peakwms_shopify` settings save checks beyond the model (issue 16): `main_shop` stays as installed, and
every Shopify location `locations` names is one of the shop's; and how the CLI draws a setup step's progress."""

from __future__ import annotations

from crossdock.connectors.shopify.locations import ShopLocation
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.integrations.peakwms_shopify.settings_save import check_references, unchanged_problems
from crossdock.operations.guided_setup import StepProgress
from crossdock_local.operator_setup import step_bar, step_line

SHOP = [ShopLocation("71", "Lager", True), ShopLocation("72", "Old shop", False)]


def _settings(**values: object) -> PeakwmsShopifySettings:
    return PeakwmsShopifySettings.model_validate({"shop_name": "Acme", "country": "DK", **values})


def test_main_shop_is_kept_as_installed() -> None:
    # GIVEN the main shop: a save that drops the role is refused naming it, one that keeps it passes
    (problem,) = unchanged_problems(_settings(), _settings(main_shop=False))
    assert problem.field == "main_shop" and "fixed at install" in problem.message
    assert unchanged_problems(_settings(), _settings(use_shopify_pos=True)) == []
    # AND a shop that is not main cannot become it by a save either
    assert [p.field for p in unchanged_problems(_settings(main_shop=False), _settings())] == ["main_shop"]


def test_locations_must_be_the_shops_and_an_inactive_one_counts() -> None:
    wanted = _settings(locations={"71": "Main", "72": "Odense", "99": "Aarhus"})
    (problem,) = check_references(wanted, SHOP)
    assert problem.field == "locations.99"
    assert "71 Lager" in problem.message and "72 Old shop (inactive)" in problem.message  # what it may choose
    # AND without the shop's list (the caller looked already) nothing is asked
    assert check_references(wanted, None) == []


def test_a_steps_bar_shows_its_share_only_once_it_has_counted() -> None:
    counted = StepProgress("fetch_products", "Fetch products", False, "running", done=300, total=1000)
    assert step_bar(counted, width=10) == "[###.......]  30%  300/1000 running"
    uncounted = StepProgress("fetch_products", "Fetch products", False, "running")
    assert step_bar(uncounted, width=10) == "[..........]    -  running"
    done_without_work = StepProgress("messages", "Messages", False, "done")
    assert step_bar(done_without_work, width=10).startswith("[##########] 100%")
    skipped = StepProgress("customs_and_cost", "Customs", True, "skipped", done=2, total=8)
    assert step_bar(skipped, width=10) == "[..........]    -  skipped"
    failed = StepProgress("fetch_products", "Fetch", False, "failed", done=1, total=4, error="PeakWMS said no")
    assert step_line(failed) == "fetch_products failed: 1 of 4; error: PeakWMS said no"
