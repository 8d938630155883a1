"""A new `rackbeat_shopify` connection, as an operator creates it before the shop installs the app (SPEC §1.1).

The operator knows the shop's `*.myshopify.com` domain, the merchant's Rackbeat API key and the Shopify app's client
id and secret. Everything is checked before anything is stored: the domain (a storefront domain such as
`shop.example.com` is not a shop Shopify's API answers for), the settings (the model, and every Rackbeat object
they name), and the key itself, with `GET /self` — which also tells the Rackbeat company the connection belongs to.
The connection is then stored `installing`; the install (`install.py`) activates it once the owner approves. The
Rackbeat objects the settings name are looked up too; one the account lacks is reported, not refused, as the
account may still be being set up (`settings validate` and every save check them again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from crossdock.connections.model import ConnectionState
from crossdock.connectors.rackbeat import identity
from crossdock.connectors.rackbeat.account import RACKBEAT_API, RackbeatAccount
from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.connectors.rackbeat.secret_names import RACKBEAT_API_KEY, RACKBEAT_WEBHOOK_TOKENS
from crossdock.connectors.shopify import oauth
from crossdock.connectors.shopify.account import ShopifyAccount
from crossdock.connectors.shopify.secret_names import SHOPIFY_APP_SECRET
from crossdock.errors import FailureClass, PermanentError
from crossdock.integrations.rackbeat_shopify import settings_save
from crossdock.integrations.rackbeat_shopify.connection import RackbeatShopifyAccounts, RackbeatShopifyConnection
from crossdock.integrations.rackbeat_shopify.install import CALLBACK_PATH
from crossdock.integrations.rackbeat_shopify.settings import SettingProblem
from crossdock.integrations.rackbeat_shopify.settings_check import settings_problems_of

INSTALL_PATH = "/shopify/install"


@dataclass(frozen=True)
class NewConnection:
    """What the operator gives. The API bases are where the platforms answer, when not at their public addresses."""

    shop_domain: str
    shopify_client_id: str
    shopify_client_secret: str
    rackbeat_api_key: str
    settings: dict[str, Any]
    shopify_api_base: str | None = None
    rackbeat_api_base: str = RACKBEAT_API


class ConnectionRefused(Exception):
    """The new connection's input is wrong; nothing was stored. Every problem, by the field that has it."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        super().__init__("connection refused:\n" + "\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class PreparedConnection:
    connection: RackbeatShopifyConnection
    secrets: dict[str, str]  # name → value, to be stored KMS-encrypted with the connection
    # Rackbeat objects the settings name that the account does not have (yet).
    missing_references: list[SettingProblem]


def prepare(connection_id: str, new: NewConnection, rackbeat: RackbeatClient) -> PreparedConnection:
    """The connection to store, or `ConnectionRefused` with every problem found. `rackbeat` is a client with the
    given key: it is asked who the key belongs to and whether the settings' references exist. A Rackbeat that
    cannot be reached raises the client's `RetryableError` (nothing is wrong with the input)."""
    shop = new.shop_domain.strip().lower()
    problems: list[SettingProblem] = []
    if not oauth.is_shop_domain(shop):
        problems.append(
            SettingProblem(
                "shop_domain",
                f"{new.shop_domain!r} is not a shop's *.myshopify.com domain; a storefront domain is not (the shop's "
                "own domain is in Shopify's admin, Settings → Domains)",
            )
        )
    for field, value in (
        ("shopify_client_id", new.shopify_client_id),
        ("shopify_client_secret", new.shopify_client_secret),
        ("rackbeat_api_key", new.rackbeat_api_key),
    ):
        if not value.strip():
            problems.append(SettingProblem(field, "is empty"))
    account_id = None
    if new.rackbeat_api_key.strip():
        try:
            account_id = identity.account_id(rackbeat)
        except PermanentError as refused:
            if refused.failure_class is not FailureClass.AUTH:
                raise
            problems.append(SettingProblem("rackbeat_api_key", f"Rackbeat refused the key: {refused.reason}"))
    settings, setting_problems = settings_problems_of(new.settings, None)
    problems += setting_problems
    if problems or settings is None or account_id is None:
        raise ConnectionRefused(problems)
    # A new merchant's Rackbeat account may still be being set up: what the settings name and it lacks is reported,
    # not refused (as a save while installing leaves it to the next save); `settings validate` lists it again.
    missing = settings_save.check_references(settings, rackbeat)
    connection = RackbeatShopifyConnection(
        id=connection_id,
        state=ConnectionState.INSTALLING,
        accounts=RackbeatShopifyAccounts(
            shopify=ShopifyAccount(
                shop_domain=shop, api_base=new.shopify_api_base, client_id=new.shopify_client_id.strip()
            ),
            rackbeat=RackbeatAccount(account_id=account_id, api_base=new.rackbeat_api_base),
        ),
        settings=settings,
    )
    secrets = {
        SHOPIFY_APP_SECRET: new.shopify_client_secret.strip(),
        RACKBEAT_API_KEY: new.rackbeat_api_key.strip(),
        RACKBEAT_WEBHOOK_TOKENS: json.dumps([]),
    }
    return PreparedConnection(connection, secrets, missing)


@dataclass(frozen=True)
class InstallLinks:
    # What the shop owner opens: Shopify asks them to approve the app, then opens the app URL with a signed query.
    install_link: str
    # What the app's configuration in Shopify's Partner dashboard must say for the install to reach this stack.
    app_url: str
    redirect_url: str


def install_links(connection: RackbeatShopifyConnection, public_base_url: str) -> InstallLinks:
    """Shopify's install link for the shop and the app (`/admin/oauth/install?client_id=…` on the shop's admin:
    Shopify signs the request to the app URL itself, so the link carries no secret)."""
    shopify = connection.accounts.shopify
    query = urlencode({"client_id": shopify.client_id or ""})
    base = public_base_url.rstrip("/")
    return InstallLinks(
        install_link=f"{shopify.base_url.rstrip('/')}/admin/oauth/install?{query}",
        app_url=base + INSTALL_PATH,
        redirect_url=base + CALLBACK_PATH,
    )
