"""A connection's settings as an operator handles them: show, validate, set (SPEC §1.2; issue 13).

`validate` runs the checks a save runs — the settings model and its rules, and every Rackbeat object the settings
name, looked up in the connection's Rackbeat account — and lists every problem at once; nothing is written.
`set` runs the same checks, stores the next version with optimistic concurrency (a save based on a version that is
no longer the stored one is refused, `settings_save.SettingsConflict`), then brings the connection's webhooks and
poll schedules in line (`settings_effects`): that part is the product's, here only called.

Each kind brings its own checks, save and effects; a `rackbeat_shopbox` connection's references are looked up in
Rackbeat and Shopbox, and its save moves its poll schedules (or, while it is still installing, activates it:
`integrations.rackbeat_shopbox.activation`); a `rackbeat_webshipper` connection's in Rackbeat and Webshipper, and its
save registers the webhooks the new settings need in both (or activates it: `rackbeat_webshipper.activation`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from crossdock.connections.model import Connection
from crossdock.connections.settings_rules import SettingsConflict, SettingsRejected
from crossdock.integrations.clients import ConnectionClients
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.integrations.rackbeat_shopbox import activation as shopbox_activation
from crossdock.integrations.rackbeat_shopbox import settings_check as shopbox_check
from crossdock.integrations.rackbeat_shopbox import settings_save as shopbox_save
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.integrations.rackbeat_shopify import settings_effects, settings_save
from crossdock.integrations.rackbeat_shopify.settings import RackbeatShopifySettings, SettingProblem
from crossdock.integrations.rackbeat_shopify.settings_check import settings_problems_of
from crossdock.integrations.rackbeat_webshipper import activation as webshipper_activation
from crossdock.integrations.rackbeat_webshipper import settings_check as webshipper_check
from crossdock.integrations.rackbeat_webshipper import settings_save as webshipper_save
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.install import ConnectorCatalog
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.operations import peakwms_settings, stack_access
from crossdock.operations import shopbox_activation as shopbox_follow_up
from crossdock.operations.errors import Refused, Rejected, refusal
from crossdock.operations.settings_input import changes
from crossdock.operations.stack_access import OnboardedConnection
from crossdock.operations.target import OperatorTarget

# What a save set in motion: the Shopify kind's webhooks and schedules, the Shopbox kind's schedules, or the
# Webshipper kind's webhooks in both systems.
Applied = settings_effects.SettingsApplied | shopbox_activation.Applied | webshipper_activation.Applied
# A kind's settings, checked.
CheckedSettings = (
    RackbeatShopifySettings | RackbeatShopboxSettings | RackbeatWebshipperSettings | PeakwmsShopifySettings
)


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
    applied: Applied = field(default_factory=settings_effects.SettingsApplied)


def show_settings(target: OperatorTarget, connection_id: str) -> SettingsView:
    connection = stack_access.load_onboarded(target, connection_id)
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
    if isinstance(current, RackbeatShopboxConnection):
        return _set_shopbox(target, current, document, checked)
    if isinstance(current, RackbeatWebshipperConnection):
        return _set_webshipper(target, current, document, checked)
    if isinstance(current, PeakwmsShopifyConnection):
        return _set_peakwms(target, current, document, checked)
    # The references were looked up just now; the save checks its own rules again, and the version.
    updated = _saved(
        lambda: settings_save.update_settings(
            target.table, current.id, document, expected_version=current.settings_version, rackbeat=None
        )
    )
    saved = SettingsSaved(updated.id, updated.settings_version, updated.settings_saved_at, _changes(current, checked))
    with stack_access.platform_calls(_saved_but(updated, "bringing the webhooks and schedules in line with it")):
        applied = settings_effects.apply_saved_settings(
            updated,
            clients,
            secrets,
            target.onboard().webhook_base_url,
            stack_access.poll_schedules(target),
            target.table,
        )
    return SettingsSaved(saved.connection_id, saved.version, saved.saved_at, saved.changes, applied)


def _set_shopbox(
    target: OperatorTarget,
    current: RackbeatShopboxConnection,
    document: dict[str, Any],
    checked: CheckedSettings,
) -> SettingsSaved:
    # Both accounts' references were looked up just now; the save checks its own rules again, and the version.
    updated = _saved(
        lambda: shopbox_save.update_settings(
            target.table, current.id, document, expected_version=current.settings_version, rackbeat=None, shopbox=None
        )
    )
    with stack_access.platform_calls(_saved_but(updated, _activating(current, "moving its poll schedules"))):
        applied = shopbox_activation.apply_saved_settings(target.table, updated, stack_access.poll_schedules(target))
    applied = shopbox_follow_up.follow_up(target, updated, applied)
    return SettingsSaved(
        updated.id, updated.settings_version, updated.settings_saved_at, _changes(current, checked), applied
    )


def _set_webshipper(
    target: OperatorTarget,
    current: RackbeatWebshipperConnection,
    document: dict[str, Any],
    checked: CheckedSettings,
) -> SettingsSaved:
    # Both accounts' references were looked up just now; the save checks its own rules again, and the version.
    updated = _saved(
        lambda: webshipper_save.update_settings(
            target.table,
            current.id,
            document,
            expected_version=current.settings_version,
            rackbeat=None,
            webshipper=None,
        )
    )
    secrets = stack_access.secret_store(target)
    doing = _activating(current, "registering its webhooks and poll schedule")
    with stack_access.platform_calls(_saved_but(updated, doing)):
        applied = webshipper_activation.apply_saved_settings(
            target.table,
            updated,
            stack_access.connection_clients(target, secrets),
            secrets,
            target.onboard().webhook_base_url,
            stack_access.poll_schedules(target),
        )
    return SettingsSaved(
        updated.id, updated.settings_version, updated.settings_saved_at, _changes(current, checked), applied
    )


def _set_peakwms(
    target: OperatorTarget, current: PeakwmsShopifyConnection, document: dict[str, Any], checked: CheckedSettings
) -> SettingsSaved:
    updated = _saved(lambda: peakwms_settings.save(target.table, current, document))
    changed = _changes(current, checked)
    return SettingsSaved(
        updated.id, updated.settings_version, updated.settings_saved_at, changed, peakwms_settings.APPLIED
    )


_Saved = TypeVar("_Saved", bound=Connection)


def _saved(save: Callable[[], _Saved]) -> _Saved:
    """The kind's save, its refusals as the operator's (every kind's save raises the shared ones)."""
    try:
        return save()
    except SettingsRejected as rejected:
        raise SettingsRefused("the settings were not saved", rejected.problems) from None
    except SettingsConflict as conflict:
        raise Refused(str(conflict)) from None


def _saved_but(updated: Connection, doing: str) -> str:
    retry = "run `settings set` again without changes to retry"
    return f"settings version {updated.settings_version} is saved, but {doing} ({retry})"


def _activating(current: Connection, otherwise: str) -> str:
    return "activating the connection" if current.state.value == "installing" else otherwise


def _current(target: OperatorTarget, connection_id: str, expected_version: int | None) -> OnboardedConnection:
    current = stack_access.load_onboarded(target, connection_id)
    if expected_version is not None and expected_version != current.settings_version:
        raise Refused(str(settings_save.SettingsConflict(current.id, expected_version, current.settings_version)))
    return current


def _checked(
    target: OperatorTarget,
    current: OnboardedConnection,
    document: dict[str, Any],
    clients: ConnectionClients,
    refusal: str,
) -> CheckedSettings:
    settings: CheckedSettings | None
    if isinstance(current, PeakwmsShopifyConnection):
        settings, problems = peakwms_settings.checked(current, document, clients)
    elif isinstance(current, RackbeatWebshipperConnection):
        with stack_access.platform_calls(
            "looking up the settings' references in Rackbeat and Webshipper; nothing was saved"
        ):
            settings, problems = webshipper_check.settings_problems_of(
                document,
                clients.rackbeat(current, paced=False),
                ConnectorCatalog(clients.webshipper(current)),
                current,
            )
    elif isinstance(current, RackbeatShopboxConnection):
        with stack_access.platform_calls(
            "looking up the settings' references in Rackbeat and Shopbox; nothing was saved"
        ):
            settings, problems = shopbox_check.settings_problems_of(
                document, clients.rackbeat(current, paced=False), clients.shopbox(current), current
            )
    else:
        with stack_access.platform_calls("looking up the settings' references in Rackbeat; nothing was saved"):
            rackbeat = clients.rackbeat(current, paced=False)
            settings, problems = settings_problems_of(document, rackbeat, current, target.table)
    if problems or settings is None:
        raise SettingsRefused(refusal, problems)
    return settings


def _changes(current: OnboardedConnection, wanted: CheckedSettings) -> list[str]:
    return changes(current.settings.model_dump(mode="json"), wanted.model_dump(mode="json"))
