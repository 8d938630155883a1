"""Every problem of a `rackbeat_shopbox` settings document at once: the model's, the rules', and the references'.

pydantic checks the rules across keys only of a document whose values are all valid, and a save looks up the
references only of a valid document, so a document with a wrong type, a broken rule and a missing branch would be
refused three times, one problem at a time. Here the broken values are put back as they are now (or left to their
defaults), the rules across keys are checked on what is left, and its references are looked up, so an operator
gets the whole list from one `settings validate`.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.integrations.rackbeat_shopbox import settings_save
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import (
    WITHOUT_RULES,
    RackbeatShopboxSettings,
    SettingProblem,
)
from crossdock.integrations.rackbeat_shopbox.settings_save import ShopboxCatalog


def settings_problems_of(
    new_settings: dict[str, Any],
    rackbeat: RackbeatClient | None,
    shopbox: ShopboxCatalog | None,
    current: RackbeatShopboxConnection | None = None,
) -> tuple[RackbeatShopboxSettings | None, list[SettingProblem]]:
    """(the settings, if valid; every problem). `current` is the connection the settings are for (its state decides
    whether `initial_sync` may still change), None for a new one; a None client leaves that account unasked."""
    try:
        settings = settings_save.validated(current, new_settings)
    except settings_save.SettingsRejected as rejected:
        problems = list(rejected.problems)
        checked = _salvaged(new_settings, problems, current)
        if checked is not None:
            problems += _new(checked.broken_rules(), problems)
            problems += _new(settings_save.check_references(checked, rackbeat, shopbox), problems)
        return None, problems
    problems = settings_save.check_references(settings, rackbeat, shopbox)
    return (settings if not problems else None), problems


def _salvaged(
    new_settings: dict[str, Any], problems: list[SettingProblem], current: RackbeatShopboxConnection | None
) -> RackbeatShopboxSettings | None:
    """The document with each broken setting as it is now (or at its default), read without the rules across keys
    (those are already in `problems`), for its references to be looked up; None if even that fails."""
    document = copy.deepcopy(new_settings)
    now = current.settings.model_dump(mode="json") if current is not None else {}
    for problem in problems:
        _put_back(document, problem.field.split("."), now)
    try:
        return RackbeatShopboxSettings.model_validate(document, context=WITHOUT_RULES)
    except ValidationError:
        return None


def _new(found: list[SettingProblem], listed: list[SettingProblem]) -> list[SettingProblem]:
    keys = {problem.field for problem in listed}
    return [problem for problem in found if problem.field not in keys]


def _put_back(document: dict[str, Any], path: list[str], now: dict[str, Any]) -> None:
    *parents, last = path
    for name in parents:
        inner, now_inner = document.get(name), now.get(name) if isinstance(now, dict) else None
        if not isinstance(inner, dict):
            return
        document, now = inner, now_inner if isinstance(now_inner, dict) else {}
    if isinstance(now, dict) and last in now:
        document[last] = now[last]
    else:
        document.pop(last, None)
