"""A `peakwms_shopify` connection's settings through `operations.settings` (validate, set): the model, `main_shop`
fixed at install, and the Shopify locations `locations` names, read from the shop now (PeakWMS lists no warehouses,
so the warehouse names are not looked up: `integrations.peakwms_shopify.settings_save`).

A save changes no webhook: the messages' switches are read when each PeakWMS webhook arrives (a message switched
off is answered and skipped), and the webhooks themselves are the guided setup's (`crossdock setup run`).
"""

from __future__ import annotations

from typing import Any

from crossdock.connections.settings_rules import SettingProblem, SettingsRejected
from crossdock.connectors.shopify.locations import shop_locations
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.peakwms_shopify import settings_save
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.integrations.rackbeat_shopify.settings_effects import SettingsApplied
from crossdock.operations import stack_access

NOTHING_TO_APPLY = "a peakwms_shopify save registers nothing: its webhooks are the guided setup's (`setup show`)"


def checked(
    current: PeakwmsShopifyConnection, document: dict[str, Any], clients: ConnectionClients
) -> tuple[PeakwmsShopifySettings | None, list[SettingProblem]]:
    """(the settings, if valid; every problem): the document's own, then what a save may not change and the
    locations the shop lacks (looked up only for a valid document)."""
    try:
        settings = settings_save.validated(document)
    except SettingsRejected as rejected:
        return None, list(rejected.problems)
    problems = settings_save.unchanged_problems(current.settings, settings)
    if settings.locations:
        with stack_access.platform_calls("reading the shop's locations; nothing was saved"):
            problems += settings_save.check_references(settings, shop_locations(clients.shopify(current)))
    return settings, problems


def save(table: Any, current: PeakwmsShopifyConnection, document: dict[str, Any]) -> PeakwmsShopifyConnection:
    """The next version (the locations were looked up just now; the model and the version are checked again)."""
    return settings_save.update_settings(
        table, current.id, document, expected_version=current.settings_version, locations=None
    )


APPLIED = SettingsApplied(not_applied=NOTHING_TO_APPLY)
