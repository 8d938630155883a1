"""A merchant of a tenant on the embedded stack, as the admin API's and the console's tests set one up: its
connection made as the operator's command makes it, its user made with `LocalStack.create_user` (what `crossdock
users create --password-file` does) and signed in with `LocalStack.sign_in`.

Importable from every test folder: pytest puts tests/ on the path for tests/conftest.py.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from crossdock.connectors.shopify.access_scopes import NEEDED_SCOPES
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import peakwms_onboarding
from crossdock_local.stack import LocalStack

PASSWORD = "Kaffe-og-kage-2026!"
# One count for the process: each user and connection gets an e-mail, shop and PeakWMS account no other one has.
_numbers = itertools.count(1)


@dataclass(frozen=True)
class SignedIn:
    """A user signed in to the admin API: its id token, sent as the console sends it (the bare token; an empty one
    sends no Authorization header at all)."""

    stack: LocalStack
    email: str
    token: str

    def call(self, method: str, path: str, body: Any = None, **query: str) -> httpx.Response:
        headers = {"Authorization": self.token} if self.token else {}
        url = f"{self.stack.admin_api_url}{path}"
        return httpx.request(method, url, headers=headers, json=body, params=query or None, timeout=60)


def signed_in(stack: LocalStack, who: str, *, tenant: str | None = None, operator: bool = False) -> SignedIn:
    """A new user (`who` and a number, at the tenant's domain): an operator, or a merchant user of `tenant`."""
    email = f"{who}-{next(_numbers)}@{tenant or 'crossdock'}.example"
    stack.create_user(email, PASSWORD, tenant=tenant, operator=operator)
    return SignedIn(stack, email, stack.sign_in(email, PASSWORD))


def peakwms_connection(stack: LocalStack, tenant: str, *, name: str, products: int = 0) -> str:
    """A PeakWMS ⇄ Shopify connection of `tenant`, as `crossdock connections create-peakwms --tenant` makes it: a
    custom app on a new shop called `name`, a new PeakWMS customer, its guided setup not begun. The shop holds
    `products` single-variant products (SKUs LAGER-000, LAGER-001 …)."""
    number = next(_numbers)
    slug = f"{name.lower().replace(' ', '-')}-{number}"
    shop = f"{slug}.myshopify.com"
    token, secret = stack.new_custom_app(shop, sorted(NEEDED_SCOPES), name=f"{name} {number}")
    account = f"{slug}-lager"
    created = peakwms_onboarding.create_peakwms_connection(
        stack.operator,
        credentials=PeakwmsShopifyCredentials(
            web_url=f"https://{shop}",
            access_token=token,
            api_secret=secret,
            peakwms_account=account,
            peakwms_api_key=stack.peakwms.seed_customer(account),
        ),
        settings={"shop_name": f"{name} {number}", "country": "DK"},
        tenant=tenant,
    )
    if products:
        stack.shopify.seed_catalog(shop, products, variants_per_product=1, sku=lambda index: f"LAGER-{index:03d}")
    return created.connection_id
