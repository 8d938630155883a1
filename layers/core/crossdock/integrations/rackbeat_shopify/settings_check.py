"""Every problem of a settings document at once: the model's, the rules', and the Rackbeat references'.

Saving checks the model first and the references only of a valid document (`settings_save`), so a document with a
wrong type and a missing location would be refused twice, one problem at a time. Here the references are checked
even then, on the document with the broken settings put back as they are now (or left to their defaults), so an
operator gets the whole list from one `settings validate`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crossdock.connections.settings_rules import only_new, salvaged
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations.rackbeat_shopify import numbering, settings_save
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import (
    RackbeatShopifySettings,
    SettingProblem,
    settings_problems,
)


def settings_problems_of(
    new_settings: dict[str, Any],
    rackbeat: RackbeatClient | None,
    current: RackbeatShopifyConnection | None = None,
    table: Any = None,
) -> tuple[RackbeatShopifySettings | None, list[SettingProblem]]:
    """(the settings, if valid; every problem). `current` is the connection the settings are for (its state
    decides whether `initial_sync` may still change), None for a new one; without `rackbeat` the references are
    not looked up; with `table` (and `current`), the order numbers are held against the other shops on the
    Rackbeat account, as a save does (`numbering`)."""
    settings: RackbeatShopifySettings | None = None
    problems: list[SettingProblem] = []
    try:
        settings = (
            RackbeatShopifySettings.model_validate(new_settings)
            if current is None
            # The save's own rules (initial_sync chosen once), in the save's own words.
            else settings_save.validated(current, new_settings)
        )
    except ValidationError as invalid:
        problems = settings_problems(invalid)
    except settings_save.SettingsRejected as rejected:
        problems = list(rejected.problems)
    if settings is not None and current is not None and table is not None:
        problems += numbering.numbering_clashes(table, current, settings)
    if rackbeat is None:
        return (settings if not problems else None), problems
    # This kind's model has no "types only" reading: its salvaged document must pass its rules too.
    now = current.settings.model_dump(mode="json") if current is not None else {}
    checked = settings or salvaged(RackbeatShopifySettings, new_settings, problems, now)
    if checked is not None:
        problems += only_new(settings_save.check_references(checked, rackbeat), problems)
    return (settings if not problems else None), problems
