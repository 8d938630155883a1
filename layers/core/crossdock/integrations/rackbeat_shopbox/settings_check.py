"""Every problem of a `rackbeat_shopbox` settings document at once: the model's, the rules', and the references'.

pydantic checks the rules across keys only of a document whose values are all valid, and a save looks up the
references only of a valid document, so a document with a wrong type, a broken rule and a missing branch would be
refused three times, one problem at a time. Here the broken values are put back as they are now (or left to their
defaults), the rules across keys are checked on what is left, and its references are looked up, so an operator
gets the whole list from one `settings validate`.
"""

from __future__ import annotations

from typing import Any

from crossdock.connections.settings_rules import every_problem
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations.rackbeat_shopbox import settings_save
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings, SettingProblem
from crossdock.integrations.rackbeat_shopbox.settings_save import ShopboxCatalog


def settings_problems_of(
    new_settings: dict[str, Any],
    rackbeat: RackbeatClient | None,
    shopbox: ShopboxCatalog | None,
    current: RackbeatShopboxConnection | None = None,
) -> tuple[RackbeatShopboxSettings | None, list[SettingProblem]]:
    """(the settings, if valid; every problem). `current` is the connection the settings are for (its state decides
    whether `initial_sync` may still change), None for a new one; a None client leaves that account unasked."""
    return every_problem(
        RackbeatShopboxSettings,
        new_settings,
        lambda document: settings_save.validated(current, document),
        lambda checked: checked.broken_rules(),
        lambda checked: settings_save.check_references(checked, rackbeat, shopbox),
        current.settings.model_dump(mode="json") if current is not None else {},
    )
