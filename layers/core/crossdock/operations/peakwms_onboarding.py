"""Creating a `peakwms_shopify` connection (issue 16, item 1): "test connection" against PeakWMS and Shopify, then
stored, and active at once (`integrations.peakwms_shopify.onboarding`: nothing arrives before the guided setup's
steps register their webhooks).

Nothing is stored until both sides answered yes and every setting is valid; a refusal lists every problem, with the
shop's locations when Shopify was reached (what `locations` chooses from). One connection per shop (the claim is
written with the connection, so a second is refused naming the first), one main shop per PeakWMS account.
`choices` reads the shop's locations of an existing connection again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.settings_rules import SettingProblem
from crossdock.connectors.peakwms.account import PEAKWMS_API
from crossdock.connectors.shopify.locations import shop_locations
from crossdock.integrations.peakwms_shopify import onboarding
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import new_connection, stack_access
from crossdock.operations.errors import NotFound, Refused, Rejected
from crossdock.operations.target import OperatorTarget
from crossdock.store import connections

# PeakWMS's integration API lists no warehouses (reference/peakwms.md): `locations`' values are not checked.
WAREHOUSES_NOT_LISTED = "PeakWMS's API lists no warehouses: give each as PeakWMS names it"


@dataclass(frozen=True)
class CreatedPeakwmsConnection:
    connection_id: str
    kind: str
    state: str
    shop_domain: str
    shop_name: str  # as Shopify names the shop
    currency: str
    peakwms_account: str
    main_shop: bool
    settings_version: int
    secret_names: list[str]  # stored encrypted; their values are never shown
    shopify_locations: list[str] = field(default_factory=list)  # `id name`: what `locations` maps from
    next_step: str = ""


@dataclass(frozen=True)
class PeakwmsChoices:
    connection_id: str
    shopify_locations: list[str]
    peakwms_warehouses: str  # why none are listed
    lines: list[str]


def create_peakwms_connection(
    target: OperatorTarget,
    *,
    credentials: PeakwmsShopifyCredentials,
    settings: dict[str, Any] | None = None,
    tenant: str | None = None,
    check_only: bool = False,
) -> CreatedPeakwmsConnection:
    """Stores a new `peakwms_shopify` connection, active. Refuses (`Rejected`, every problem listed) and stores
    nothing when the input is wrong or either platform refuses it; `Refused` when a platform cannot be reached."""
    stack = target.onboard()
    new = onboarding.NewPeakwmsConnection(
        credentials=credentials,
        settings=settings or {},
        shopify_api_base=stack.api_bases.get("shopify"),
        peakwms_api_base=stack.api_bases.get("peakwms", PEAKWMS_API),
    )
    connection_id = new_connection.new_connection_id()
    try:
        with stack_access.platform_calls("testing the connection to PeakWMS and Shopify; nothing was saved"):
            prepared = onboarding.prepare(connection_id, new, target.table)
    except onboarding.ConnectionRefused as refused:
        problems = list(refused.problems)
        if refused.locations:
            offered = "\n    ".join(str(location) for location in refused.locations)
            problems.append(SettingProblem("choices", f"the shop's locations:\n    {offered}"))
        raise Rejected("the connection was not created, nothing was saved", problems) from None
    new_connection.store(target, prepared, noun="shop", tenant=tenant, check_only=check_only)
    connection = prepared.connection
    return CreatedPeakwmsConnection(
        connection_id=connection.id,
        kind=connection.kind,
        state=connection.state.value,
        shop_domain=connection.shop_domain,
        shop_name=prepared.tested.shop_name,
        currency=prepared.tested.currency,
        peakwms_account=connection.peakwms_account,
        main_shop=connection.settings.main_shop,
        settings_version=connection.settings_version,
        secret_names=sorted(prepared.secrets),
        shopify_locations=[str(location) for location in prepared.tested.locations],
        next_step=f"crossdock setup show {connection.id}",
    )


def peakwms_choices(target: OperatorTarget, connection_id: str) -> PeakwmsChoices:
    """What a `peakwms_shopify` connection's settings choose from: the shop's locations, read now."""
    found = connections.load_connection(target.table, connection_id)
    if found is None:
        raise NotFound(f"no connection {connection_id}")
    if not isinstance(found, PeakwmsShopifyConnection):
        raise Refused(f"connection {connection_id} is {found.kind}, not a peakwms_shopify connection")
    secrets = stack_access.secret_store(target)
    with stack_access.platform_calls("reading the shop's locations"):
        locations = shop_locations(stack_access.connection_clients(target, secrets).shopify(found))
    listed = [str(location) for location in locations]
    lines = [
        *(f"shopify location {location}" for location in listed),
        f"peakwms warehouses: {WAREHOUSES_NOT_LISTED}",
        'map them with: settings set <connection> locations.<location id>="<warehouse>"',
    ]
    return PeakwmsChoices(found.id, listed, WAREHOUSES_NOT_LISTED, lines)
