""" "Test connection" of a new `peakwms_shopify` connection (SPEC §4: the credentials are verified before saving).

The merchant gives, for Shopify, the shop's admin domain (`web_url`) and the Admin API access token and API secret
key of the custom app they made in the shop's admin; for PeakWMS, the account (customer) name and its API key. Both
sides are asked before anything is stored:

- PeakWMS: `GET /ping` with the key (reference/peakwms.md "Auth": a refused key, or a key of another customer, is
  401 — one problem naming `peakwms_api_key`);
- Shopify: the shop query (the token opens the shop `web_url` names, else a problem naming `web_url`) and the
  token's access scopes against `access_scopes.NEEDED_SCOPES` (a token without them is one problem naming
  `access_token` and every missing scope), then the shop's locations, which `locations` chooses from.

Every problem of both sides is reported at once. The API secret cannot be tested here (Shopify uses it only to sign
the webhooks it sends the app, SPEC §4's list lacks it for that reason): it is kept as the shop's
`SHOPIFY_APP_SECRET`, and a wrong one shows as refused webhook signatures at ingest (docs/peakwms.md "Install").
A platform that cannot be reached raises its client's `RetryableError`: nothing is wrong with the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from crossdock.connections.settings_rules import SettingProblem
from crossdock.connectors.peakwms.account import PEAKWMS_API, PeakwmsAccount
from crossdock.connectors.peakwms.client import PeakwmsClient, PeakwmsNotFound
from crossdock.connectors.peakwms.secret_names import API_KEY
from crossdock.connectors.shopify import access_scopes
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.connectors.shopify.locations import ShopLocation, shop_locations
from crossdock.connectors.shopify.secret_names import SHOPIFY_ACCESS_TOKEN, SHOPIFY_APP_SECRET
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.peakwms_shopify.web_url import WEB_URL, shop_domain_of

ACCESS_TOKEN = "access_token"
API_SECRET = "api_secret"
PEAKWMS_ACCOUNT = "peakwms_account"
PEAKWMS_API_KEY = "peakwms_api_key"
# Where PeakWMS answers for one account when a simulator serves several under one host: `{account}` is replaced.
ACCOUNT_PLACEHOLDER = "{account}"


@dataclass(frozen=True)
class PeakwmsShopifyCredentials:
    """What the merchant gives to connect the shop and the warehouse (the secrets are never shown)."""

    web_url: str
    access_token: str = field(repr=False)
    api_secret: str = field(repr=False)
    peakwms_account: str
    peakwms_api_key: str = field(repr=False)

    @property
    def account_name(self) -> str:
        return self.peakwms_account.strip()

    def problems(self) -> list[SettingProblem]:
        """What is wrong with the input alone, before either platform is asked."""
        problems = []
        try:
            shop_domain_of(self.web_url)
        except ValueError as wrong:
            problems.append(SettingProblem(WEB_URL, str(wrong)))
        for name, value, what in (
            (ACCESS_TOKEN, self.access_token, "the custom app's Admin API access token"),
            (API_SECRET, self.api_secret, "the custom app's API secret key (Shopify signs its webhooks with it)"),
            (PEAKWMS_ACCOUNT, self.peakwms_account, "the PeakWMS customer the shop's orders go to"),
            (PEAKWMS_API_KEY, self.peakwms_api_key, "the PeakWMS account's API key"),
        ):
            if not value.strip():
                problems.append(SettingProblem(name, f"is empty ({what})"))
        return problems


@dataclass(frozen=True)
class TestedConnection:
    """Both accounts, tested; what the shop offers the settings; the secrets to keep once stored."""

    shopify: ShopifyAccount
    peakwms: PeakwmsAccount
    shop_name: str  # as Shopify names the shop
    currency: str
    locations: list[ShopLocation]
    secrets: dict[str, str] = field(repr=False)


class ConnectionTestFailed(Exception):
    """A side refused the credentials (or the input is wrong): every problem, by the field that has it."""

    def __init__(self, problems: list[SettingProblem], locations: list[ShopLocation] | None = None) -> None:
        super().__init__("test connection failed:\n" + "\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.locations = locations or []  # the shop's, when Shopify accepted the token (what `locations` maps)


def peakwms_api_base(account: str, api_base: str = PEAKWMS_API) -> str:
    return api_base.replace(ACCOUNT_PLACEHOLDER, account)


def test_connection(
    credentials: PeakwmsShopifyCredentials,
    *,
    shopify_api_base: str | None = None,
    peakwms_api_base_template: str = PEAKWMS_API,
    timeout_seconds: float = 20.0,
    transport: httpx.BaseTransport | None = None,
) -> TestedConnection:
    """Both sides asked with the credentials given (held in memory only); `ConnectionTestFailed` with every
    problem. `shopify_api_base` is where the shop's Admin API answers when not at `https://<shop>` (a simulator)."""
    problems = credentials.problems()
    if problems:
        raise ConnectionTestFailed(problems)
    peakwms = PeakwmsAccount(
        account=credentials.account_name,
        api_base=peakwms_api_base(credentials.account_name, peakwms_api_base_template),
    )
    problems += _peakwms_problems(peakwms, credentials.peakwms_api_key.strip(), timeout_seconds, transport)
    shop_domain = shop_domain_of(credentials.web_url)
    shopify = ShopifyAccount(shop_domain=shop_domain, api_base=shopify_api_base)
    admin = ShopifyAdmin(shopify.base_url, shop_domain, credentials.access_token.strip(), transport=transport)
    try:
        shop, shopify_problems = _shopify_problems(admin, shop_domain)
        problems += shopify_problems
        locations = shop_locations(admin) if shop is not None and not shopify_problems else None
        if problems or shop is None or locations is None:
            raise ConnectionTestFailed(problems, locations)
    finally:
        admin.close()
    secrets = {
        SHOPIFY_ACCESS_TOKEN: credentials.access_token.strip(),
        SHOPIFY_APP_SECRET: credentials.api_secret.strip(),
        API_KEY: credentials.peakwms_api_key.strip(),
    }
    return TestedConnection(shopify, peakwms, shop.name, shop.currency, locations, secrets)


def _peakwms_problems(
    account: PeakwmsAccount, api_key: str, timeout_seconds: float, transport: httpx.BaseTransport | None
) -> list[SettingProblem]:
    client = PeakwmsClient(account, api_key, transport=transport, timeout_seconds=timeout_seconds)
    try:
        client.ping()
    except PeakwmsNotFound:
        return [
            SettingProblem(PEAKWMS_ACCOUNT, f"PeakWMS does not know the account {account.account!r} (check its name)")
        ]
    except PermanentError as refused:
        if refused.failure_class is FailureClass.AUTH:
            # PeakWMS answers a key of another customer as it answers a wrong key: both are named.
            return [
                SettingProblem(
                    PEAKWMS_API_KEY,
                    f"PeakWMS refused the API key for account {account.account!r} (check the key, and that it "
                    "belongs to this account)",
                )
            ]
        return [SettingProblem(PEAKWMS_ACCOUNT, f"PeakWMS refused the ping of {account.account!r}: {refused.reason}")]
    finally:
        client.close()
    return []


def _shopify_problems(
    admin: ShopifyAdmin, shop_domain: str
) -> tuple[access_scopes.ShopFacts | None, list[SettingProblem]]:
    try:
        shop = access_scopes.shop_facts(admin)
    except PermanentError as refused:
        if refused.failure_class is FailureClass.AUTH:
            return None, [SettingProblem(ACCESS_TOKEN, f"Shopify refused the access token for {shop_domain}")]
        return None, [SettingProblem(WEB_URL, f"Shopify did not answer the shop query of {shop_domain}")]
    if shop.myshopify_domain.lower() != shop_domain:
        return None, [
            SettingProblem(
                WEB_URL,
                f"the access token opens the shop {shop.myshopify_domain}, not {shop_domain}: give that shop's "
                "domain, or the token of this shop's custom app",
            )
        ]
    missing = access_scopes.missing_scopes(access_scopes.granted_scopes(admin))
    if missing:
        return shop, [
            SettingProblem(
                ACCESS_TOKEN,
                f"the custom app's token lacks the access scopes {', '.join(missing)}: tick them under the app's "
                "Admin API access scopes, reinstall the app and give its new token",
            )
        ]
    return shop, []
