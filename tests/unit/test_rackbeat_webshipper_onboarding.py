"""A new `rackbeat_webshipper` connection prepared (SPEC §3 install): the Rackbeat key and the Webshipper login (or
API token) tested before anything is stored, the account's channels and rates read as the operator's choices, the
settings' references looked up in both accounts, the secrets to store. Both platforms are their simulators behind
the real clients (the Webshipper one through `install.ConnectorSignIn`)."""

from __future__ import annotations

from typing import Any

import pytest
from test_webshipper_sim import ACCOUNT, EMAIL, PASSWORD, ROOT, Account, open_account

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY, RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.webshipper import secret_names
from crossdock.integrations.rackbeat_webshipper.install import (
    Choice,
    ConnectorSignIn,
    WebshipperCredentials,
    channel_choices,
)
from crossdock.integrations.rackbeat_webshipper.onboarding import (
    ConnectionRefused,
    NewWebshipperConnection,
    PreparedConnection,
    prepare,
)
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

API_KEY = "rb-key-ws-onboarding"
WEBSHIPPER_API = f"{ROOT}/{{account}}/v2"


@pytest.fixture
def webshipper() -> Account:
    return open_account()


@pytest.fixture
def rackbeat() -> RackbeatSimulator:
    sim = RackbeatSimulator()
    account = sim.add_account(API_KEY)
    sim.seed_delivery_terms(account, 1, "GLS")
    sim.seed_customer_group(account, 2, "Webshipper")
    return sim


def _prepare(
    webshipper: Account,
    rackbeat: RackbeatSimulator,
    credentials: WebshipperCredentials,
    settings: dict[str, Any],
    api_key: str = API_KEY,
) -> PreparedConnection:
    new = NewWebshipperConnection(
        rackbeat_api_key=api_key,
        webshipper=credentials,
        settings=settings,
        webshipper_api_base=WEBSHIPPER_API,
    )
    # As the operation builds them: a Rackbeat client with the key given, a sign-in holding nothing yet.
    client = RackbeatClient("https://app.rackbeat.com/api/", api_key, transport(rackbeat, root="/api"))
    sign_in = ConnectorSignIn(timeout_seconds=5, transport=transport(webshipper.sim))
    try:
        return prepare("c-new", new, client, sign_in)
    finally:
        client.close()
        sign_in.close()


def test_a_login_is_tested_and_the_channels_and_rates_are_offered(
    webshipper: Account, rackbeat: RackbeatSimulator
) -> None:
    # GIVEN the account, its user's e-mail and password, and settings naming what both accounts have
    settings = {"order_channel": webshipper.rackbeat, "delivery_term_rates": {"1": webshipper.home}}
    prepared = _prepare(
        webshipper,
        rackbeat,
        WebshipperCredentials(ACCOUNT.upper(), EMAIL, PASSWORD),
        {**settings, "default_customer_group": 2},
    )
    # THEN the connection is ready, installing until stored and activated, on the account's own API base
    connection = prepared.connection
    assert prepared.ready and connection.state is ConnectionState.INSTALLING
    assert connection.accounts.webshipper.account == ACCOUNT
    assert connection.accounts.webshipper.api_base == f"{ROOT}/{ACCOUNT}/v2"
    assert connection.accounts.webshipper.username == EMAIL
    assert connection.accounts.rackbeat.account_id is not None
    # AND the choices are the account's channels and rates
    assert {channel.name for channel in prepared.channels} == {"Rackbeat", "Webshop"}
    assert {rate.name for rate in prepared.rates} == {"GLS Privat", "PostNord Pakkeshop"}
    # AND the secrets are the key, the password and the token it was granted (stored encrypted by the caller)
    assert set(prepared.secrets) == {
        RACKBEAT_API_KEY,
        RACKBEAT_WEBHOOK_TOKENS,
        secret_names.PASSWORD,
        secret_names.ACCESS_TOKEN,
    }
    assert prepared.secrets[secret_names.PASSWORD] == PASSWORD
    assert PASSWORD not in repr(prepared)


def test_a_wrong_password_is_one_clear_problem_and_the_settings_are_still_checked(
    webshipper: Account, rackbeat: RackbeatSimulator
) -> None:
    # GIVEN a wrong password and a settings document breaking a rule
    with pytest.raises(ConnectionRefused) as refused:
        _prepare(
            webshipper,
            rackbeat,
            WebshipperCredentials(ACCOUNT, EMAIL, "wrong"),
            {"order_channel": webshipper.rackbeat, "transfer_when": "whenever"},
        )
    # THEN both are listed, the password's under its own field, and neither the password nor the key is shown
    problems = {problem.field: problem.message for problem in refused.value.problems}
    assert set(problems) == {"webshipper_password", "transfer_when"}
    assert "Webshipper refused the login of lager@nordlager.dk" in problems["webshipper_password"]
    assert "wrong" not in str(refused.value) and API_KEY not in str(refused.value)


def test_a_document_without_a_channel_is_refused_with_the_channels_to_choose_from(
    webshipper: Account, rackbeat: RackbeatSimulator
) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        _prepare(webshipper, rackbeat, WebshipperCredentials(ACCOUNT, EMAIL, PASSWORD), {})
    assert [problem.field for problem in refused.value.problems] == ["order_channel"]
    assert {channel.id for channel in refused.value.channels} == {str(webshipper.rackbeat), str(webshipper.webshop)}
    assert len(refused.value.rates) == 2


def test_an_api_token_is_kept_instead_of_a_password(webshipper: Account, rackbeat: RackbeatSimulator) -> None:
    token = webshipper.sim.add_api_token(ACCOUNT)
    prepared = _prepare(
        webshipper,
        rackbeat,
        WebshipperCredentials(ACCOUNT, api_token=token),
        {"order_transfer": "webshipper_to_rackbeat"},
    )
    assert prepared.connection.accounts.webshipper.username is None
    assert prepared.secrets[secret_names.API_TOKEN] == token
    assert secret_names.PASSWORD not in prepared.secrets


def test_an_unknown_account_a_bad_key_and_missing_references(webshipper: Account, rackbeat: RackbeatSimulator) -> None:
    # GIVEN an account Webshipper does not have and a key Rackbeat refuses
    with pytest.raises(ConnectionRefused) as refused:
        _prepare(
            webshipper,
            rackbeat,
            WebshipperCredentials("no-such-account", EMAIL, PASSWORD),
            {"order_transfer": "webshipper_to_rackbeat"},
            api_key="not-a-key",
        )
    assert {problem.field for problem in refused.value.problems} == {"webshipper_account", "rackbeat_api_key"}
    # GIVEN good credentials but settings naming a channel and a customer group that do not exist
    prepared = _prepare(
        webshipper,
        rackbeat,
        WebshipperCredentials(ACCOUNT, EMAIL, PASSWORD),
        {"order_channel": 999, "default_customer_group": 77},
    )
    # THEN it can be stored, installing, with what is missing reported
    assert not prepared.ready
    assert {problem.field for problem in prepared.missing_references} == {"order_channel", "default_customer_group"}


def test_credentials_given_wrong_are_refused_before_webshipper_is_asked(
    webshipper: Account, rackbeat: RackbeatSimulator
) -> None:
    before = sum(webshipper.sim.calls_by_route.values())
    with pytest.raises(ConnectionRefused) as refused:
        _prepare(
            webshipper,
            rackbeat,
            WebshipperCredentials("acme.dk", EMAIL, "", api_token=None),
            {"order_transfer": "webshipper_to_rackbeat"},
        )
    assert {problem.field for problem in refused.value.problems} == {"webshipper_account", "webshipper_password"}
    assert sum(webshipper.sim.calls_by_route.values()) == before


def test_the_choices_offer_every_rate_a_channel_may_use_and_mark_the_drop_point_ones() -> None:
    """GIVEN our channel and another, a home rate of ours, a drop-point rate of ours, a rate of any channel and one
    of the other channel WHEN the choices are listed (`settings choices`) THEN our channel offers its own rates and
    the unbound one, the drop-point rate is marked as no default (a Rackbeat order carries no drop point)."""
    channels = [Choice("101", "Rackbeat"), Choice("102", "Webshop")]
    rates = [
        Choice("301", "GLS Privat", "101"),
        Choice("302", "PostNord Pakkeshop", "101", drop_point=True),
        Choice("303", "DAO", None),
        Choice("304", "Bring", "102"),
    ]

    lines = channel_choices(channels, rates)

    assert lines[:4] == [
        "order channel 101 Rackbeat",
        "  shipping rate 301 GLS Privat",
        "  shipping rate 302 PostNord Pakkeshop (requires a drop point: not for default_shipping_rate)",
        "  shipping rate 303 DAO",
    ]
    assert "  shipping rate 304 Bring" in lines[4:] and "  shipping rate 301 GLS Privat" not in lines[4:]
