"""What a `rackbeat_webshipper` save checks against the two accounts (SPEC §3): the order channel and the shipping
rates exist in Webshipper (and a rate belongs to the order channel), the delivery terms, payment terms, customer
groups, product group, employee, layout, locations and default customer exist in Rackbeat; every problem at once;
a save is versioned with its history. Rackbeat is its simulator behind the real client; Webshipper is a catalog of
channels and rates as the connector's `catalogue` returns them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from crossdock.connections.settings_rules import SettingsConflict, SettingsRejected
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.webshipper.account import WebshipperAccount, api_base_for
from crossdock.integrations.rackbeat_webshipper import settings_save
from crossdock.integrations.rackbeat_webshipper.connection import (
    RackbeatWebshipperAccounts,
    RackbeatWebshipperConnection,
)
from crossdock.integrations.rackbeat_webshipper.settings import RackbeatWebshipperSettings
from crossdock.integrations.rackbeat_webshipper.settings_check import settings_problems_of
from crossdock.store import connections
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

API_KEY = "rb-key-webshipper"


@dataclass(frozen=True)
class Channel:
    id: str
    label: str


@dataclass(frozen=True)
class Rate:
    id: str
    name: str
    channel_id: str | None
    require_drop_point: bool = False


@dataclass
class WebshipperCatalog:
    """Channels and rates as `catalogue.order_channels`/`shipping_rates` return them, counting the calls."""

    channels: list[Channel] = field(default_factory=lambda: [Channel("3", "Rackbeat"), Channel("4", "Webshop")])
    rates: list[Rate] = field(
        default_factory=lambda: [
            Rate("12", "GLS Pakkeshop", "3", require_drop_point=True),
            Rate("13", "PostNord", None),
            Rate("20", "DAO", "4"),
            Rate("21", "GLS Privat", "3"),
        ]
    )
    calls: list[str] = field(default_factory=list)

    def order_channels(self) -> list[Channel]:
        self.calls.append("order_channels")
        return self.channels

    def shipping_rates(self) -> list[Rate]:
        self.calls.append("shipping_rates")
        return self.rates


@pytest.fixture
def rackbeat() -> Iterator[RackbeatClient]:
    """A Rackbeat account set up as seed 003 asks: delivery terms for the rates, and the defaults' records."""
    sim = RackbeatSimulator()
    account = sim.add_account(API_KEY)
    sim.seed_delivery_terms(account, 1, "GLS")
    sim.seed_delivery_terms(account, 2, "PostNord")
    sim.seed_payment_terms(account, 5, "Netto 8 dage")
    sim.seed_customer_group(account, 2, "Webshipper")
    sim.seed_customer_group(account, 7, "Forhandlere")
    sim.seed_product_group(account, 9, "Fra Webshipper")
    sim.seed_employee(account, 4, "Lager")
    sim.seed_layout(account, 6, "Standard")
    sim.seed_location(account, "L1", "Hovedlager")
    sim.seed_customer(account, 900, "Webshipper-kunde")
    client = RackbeatClient("https://app.rackbeat.com/api/", API_KEY, transport(sim, root="/api"))
    yield client
    client.close()


GOOD: dict[str, Any] = {
    "order_channel": "3",
    "delivery_term_rates": {"1": "12", "2": "13"},
    "default_payment_terms": 5,
    "default_customer_group": 2,
    "excluded_customer_groups": [7],
    "product_group": 9,
    "default_employee": 4,
    "default_layout": 6,
    "use_product_default_location": False,
    "default_location": "L1",
    "line_location_filter": "L1",
    "default_customer": 900,
}


def test_settings_naming_what_both_accounts_have_pass_and_each_list_is_read_once(rackbeat: RackbeatClient) -> None:
    # GIVEN settings naming only what exists WHEN checked THEN nothing is wrong, and Webshipper was asked twice
    catalog = WebshipperCatalog()
    settings = RackbeatWebshipperSettings.model_validate(GOOD)
    assert settings_save.check_references(settings, rackbeat, catalog) == []
    assert catalog.calls == ["order_channels", "shipping_rates"]


def test_every_missing_reference_is_listed_at_once_under_its_key(rackbeat: RackbeatClient) -> None:
    # GIVEN settings naming a channel, a rate and one of each Rackbeat record that do not exist
    settings = RackbeatWebshipperSettings.model_validate(
        {
            "order_channel": "99",
            "delivery_term_rates": {"1": "77", "8": "13"},
            "default_payment_terms": 50,
            "default_customer_group": 3,
            "excluded_customer_groups": [7, 8],
            "product_group": 90,
            "default_employee": 40,
            "default_layout": 60,
            "default_location": "L9",
            "line_location_filter": "L8",
            "default_customer": 901,
        }
    )
    # WHEN checked against both accounts
    problems = {str(problem) for problem in settings_save.check_references(settings, rackbeat, WebshipperCatalog())}
    # THEN each is named, by the key that names it
    assert problems == {
        "order_channel: order channel 99 does not exist in Webshipper",
        "delivery_term_rates.1: shipping rate 77 does not exist in Webshipper",
        "delivery_term_rates.8: delivery terms 8 does not exist in Rackbeat",
        "default_payment_terms: payment terms 50 does not exist in Rackbeat",
        "default_customer_group: customer group 3 does not exist in Rackbeat",
        "excluded_customer_groups.1: customer group 8 does not exist in Rackbeat",
        "product_group: product group 90 does not exist in Rackbeat",
        "default_employee: employee 40 does not exist in Rackbeat",
        "default_layout: layout 60 does not exist in Rackbeat",
        "default_location: location L9 does not exist in Rackbeat",
        "line_location_filter: location L8 does not exist in Rackbeat",
        "default_customer: customer 901 does not exist in Rackbeat",
    }


def test_a_rate_of_another_channel_is_refused(rackbeat: RackbeatClient) -> None:
    # GIVEN delivery terms mapped to a rate bound to channel 4, while orders go to channel 3
    settings = RackbeatWebshipperSettings.model_validate({"order_channel": "3", "delivery_term_rates": {"1": "20"}})
    problems = settings_save.check_references(settings, rackbeat, WebshipperCatalog())
    # THEN the rate is refused, naming both channels (Webshipper would leave the order missing_rate)
    assert [str(problem) for problem in problems] == [
        "delivery_term_rates.1: shipping rate 20 (DAO) belongs to order channel 4, not to order_channel 3"
    ]


def test_the_shipping_method_and_default_rates_are_checked_as_the_delivery_term_rates_are(
    rackbeat: RackbeatClient,
) -> None:
    """GIVEN a shipping method mapped to a rate Webshipper lacks, another to a rate of another channel, one to a
    drop-point rate, and a default rate of another channel WHEN checked THEN each rate of the wrong kind is named
    under its dotted key (the drop-point rate of a shipping line is the customer's own choice, so it passes), and
    the rates are read once."""
    catalog = WebshipperCatalog()
    settings = RackbeatWebshipperSettings.model_validate(
        {
            "order_channel": "3",
            "shipping_method_rates": {"Hurtig levering": "77", "DAO Pakkeshop": "20", "GLS Pakkeshop": "12"},
            "default_shipping_rate": "20",
        }
    )

    problems = [str(problem) for problem in settings_save.check_references(settings, rackbeat, catalog)]

    assert problems == [
        "shipping_method_rates.Hurtig levering: shipping rate 77 does not exist in Webshipper",
        "shipping_method_rates.DAO Pakkeshop: shipping rate 20 (DAO) belongs to order channel 4, not to "
        "order_channel 3",
        "default_shipping_rate: shipping rate 20 (DAO) belongs to order channel 4, not to order_channel 3",
    ]
    assert catalog.calls == ["order_channels", "shipping_rates"]


def test_a_default_rate_that_requires_a_drop_point_is_refused(rackbeat: RackbeatClient) -> None:
    """GIVEN a default rate that requires a drop point WHEN checked THEN it is refused: a Rackbeat order carries no
    drop point, so every order left to the default would need attention. A rate of no channel, or of ours, passes."""
    pickup = RackbeatWebshipperSettings.model_validate({"order_channel": "3", "default_shipping_rate": "12"})
    unbound = RackbeatWebshipperSettings.model_validate({"order_channel": "3", "default_shipping_rate": "13"})
    ours = RackbeatWebshipperSettings.model_validate({"order_channel": "3", "default_shipping_rate": "21"})

    refused = settings_save.check_references(pickup, rackbeat, WebshipperCatalog())

    assert [problem.field for problem in refused] == ["default_shipping_rate"]
    assert "shipping rate 12 (GLS Pakkeshop) requires a drop point" in refused[0].message
    assert settings_save.check_references(unbound, rackbeat, WebshipperCatalog()) == []
    assert settings_save.check_references(ours, rackbeat, WebshipperCatalog()) == []


def test_every_rate_problem_of_a_document_is_listed_at_once(rackbeat: RackbeatClient) -> None:
    """GIVEN a document with a blank shipping method, two titles naming one shipping line, a default rate that is
    not an id, a delivery term rate Webshipper lacks and a shipping method rate of another channel WHEN validated
    (`settings validate`) THEN nothing is valid and every problem is named at once, each under its key."""
    document = {
        "order_channel": "3",
        "delivery_term_rates": {"1": "77"},
        "shipping_method_rates": {" ": "21", "GLS Privat": "21", "gls  privat": "13", "DAO": "20"},
        "default_shipping_rate": "GLS",
    }

    settings, problems = settings_problems_of(document, rackbeat, WebshipperCatalog())

    assert settings is None
    assert {str(problem) for problem in problems} >= {
        "delivery_term_rates.1: shipping rate 77 does not exist in Webshipper",
        "default_shipping_rate: must be an id (a positive number), not 'GLS'",
        "shipping_method_rates.DAO: shipping rate 20 (DAO) belongs to order channel 4, not to order_channel 3",
        "shipping_method_rates.gls  privat: names the same shipping line as 'GLS Privat' (titles are compared "
        "without regard to case)",
    }
    assert any(problem.field.startswith("shipping_method_rates") and "blank" in problem.message for problem in problems)


def test_no_client_leaves_that_account_unasked(rackbeat: RackbeatClient) -> None:
    settings = RackbeatWebshipperSettings.model_validate({**GOOD, "order_channel": "99", "default_layout": 60})
    only_webshipper = settings_save.check_references(settings, None, WebshipperCatalog())
    only_rackbeat = settings_save.check_references(settings, rackbeat, None)
    assert [problem.field for problem in only_webshipper] == ["order_channel"]
    assert [problem.field for problem in only_rackbeat] == ["default_layout"]


def test_a_document_with_a_bad_type_a_broken_rule_and_a_missing_reference_gets_all_three(
    rackbeat: RackbeatClient,
) -> None:
    # GIVEN a wrong type, a fixed location left out, and an employee Rackbeat lacks
    document = {
        "order_channel": "3",
        "default_payment_terms": "soon",
        "use_product_default_location": False,
        "default_employee": 40,
    }
    settings, problems = settings_problems_of(document, rackbeat, WebshipperCatalog())
    # THEN nothing is valid and every problem is listed at once
    assert settings is None
    assert {problem.field for problem in problems} == {"default_payment_terms", "default_location", "default_employee"}


def _stored(table: Any) -> RackbeatWebshipperConnection:
    connection = RackbeatWebshipperConnection(
        id="c-ws",
        accounts=RackbeatWebshipperAccounts(
            rackbeat=RackbeatAccount(account_id=1),
            webshipper=WebshipperAccount(account="acme", api_base=api_base_for("acme")),
        ),
        settings=RackbeatWebshipperSettings.model_validate({"order_channel": "3"}),
    )
    connections.save_connection(table, connection)
    return connection


def test_a_save_is_the_next_version_and_the_one_before_is_kept(table: Any, rackbeat: RackbeatClient) -> None:
    # GIVEN a stored connection at version 1
    _stored(table)
    # WHEN good settings are saved on version 1
    updated = settings_save.update_settings(
        table, "c-ws", GOOD, expected_version=1, rackbeat=rackbeat, webshipper=WebshipperCatalog()
    )
    # THEN they are version 2, stored, and version 1 is in the history
    assert updated.settings_version == 2
    assert updated.settings.default_layout == 6
    history = settings_save.settings_history(table, "c-ws")
    assert [entry["version"] for entry in history] == [1, 2]
    assert history[0]["settings"]["default_layout"] is None


def test_a_save_on_an_old_version_or_with_a_missing_reference_writes_nothing(
    table: Any, rackbeat: RackbeatClient
) -> None:
    _stored(table)
    with pytest.raises(SettingsConflict):
        settings_save.update_settings(table, "c-ws", GOOD, expected_version=3, rackbeat=None, webshipper=None)
    with pytest.raises(SettingsRejected) as refused:
        settings_save.update_settings(
            table,
            "c-ws",
            {**GOOD, "order_channel": "99"},
            expected_version=1,
            rackbeat=rackbeat,
            webshipper=WebshipperCatalog(),
        )
    assert [problem.field for problem in refused.value.problems] == ["order_channel"]
    stored = connections.load_connection(table, "c-ws")
    assert stored is not None and stored.settings_version == 1
