"""The whole Crossdock stack on one machine: embedded AWS, the simulators, and one HTTP endpoint in front of both.

Used by `crossdock demo`, `crossdock serve` and the end-to-end tests. Connections created here point their
clients at the simulators through real HTTP (`<endpoint>/_sim/<system>/…`), so the deployed code path is the one
that runs; only the base URLs differ.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import httpx

from crossdock import pacing, services
from crossdock.connections.model import Connection
from crossdock.connectors.rackbeat import own_webhooks
from crossdock.connectors.rackbeat.account import RackbeatAccount
from crossdock.connectors.shopify.tokens import load_stored
from crossdock.flows.poll_schedules import PollSchedules
from crossdock.integrations import rackbeat_webhook_upkeep
from crossdock.integrations.rackbeat_shopify.connection import KIND, RackbeatShopifyConnection
from crossdock.operations import initial_sync as operations_initial_sync
from crossdock.operations import onboarding, stack_access
from crossdock.operations import settings as operations_settings
from crossdock.operations import users as operations_users
from crossdock.operations.target import OperatorTarget, target_from_resources
from crossdock.store import connections
from crossdock.store.secrets import SecretStore
from crossdock_local.aws.cognito_endpoint import CognitoEndpoint
from crossdock_local.aws.embedded import EmbeddedAws
from crossdock_local.operator_targets import local_onboarding
from crossdock_local.server import LocalEndpoint
from crossdock_local.sims.peakwms.simulator import PeakwmsSimulator
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator
from crossdock_local.sims.shopbox.simulator import ShopboxSimulator
from crossdock_local.sims.shopify.simulator import ShopifySimulator
from crossdock_local.sims.webshipper.simulator import WebshipperSimulator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPING_ITEM = "FRAGT"
ROUNDING_ITEM = "ORE"


@dataclass(frozen=True)
class LocalConnection:
    """A connection with everything a person needs to talk to it by hand (written to the serve state file)."""

    connection_id: str
    shop_domain: str
    app_secret: str
    shopify_access_token: str
    rackbeat_account_id: int
    rackbeat_api_key: str

    def public(self, base_url: str) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "shop_domain": self.shop_domain,
            "shopify": {
                "app_secret": self.app_secret,
                "access_token": self.shopify_access_token,
                "base_url": f"{base_url}/_sim/shopify",
                "webhook_url": f"{base_url}/webhooks/shopify",
            },
            "rackbeat": {
                "api_key": self.rackbeat_api_key,
                "account_id": self.rackbeat_account_id,
                "base_url": f"{base_url}/_sim/rackbeat/api/",
                # The Rackbeat account's address, which its webhooks point to since issue 18.
                "webhook_url": own_webhooks.account_webhook_url(
                    base_url,
                    own_webhooks.account_key(
                        RackbeatAccount(account_id=self.rackbeat_account_id, api_base=f"{base_url}/_sim/rackbeat/api/")
                    )
                    or "",
                ),
            },
        }


@dataclass(frozen=True)
class LocalInstall:
    """A connection waiting for its shop to install the app (state `installing`), and the app's credentials."""

    connection_id: str
    shop_domain: str
    client_id: str
    client_secret: str
    rackbeat_account_id: int
    rackbeat_api_key: str


class SignInRefused(Exception):
    """Cognito did not sign the user in (the message is Cognito's: wrong password, unknown user, a challenge)."""


class LocalStack:
    def __init__(
        self,
        *,
        port: int = 0,
        rackbeat_rate_limit: int = 480,
        rackbeat_pace: float = 0.95,
        seed: int = 7,
        log_level: str = "WARNING",
        template: Path | None = None,
    ) -> None:
        self._port = port
        self._seed = seed
        # Bulk Rackbeat work paces itself a little under the simulator's limit, as it would under Rackbeat's own
        # (the template's default, 456 of 480, is the same share).
        pace = max(1, int(rackbeat_rate_limit * rackbeat_pace))
        self.aws = EmbeddedAws(
            template=template or PROJECT_ROOT / "template.yaml",  # another: a test's changed copy
            parameters={"LogLevel": log_level, "RackbeatCallsPerMinute": str(pace)},
        )
        self._rackbeat_rate_limit = rackbeat_rate_limit
        self._real_clock = pacing.clock
        self.base_url = ""
        self._operator: OperatorTarget | None = None

    def __enter__(self) -> LocalStack:
        # The functions' AWS clients are cached per process (per Lambda container in AWS); a new stack is a new
        # account with new resources, so a second stack in one process must not reuse the first one's.
        services.forget()
        self.aws.__enter__()
        try:
            clock = self.aws.clock.monotonic
            self.rackbeat = RackbeatSimulator(
                clock=clock,
                rate_limit_per_minute=self._rackbeat_rate_limit,
                webhook_sink=self.deliver_webhook,
                seed=self._seed,
            )
            self.shopify = ShopifySimulator(clock=clock, webhook_sink=self.deliver_webhook, seed=self._seed)
            # Its API is under /_sim/shopbox/api/v3, its control API beside it; it pushes nothing unless a test
            # gives a client a stock-push URL.
            self.shopbox = ShopboxSimulator(
                clock=clock, seed=self._seed, epoch=self.aws.clock.time(), webhook_sink=self.deliver_webhook
            )
            # Its API is under /_sim/webshipper/<account>/v2 (the account is the real API's subdomain).
            self.webshipper = WebshipperSimulator(
                clock=clock, seed=self._seed, epoch=self.aws.clock.time(), webhook_sink=self.deliver_webhook
            )
            # Its API is under /_sim/peakwms/<customer>/api/integration/v1 (the customer is what the real API finds
            # from the key alone); seed customers with `self.peakwms.seed_customer`.
            self.peakwms = PeakwmsSimulator(
                clock=clock, seed=self._seed, epoch=self.aws.clock.time(), webhook_sink=self.deliver_webhook
            )
            self.endpoint = LocalEndpoint(
                self._api_call,
                {
                    "peakwms": (self.peakwms, ""),
                    "rackbeat": (self.rackbeat, "/api"),
                    "shopify": (self.shopify, ""),
                    "shopbox": (self.shopbox, ""),
                    "webshipper": (self.webshipper, ""),
                },
                # The console signs in with Cognito's own API, from the browser (`cognito_endpoint`).
                {"cognito-idp": CognitoEndpoint(self.aws.region).answer},
            )
            self.base_url = self.endpoint.start(port=self._port)
            self.publish_webhook_address()
            self.shopify.public_url = f"{self.base_url}/_sim/shopify"
            self.webshipper.public_url = f"{self.base_url}/_sim/webshipper"
            # Waits for rate limits pass on the stack's virtual clock, like SQS delays and workflow backoff.
            pacing.clock = self.aws.clock
            self.table = boto3.resource("dynamodb", region_name=self.aws.region).Table(self.aws.table_name("Table"))
            self.secrets = SecretStore(
                self.table, boto3.client("kms", region_name=self.aws.region), self.aws.key_id("SecretsKey")
            )
        except BaseException:
            self.aws.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        pacing.clock = self._real_clock
        self.endpoint.stop()
        self.aws.__exit__(*exc_info)

    def _api_call(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], bytes]:
        answer = self.aws.api_request(method, path, headers, body, query=dict(query))
        return answer.status, answer.headers, answer.body

    @property
    def admin_api_url(self) -> str:
        """The admin API's base URL (template.yaml's AdminApiUrl): its `/admin/...` routes and `/console` are served
        by this endpoint, beside the webhook API's."""
        return self.base_url

    @property
    def user_pool_id(self) -> str:
        return self.aws.resources["UserPool"].ref

    @property
    def user_pool_client_id(self) -> str:
        """The console's app client (no secret; USER_PASSWORD_AUTH)."""
        return self.aws.resources["UserPoolClient"].ref

    @property
    def cognito_endpoint(self) -> str:
        """Where Cognito's API answers for this stack's pool (https://cognito-idp.<region>.amazonaws.com/ in AWS)."""
        return f"{self.base_url}/_aws/cognito-idp"

    @property
    def user_directory(self) -> operations_users.UserDirectory:
        """The stack's user pool as `crossdock users` sees it (`crossdock.operations.users`), in-process."""
        cognito = boto3.client("cognito-idp", region_name=self.aws.region)
        return operations_users.UserDirectory(cognito, self.user_pool_id, "the embedded stack")

    def create_user(
        self, email: str, password: str, *, tenant: str | None = None, operator: bool = False
    ) -> operations_users.User:
        """A user who signs in with `password` (`crossdock users create … --password-file`): an operator, or a
        merchant user of `tenant`."""
        return operations_users.create_user(
            self.user_directory, email, tenant=tenant, operator=operator, password=password
        )

    def sign_in(self, email: str, password: str) -> str:
        """An id token of the user, as the console gets one: InitiateAuth (USER_PASSWORD_AUTH) over HTTP at
        `cognito_endpoint`. A refusal (wrong password, unknown user) is `SignInRefused` with Cognito's message."""
        answer = httpx.post(
            self.cognito_endpoint + "/",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            },
            json={
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": self.user_pool_client_id,
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            },
            timeout=10,
        )
        found = answer.json()
        if answer.status_code != 200 or "AuthenticationResult" not in found:
            raise SignInRefused(found.get("message") or found.get("ChallengeName") or f"HTTP {answer.status_code}")
        token: str = found["AuthenticationResult"]["IdToken"]
        return token

    @property
    def shopbox_api(self) -> str:
        """The Shopbox API's base URL on this stack (a connection's `api_base`); seed its clients with
        `self.shopbox.seed_client`, `upsert_product`, `set_stock` and sell with `sell` (docs/simulators.md)."""
        return f"{self.base_url}/_sim/shopbox/api/v3"

    def webshipper_api(self, account: str) -> str:
        """The Webshipper API's base URL of `account` on this stack (what `https://<account>.api.webshipper.io/v2`
        is in production); seed it with `self.webshipper.seed_account`, ship with `ship` (docs/simulators.md)."""
        return f"{self.base_url}/_sim/webshipper/{account}/v2"

    def peakwms_api(self, customer: str, *, sandbox: bool = False) -> str:
        """The PeakWMS integration API's base URL of `customer` on this stack (what
        `https://api.peakwms.com/api/integration/v1` is in production, `api-test` for the sandbox); seed it with
        `self.peakwms.seed_customer`, move goods with `receive_stock`, `pack`, `ship` (docs/simulators.md)."""
        host = f"{customer}/sandbox" if sandbox else customer
        return f"{self.base_url}/_sim/peakwms/{host}/api/integration/v1"

    def deliver_rackbeat_webhooks(self) -> int:
        """Send what Rackbeat's outbox holds, each after the API call that caused it has answered (the simulator
        only queues them: a Lambda calling Rackbeat must not wait on its own webhook); a refused one is retried on
        a later call, as Rackbeat retries. Returns how many were delivered."""
        return self.rackbeat.deliver().delivered

    def rackbeat_webhook_url(self, connection_id: str) -> str:
        """Where the connection's Rackbeat webhooks point on this stack: its Rackbeat account's address, shared by
        every connection on the account (`integrations.rackbeat_webhook_upkeep`, issue 18)."""
        connection = connections.load_connection(self.table, connection_id)
        if connection is None:
            raise LookupError(f"no connection {connection_id}")
        return rackbeat_webhook_upkeep.webhook_url(self.base_url, connection)

    def webhooks_waiting(self) -> int:
        """Webhooks the simulators hold for Crossdock and have not sent yet (refused ones waiting for a retry too)."""
        waiting = len(self.rackbeat.pending()) + len(self.shopify.pending()) + len(self.webshipper.pending())
        return waiting + len(self.peakwms.pending())

    def deliver_webhook(self, url: str, headers: dict[str, str], body: bytes) -> int:
        """How the simulators reach Crossdock: our own routes in-process (as API Gateway would invoke them),
        anything else over HTTP."""
        if url.startswith(self.base_url + "/"):
            # As the local endpoint hands a request over: the decoded path, the query apart (PeakWMS's addresses
            # carry the connection's key as `?key=`).
            address = urlsplit(url[len(self.base_url) :])
            query: dict[str, str | list[str]] = dict(parse_qs(address.query, keep_blank_values=True))
            return self.aws.api_request("POST", unquote(address.path), headers, body, query=query).status
        return httpx.post(url, headers=headers, content=body, timeout=10).status_code

    def create_connection(
        self,
        settings: dict[str, Any],
        *,
        shop_domain: str = "acme-dk.myshopify.com",
        rackbeat_account: LocalConnection | None = None,
        rackbeat_seed: Callable[[RackbeatSimulator, int], object] | None = None,
    ) -> LocalConnection:
        """A Rackbeat account seeded with reference data (or the account of `rackbeat_account`, for a second
        shop on it) and a Shopify shop with the app registered — the harness's part —, then what production does:
        the operator creates the connection (`crossdock.operations.onboarding`: the key tested against Rackbeat,
        the settings and their references checked, the secrets KMS-encrypted, stored `installing`) and the shop
        owner installs the app (OAuth through the stack's own routes: token stored, webhooks registered in both
        systems, poll schedules made, connection active). The app issues tokens that do not expire, so a long
        scenario does not depend on refreshes (tests/e2e/test_token_refresh.py covers those). `rackbeat_seed`
        (the simulator, the account's id) adds reference data the settings name to the Rackbeat account before the
        operator creates the connection, which looks the settings' references up in it."""
        pending = self.begin_install(
            settings,
            shop_domain=shop_domain,
            rackbeat_account=rackbeat_account,
            rackbeat_seed=rackbeat_seed,
            expiring_tokens=False,
        )
        return self.install(pending)

    @property
    def operator(self) -> OperatorTarget:
        """This stack as an operator's command sees it (what `crossdock … --local` builds from the state file),
        reaching the embedded AWS in-process."""
        if self._operator is None:
            resources = {logical_id: physical.ref for logical_id, physical in self.aws.resources.items()}
            region = self.aws.region
            clients: dict[str, Any] = {
                "kms": boto3.client("kms", region_name=region),
                "stepfunctions": boto3.client("stepfunctions", region_name=region),
                "scheduler": boto3.client("scheduler", region_name=region),
            }
            self._operator = target_from_resources(
                resources,
                boto3.resource("dynamodb", region_name=self.aws.region).Table,
                boto3.client("sqs", region_name=self.aws.region),
                "the embedded stack",
                poll_seconds=0,
                onboarding=local_onboarding(resources, clients, self.base_url, "the embedded stack"),
            )
        return self._operator

    def poll_schedules(self) -> PollSchedules:
        """The connections' poll schedules, as the install function and the operator's commands make them."""
        return stack_access.poll_schedules(self.operator)

    def connection(self, local: LocalConnection) -> RackbeatShopifyConnection:
        found = connections.load_connection(self.table, local.connection_id)
        assert found is not None
        return RackbeatShopifyConnection.of(found)

    def start_initial_sync(self, local: LocalConnection) -> dict[str, Any]:
        """The operator's `initial-sync start` (`crossdock.operations.initial_sync`): claimed once, its workflow
        started."""
        return dataclasses.asdict(operations_initial_sync.start_initial_sync(self.operator, local.connection_id))

    def initial_sync_progress(self, local: LocalConnection) -> dict[str, Any] | None:
        progress = operations_initial_sync.initial_sync_progress(self.operator, local.connection_id)
        return None if progress.status == "not started" else dataclasses.asdict(progress)

    def new_rackbeat_account(self) -> tuple[int, str]:
        """A Rackbeat account with the reference data the demo settings name: (account id, API key)."""
        api_key = "rb_" + secrets.token_hex(20)
        account = self.rackbeat.add_account(api_key)
        self._seed_rackbeat(account)
        return account, api_key

    def new_shop(
        self, shop_domain: str, client_id: str | None = None, *, expiring_tokens: bool = True
    ) -> tuple[str, str]:
        """A Shopify shop without the app, and the app in Shopify's Partner dashboard (`client_id`'s, or a new
        one): (client id, client secret)."""
        client_id = client_id or "crossdock-" + secrets.token_hex(6)
        registered = self.shopify.apps.apps.get(client_id)
        client_secret = registered.client_secret if registered else secrets.token_hex(16)
        if registered is None:
            self.shopify.register_app(client_id, client_secret, expiring_tokens=expiring_tokens)
        # The merchant's own admin token: the shop exists, but nothing Crossdock holds opens it before the install.
        self.shopify.add_shop(shop_domain, client_secret, "shpat_merchant_" + secrets.token_hex(16))
        return client_id, client_secret

    def new_custom_app(
        self, shop_domain: str, scopes: Iterable[str] = (), *, currency: str = "DKK", name: str = ""
    ) -> tuple[str, str]:
        """A custom app the merchant made in the shop's admin (the shop is made first if the simulator does not
        have it): its Admin API token has exactly `scopes`, and the webhooks it registers are signed with its API
        secret. Returns (access token, API secret) — what the merchant copies into the connection."""
        if shop_domain not in self.shopify.shops:
            shop = self.shopify.add_shop(shop_domain, secrets.token_hex(16), "shpat_merchant_" + secrets.token_hex(16))
            shop.currency, shop.name = currency, name
        app = self.shopify.new_custom_app(shop_domain, scopes)
        return app.access_token, app.api_secret

    def _seed_rackbeat(self, account: int) -> None:
        self.rackbeat.seed_location(account, "L1", "Lager København")
        self.rackbeat.seed_employee(account, 1, "Web Shop")
        self.rackbeat.seed_employee(account, 2, "Butik")
        self.rackbeat.seed_layout(account, 1, "Standard")
        self.rackbeat.seed_payment_terms(account, 1, "Netto 8 dage", days=8)
        self.rackbeat.seed_customer_group(account, 1, "Webshop kunder")
        self.rackbeat.seed_product(account, SHIPPING_ITEM, "Fragt", "0", inventory_enabled=False, location_stock={})
        self.rackbeat.seed_product(
            account, ROUNDING_ITEM, "Øreafrunding", "0", inventory_enabled=False, location_stock={}
        )

    def seed_items(self, account: int, skus: list[str], stock: int = 10_000) -> None:
        for index, sku in enumerate(skus):
            self.rackbeat.seed_product(account, sku, f"Vare {sku}", str(100 + index), location_stock={"L1": stock})

    def settle(self, execution_timeout: float = 30.0, max_rounds: int = 1000) -> int:
        """Deliver every pending webhook and run the stack until nothing is left in flight; a workflow running
        longer than `execution_timeout` real seconds is an error (long jobs such as an initial sync pass more)."""
        delivered = 0
        while True:
            # The simulators' outboxes: what the last round's work made them announce, and retries of refusals.
            shopify, rackbeat = self.shopify.deliver(), self.rackbeat.deliver()
            webshipper = self.webshipper.deliver()  # gives up after its 6 attempts, so a refusing route ends too
            peakwms = self.peakwms.deliver()  # gives up after its 4 attempts (guess), so a refusing route ends too
            processed = self.aws.drain(max_rounds=max_rounds, execution_timeout=execution_timeout)
            delivered += processed
            attempted = shopify.delivered + shopify.failed + rackbeat.delivered + rackbeat.failed
            attempted += webshipper.delivered + webshipper.failed + peakwms.delivered + peakwms.failed
            if not (attempted or processed) and not self.webhooks_waiting():
                return delivered

    def update_settings(self, local: LocalConnection, settings: dict[str, Any]) -> Connection:
        """The operator's `settings set` (`crossdock.operations.settings`): validated, checked against the
        Rackbeat account and stored as the next version, then the webhooks follow the Product tab and the poll
        schedules the new interval (`settings_effects`). Refusals are `operations.errors.Rejected`, listing every
        problem."""
        current = self.connection(local)
        operations_settings.set_settings(
            self.operator, local.connection_id, settings, expected_version=current.settings_version
        )
        return self.connection(local)

    def begin_install(
        self,
        settings: dict[str, Any],
        *,
        shop_domain: str,
        client_id: str | None = None,
        rackbeat_account: LocalConnection | None = None,
        rackbeat_seed: Callable[[RackbeatSimulator, int], object] | None = None,
        expiring_tokens: bool = True,
    ) -> LocalInstall:
        """What comes before the shop owner installs the app: a seeded Rackbeat account (or `rackbeat_account`'s),
        the app in Shopify's Partner dashboard (`client_id`, or a new app), the shop without any token Crossdock
        knows — and the operator's `connections create`, which stores the connection `installing` with the app's
        client id and secret. `install` then runs the OAuth dance."""
        client_id, client_secret = self.new_shop(shop_domain, client_id, expiring_tokens=expiring_tokens)
        if rackbeat_account is None:
            account, rackbeat_api_key = self.new_rackbeat_account()
        else:
            rackbeat_api_key, account = rackbeat_account.rackbeat_api_key, rackbeat_account.rackbeat_account_id
        if rackbeat_seed is not None:
            rackbeat_seed(self.rackbeat, account)
        created = onboarding.create_connection(
            self.operator,
            KIND,
            shop_domain=shop_domain,
            rackbeat_api_key=rackbeat_api_key,
            shopify_client_id=client_id,
            shopify_client_secret=client_secret,
            settings=settings,
        )
        assert created.rackbeat_account_id is not None
        return LocalInstall(
            created.connection_id, shop_domain, client_id, client_secret, created.rackbeat_account_id, rackbeat_api_key
        )

    def install(self, local: LocalInstall) -> LocalConnection:
        """The shop owner installs the app, through the stack's own HTTP routes as a browser would: Shopify's
        signed install link, the redirect to Shopify's approval page, approval, and the callback."""
        with httpx.Client(base_url=self.base_url, timeout=30) as browser:
            query = self.shopify.install_request(local.shop_domain, local.client_id)
            started = browser.get("/shopify/install", params=query)
            if started.status_code != 302:
                raise RuntimeError(f"install of {local.shop_domain} refused: {started.status_code} {started.text}")
            callback = self.shopify.approve(local.shop_domain, started.headers["location"])
            finished = browser.get(callback)
            if finished.status_code != 200:
                raise RuntimeError(f"install of {local.shop_domain} failed: {finished.status_code} {finished.text}")
        stored = load_stored(self.secrets, local.connection_id)
        assert stored is not None
        return LocalConnection(
            connection_id=local.connection_id,
            shop_domain=local.shop_domain,
            app_secret=local.client_secret,
            shopify_access_token=stored.access_token,
            rackbeat_account_id=local.rackbeat_account_id,
            rackbeat_api_key=local.rackbeat_api_key,
        )

    def publish_webhook_address(self) -> None:
        """Tell the functions that compare Shopify's subscriptions with our address where Shopify delivers to: in
        AWS the API's URL (template.yaml), here this endpoint, known only once it listens. Safe to repeat."""
        # The setup's steps subscribe the shop too; the admin API's saves and resumes repair webhooks.
        for function in ("SelfCheckFunction", "GuidedSetupFunction", "AdminApiFunction"):
            self.aws.update_function_environment(function, {"WEBHOOK_BASE_URL": self.base_url})
        # The admin API creates and tests connections as the operator's commands do here: against the simulators.
        api_bases = json.dumps(dict(self.operator.onboard().api_bases))
        self.aws.update_function_environment("AdminApiFunction", {"PLATFORM_API_BASES": api_bases})
