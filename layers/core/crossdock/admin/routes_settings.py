"""A connection's settings: read (with the kind's schema and the versions saved), and save a new version.

A save is `operations.settings.set_settings`, the CLI's `settings set`: the same checks (the model, its rules, every
referenced object looked up in the systems), the same messages by field — here under `settings.`, the field's
place in the request — and the same optimistic concurrency: a save based on a version that is no longer the
current one is a 409, and nothing is written. The version saved then carries who saved it.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from crossdock import registry
from crossdock.admin import audit, tenancy
from crossdock.admin.errors import ERROR_RESPONSES, Invalid, field_errors
from crossdock.admin.models import SettingsSave, SettingsShown, SettingsVersion
from crossdock.operations import settings as settings_ops
from crossdock.store import connections

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@router.get("/admin/connections/<connection_id>/settings", responses=ERROR_RESPONSES)
def show_settings(connection_id: str) -> SettingsShown:
    target, _, connection = tenancy.on_connection(router, connection_id)
    view = settings_ops.show_settings(target, connection_id)
    history = [
        SettingsVersion(version=v["version"], saved_at=v.get("saved_at"), saved_by=v.get("saved_by"))
        for v in connections.list_settings_versions(target.table, connection_id)
    ]
    current = next((v for v in history if v.version == view.version), None)
    return SettingsShown.model_validate(
        {
            "connection_id": view.connection_id,
            "kind": connection.kind,
            "state": view.state,
            "version": view.version,
            "saved_at": view.saved_at,
            "saved_by": current.saved_by if current else None,
            "settings": view.settings,
            "schema": registry.integration(connection.kind).settings_model.model_json_schema(),
            "history": history,
        }
    )


@router.put("/admin/connections/<connection_id>/settings", responses=ERROR_RESPONSES)
def save_settings(connection_id: str, save: SettingsSave) -> settings_ops.SettingsSaved:
    target, caller, _ = tenancy.on_connection(router, connection_id)
    try:
        saved = settings_ops.set_settings(target, connection_id, save.settings, expected_version=save.version)
    except settings_ops.SettingsRefused as refused:
        raise Invalid("the settings were not saved", field_errors(refused.problems, "settings.")) from None
    connections.note_saved_by(target.table, connection_id, saved.version, caller.who)
    changed = "; ".join(saved.changes) or "no setting changed"
    audit.record(target, caller, connection_id, "settings/saved", f"saved settings version {saved.version}: {changed}")
    return saved
