"""Installing a shop (OAuth authorization-code grant) through the stack's own routes, as the shop owner's browser
does: `GET /shopify/install` → Shopify's approval page → `GET /shopify/callback`."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from boto3.dynamodb.conditions import Attr

from crossdock import services
from crossdock.connections.model import ConnectionState
from crossdock.connectors.shopify.secret_names import SHOPIFY_ACCESS_TOKEN, SHOPIFY_REFRESH_TOKEN
from crossdock.connectors.shopify.tokens import load_stored
from crossdock.store import connections, keys
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.sims.shopify.order_generator import varied_orders
from crossdock_local.stack import LocalInstall, LocalStack

_shops = itertools.count(1)
STATE_PREFIX = keys.oauth_state_pk("")


@pytest.fixture(scope="module", autouse=True)
def _fresh_function_clients() -> None:
    """The functions' AWS clients are cached per process (per container in AWS), and an earlier module's stack had
    another KMS key: these tests encrypt inside the functions, so they start from clients of this module's stack."""
    services.forget()


def new_shop() -> str:
    return f"install-{next(_shops)}.myshopify.com"


def browse(stack: LocalStack, url_or_path: str, params: dict[str, str] | None = None) -> httpx.Response:
    """One browser request to the stack (redirects are not followed: the test looks at each hop)."""
    url = url_or_path if url_or_path.startswith("http") else stack.base_url + url_or_path
    return httpx.get(url, params=params, timeout=30)


def start(stack: LocalStack, pending: LocalInstall) -> str:
    """The install link Shopify opens, and the approval page it redirects to."""
    answer = browse(stack, "/shopify/install", stack.shopify.install_request(pending.shop_domain, pending.client_id))
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def signed(query: dict[str, str], secret: str) -> dict[str, str]:
    """A query signed as Shopify signs it (for requests Shopify would never send as they are)."""
    unsigned = {k: v for k, v in query.items() if k not in ("hmac", "signature")}
    message = "&".join(f"{k}={v}" for k, v in sorted(unsigned.items()))
    return {**unsigned, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def callback_with(stack: LocalStack, query: dict[str, str]) -> httpx.Response:
    return browse(stack, "/shopify/callback", query)


def oauth_states(stack: LocalStack) -> int:
    return len(stack.table.scan(FilterExpression=Attr("pk").begins_with(STATE_PREFIX))["Items"])


def state_of(stack: LocalStack, pending: LocalInstall) -> ConnectionState:
    connection = connections.load_connection(stack.table, pending.connection_id)
    assert connection is not None
    return connection.state


@pytest.fixture
def pending(stack: LocalStack) -> LocalInstall:
    return stack.begin_install(demo_settings(), shop_domain=new_shop())


# -- the whole install -----------------------------------------------------------------------------------------------


def test_an_installed_shop_is_active_with_its_token_encrypted_and_orders_flow(
    stack: LocalStack, pending: LocalInstall
) -> None:
    approval = start(stack, pending)
    assert approval.startswith(f"{stack.base_url}/_sim/shopify/admin/oauth/authorize?")
    asked = query_of(approval)
    assert asked["redirect_uri"] == f"{stack.base_url}/shopify/callback"
    assert asked["client_id"] == pending.client_id and "read_orders" in asked["scope"].split(",")

    answer = browse(stack, stack.shopify.approve(pending.shop_domain, approval))

    assert answer.status_code == 200
    assert f"Crossdock is installed for {pending.shop_domain}" in answer.text
    assert state_of(stack, pending) is ConnectionState.ACTIVE
    stored = load_stored(stack.secrets, pending.connection_id)
    assert stored is not None and stored.refresh_token and stored.expires_at
    for name, plaintext in ((SHOPIFY_ACCESS_TOKEN, stored.access_token), (SHOPIFY_REFRESH_TOKEN, stored.refresh_token)):
        item = stack.table.get_item(Key={"pk": keys.connection_pk(pending.connection_id), "sk": keys.secret_sk(name)})
        assert set(item["Item"]) == {"pk", "sk", "ciphertext"}
        assert plaintext.encode() not in bytes(item["Item"]["ciphertext"].value)
    topics = {s.topic for s in stack.shopify.shop(pending.shop_domain).subscriptions}
    assert {"orders/create", "orders/paid"} <= topics

    stack.seed_items(pending.rackbeat_account_id, DEMO_SKUS)
    planned = varied_orders(1, seed=5, skus=DEMO_SKUS)[0].order
    order = stack.shopify.create_order(pending.shop_domain, planned, paid=True)
    stack.settle()
    reference = f"Shopify {order['name']} ({order['id']})"
    rackbeat_orders = stack.rackbeat.state(pending.rackbeat_account_id).orders.values()
    assert [o["other_reference"] for o in rackbeat_orders if o.get("other_reference") == reference] == [reference]


def test_a_shop_installs_again_after_an_uninstall(stack: LocalStack, pending: LocalInstall) -> None:
    first = stack.install(pending)
    stack.shopify.uninstall(pending.shop_domain)
    stack.settle()
    assert state_of(stack, pending) is ConnectionState.UNINSTALLED
    assert load_stored(stack.secrets, pending.connection_id) is None

    again = stack.install(pending)

    assert state_of(stack, pending) is ConnectionState.ACTIVE
    assert again.shopify_access_token != first.shopify_access_token


# -- the install request ---------------------------------------------------------------------------------------------


def test_a_forged_install_request_is_401_and_stores_no_state(stack: LocalStack, pending: LocalInstall) -> None:
    before = oauth_states(stack)
    query = stack.shopify.install_request(pending.shop_domain, pending.client_id)
    for forged in (signed(query, "not-the-client-secret"), {**query, "host": "ZXZpbA"}, {**query, "hmac": ""}):
        answer = browse(stack, "/shopify/install", forged)
        assert answer.status_code == 401 and "hmac" in answer.text
    assert oauth_states(stack) == before


def test_a_stale_install_request_is_401(stack: LocalStack, pending: LocalInstall) -> None:
    query = stack.shopify.install_request(pending.shop_domain, pending.client_id)
    stack.aws.clock.advance(91)
    answer = browse(stack, "/shopify/install", query)
    assert answer.status_code == 401 and "timestamp" in answer.text


@pytest.mark.parametrize("shop", ["evil.com", "acme.myshopify.com.evil.com", "-x.myshopify.com", ""])
def test_a_shop_that_is_not_a_shopify_domain_is_400_naming_shop(
    stack: LocalStack, pending: LocalInstall, shop: str
) -> None:
    query = signed({**stack.shopify.install_request(pending.shop_domain, pending.client_id), "shop": shop}, "x")
    calls = stack.shopify.calls
    answer = browse(stack, "/shopify/install", query)
    assert answer.status_code == 400 and answer.text.startswith("shop:")
    assert stack.shopify.calls == calls


def test_a_shop_without_a_connection_is_404(stack: LocalStack, pending: LocalInstall) -> None:
    query = stack.shopify.install_request(pending.shop_domain, pending.client_id)
    query = signed({**query, "shop": "nobody-here.myshopify.com"}, pending.client_secret)
    assert browse(stack, "/shopify/install", query).status_code == 404


def test_an_active_connection_is_not_installed_over(stack: LocalStack, pending: LocalInstall) -> None:
    stack.install(pending)
    query = stack.shopify.install_request(pending.shop_domain, pending.client_id)
    assert browse(stack, "/shopify/install", query).status_code == 409


def test_the_shop_domain_is_matched_case_insensitively(stack: LocalStack, pending: LocalInstall) -> None:
    query = stack.shopify.install_request(pending.shop_domain, pending.client_id)
    shouted = pending.shop_domain.removesuffix(".myshopify.com").upper() + ".myshopify.com"
    answer = browse(stack, "/shopify/install", signed({**query, "shop": shouted}, pending.client_secret))
    assert answer.status_code == 302


# -- the callback ----------------------------------------------------------------------------------------------------


def test_a_replayed_callback_is_401_and_grants_no_second_token(stack: LocalStack, pending: LocalInstall) -> None:
    callback = stack.shopify.approve(pending.shop_domain, start(stack, pending))
    assert browse(stack, callback).status_code == 200
    grants = stack.shopify.token_requests["authorization_code"]

    replayed = browse(stack, callback)

    assert replayed.status_code == 401
    assert "state is unknown, expired or already used" in replayed.text
    assert stack.shopify.token_requests["authorization_code"] == grants


def test_a_callback_with_a_tampered_hmac_is_401(stack: LocalStack, pending: LocalInstall) -> None:
    query = query_of(stack.shopify.approve(pending.shop_domain, start(stack, pending)))
    for tampered in ({**query, "code": "0" * 32}, {**query, "hmac": "0" * 64}, signed(query, "not-the-secret")):
        answer = callback_with(stack, tampered)
        assert answer.status_code == 401 and "hmac" in answer.text
    assert state_of(stack, pending) is ConnectionState.INSTALLING
    assert callback_with(stack, query).status_code == 200  # the genuine one still works: nothing was spent


def test_a_state_issued_for_another_shop_is_401(stack: LocalStack, pending: LocalInstall) -> None:
    # One app, two shops (Crossdock is one public app): the signatures are valid, only the state belongs elsewhere.
    other = stack.begin_install(demo_settings(), shop_domain=new_shop(), client_id=pending.client_id)
    approval_for_pending = start(stack, pending)
    crossed = stack.shopify.approve(other.shop_domain, approval_for_pending)

    answer = browse(stack, crossed)

    assert answer.status_code == 401 and "state" in answer.text
    assert state_of(stack, other) is ConnectionState.INSTALLING
    assert browse(stack, stack.shopify.approve(pending.shop_domain, approval_for_pending)).status_code == 200


def test_too_few_granted_scopes_is_403_and_the_connection_stays_installing(stack: LocalStack) -> None:
    settings = {**demo_settings(), "stock_sync": {"enabled": True}}
    pending = stack.begin_install(settings, shop_domain=new_shop())
    callback = stack.shopify.approve(pending.shop_domain, start(stack, pending), grant_scopes="read_orders")

    answer = browse(stack, callback)

    assert answer.status_code == 403
    assert "read_locations" in answer.text and "write_inventory" in answer.text
    assert state_of(stack, pending) is ConnectionState.INSTALLING
    assert load_stored(stack.secrets, pending.connection_id) is None


def test_a_code_already_used_is_a_clean_400(stack: LocalStack) -> None:
    # GIVEN an install whose code was traded (then refused for too few scopes: the connection is still installing)
    pending = stack.begin_install({**demo_settings(), "stock_sync": {"enabled": True}}, shop_domain=new_shop())
    first_approval, second_approval = start(stack, pending), start(stack, pending)
    used = query_of(stack.shopify.approve(pending.shop_domain, first_approval, grant_scopes="read_orders"))
    assert callback_with(stack, used).status_code == 403
    # WHEN the same code comes back with the second, still unused state
    reused_code = signed({**used, "state": query_of(second_approval)["state"]}, pending.client_secret)

    answer = callback_with(stack, reused_code)

    assert answer.status_code == 400
    assert "invalid_grant" in answer.text and used["code"] not in answer.text


def test_a_second_state_for_an_installed_shop_is_409_and_trades_no_second_code(
    stack: LocalStack, pending: LocalInstall
) -> None:
    # GIVEN two installs started for one shop (two states issued), and the first one completed
    first_approval, second_approval = start(stack, pending), start(stack, pending)
    assert browse(stack, stack.shopify.approve(pending.shop_domain, first_approval)).status_code == 200
    token = load_stored(stack.secrets, pending.connection_id)
    grants = stack.shopify.token_requests["authorization_code"]
    states = oauth_states(stack)
    # WHEN Shopify sends the browser back with the second state and a fresh code
    answer = browse(stack, stack.shopify.approve(pending.shop_domain, second_approval))
    # THEN it is refused as already installed, before Shopify is asked for a second token
    assert answer.status_code == 409
    assert answer.text == f"the connection for {pending.shop_domain} is active: Crossdock is already installed for it"
    assert stack.shopify.token_requests["authorization_code"] == grants
    # AND nothing changed but that the second state is spent: the same token, the connection active
    assert load_stored(stack.secrets, pending.connection_id) == token
    assert state_of(stack, pending) is ConnectionState.ACTIVE
    assert oauth_states(stack) == states - 1
    assert browse(stack, stack.shopify.approve(pending.shop_domain, second_approval)).status_code == 401


def test_no_answer_or_log_line_carries_a_secret(stack: LocalStack, pending: LocalInstall) -> None:
    approval = start(stack, pending)  # the handler's module (and its logger) is loaded from here on
    from crossdock.aws.observability import logger

    lines: list[str] = []
    recorder = RecordingHandler(lines)
    logger.addHandler(recorder)
    try:
        callback = stack.shopify.approve(pending.shop_domain, approval)
        answers = [browse(stack, callback), browse(stack, callback), browse(stack, callback.replace("code=", "code=9"))]
    finally:
        logger.removeHandler(recorder)
    stored = load_stored(stack.secrets, pending.connection_id)
    assert stored is not None and stored.refresh_token
    assert [a.status_code for a in answers] == [200, 401, 401]
    assert lines, "refusals are logged"
    secrets = [pending.client_secret, stored.access_token, stored.refresh_token, query_of(callback)["code"]]
    for text in [*lines, *(a.text for a in answers), *(str(a.headers) for a in answers)]:
        assert not any(secret in text for secret in secrets)


class RecordingHandler(logging.Handler):
    """Every attribute of every log record (message and extras), as text."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")
