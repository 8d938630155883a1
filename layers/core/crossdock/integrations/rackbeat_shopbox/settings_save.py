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
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.client import NotFound, RackbeatClient
from crossdock.connectors.rackbeat.fields import item_fields
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import (
    RackbeatShopboxSettings,
    SettingProblem,
    settings_problems,
)
from crossdock.integrations.rackbeat_shopify.settings_save import ConnectionNotFound, SettingsConflict, SettingsRejected
from crossdock.store import connections
from crossdock.store.events import received_stamp

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
    loaded = connections.load_connection(table, connection_id)
    if loaded is None:
        raise ConnectionNotFound(connection_id)
    current = RackbeatShopboxConnection.of(loaded)
    if current.settings_version != expected_version:
        # Checked again by the write itself; failing here spares the calls of a save that cannot succeed.
        raise SettingsConflict(connection_id, expected_version, current.settings_version)
    settings = validated(current, new_settings)
    problems = check_references(settings, rackbeat, shopbox)
    if problems:
        raise SettingsRejected(problems)
    saved_at = received_stamp()
    updated = current.model_copy(
        update={"settings": settings, "settings_version": expected_version + 1, "settings_saved_at": saved_at}
    )
    connections.record_settings_version(table, current, saved_at=current.settings_saved_at)
    if not connections.save_settings(table, updated, expected_version=expected_version, saved_at=saved_at):
        stored = connections.load_connection(table, connection_id)
        raise SettingsConflict(connection_id, expected_version, stored.settings_version if stored else None)
    return updated


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


@dataclass(frozen=True)
class _Listed:
    """A Rackbeat list whose entries settings refer to, and the key the settings use for them."""

    path: str
    plural: str
    noun: str


PRODUCT_GROUPS = _Listed("product-groups", "product_groups", "product group")
LOCATIONS = _Listed("locations", "locations", "location")
EMPLOYEES = _Listed("employees", "employees", "employee")


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
    listed = list(_listed_references(settings))
    entries = {kind: _numbers(client, kind) for kind in dict.fromkeys(kind for _, _, kind in listed)}
    problems += [
        SettingProblem(key, f"{kind.noun} {value} does not exist in Rackbeat")
        for key, value, kind in listed
        if str(value) not in entries[kind]
    ]
    customer = settings.sales.customer_number
    if customer is not None and not _exists(client, f"customers/{customer}"):
        problems.append(SettingProblem("sales.customer_number", f"customer {customer} does not exist in Rackbeat"))
    return problems


def _listed_references(settings: RackbeatShopboxSettings) -> Iterator[tuple[str, int | str, _Listed]]:
    """(dotted key, value, list it must be in) for every set setting that names an entry of a Rackbeat list."""
    candidates: list[tuple[str, int | str | None, _Listed]] = [
        *((f"locations.{branch}", location, LOCATIONS) for branch, location in settings.locations.items()),
        ("main_location_rackbeat", settings.main_location_rackbeat, LOCATIONS),
        *((f"categories.{tag}", group, PRODUCT_GROUPS) for tag, group in settings.categories.items()),
        ("default_category_group", settings.default_category_group, PRODUCT_GROUPS),
        ("sales.employee_number", settings.sales.employee_number, EMPLOYEES),
    ]
    for key, value, kind in candidates:
        if value is not None:
            yield key, value, kind


def _numbers(client: RackbeatClient, kind: _Listed) -> set[str]:
    """The list's numbers as text: reference data comes keyed by number, some of it numeric, some not."""
    return {str(row["number"]) for row in client.iterate(kind.path, kind.plural) if row.get("number") is not None}


def _exists(client: RackbeatClient, path: str) -> bool:
    try:
        client.get(path)
    except NotFound:
        return False
    return True


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
