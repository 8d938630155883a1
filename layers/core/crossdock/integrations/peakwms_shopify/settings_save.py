"""Saving a `peakwms_shopify` connection's settings: validated, checked against the shop, and versioned.

The versions, their history and the optimistic concurrency are every kind's (`integrations.settings_versions`), and
so are the refusals (`SettingsRejected` with every problem, `SettingsConflict` when someone saved in between). What
is this kind's own:

- every key of `locations` must be one of the shop's locations (read from Shopify: `connectors.shopify.locations`).
  The warehouse each maps to is not looked up: PeakWMS's integration API has no warehouse list
  (reference/peakwms.md), so a misspelt warehouse shows when PeakWMS refuses the first order sent to it;
- `main_shop` is fixed at install: PeakWMS's products are keyed by the main shop's product and variant ids, so
  moving the role to another shop (or dropping it) would leave every product in PeakWMS under ids no shop has.
  Changing it is refused naming the key (docs/peakwms.md "Settings").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from crossdock.connections.settings_rules import ConnectionNotFound, SettingsConflict, SettingsRejected
from crossdock.connectors.shopify.locations import ShopLocation
from crossdock.integrations import settings_versions
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import (
    PeakwmsShopifySettings,
    SettingProblem,
    settings_problems,
)
from crossdock.store import connections

__all__ = [
    "ConnectionNotFound",
    "SettingsConflict",
    "SettingsRejected",
    "check_references",
    "settings_history",
    "update_settings",
    "validated",
]

MAIN_SHOP = "main_shop"


def update_settings(
    table: Any,
    connection_id: str,
    new_settings: dict[str, Any],
    *,
    expected_version: int,
    locations: Sequence[ShopLocation] | None,
) -> PeakwmsShopifyConnection:
    """Stores `new_settings` as the connection's next settings version and returns the updated connection.

    `locations` are the shop's (None: not looked up, the caller has just done so). Raises `SettingsRejected` with
    every problem found, or `SettingsConflict`."""
    current = settings_versions.current_for_save(table, connection_id, expected_version, PeakwmsShopifyConnection.of)
    settings = validated(new_settings)
    problems = unchanged_problems(current.settings, settings) + check_references(settings, locations)
    if problems:
        raise SettingsRejected(problems)
    return settings_versions.save_next_version(table, current, settings, expected_version=expected_version)


def settings_history(table: Any, connection_id: str) -> list[dict[str, Any]]:
    """Every settings version of the connection, oldest first (`version`, `saved_at`, `settings`)."""
    return connections.list_settings_versions(table, connection_id)


def validated(new_settings: dict[str, Any]) -> PeakwmsShopifySettings:
    """`new_settings` as the model, or `SettingsRejected` listing every problem of the document alone."""
    try:
        return PeakwmsShopifySettings.model_validate(new_settings)
    except ValidationError as invalid:
        raise SettingsRejected(settings_problems(invalid)) from None


def unchanged_problems(current: PeakwmsShopifySettings, wanted: PeakwmsShopifySettings) -> list[SettingProblem]:
    """What a save may not change once the connection is installed."""
    if current.main_shop == wanted.main_shop:
        return []
    role = "the main shop" if current.main_shop else "not the main shop"
    return [
        SettingProblem(
            MAIN_SHOP,
            f"is fixed at install (this shop is {role} of its PeakWMS account): PeakWMS's products are keyed by "
            "the main shop's product ids",
        )
    ]


def check_references(
    settings: PeakwmsShopifySettings, locations: Sequence[ShopLocation] | None
) -> list[SettingProblem]:
    """Every Shopify location `locations` names must be one of the shop's; one problem per unknown one. None leaves
    the shop unasked."""
    if locations is None or not settings.locations:
        return []
    known = {location.id for location in locations}
    offered = ", ".join(str(location) for location in locations) or "none"
    return [
        SettingProblem(f"locations.{location_id}", f"the shop has no location {location_id} (it has: {offered})")
        for location_id in settings.locations
        if location_id not in known
    ]
