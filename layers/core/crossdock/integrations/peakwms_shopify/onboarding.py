"""A new `peakwms_shopify` connection, as an operator creates it (SPEC §4; issue 16, item 1).

Everything is checked before anything is stored, and every problem is reported at once: the settings (the model),
"test connection" (`install.test_connection`: PeakWMS's ping, the Shopify shop and the token's scopes), the shop's
locations that `locations` names, and the main-shop rule of the PeakWMS account.

**One main shop per PeakWMS account.** Several shops may share one PeakWMS stock; PeakWMS's products are keyed by
the main shop's product and variant ids and the other shops' variants are matched to them by SKU. So the first
shop of an account must be its main shop, and a second shop asking to be main is refused naming `main_shop` —
rather than the first one being demoted: demoting it would re-key every product PeakWMS already holds, which no
install can do behind the merchant's back. To move the role, uninstall the main shop's connection first.
(Two installs of main shops of one account at the very same moment can both pass this check:
docs/known-limits.md.)

A connection that passes is stored `active`: it has no OAuth install to wait for, and nothing arrives before the
guided setup's steps register their webhooks (`setup`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crossdock.connections.model import ConnectionState
from crossdock.connections.settings_rules import SettingProblem, SettingsRejected
from crossdock.connectors.peakwms.account import PEAKWMS_API
from crossdock.connectors.shopify.locations import ShopLocation
from crossdock.integrations.peakwms_shopify import settings_save
from crossdock.integrations.peakwms_shopify.connection import (
    KIND,
    PeakwmsShopifyAccounts,
    PeakwmsShopifyConnection,
)
from crossdock.integrations.peakwms_shopify.install import (
    ConnectionTestFailed,
    PeakwmsShopifyCredentials,
    TestedConnection,
    test_connection,
)
from crossdock.store import connection_lookup, connections

PEAKWMS = "peakwms"
MAIN_SHOP = "main_shop"


@dataclass(frozen=True)
class NewPeakwmsConnection:
    """What the operator gives: the credentials of both sides and the settings (`shop_name`, `country`, …). The
    API bases are where the platforms answer when not at their public addresses (PeakWMS's names `{account}`)."""

    credentials: PeakwmsShopifyCredentials
    settings: dict[str, Any]
    shopify_api_base: str | None = None
    peakwms_api_base: str = PEAKWMS_API


class ConnectionRefused(Exception):
    """The new connection's input is wrong; nothing was stored. Every problem, by the field that has it; the shop's
    locations when Shopify was reached (what `locations` chooses from)."""

    def __init__(self, problems: list[SettingProblem], locations: list[ShopLocation] | None = None) -> None:
        super().__init__("connection refused:\n" + "\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.locations = locations or []


@dataclass(frozen=True)
class PreparedConnection:
    connection: PeakwmsShopifyConnection  # `active` once stored
    secrets: dict[str, str] = field(repr=False)  # name → value, stored KMS-encrypted with the connection
    tested: TestedConnection


def prepare(connection_id: str, new: NewPeakwmsConnection, table: Any) -> PreparedConnection:
    """The connection to store, or `ConnectionRefused` with every problem found. A platform that cannot be reached
    raises its client's `RetryableError` (nothing is wrong with the input)."""
    problems: list[SettingProblem] = []
    settings = None
    try:
        settings = settings_save.validated(new.settings)
    except SettingsRejected as rejected:
        problems += rejected.problems
    tested: TestedConnection | None = None
    locations: list[ShopLocation] | None = None
    try:
        tested = test_connection(
            new.credentials, shopify_api_base=new.shopify_api_base, peakwms_api_base_template=new.peakwms_api_base
        )
        locations = tested.locations
    except ConnectionTestFailed as failed:
        problems += failed.problems
        locations = failed.locations or None
    if settings is not None:
        problems += main_shop_problems(table, new.credentials.account_name, settings.main_shop)
        problems += settings_save.check_references(settings, locations)
    if problems or settings is None or tested is None:
        raise ConnectionRefused(problems, locations)
    connection = PeakwmsShopifyConnection(
        id=connection_id,
        state=ConnectionState.ACTIVE,
        accounts=PeakwmsShopifyAccounts(peakwms=tested.peakwms, shopify=tested.shopify),
        settings=settings,
    )
    return PreparedConnection(connection, tested.secrets, tested)


def main_shop_problems(table: Any, peakwms_account: str, main_shop: bool) -> list[SettingProblem]:
    """The account's one main shop: refused when it has one already and this shop asks to be it, or has none and
    this shop does not (uninstalled connections do not count)."""
    if not peakwms_account:
        return []
    mains = [found for found in _sharing(table, peakwms_account) if found.settings.main_shop]
    if main_shop and mains:
        first = mains[0]
        return [
            SettingProblem(
                MAIN_SHOP,
                f"PeakWMS account {peakwms_account!r} has its main shop already: {first.shop_domain} (connection "
                f"{first.id}); give main_shop false for this shop (its variants are matched by SKU)",
            )
        ]
    if not main_shop and not mains:
        return [
            SettingProblem(
                MAIN_SHOP,
                f"PeakWMS account {peakwms_account!r} has no main shop yet: its first shop is the main shop "
                "(PeakWMS's products are keyed by its product ids); give main_shop true",
            )
        ]
    return []


def _sharing(table: Any, peakwms_account: str) -> list[PeakwmsShopifyConnection]:
    ids = connection_lookup.connections_on_account(table, KIND, PEAKWMS, peakwms_account)
    found = []
    for connection_id in ids:
        loaded = connections.load_connection(table, connection_id)
        if isinstance(loaded, PeakwmsShopifyConnection) and loaded.state is not ConnectionState.UNINSTALLED:
            found.append(loaded)
    return found
