"""What each kind's settings may name, read live (`Integration.setting_choices`, issue 17): every field that takes
an id from another system, with the values the settings document holds and labels a person knows, read from the
simulators through the connectors' real clients — and a system that refuses leaves only its own fields without
choices (`operations.choices.choices_of`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from flow_fakes import FakeSecrets
from peakwms_fakes import CUSTOMER, StoppedClock, Warehouse, variant
from test_webshipper_sim import ACCOUNT, API, open_account

from crossdock import pacing, registry
from crossdock.connections.model import Connection
from crossdock.connectors.peakwms.account import PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient
from crossdock.connectors.peakwms.products import upsert_product
from crossdock.connectors.peakwms.warehouses import warehouses_in_stock_log
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.shopbox.account import ShopboxAccount
from crossdock.connectors.shopbox.client import ShopboxClient
from crossdock.connectors.shopbox.secret_names import SHOPBOX_PASSWORD
from crossdock.connectors.shopbox.tokens import ShopboxTokens
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.webshipper.account import WebshipperAccount
from crossdock.connectors.webshipper.client import WebshipperClient
from crossdock.connectors.webshipper.secret_names import API_TOKEN
from crossdock.connectors.webshipper.tokens import WebshipperTokens
from crossdock.integration import Choice, SettingChoices
from crossdock.integrations.install_credentials import OnlyHolder
from crossdock.integrations.peakwms_shopify import choices as peakwms_choices
from crossdock.integrations.peakwms_shopify.connection import PeakwmsShopifyAccounts, PeakwmsShopifyConnection
from crossdock.integrations.peakwms_shopify.settings import PeakwmsShopifySettings
from crossdock.operations.choices import choices_of
from crossdock_local.sims.base.transport import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator
from crossdock_local.sims.shopify.simulator import ShopifySimulator

RACKBEAT_KEY = "rb-key-choices"
SHOP = "nordisk-hjem.myshopify.com"
SHOP_TOKEN = "shpat_choices"
SHOPBOX_API = "https://api.shopbox.com/api/v3"
SHOPBOX_LOGIN = "kasse@cafe.dk"
SHOPBOX_PASSWORD_VALUE = "kaffe-og-kage-2026"
# The connection the choices are read for: the clients below stand in for `ConnectionClients`, whose clients are
# what a connection's accounts make; these tests make them from the simulators directly.
CONNECTION = cast(Connection, SimpleNamespace(id="c-choices", kind="any"))


def offered(kind: str) -> SettingChoices:
    found = registry.integration(kind).setting_choices
    assert found is not None, f"{kind} offers no setting choices"
    return found


def values(found: list[Choice]) -> list[str | int]:
    return [choice.value for choice in found]


class Clients:
    """`integrations.clients.ConnectionClients`' methods, each a real connector client on a simulator."""

    def __init__(self, **made: Any) -> None:
        self._made = made
        self.asked: list[str] = []

    def _client(self, system: str) -> Any:
        self.asked.append(system)
        return self._made[system]

    def rackbeat(self, connection: Connection, *, paced: bool = True) -> RackbeatClient:
        assert not paced, "a person waits on the choices: they are read on the order stages' short waits"
        return cast(RackbeatClient, self._client("rackbeat"))

    def shopify(self, connection: Connection) -> ShopifyAdmin:
        return cast(ShopifyAdmin, self._client("shopify"))

    def shopbox(self, connection: Connection) -> ShopboxClient:
        return cast(ShopboxClient, self._client("shopbox"))

    def webshipper(self, connection: Connection) -> WebshipperClient:
        return cast(WebshipperClient, self._client("webshipper"))

    def peakwms(self, connection: Connection) -> PeakwmsClient:
        return cast(PeakwmsClient, self._client("peakwms"))


def rackbeat_account() -> tuple[RackbeatSimulator, int, RackbeatClient]:
    """A Rackbeat account with every list a setting names: two of most, a nested location, three item fields."""
    sim = RackbeatSimulator()
    account = sim.add_account(RACKBEAT_KEY)
    sim.seed_customer_group(account, 1, "Webshop")
    sim.seed_customer_group(account, 2, "Forhandlere")
    sim.seed_layout(account, 1, "Standard")
    sim.seed_payment_terms(account, 3, "Netto 8 dage")
    sim.seed_employee(account, 1, "Webshop")
    sim.seed_employee(account, 2, "Kasse")
    sim.seed_product_group(account, 1, "Varer m/lager")
    sim.seed_product_group(account, 2, "Ydelser", has_inventory=False)
    sim.seed_location(account, "L1", "Hovedlager")
    sim.seed_location(account, "L1-A", "Reol A", parent_number="L1")
    sim.seed_delivery_terms(account, 7, "GLS")
    sim.seed_field(account, 11, "Shopbox UID", type="text")
    sim.seed_field(account, 12, "Shopbox variant UID", type="text")
    sim.seed_field(account, 13, "Webshop", type="checkbox")
    client = RackbeatClient("https://app.rackbeat.com/api/", RACKBEAT_KEY, transport(sim, root="/api"))
    return sim, account, client


def shop(token: str = SHOP_TOKEN) -> tuple[ShopifySimulator, ShopifyAdmin]:
    """A shop with its primary location, a second one and a deactivated one; `token` is what the client sends."""
    sim = ShopifySimulator(seed=3)
    sim.add_shop(SHOP, "app-secret", SHOP_TOKEN)
    sim.add_location(SHOP, "Lager Aarhus")
    sim.add_location(SHOP, "Gammel butik", active=False)
    return sim, ShopifyAdmin(f"https://{SHOP}", SHOP, token, transport=transport(sim))


# ---- rackbeat_shopify ---------------------------------------------------------------------------------------------


def test_rackbeat_shopify_offers_every_list_its_tabs_name_with_the_values_a_save_takes() -> None:
    # GIVEN a Rackbeat account with its lists and a shop with three locations
    _, _, rackbeat = rackbeat_account()
    shopify_sim, admin = shop()
    clients = Clients(rackbeat=rackbeat, shopify=admin)
    # WHEN the rackbeat_shopify choices are read
    read = choices_of(CONNECTION, offered("rackbeat_shopify"), clients)
    found = read.choices
    # THEN nothing is unavailable, and each field is offered what it may hold, as the settings hold it:
    # Rackbeat numbers as ints, locations and field ids as text
    assert read.unavailable == {}
    assert found["customer_defaults.customer_group"] == [Choice(1, "Webshop (1)"), Choice(2, "Forhandlere (2)")]
    assert found["customer_defaults.layout"] == [Choice(1, "Standard (1)")]
    assert found["customer_defaults.payment_terms"] == [Choice(3, "Netto 8 dage (3)")]
    assert found["employees.web"] == found["employees.pos"] == [Choice(1, "Webshop (1)"), Choice(2, "Kasse (2)")]
    assert values(found["product_sync.default_product_group"]) == [1, 2]
    # only the checkbox field can publish an item; "always_online" is the setting's own value
    assert found["product_sync.online_availability"] == [
        Choice("always_online", "Always online"),
        Choice("13", "Webshop"),
    ]
    # a shelf is named after its warehouse
    assert found["fulfillment.rackbeat_location"] == [
        Choice("L1", "Hovedlager (L1)"),
        Choice("L1-A", "Hovedlager / Reol A (L1-A)"),
    ]
    assert (
        found["pos.rackbeat_location"]
        == found["advanced.country_locations.*"]
        == found["fulfillment.rackbeat_location"]
    )
    # the shop's locations by numeric id, as webhooks name them; the deactivated one marked
    shop_locations = {location.name: str(location.id) for location in shopify_sim.shop(SHOP).catalog.locations.values()}
    labels = {choice.value: choice.label for choice in found["fulfillment.shopify_location"]}
    assert labels[shop_locations["Lager Aarhus"]] == "Lager Aarhus"
    assert labels[shop_locations["Gammel butik"]] == "Gammel butik (inactive)"
    assert len(labels) == len(shop_locations)


def test_a_system_that_refuses_leaves_only_its_own_fields_without_choices() -> None:
    # GIVEN a Rackbeat account that answers and a shop whose token was revoked (the client's is unknown to it)
    _, _, rackbeat = rackbeat_account()
    _, admin = shop(token="shpat_revoked")
    # WHEN the rackbeat_shopify choices are read
    read = choices_of(
        CONNECTION,
        offered("rackbeat_shopify"),
        Clients(rackbeat=rackbeat, shopify=admin),
    )
    # THEN Shopify is named unavailable with Shopify's reason, its field has no choices, and Rackbeat's are all there
    assert list(read.unavailable) == ["shopify"]
    assert read.unavailable["shopify"]
    assert SHOP_TOKEN not in read.unavailable["shopify"] and "shpat_revoked" not in read.unavailable["shopify"]
    assert "fulfillment.shopify_location" not in read.choices
    assert values(read.choices["customer_defaults.customer_group"]) == [1, 2]


# ---- rackbeat_shopbox ---------------------------------------------------------------------------------------------


@pytest.fixture
def till(monkeypatch: pytest.MonkeyPatch) -> tuple[ShopboxSimulator, ShopboxClient, dict[str, Any]]:
    """A Shopbox client with two branches (one closed) and two tags, logged in by password."""
    sim = ShopboxSimulator(seed=14)
    seeded = sim.seed_client(
        "Café Strøget",
        username=SHOPBOX_LOGIN,
        password=SHOPBOX_PASSWORD_VALUE,
        branches={"Strøget": ["Kasse 1"]},
        tags=["Kaffe", "Kage"],
    )
    closed = sim.add_branch(int(seeded["uid"]), "Nørrebro", is_closed=True)
    secrets = FakeSecrets()
    secrets.put("c-shopbox", SHOPBOX_PASSWORD, SHOPBOX_PASSWORD_VALUE)
    account = ShopboxAccount(api_base=SHOPBOX_API, client_uid=str(seeded["uid"]), username=SHOPBOX_LOGIN)
    http = transport(sim)
    tokens = ShopboxTokens("c-shopbox", account, secrets, OnlyHolder(), holder="me", transport=http)
    return sim, ShopboxClient(account, tokens, transport=http), {**seeded, "closed": closed}


def test_rackbeat_shopbox_offers_branches_and_categories_and_the_rackbeat_side_of_their_maps(
    till: tuple[ShopboxSimulator, ShopboxClient, dict[str, Any]],
) -> None:
    # GIVEN the Rackbeat account and the Shopbox client
    _, _, rackbeat = rackbeat_account()
    _, shopbox, seeded = till
    # WHEN the rackbeat_shopbox choices are read
    read = choices_of(
        CONNECTION,
        offered("rackbeat_shopbox"),
        Clients(rackbeat=rackbeat, shopbox=shopbox),
    )
    found = read.choices
    # THEN the maps' keys are Shopbox's (branches for `locations`, tags for `categories`) and what goes under any
    # key is Rackbeat's (`locations.*` its locations, `categories.*` its product groups)
    assert read.unavailable == {}
    open_branch = str(seeded["branches"][0]["uid"])
    assert found["locations"] == [
        Choice(open_branch, "Strøget"),
        Choice(str(seeded["closed"]["uid"]), "Nørrebro (closed)"),
    ]
    assert found["main_location_shopbox"] == found["locations"]
    assert [choice.label for choice in found["categories"]] == ["Kaffe", "Kage"]
    assert all(isinstance(choice.value, str) and choice.value.isdigit() for choice in found["categories"])
    assert values(found["locations.*"]) == values(found["main_location_rackbeat"]) == ["L1", "L1-A"]
    assert values(found["categories.*"]) == values(found["default_category_group"]) == [1, 2]
    assert values(found["sales.employee_number"]) == [1, 2]
    # the UIDs are written as text: only the text fields may hold them
    assert (
        found["uid_field_id"]
        == found["variant_field_id"]
        == [
            Choice("11", "Shopbox UID"),
            Choice("12", "Shopbox variant UID"),
        ]
    )


# ---- rackbeat_webshipper ------------------------------------------------------------------------------------------


def webshipper_client() -> tuple[Any, WebshipperClient]:
    shipper, secrets = open_account(), FakeSecrets()
    secrets.put("c-ws", API_TOKEN, shipper.sim.add_api_token(ACCOUNT))
    account = WebshipperAccount(account=ACCOUNT, api_base=API)
    tokens = WebshipperTokens("c-ws", account, secrets, OnlyHolder(), holder="me")
    return shipper, WebshipperClient(account, tokens, transport=transport(shipper.sim))


def test_rackbeat_webshipper_offers_channels_rates_and_delivery_terms_and_no_drop_point_default() -> None:
    # GIVEN a Webshipper account (channels Rackbeat and Webshop; a home rate and a drop-point rate, both of the
    # Rackbeat channel) and the Rackbeat account
    shipper, webshipper = webshipper_client()
    _, _, rackbeat = rackbeat_account()
    # WHEN the rackbeat_webshipper choices are read
    read = choices_of(
        CONNECTION,
        offered("rackbeat_webshipper"),
        Clients(rackbeat=rackbeat, webshipper=webshipper),
    )
    found = read.choices
    # THEN the channels by id, every rate (its channel named, a drop-point rate marked) under any delivery term or
    # shipping line, and a default rate that needs no drop point (a Rackbeat order carries none)
    assert read.unavailable == {}
    assert found["order_channel"] == [
        Choice(str(shipper.rackbeat), "Rackbeat"),
        Choice(str(shipper.webshop), "Webshop"),
    ]
    assert (
        found["delivery_term_rates.*"]
        == found["shipping_method_rates.*"]
        == [
            Choice(str(shipper.home), "GLS Privat — Rackbeat"),
            Choice(str(shipper.parcel_shop), "PostNord Pakkeshop — Rackbeat (needs a drop point)"),
        ]
    )
    assert found["default_shipping_rate"] == [Choice(str(shipper.home), "GLS Privat — Rackbeat")]
    # the delivery terms are the keys of `delivery_term_rates`, as text (the setting's ids are)
    assert found["delivery_term_rates"] == [Choice("7", "GLS (7)")]
    assert values(found["excluded_customer_groups"]) == values(found["default_customer_group"]) == [1, 2]
    assert values(found["default_payment_terms"]) == [3]
    assert values(found["default_layout"]) == [1] and values(found["default_employee"]) == [1, 2]
    assert values(found["product_group"]) == [1, 2]
    assert values(found["default_location"]) == ["L1", "L1-A"]
    assert values(found["line_location_filter"]) == ["all", "L1", "L1-A"]


# ---- peakwms_shopify ----------------------------------------------------------------------------------------------


def peakwms_connection(**locations: str) -> PeakwmsShopifyConnection:
    return PeakwmsShopifyConnection(
        id="c-peak",
        accounts=PeakwmsShopifyAccounts(
            peakwms=PeakwmsAccount(account=CUSTOMER, api_base="https://api.peakwms.test"),
            shopify=ShopifyAccount(shop_domain=SHOP, api_base=f"https://{SHOP}"),
        ),
        settings=PeakwmsShopifySettings.model_validate(
            {"shop_name": "nordisk-hjem", "country": "DK", "locations": locations}
        ),
    )


def stocked_warehouse(monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """A PeakWMS customer with warehouses Main, Aarhus and Retur; goods received in Main and Aarhus only, today (the
    choices read the log back from the wall clock's now)."""
    warehouse = Warehouse(clock=StoppedClock(now=datetime.now(UTC).timestamp()))
    monkeypatch.setattr(pacing, "clock", warehouse.clock)
    warehouse.sim.add_warehouse(CUSTOMER, "Aarhus")
    warehouse.sim.add_warehouse(CUSTOMER, "Retur")
    client = warehouse.client()
    for number, where in ((1, "Main"), (2, "Aarhus"), (3, "Main")):
        draft = variant(number)
        upsert_product(client, draft)
        warehouse.sim.receive_stock(CUSTOMER, draft.product_id, draft.variant_id, 5, where)
    return warehouse


def test_peakwms_shopify_maps_shop_locations_to_the_warehouses_its_stock_log_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a shop with locations, and a PeakWMS customer whose stock log names Main and Aarhus (Retur has had no
    # movement), with settings that already map a location to Retur
    warehouse = stocked_warehouse(monkeypatch)
    shopify_sim, admin = shop()
    primary = str(shopify_sim.shop(SHOP).catalog.primary_location.id)
    connection = peakwms_connection(**{primary: "Retur"})
    clients = Clients(shopify=admin, peakwms=warehouse.client())
    # WHEN the peakwms_shopify choices are read
    read = choices_of(connection, offered("peakwms_shopify"), clients)
    # THEN the map's keys are the shop's locations, and what goes under them the warehouses the log names, first
    # seen first, then the one the settings use already
    assert read.unavailable == {}
    assert primary in values(read.choices["locations"])
    assert read.choices["locations.*"] == [Choice("Main", "Main"), Choice("Aarhus", "Aarhus"), Choice("Retur", "Retur")]


def test_the_stock_log_is_read_from_the_window_and_no_more_than_the_pages_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the stocked customer, read through a transport that counts the stock log's pages
    warehouse = stocked_warehouse(monkeypatch)
    pages: list[httpx.Request] = []

    def counting(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stockAction"):
            pages.append(request)
        answer: httpx.Response = warehouse.http.handle_request(request)
        return answer

    client = warehouse.client(http=httpx.MockTransport(counting))
    now = datetime.fromtimestamp(warehouse.clock.now, UTC)
    # WHEN the warehouses are read from a window that holds the movements, and from one that starts after them
    seen = warehouses_in_stock_log(client, now - peakwms_choices.WAREHOUSE_WINDOW)
    later = warehouses_in_stock_log(client, now + timedelta(days=1))
    # THEN the movements' warehouses are named once each; a short page is the last (one call each), and the
    # window's start is sent as the log's own time format
    assert seen == ["Main", "Aarhus"] and later == []
    assert len(pages) == 2
    assert pages[0].url.params["fromTime"] == (now - peakwms_choices.WAREHOUSE_WINDOW).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_busy_stock_log_is_read_no_further_than_its_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a stock log of more than a page (251 movements in Main), then a movement in Aarhus
    warehouse = stocked_warehouse(monkeypatch)
    draft = variant(1)
    for _ in range(251):
        warehouse.sim.receive_stock(CUSTOMER, draft.product_id, draft.variant_id, 1, "Main")
    warehouse.sim.receive_stock(CUSTOMER, draft.product_id, draft.variant_id, 1, "Retur")
    client = warehouse.client()
    since = datetime.fromtimestamp(warehouse.clock.now, UTC) - timedelta(days=1)
    # WHEN read with one page allowed, and with two
    # THEN one page names only what it holds; the second page reaches Retur
    assert warehouses_in_stock_log(client, since, max_pages=1) == ["Main", "Aarhus"]
    assert warehouses_in_stock_log(client, since, max_pages=2) == ["Main", "Aarhus", "Retur"]
