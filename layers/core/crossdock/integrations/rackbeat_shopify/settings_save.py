"""Saving a connection's settings: validated, checked against the Rackbeat account, and versioned.

A save applies to events taken up after it: dispatch hands each order workflow the settings in force at that moment
(with their `settings_version`), so orders already under way finish as they started. Every version is kept in the
connection's history with the moment it was saved, so an operator can tell which settings an event met.

Two people saving at once cannot overwrite each other: a save names the version it was based on and is refused with
`SettingsConflict` when another save came in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from crossdock.connections.model import ConnectionState

# The refusals every kind's save raises, kept importable from here.
from crossdock.connections.settings_rules import ConnectionNotFound as ConnectionNotFound
from crossdock.connections.settings_rules import SettingsConflict as SettingsConflict
from crossdock.connections.settings_rules import SettingsRejected as SettingsRejected
from crossdock.connectors.rackbeat import reference_lists
from crossdock.connectors.rackbeat.client import RackbeatClient, item_path
from crossdock.connectors.rackbeat.reference_lists import (
    CUSTOMER_GROUPS,
    EMPLOYEES,
    ITEM_FIELDS,
    LAYOUTS,
    LOCATIONS,
    PAYMENT_TERMS,
    PRODUCT_GROUPS,
    Reference,
    ReferenceList,
)
from crossdock.integrations import settings_versions
from crossdock.integrations.rackbeat_shopify import numbering
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.settings import (
    ALWAYS_ONLINE,
    RackbeatShopifySettings,
    SettingProblem,
    settings_problems,
)
from crossdock.store import connections

CHECKBOX = "checkbox"


def update_settings(
    table: Any,
    connection_id: str,
    new_settings: dict[str, Any],
    *,
    expected_version: int,
    rackbeat: RackbeatClient | None,
) -> RackbeatShopifyConnection:
    """Stores `new_settings` as the connection's next settings version and returns the updated connection.

    `rackbeat` is None where the account cannot be asked yet (while installing); the references are then checked
    at the next save. Raises `SettingsRejected` with every problem found, or `SettingsConflict`.
    """
    current = settings_versions.current_for_save(table, connection_id, expected_version, RackbeatShopifyConnection.of)
    settings = validated(current, new_settings)
    problems = numbering.numbering_clashes(table, current, settings)
    if rackbeat is not None:
        problems += check_references(settings, rackbeat)
    if problems:
        raise SettingsRejected(problems)
    return settings_versions.save_next_version(table, current, settings, expected_version=expected_version)


def settings_history(table: Any, connection_id: str) -> list[dict[str, Any]]:
    """Every settings version of the connection, oldest first: `version`, `saved_at` (in the event log's stamp
    format, so it compares directly with an event's `received_at`; None for a first version saved before history
    was kept) and `settings`."""
    return connections.list_settings_versions(table, connection_id)


def validated(current: RackbeatShopifyConnection, new_settings: dict[str, Any]) -> RackbeatShopifySettings:
    """`new_settings` as the model, or `SettingsRejected` listing every problem of the document alone (types,
    unknown keys, a changed initial sync) — the checks a save and `settings validate` share before Rackbeat's."""
    problems: list[SettingProblem] = []
    settings = None
    try:
        settings = RackbeatShopifySettings.model_validate(new_settings)
    except ValidationError as invalid:
        problems = settings_problems(invalid)
    wanted_initial_sync = new_settings.get("initial_sync", RackbeatShopifySettings.model_fields["initial_sync"].default)
    # SPEC §1.2: the initial sync is chosen once, when the connection is first activated.
    if current.state is not ConnectionState.INSTALLING and wanted_initial_sync != current.settings.initial_sync:
        problems.append(SettingProblem("initial_sync", "can only be chosen when the connection is first activated"))
    if problems or settings is None:
        raise SettingsRejected(problems)
    return settings


# ---- references into the Rackbeat account ----------------------------------------------------------------------


def check_references(settings: RackbeatShopifySettings, client: RackbeatClient) -> list[SettingProblem]:
    """Every Rackbeat object the settings name must exist in the account; one problem per setting that names a
    missing one. Each list is read once (and only the lists some setting refers to); items and the POS and guest
    customers are looked up one by one, as those lists can be long."""
    problems = []
    for found in reference_lists.look_up(client, _listed_references(settings)):
        field, value, kind, entry = found.key, found.value, found.kind, found.entry
        if entry is None:
            problems.append(SettingProblem(field, found.missing_message))
        elif kind is ITEM_FIELDS and entry.get("type", CHECKBOX) != CHECKBOX:
            # Only a ticked checkbox says "publish"; the list may not say the type, and then it is taken on trust.
            problems.append(SettingProblem(field, f"{kind.noun} {value} is a {entry['type']} field, not a checkbox"))
    customers = (
        ("pos.customer_number", settings.pos.customer_number),
        ("customer_defaults.guest_customer_number", settings.customer_defaults.guest_customer_number),
    )
    for field, customer in customers:
        if customer is not None and not reference_lists.exists(client, f"customers/{customer}"):
            problems.append(SettingProblem(field, f"customer {customer} does not exist in Rackbeat"))
    for field, number in _item_references(settings):
        if not reference_lists.exists(client, f"products/{item_path(number)}"):
            problems.append(SettingProblem(field, f"item {number} does not exist in Rackbeat"))
    return problems


def _listed_references(settings: RackbeatShopifySettings) -> Iterator[Reference]:
    """(dotted key, value, list it must be in) for every set setting that names an entry of a Rackbeat list."""
    defaults = settings.customer_defaults
    availability = settings.product_sync.online_availability
    field_id = None if availability == ALWAYS_ONLINE else availability
    candidates: list[tuple[str, int | str | None, ReferenceList]] = [
        ("customer_defaults.customer_group", defaults.customer_group, CUSTOMER_GROUPS),
        ("customer_defaults.layout", defaults.layout, LAYOUTS),
        ("customer_defaults.payment_terms", defaults.payment_terms, PAYMENT_TERMS),
        ("employees.web", settings.employees.web, EMPLOYEES),
        ("employees.pos", settings.employees.pos, EMPLOYEES),
        ("product_sync.default_product_group", settings.product_sync.default_product_group, PRODUCT_GROUPS),
        ("product_sync.online_availability", field_id, ITEM_FIELDS),
        ("fulfillment.rackbeat_location", settings.fulfillment.rackbeat_location, LOCATIONS),
        ("pos.rackbeat_location", settings.pos.rackbeat_location, LOCATIONS),
        *(
            (f"advanced.country_locations.{country}", location, LOCATIONS)
            for country, location in settings.advanced.country_locations.items()
        ),
    ]
    for field, value, kind in candidates:
        if value is not None:
            yield field, value, kind


def _item_references(settings: RackbeatShopifySettings) -> Iterator[tuple[str, str]]:
    candidates = [
        ("shipping_product_number", settings.shipping_product_number),
        ("advanced.rounding_product_number", settings.advanced.rounding_product_number),
        ("orders.fallback_product_number", settings.orders.fallback_product_number),
    ]
    for field, number in candidates:
        if number is not None:
            yield field, number
