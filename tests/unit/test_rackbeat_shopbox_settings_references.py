"""What a `rackbeat_shopbox` save checks against the two accounts (SPEC §2): the custom item fields exist in Rackbeat
and hold text, every Rackbeat location, product group, customer and employee named exists, every Shopbox branch and
tag named exists; and `initial_sync` is chosen once. Rackbeat is its simulator behind the real client; Shopbox is a
catalog of branches and tags as the Shopbox client returns them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.fields import item_fields
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.integrations.rackbeat_shopbox.connection import RackbeatShopboxAccounts, RackbeatShopboxConnection
from crossdock.integrations.rackbeat_shopbox.settings import RackbeatShopboxSettings
from crossdock.integrations.rackbeat_shopbox.settings_check import settings_problems_of
from crossdock.integrations.rackbeat_shopbox.settings_save import SettingsRejected, check_references, validated
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

API_KEY = "rb-key-shopbox"
UID_FIELD, VARIANT_FIELD, CHECKBOX_FIELD = 11, 12, 13


@dataclass(frozen=True)
class Branch:
    uid: str
    name: str


@dataclass(frozen=True)
class Tag:
    id: str
    name: str


@dataclass
class ShopboxCatalog:
    """Branches and tags as `ShopboxClient.branches()`/`tags()` return them, counting the calls."""

    branch_list: list[Branch] = field(
        default_factory=lambda: [Branch("55", "Butik Aarhus"), Branch("56", "Butik Odense")]
    )
    tag_list: list[Tag] = field(default_factory=lambda: [Tag("7", "Krus"), Tag("8", "Tallerkener")])
    calls: list[str] = field(default_factory=list)

    def branches(self) -> list[Branch]:
        self.calls.append("branches")
        return self.branch_list

    def tags(self) -> list[Tag]:
        self.calls.append("tags")
        return self.tag_list


@pytest.fixture
def rackbeat() -> Iterator[RackbeatClient]:
    """A Rackbeat account set up as seed 002 asks: a stock group, a location per shop, the two UID fields."""
    sim = RackbeatSimulator()
    account = sim.add_account(API_KEY)
    sim.seed_product_group(account, 1, "Varer m/lagerstrekk")
    sim.seed_location(account, "L1", "Aarhus")
    sim.seed_location(account, "L2", "Odense")
    sim.seed_field(account, UID_FIELD, "Shopbox UID felt ID", type="text")
    sim.seed_field(account, VARIANT_FIELD, "Shopbox variasjonsfelt ID", type="text")
    sim.seed_field(account, CHECKBOX_FIELD, "Webshop", type="checkbox")
    sim.seed_customer(account, 900, "Kassesalg")
    sim.seed_employee(account, 3, "Kasse")
    client = RackbeatClient("https://app.rackbeat.com/api/", API_KEY, transport(sim, root="/api"))
    yield client
    client.close()


def settings(**values: Any) -> RackbeatShopboxSettings:
    document = {
        "product_sync": "rackbeat",
        "uid_field_id": UID_FIELD,
        "variant_field_id": VARIANT_FIELD,
        "locations": {"55": "L1", "56": "L2"},
        "main_location_rackbeat": "L1",
        "main_location_shopbox": "55",
        "categories": {"7": 1},
        "default_category_group": 1,
        "sales": {"customer_number": 900, "employee_number": 3},
    }
    return RackbeatShopboxSettings.model_validate({**document, **values})


def connection(state: ConnectionState, initial_sync: str = "none") -> RackbeatShopboxConnection:
    return RackbeatShopboxConnection(
        id="conn-shopbox-1",
        state=state,
        accounts=RackbeatShopboxAccounts(
            rackbeat=RackbeatAccount(account_id=1), shopbox=ShopboxAccount(client_uid="77")
        ),
        settings=settings(initial_sync=initial_sync),
    )


def test_settings_naming_only_what_both_accounts_have_pass(rackbeat: RackbeatClient) -> None:
    # GIVEN settings naming the seeded fields, locations, group, customer, employee, branches and tag
    shopbox = ShopboxCatalog()
    # WHEN checked THEN no problem, and each Shopbox list was read once
    assert check_references(settings(), rackbeat, shopbox) == []
    assert shopbox.calls == ["branches", "tags"]


def test_every_missing_reference_is_listed_under_its_key(rackbeat: RackbeatClient) -> None:
    # GIVEN settings naming a field, location, group, customer, employee, branch and tag that do not exist
    wrong = settings(
        uid_field_id=99,
        locations={"55": "L7", "57": "L2"},
        main_location_shopbox="58",
        categories={"7": 4, "9": 1},
        default_category_group=5,
        sales={"customer_number": 901, "employee_number": 4},
    )
    # WHEN checked against both accounts
    problems = [str(problem) for problem in check_references(wrong, rackbeat, ShopboxCatalog())]
    # THEN each is named once, with the account it is missing from
    assert sorted(problems) == [
        "categories.7: product group 4 does not exist in Rackbeat",
        "categories.9: category (tag) 9 does not exist in the Shopbox client",
        "default_category_group: product group 5 does not exist in Rackbeat",
        "locations.55: location L7 does not exist in Rackbeat",
        "locations.57: branch 57 does not exist in the Shopbox client",
        "main_location_shopbox: branch 58 does not exist in the Shopbox client",
        "sales.customer_number: customer 901 does not exist in Rackbeat",
        "sales.employee_number: employee 4 does not exist in Rackbeat",
        "uid_field_id: custom item field 99 does not exist in Rackbeat",
    ]


def test_a_custom_field_that_does_not_hold_text_is_refused(rackbeat: RackbeatClient) -> None:
    # GIVEN the variant UID pointed at a checkbox field WHEN checked THEN refused, saying what the field is
    problems = check_references(settings(variant_field_id=CHECKBOX_FIELD), rackbeat, ShopboxCatalog())
    assert [str(p) for p in problems] == [
        "variant_field_id: custom item field 13 (Webshop) is a checkbox field, not a text field"
    ]


def test_item_fields_lists_the_accounts_item_fields_with_their_kind(rackbeat: RackbeatClient) -> None:
    fields = item_fields(rackbeat)
    assert {key: (f.name, f.type, f.holds_text) for key, f in fields.items()} == {
        "11": ("Shopbox UID felt ID", "text", True),
        "12": ("Shopbox variasjonsfelt ID", "text", True),
        "13": ("Webshop", "checkbox", False),
    }


def test_settings_that_name_nothing_in_shopbox_do_not_ask_it(rackbeat: RackbeatClient) -> None:
    shopbox = ShopboxCatalog()
    bare = RackbeatShopboxSettings.model_validate({"sales": {"customer_number": 900}})
    assert check_references(bare, rackbeat, shopbox) == []
    assert shopbox.calls == []


def test_validate_lists_document_problems_and_references_at_once(rackbeat: RackbeatClient) -> None:
    # GIVEN a document with a broken rule, a wrong value and a missing branch
    document = {
        "create_boms_in_shopbox": True,
        "sales": {"customer_number": 900, "poll_minutes": 500},
        "locations": {"55": "L1", "59": "L2"},
    }
    # WHEN checked as `settings validate` does
    valid, problems = settings_problems_of(document, rackbeat, ShopboxCatalog())
    # THEN all three are listed
    assert valid is None
    assert sorted(str(p) for p in problems) == [
        "create_boms_in_shopbox: only applies when product_sync is 'rackbeat' or 'both', not 'off'",
        "locations.59: branch 59 does not exist in the Shopbox client",
        "sales.poll_minutes: must be between 1 and 120 minutes, not 500",
    ]


def test_initial_sync_may_change_while_installing() -> None:
    # GIVEN a connection not yet activated WHEN the initial sync is chosen THEN it is taken
    chosen = validated(
        connection(ConnectionState.INSTALLING), settings(initial_sync="shopbox_to_rackbeat").model_dump(mode="json")
    )
    assert chosen.initial_sync == "shopbox_to_rackbeat"


@pytest.mark.parametrize("state", [ConnectionState.ACTIVE, ConnectionState.PAUSED])
def test_initial_sync_cannot_change_once_activated(state: ConnectionState) -> None:
    # GIVEN an activated connection that chose no initial sync
    current = connection(state)
    # WHEN a save asks for one THEN refused naming the key, whatever else the document says
    with pytest.raises(SettingsRejected) as refused:
        validated(current, settings(initial_sync="shopbox_to_rackbeat").model_dump(mode="json"))
    assert [p.field for p in refused.value.problems] == ["initial_sync"]
    assert "only be chosen when the connection is first activated" in refused.value.problems[0].message
    # AND a save that leaves it out asks for the default, which is what it chose: accepted
    document = settings().model_dump(mode="json")
    del document["initial_sync"]
    assert validated(current, document).initial_sync == "none"
