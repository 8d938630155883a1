"""What a `peakwms_shopify` connection's settings may name, read live (SPEC §4): the shop's locations (the keys of
`locations`) and the PeakWMS warehouses they map to (`locations.*`).

PeakWMS's integration API lists no warehouses: the names come from its stock movement log of the last
`WAREHOUSE_WINDOW` (`connectors.peakwms.warehouses`), with the names the settings map already, so a warehouse
without recent movements that the connection uses is still offered. A warehouse neither names may still be typed:
a save does not check warehouse names (docs/known-limits.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.peakwms.warehouses import warehouses_in_stock_log
from crossdock.integration import Choice, ChoicesByField, ChoiceSource, SettingChoices
from crossdock.integrations.choice_lists import shop_location_choices
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyConnection

WAREHOUSE_WINDOW = timedelta(days=30)


def shopify_choices(connection: Connection, clients: Any) -> ChoicesByField:
    return {"locations": shop_location_choices(clients.shopify(connection))}


def peakwms_choices(connection: Connection, clients: Any) -> ChoicesByField:
    since = datetime.now(UTC) - WAREHOUSE_WINDOW
    names = dict.fromkeys(warehouses_in_stock_log(clients.peakwms(connection), since))
    if isinstance(connection, PeakwmsShopifyConnection):
        names.update(dict.fromkeys(connection.settings.locations.values()))
    return {"locations.*": [Choice(name, name) for name in names]}


SETTING_CHOICES = SettingChoices(
    sources=(ChoiceSource("shopify", shopify_choices), ChoiceSource("peakwms", peakwms_choices))
)
