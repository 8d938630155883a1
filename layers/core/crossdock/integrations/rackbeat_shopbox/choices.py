"""What a `rackbeat_shopbox` connection's settings may name, read live (SPEC §2): the Shopbox client's branches and
categories (tags), and Rackbeat's locations, product groups, employees and the text item fields that hold the
Shopbox UIDs. The till customer is not offered: Rackbeat's customer list can be long, and a save looks it up."""

from __future__ import annotations

from typing import Any

from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat.reference_lists import EMPLOYEES, LOCATIONS, PRODUCT_GROUPS
from crossdock.integration import Choice, ChoicesByField, ChoiceSource, SettingChoices
from crossdock.integrations.choice_lists import RackbeatLists


def rackbeat_choices(connection: Connection, clients: Any) -> ChoicesByField:
    lists = RackbeatLists(clients.rackbeat(connection, paced=False))
    text_fields = lists.item_fields(holding="text")
    locations = lists.as_text(LOCATIONS)
    groups = lists.numbered(PRODUCT_GROUPS)
    return {
        "uid_field_id": text_fields,
        "variant_field_id": text_fields,
        "locations.*": locations,
        "main_location_rackbeat": locations,
        "categories.*": groups,
        "default_category_group": groups,
        "sales.employee_number": lists.numbered(EMPLOYEES),
    }


def shopbox_choices(connection: Connection, clients: Any) -> ChoicesByField:
    shopbox = clients.shopbox(connection)
    branches = [
        Choice(str(branch.uid), f"{branch.name} (closed)" if branch.is_closed else branch.name)
        for branch in shopbox.branches()
    ]
    return {
        "locations": branches,
        "main_location_shopbox": branches,
        "categories": [Choice(str(tag.id), tag.name or f"category {tag.id}") for tag in shopbox.tags()],
    }


SETTING_CHOICES = SettingChoices(
    sources=(ChoiceSource("rackbeat", rackbeat_choices), ChoiceSource("shopbox", shopbox_choices))
)
