"""A connection's settings as an operator handles them: show, validate, set (SPEC §1.2; issue 13).

`validate` runs the checks a save runs — the settings model and its rules, and every Rackbeat object the settings
name, looked up in the connection's Rackbeat account — and lists every problem at once; nothing is written.
`set` runs the same checks, stores the next version with optimistic concurrency (a save based on a version that is
no longer the stored one is refused, `settings_save.SettingsConflict`), then brings the connection's webhooks and
poll schedules in line (`settings_effects`): that part is the product's, here only called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.rackbeat_shopify import settings_effects, settings_save
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, SettingProblem
from crossdock.integrations.rackbeat_shopify.settings_check import settings_problems_of
from crossdock.operations import stack_access
from crossdock.operations.errors import Refused, Rejected, refusal
from crossdock.operations.settings_input import changes
from crossdock.operations.target import OperatorTarget


class SettingsRefused(Rejected, settings_save.SettingsRejected):  # type: ignore[misc]  # both keep `problems`
    """Settings refused, nothing saved: an operator's refusal that is also the product's own `SettingsRejected`,
    so code written against the save (`settings_save.update_settings`) catches it unchanged."""

    def __init__(self, what: str, problems: list[SettingProblem]) -> None:
        # Neither base's __init__: each would format the message its own way.
        Exception.__init__(self, refusal(what, problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class SettingsView:
    connection_id: str
    state: str
    version: int
    saved_at: str | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class SettingsValidated:
    connection_id: str
    based_on_version: int
    changes: list[str]  # `key: old → new`


@dataclass(frozen=True)
class SettingsSaved:
    connection_id: str
    version: int
    saved_at: str | None
    changes: list[str]
    applied: settings_effects.SettingsApplied = field(default_factory=settings_effects.SettingsApplied)


def show_settings(target: OperatorTarget, connection_id: str) -> SettingsView:
    connection = stack_access.load(target, connection_id)
    return SettingsView(
        connection.id,
        connection.state.value,
        connection.settings_version,
        connection.settings_saved_at,
        connection.settings.model_dump(mode="json"),
    )


def validate_settings(
    target: OperatorTarget, connection_id: str, document: dict[str, Any], *, expected_version: int | None = None
) -> SettingsValidated:
    """Refuses (`Rejected`, every problem) what a save would refuse; writes nothing."""
    current = _current(target, connection_id, expected_version)
    secrets = stack_access.secret_store(target)
    clients = stack_access.connection_clients(target, secrets)
    checked = _checked(target, current, document, clients, "the settings are refused")
    return SettingsValidated(current.id, current.settings_version, _changes(current, checked))


def set_settings(
    target: OperatorTarget, connection_id: str, document: dict[str, Any], *, expected_version: int | None = None
) -> SettingsSaved:
    """Stores `document` as the next version (based on `expected_version`, or on the version read now) and applies
    it; refuses and writes nothing when a check fails or someone saved in between."""
    current = _current(target, connection_id, expected_version)
    secrets = stack_access.secret_store(target)
    clients = stack_access.connection_clients(target, secrets)
    checked = _checked(target, current, document, clients, "the settings were not saved")
    try:
        # The references were looked up just now; the save checks its own rules again, and the version.
        updated = settings_save.update_settings(
            target.table, current.id, document, expected_version=current.settings_version, rackbeat=None
        )
    except settings_save.SettingsRejected as rejected:
        raise SettingsRefused("the settings were not saved", rejected.problems) from None
    except settings_save.SettingsConflict as conflict:
        raise Refused(str(conflict)) from None
    saved = SettingsSaved(updated.id, updated.settings_version, updated.settings_saved_at, _changes(current, checked))
    with stack_access.platform_calls(
        f"settings version {updated.settings_version} is saved, but bringing the webhooks and schedules in line "
        "with it (run `settings set` again without changes to retry)"
    ):
        applied = settings_effects.apply_saved_settings(
            updated,
            clients,
            secrets,
            target.onboard().webhook_base_url,
            stack_access.poll_schedules(target),
        )
    return SettingsSaved(saved.connection_id, saved.version, saved.saved_at, saved.changes, applied)


def _current(target: OperatorTarget, connection_id: str, expected_version: int | None) -> RackbeatShopifyConnection:
    current = stack_access.load(target, connection_id)
    if expected_version is not None and expected_version != current.settings_version:
        raise Refused(str(settings_save.SettingsConflict(current.id, expected_version, current.settings_version)))
    return current


def _checked(
    target: OperatorTarget,
    current: RackbeatShopifyConnection,
    document: dict[str, Any],
    clients: ConnectionClients,
    refusal: str,
) -> RackbeatShopifySettings:
    with stack_access.platform_calls("looking up the settings' references in Rackbeat; nothing was saved"):
        rackbeat = clients.rackbeat(current, paced=False)
        settings, problems = settings_problems_of(document, rackbeat, current, target.table)
    if problems or settings is None:
        raise SettingsRefused(refusal, problems)
    return settings


def _changes(current: RackbeatShopifyConnection, wanted: RackbeatShopifySettings) -> list[str]:
    return changes(current.settings.model_dump(mode="json"), wanted.model_dump(mode="json"))
