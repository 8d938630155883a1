"""Saving a `rackbeat_webshipper` connection's settings: validated, checked against both accounts, and versioned.

The versions, their history and the optimistic concurrency are every kind's (`integrations.settings_versions`), and
so are the refusals (`SettingsRejected` with every problem, `SettingsConflict` when someone saved in between). What
is this kind's own is the model and its references: in Webshipper the order channel and every shipping rate the
settings name — `delivery_term_rates`, `shipping_method_rates`, `default_shipping_rate` (a rate bound to another
channel than `order_channel` is refused: Webshipper would leave the order `missing_rate`; a default rate that
requires a drop point is refused: a Rackbeat order carries none); in Rackbeat the delivery terms, payment terms,
customer groups, product group, employee, layout and locations (the shared lists,
`connectors.rackbeat.reference_lists`, each read once) and the default customer (looked up by its number). The VAT
zone is one of Rackbeat's three fixed names, checked by the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from crossdock.connections.settings_rules import ConnectionNotFound, SettingsConflict, SettingsRejected
from crossdock.connectors.rackbeat import reference_lists
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.reference_lists import (
    CUSTOMER_GROUPS,
    DELIVERY_TERMS,
    EMPLOYEES,
    LAYOUTS,
    LOCATIONS,
    PAYMENT_TERMS,
    PRODUCT_GROUPS,
    Reference,
)
from crossdock.integrations import settings_versions
from crossdock.integrations.rackbeat_webshipper.connection import RackbeatWebshipperConnection
from crossdock.integrations.rackbeat_webshipper.settings import (
    RackbeatWebshipperSettings,
    SettingProblem,
    settings_problems,
)
from crossdock.store import connections

__all__ = [
    "ConnectionNotFound",
    "SettingsConflict",
    "SettingsRejected",
    "WebshipperCatalog",
    "check_references",
    "settings_history",
    "update_settings",
    "validated",
]

ALL_LOCATIONS = "all"
DEFAULT_RATE = "default_shipping_rate"


class _Channel(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str | None: ...


class _Rate(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def channel_id(self) -> str | None: ...

    @property
    def require_drop_point(self) -> bool: ...


class WebshipperCatalog(Protocol):
    """What a save asks Webshipper: its order channels and shipping rates (`install.ConnectorCatalog` reads them
    through the connector's `catalogue`)."""

    def order_channels(self) -> Sequence[_Channel]: ...

    def shipping_rates(self) -> Sequence[_Rate]: ...


def update_settings(
    table: Any,
    connection_id: str,
    new_settings: dict[str, Any],
    *,
    expected_version: int,
    rackbeat: RackbeatClient | None,
    webshipper: WebshipperCatalog | None,
) -> RackbeatWebshipperConnection:
    """Stores `new_settings` as the connection's next settings version and returns the updated connection.

    Without `rackbeat` and `webshipper` the references are not looked up (the caller has just done so). Raises
    `SettingsRejected` with every problem found, or `SettingsConflict`."""
    current = settings_versions.current_for_save(
        table, connection_id, expected_version, RackbeatWebshipperConnection.of
    )
    settings = validated(new_settings)
    problems = check_references(settings, rackbeat, webshipper)
    if problems:
        raise SettingsRejected(problems)
    return settings_versions.save_next_version(table, current, settings, expected_version=expected_version)


def settings_history(table: Any, connection_id: str) -> list[dict[str, Any]]:
    """Every settings version of the connection, oldest first (`version`, `saved_at`, `settings`)."""
    return connections.list_settings_versions(table, connection_id)


def validated(new_settings: dict[str, Any]) -> RackbeatWebshipperSettings:
    """`new_settings` as the model, or `SettingsRejected` listing every problem of the document alone (types,
    unknown keys, rules across keys)."""
    try:
        return RackbeatWebshipperSettings.model_validate(new_settings)
    except ValidationError as invalid:
        raise SettingsRejected(settings_problems(invalid)) from None


def check_references(
    settings: RackbeatWebshipperSettings, rackbeat: RackbeatClient | None, webshipper: WebshipperCatalog | None
) -> list[SettingProblem]:
    """Every object the settings name must exist in its account; one problem per setting naming a missing one.
    Each list is read once, and only when some setting refers to it. A None client leaves its account unasked."""
    problems = []
    if webshipper is not None:
        problems += _webshipper_problems(settings, webshipper)
    if rackbeat is not None:
        problems += _rackbeat_problems(settings, rackbeat)
    return problems


def _webshipper_problems(settings: RackbeatWebshipperSettings, catalog: WebshipperCatalog) -> list[SettingProblem]:
    problems = []
    channel = settings.order_channel
    if channel is not None and channel not in {str(found.id) for found in catalog.order_channels()}:
        problems.append(SettingProblem("order_channel", f"order channel {channel} does not exist in Webshipper"))
        channel = None  # the rates are not held against a channel that is not there: one problem says it
    named = _named_rates(settings)
    if not named:
        return problems
    rates = {str(rate.id): rate for rate in catalog.shipping_rates()}
    for key, rate_id in named:
        rate = rates.get(rate_id)
        if rate is None:
            problems.append(SettingProblem(key, f"shipping rate {rate_id} does not exist in Webshipper"))
        elif channel is not None and rate.channel_id is not None and str(rate.channel_id) != channel:
            problems.append(
                SettingProblem(
                    key,
                    f"shipping rate {rate_id} ({rate.name or 'no name'}) belongs to order channel {rate.channel_id},"
                    f" not to order_channel {channel}",
                )
            )
        elif key == DEFAULT_RATE and rate.require_drop_point:
            # The default is the rate of orders nobody chose a delivery for, and a Rackbeat order carries no drop
            # point: every one of them would stop at needs_attention (a term's or a shipping line's drop-point rate
            # is an explicit choice, and the merchant picks the point in Webshipper).
            problems.append(
                SettingProblem(
                    key,
                    f"shipping rate {rate_id} ({rate.name or 'no name'}) requires a drop point, which a Rackbeat "
                    "order does not carry: every order left to the default would need attention",
                )
            )
    return problems


def _named_rates(settings: RackbeatWebshipperSettings) -> list[tuple[str, str]]:
    """(dotted key, Webshipper rate id) of every setting that names a shipping rate."""
    return [
        *((f"delivery_term_rates.{term}", rate) for term, rate in settings.delivery_term_rates.items()),
        *((f"shipping_method_rates.{title}", rate) for title, rate in settings.shipping_method_rates.items()),
        *([(DEFAULT_RATE, settings.default_shipping_rate)] if settings.default_shipping_rate is not None else []),
    ]


def _rackbeat_problems(settings: RackbeatWebshipperSettings, client: RackbeatClient) -> list[SettingProblem]:
    problems = [
        SettingProblem(found.key, found.missing_message)
        for found in reference_lists.missing(client, _listed_references(settings))
    ]
    customer = settings.default_customer
    if customer is not None and not reference_lists.exists(client, f"customers/{customer}"):
        problems.append(SettingProblem("default_customer", f"customer {customer} does not exist in Rackbeat"))
    return problems


def _listed_references(settings: RackbeatWebshipperSettings) -> Iterator[Reference]:
    """(dotted key, value, list it must be in) for every set setting that names an entry of a Rackbeat list."""
    filter_location = None if settings.line_location_filter == ALL_LOCATIONS else settings.line_location_filter
    candidates: list[tuple[str, int | str | None, reference_lists.ReferenceList]] = [
        *((f"delivery_term_rates.{term}", term, DELIVERY_TERMS) for term in settings.delivery_term_rates),
        ("default_payment_terms", settings.default_payment_terms, PAYMENT_TERMS),
        ("default_customer_group", settings.default_customer_group, CUSTOMER_GROUPS),
        *(
            (f"excluded_customer_groups.{index}", group, CUSTOMER_GROUPS)
            for index, group in enumerate(settings.excluded_customer_groups)
        ),
        ("product_group", settings.product_group, PRODUCT_GROUPS),
        ("default_employee", settings.default_employee, EMPLOYEES),
        ("default_layout", settings.default_layout, LAYOUTS),
        ("default_location", settings.default_location, LOCATIONS),
        ("line_location_filter", filter_location, LOCATIONS),
    ]
    for key, value, kind in candidates:
        if value is not None:
            yield key, value, kind
