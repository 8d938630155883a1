"""Saving a `rackbeat_shopbox` connection's settings: validated, checked against both accounts, and versioned.

The versions, their history and the optimistic concurrency are the store's, shared with every kind
(`store.connections.save_settings`, `record_settings_version`, `list_settings_versions`), and so are the refusals
(`SettingsRejected` with every problem, `SettingsConflict` when someone saved in between), so an operator's tools
handle both kinds alike. What is this kind's own: the model, `initial_sync` chosen once, and the references — the
Rackbeat custom fields, locations, product groups, customer and employee, and the Shopbox branches and tags the
settings name, each read once per save.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from crossdock.connections.model import ConnectionState
from crossdock.connections.settings_rules import ConnectionNotFound, SettingsConflict, SettingsRejected
from crossdock.connectors.rackbeat import reference_lists
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.fields import item_fields
from crossdock.connectors.rackbeat.reference_lists import (
    EMPLOYEES,
    LOCATIONS,
    PRODUCT_GROUPS,
    Reference,
    ReferenceList,
)
from crossdock.integrations import settings_versions
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import (
    RackbeatShopboxSettings,
    SettingProblem,
    settings_problems,
)
from crossdock.store import connections

__all__ = [
    "ConnectionNotFound",
    "SettingsConflict",
    "SettingsRejected",
    "ShopboxCatalog",
    "check_references",
    "settings_history",
    "update_settings",
    "validated",
]


class _Branch(Protocol):
    @property
    def uid(self) -> str: ...

    @property
    def name(self) -> str: ...


class _Tag(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str | None: ...


class ShopboxCatalog(Protocol):
    """What a save asks Shopbox (`connectors.shopbox.client.ShopboxClient` is one)."""

    def branches(self) -> Sequence[_Branch]: ...

    def tags(self) -> Sequence[_Tag]: ...


def update_settings(
    table: Any,
    connection_id: str,
    new_settings: dict[str, Any],
    *,
    expected_version: int,
    rackbeat: RackbeatClient | None,
    shopbox: ShopboxCatalog | None,
) -> RackbeatShopboxConnection:
    """Stores `new_settings` as the connection's next settings version and returns the updated connection.

    Without `rackbeat` and `shopbox` the references are not looked up (the caller has just done so). Raises
    `SettingsRejected` with every problem found, or `SettingsConflict`."""
    current = settings_versions.current_for_save(table, connection_id, expected_version, RackbeatShopboxConnection.of)
    settings = validated(current, new_settings)
    problems = check_references(settings, rackbeat, shopbox)
    if problems:
        raise SettingsRejected(problems)
    return settings_versions.save_next_version(table, current, settings, expected_version=expected_version)


def settings_history(table: Any, connection_id: str) -> list[dict[str, Any]]:
    """Every settings version of the connection, oldest first (`version`, `saved_at`, `settings`)."""
    return connections.list_settings_versions(table, connection_id)


def validated(current: RackbeatShopboxConnection | None, new_settings: dict[str, Any]) -> RackbeatShopboxSettings:
    """`new_settings` as the model, or `SettingsRejected` listing every problem of the document alone (types,
    unknown keys, rules, a changed initial sync). `current` None: a connection not created yet."""
    problems: list[SettingProblem] = []
    settings = None
    try:
        settings = RackbeatShopboxSettings.model_validate(new_settings)
    except ValidationError as invalid:
        problems = settings_problems(invalid)
    # SPEC §2: offered once, at install; once the connection has been activated the choice stands, whatever it was.
    if current is not None and current.state is not ConnectionState.INSTALLING:
        wanted = new_settings.get("initial_sync", RackbeatShopboxSettings.model_fields["initial_sync"].default)
        if wanted != current.settings.initial_sync:
            problems.append(
                SettingProblem(
                    "initial_sync",
                    f"can only be chosen when the connection is first activated; it is "
                    f"'{current.settings.initial_sync}' for good",
                )
            )
    if problems or settings is None:
        raise SettingsRejected(problems)
    return settings


# ---- references into the two accounts --------------------------------------------------------------------------


def check_references(
    settings: RackbeatShopboxSettings, rackbeat: RackbeatClient | None, shopbox: ShopboxCatalog | None
) -> list[SettingProblem]:
    """Every object the settings name must exist in its account; one problem per setting naming a missing one.
    Each list is read once, and only when some setting refers to it; the customer is looked up by its number.
    A None client leaves its account's references unchecked."""
    problems = []
    if rackbeat is not None:
        problems += _rackbeat_problems(settings, rackbeat)
    if shopbox is not None:
        problems += _shopbox_problems(settings, shopbox)
    return problems


def _rackbeat_problems(settings: RackbeatShopboxSettings, client: RackbeatClient) -> list[SettingProblem]:
    problems = []
    named_fields = [(key, getattr(settings, key)) for key in ("uid_field_id", "variant_field_id")]
    if any(field_id is not None for _, field_id in named_fields):
        fields = item_fields(client)
        for key, field_id in named_fields:
            if field_id is None:
                continue
            found = fields.get(field_id)
            if found is None:
                problems.append(SettingProblem(key, f"custom item field {field_id} does not exist in Rackbeat"))
            elif not found.holds_text:
                # The field takes the Shopbox UID as text; a number field would drop leading zeros, a checkbox all.
                problems.append(
                    SettingProblem(
                        key, f"custom item field {field_id} ({found.name}) is a {found.type} field, not a text field"
                    )
                )
    problems += [
        SettingProblem(found.key, found.missing_message)
        for found in reference_lists.missing(client, _listed_references(settings))
    ]
    customer = settings.sales.customer_number
    if customer is not None and not reference_lists.exists(client, f"customers/{customer}"):
        problems.append(SettingProblem("sales.customer_number", f"customer {customer} does not exist in Rackbeat"))
    return problems


def _listed_references(settings: RackbeatShopboxSettings) -> Iterator[Reference]:
    """(dotted key, value, list it must be in) for every set setting that names an entry of a Rackbeat list."""
    candidates: list[tuple[str, int | str | None, ReferenceList]] = [
        *((f"locations.{branch}", location, LOCATIONS) for branch, location in settings.locations.items()),
        ("main_location_rackbeat", settings.main_location_rackbeat, LOCATIONS),
        *((f"categories.{tag}", group, PRODUCT_GROUPS) for tag, group in settings.categories.items()),
        ("default_category_group", settings.default_category_group, PRODUCT_GROUPS),
        ("sales.employee_number", settings.sales.employee_number, EMPLOYEES),
    ]
    for key, value, kind in candidates:
        if value is not None:
            yield key, value, kind


def _shopbox_problems(settings: RackbeatShopboxSettings, client: ShopboxCatalog) -> list[SettingProblem]:
    problems = []
    branch_keys = [(f"locations.{uid}", uid) for uid in settings.locations]
    if settings.main_location_shopbox is not None:
        branch_keys.append(("main_location_shopbox", settings.main_location_shopbox))
    if branch_keys:
        branches = {str(branch.uid) for branch in client.branches()}
        problems += [
            SettingProblem(key, f"branch {uid} does not exist in the Shopbox client")
            for key, uid in branch_keys
            if uid not in branches
        ]
    if settings.categories:
        tags = {str(tag.id) for tag in client.tags()}
        problems += [
            SettingProblem(f"categories.{tag}", f"category (tag) {tag} does not exist in the Shopbox client")
            for tag in settings.categories
            if tag not in tags
        ]
    return problems
