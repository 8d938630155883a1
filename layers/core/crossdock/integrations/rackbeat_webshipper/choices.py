"""What a `rackbeat_webshipper` connection's settings may name, read live (SPEC §3): Webshipper's order channels and
shipping rates, and Rackbeat's delivery terms, payment terms, customer groups, product groups, employees, layouts
and locations. A rate bound to a channel says so in its label; the default rate offers none that needs a drop
point (a Rackbeat order carries none: `settings_save` refuses such a default). The keys of `shipping_method_rates`
are Shopify shipping lines' titles, which no system lists; the default customer is looked up by a save."""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.reference_lists import (
    CUSTOMER_GROUPS,
    DELIVERY_TERMS,
    EMPLOYEES,
    LAYOUTS,
    LOCATIONS,
    PAYMENT_TERMS,
    PRODUCT_GROUPS,
)
from crossdock.connectors.webshipper import catalogue
from crossdock.connectors.webshipper.shapes import ShippingRate
from crossdock.integration import Choice, ChoicesByField, ChoiceSource, SettingChoices
from crossdock.integrations.choice_lists import RackbeatLists
from crossdock.integrations.rackbeat_webshipper.settings_save import ALL_LOCATIONS


def webshipper_choices(connection: Connection, clients: Any) -> ChoicesByField:
    webshipper = clients.webshipper(connection)
    channels = catalogue.order_channels(webshipper)
    names = {channel.id: channel.label or f"channel {channel.id}" for channel in channels}
    rates = catalogue.shipping_rates(webshipper)

    def rate_label(rate: ShippingRate) -> str:
        label = rate.name or f"rate {rate.id}"
        if rate.channel_id is not None:
            label += f" — {names.get(str(rate.channel_id), f'channel {rate.channel_id}')}"
        return label + (" (needs a drop point)" if rate.require_drop_point else "")

    every_rate = [Choice(str(rate.id), rate_label(rate)) for rate in rates]
    return {
        "order_channel": [Choice(str(channel.id), names[channel.id]) for channel in channels],
        "delivery_term_rates.*": every_rate,
        "shipping_method_rates.*": every_rate,
        "default_shipping_rate": [
            Choice(str(rate.id), rate_label(rate)) for rate in rates if not rate.require_drop_point
        ],
    }


def rackbeat_choices(connection: Connection, clients: Any) -> ChoicesByField:
    lists = RackbeatLists(clients.rackbeat(connection, paced=False))
    groups = lists.numbered(CUSTOMER_GROUPS)
    locations = lists.as_text(LOCATIONS)
    return {
        "delivery_term_rates": lists.as_text(DELIVERY_TERMS),
        "default_payment_terms": lists.numbered(PAYMENT_TERMS),
        "default_customer_group": groups,
        "excluded_customer_groups": groups,
        "product_group": lists.numbered(PRODUCT_GROUPS),
        "default_employee": lists.numbered(EMPLOYEES),
        "default_layout": lists.numbered(LAYOUTS),
        "default_location": locations,
        "line_location_filter": [Choice(ALL_LOCATIONS, "All locations"), *locations],
    }


SETTING_CHOICES = SettingChoices(
    sources=(ChoiceSource("webshipper", webshipper_choices), ChoiceSource("rackbeat", rackbeat_choices))
)
