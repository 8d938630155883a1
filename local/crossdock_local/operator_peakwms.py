"""The operator's commands for a `peakwms_shopify` connection (issue 16): `connections create --kind peakwms_shopify`
and `settings choices` (the shop's locations, read now).

`connections create --kind peakwms_shopify --shop-name AcmeDK --country DK --web-url acme-dk.myshopify.com
--peakwms-account acme [--main-shop | --no-main-shop] [--file settings.json] [KEY=VALUE …]`. The three secrets are
never arguments (shell history and `ps` would show them): the custom app's Admin API access token
(`--access-token-file` or `$CROSSDOCK_SHOPIFY_ACCESS_TOKEN`), its API secret key (`--api-secret-file` or
`$CROSSDOCK_SHOPIFY_API_SECRET`) and the PeakWMS API key (`--peakwms-api-key-file` or `$CROSSDOCK_PEAKWMS_API_KEY`),
or typed at a prompt that does not echo. `--shop-name`, `--country` and `--main-shop` are settings: given here they
go over the document's.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crossdock.integrations.peakwms_shopify.connection import KIND
from crossdock.integrations.peakwms_shopify.install import PeakwmsShopifyCredentials
from crossdock.operations import peakwms_onboarding
from crossdock.operations.target import OperatorTarget
from crossdock_local import operator_output as out

ACCESS_TOKEN_ENV = "CROSSDOCK_SHOPIFY_ACCESS_TOKEN"
API_SECRET_ENV = "CROSSDOCK_SHOPIFY_API_SECRET"
PEAKWMS_API_KEY_ENV = "CROSSDOCK_PEAKWMS_API_KEY"

# operator_onboarding's: a secret from a file, an environment variable or a prompt; a usage error.
Secret = Callable[[Path | None, str, str], str]
Usage = Callable[[str], Exception]


def add_create_options(create: argparse.ArgumentParser) -> None:
    create.add_argument("--shop-name", help=f"{KIND}: the shop's label (e.g. AcmeDK)")
    create.add_argument("--country", help=f"{KIND}: the shop's country, ISO 3166 alpha-2 (e.g. DK)")
    create.add_argument("--web-url", help=f"{KIND}: the shop's admin domain, <shop>.myshopify.com")
    create.add_argument(
        "--access-token-file",
        type=Path,
        help=f"{KIND}: file holding the custom app's Admin API access token (or ${ACCESS_TOKEN_ENV}, or asked for)",
    )
    create.add_argument(
        "--api-secret-file",
        type=Path,
        help=f"{KIND}: file holding the custom app's API secret key (or ${API_SECRET_ENV}, or asked for)",
    )
    create.add_argument("--peakwms-account", help=f"{KIND}: the PeakWMS account (customer) the shop's orders go to")
    create.add_argument(
        "--peakwms-api-key-file",
        type=Path,
        help=f"{KIND}: file holding the PeakWMS API key (or ${PEAKWMS_API_KEY_ENV}, or asked for)",
    )
    create.add_argument(
        "--main-shop",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"{KIND}: the main shop of the PeakWMS account (default: yes; one per account)",
    )


def create(
    target: OperatorTarget, args: argparse.Namespace, *, settings: dict[str, Any], secret: Secret, usage: Usage
) -> str:
    credentials = _credentials(args, secret, usage)
    document = {
        **settings,
        **{
            key: value
            for key, value in (("shop_name", args.shop_name), ("country", args.country), ("main_shop", args.main_shop))
            if value is not None
        },
    }
    created = peakwms_onboarding.create_peakwms_connection(
        target, credentials=credentials, settings=document, tenant=args.tenant
    )
    if args.json:
        return out.as_json(created)
    role = "the main shop" if created.main_shop else "a shop sharing the main shop's products (matched by SKU)"
    return "\n".join(
        [
            f"connection {created.connection_id} created for {created.shop_domain} ({created.kind}): {created.state}",
            f"shopify         {created.shop_name or created.shop_domain} ({created.currency}); the token has every "
            "needed scope",
            f"peakwms         account {created.peakwms_account} (PeakWMS answered the ping); {role}",
            f"settings        version {created.settings_version}",
            f"secrets stored  {', '.join(created.secret_names)} (KMS-encrypted; names only)",
            f"locations       {'; '.join(created.shopify_locations) or '-'}",
            f"next: the guided setup — {created.next_step}",
        ]
    )


def _credentials(args: argparse.Namespace, secret: Secret, usage: Usage) -> PeakwmsShopifyCredentials:
    if args.shop or args.shopify_client_id or args.shopbox_user or args.webshipper_account:
        raise usage(f"--shop, --shopify-client-id, --shopbox-user and --webshipper-account are not for {KIND}")
    missing = [
        option
        for option, value in (("--web-url", args.web_url), ("--peakwms-account", args.peakwms_account))
        if not value
    ]
    if missing:
        raise usage(f"a {KIND} connection needs {' and '.join(missing)}")
    return PeakwmsShopifyCredentials(
        web_url=args.web_url,
        access_token=secret(args.access_token_file, ACCESS_TOKEN_ENV, "the custom app's Admin API access token"),
        api_secret=secret(args.api_secret_file, API_SECRET_ENV, "the custom app's API secret key"),
        peakwms_account=args.peakwms_account,
        peakwms_api_key=secret(args.peakwms_api_key_file, PEAKWMS_API_KEY_ENV, "the PeakWMS API key"),
    )


def choices(target: OperatorTarget, args: argparse.Namespace) -> str:
    found = peakwms_onboarding.peakwms_choices(target, args.connection_id)
    if args.json:
        return out.as_json(found)
    return "\n".join([f"connection {found.connection_id}: what the settings choose from", *found.lines])
