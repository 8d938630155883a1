"""The operator's commands for a `rackbeat_webshipper` connection (issue 15): `connections create --kind
rackbeat_webshipper` with the Webshipper account and login (`--webshipper-account`, `--webshipper-user`, the
password as a secret: `--webshipper-password-file` or `$CROSSDOCK_WEBSHIPPER_PASSWORD`, or typed at a prompt) or an
API token (`--webshipper-api-token-file`, `$CROSSDOCK_WEBSHIPPER_API_TOKEN`); `settings choices` (the account's
order channels and shipping rates, read now); and what a settings save of this kind did, for a person.

`operator_onboarding` adds the options and calls in here; the secrets are read its way (never from an argument).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crossdock.integrations.rackbeat_webshipper.activation import Applied
from crossdock.integrations.rackbeat_webshipper.connection import KIND
from crossdock.integrations.rackbeat_webshipper.install import WebshipperCredentials
from crossdock.operations import webshipper_onboarding
from crossdock.operations.target import OperatorTarget
from crossdock_local import operator_output as out

WEBSHIPPER_PASSWORD_ENV = "CROSSDOCK_WEBSHIPPER_PASSWORD"
WEBSHIPPER_API_TOKEN_ENV = "CROSSDOCK_WEBSHIPPER_API_TOKEN"

# operator_onboarding's: a secret from a file, an environment variable or a prompt; a usage error.
Secret = Callable[[Path | None, str, str], str]
Usage = Callable[[str], Exception]


def add_create_options(create: argparse.ArgumentParser) -> None:
    create.add_argument("--webshipper-account", help=f"{KIND}: the Webshipper account (its subdomain)")
    create.add_argument("--webshipper-user", help=f"{KIND}: the Webshipper user's e-mail (its password is a secret)")
    create.add_argument(
        "--webshipper-password-file",
        type=Path,
        help=f"{KIND}: file holding the user's password (default: ${WEBSHIPPER_PASSWORD_ENV}, or asked for)",
    )
    create.add_argument(
        "--webshipper-api-token-file",
        type=Path,
        help=f"{KIND}: file holding a Webshipper API token, instead of a login (or ${WEBSHIPPER_API_TOKEN_ENV})",
    )


def create(
    target: OperatorTarget,
    args: argparse.Namespace,
    *,
    rackbeat_api_key: str,
    settings: dict[str, Any],
    secret: Secret,
    usage: Usage,
) -> str:
    created = webshipper_onboarding.create_webshipper_connection(
        target,
        rackbeat_api_key=rackbeat_api_key,
        webshipper=credentials(args, secret, usage),
        settings=settings,
        tenant=args.tenant,
    )
    if args.json:
        return out.as_json(created)
    login = f"user {created.webshipper_username}" if created.webshipper_username else "an API token"
    lines = [
        f"connection {created.connection_id} created ({created.kind}): {created.state}",
        f"rackbeat        account {created.rackbeat_account_id} (Rackbeat accepted the API key)",
        f"webshipper      account {created.webshipper_account} with {login}",
        f"settings        version {created.settings_version}",
        f"secrets stored  {', '.join(created.secret_names)} (KMS-encrypted; names only)",
        f"order channels  {'; '.join(created.order_channels) or '-'}",
        f"shipping rates  {'; '.join(created.shipping_rates) or '-'}",
    ]
    if created.state == "active":
        made = Applied(
            created.webshipper_webhooks, created.rackbeat_webhooks, activated=True, schedules=created.schedules
        )
        lines += applied_lines(made)
    lines += [f"missing: {missing}" for missing in created.missing_references]
    if created.missing_references:
        lines.append("Add what is missing (or change the settings) and run `settings set`: that activates it.")
    return "\n".join(lines)


def credentials(args: argparse.Namespace, secret: Secret, usage: Usage) -> WebshipperCredentials:
    if args.shop or args.shopify_client_id or args.shopbox_user:
        raise usage(f"--shop, --shopify-client-id and --shopbox-user are not for {KIND} connections")
    if not args.webshipper_account:
        raise usage(f"a {KIND} connection needs --webshipper-account (the subdomain of <account>.webshipper.io)")
    token_given = args.webshipper_api_token_file is not None or os.environ.get(WEBSHIPPER_API_TOKEN_ENV)
    if token_given and not args.webshipper_user:
        token = secret(args.webshipper_api_token_file, WEBSHIPPER_API_TOKEN_ENV, "the Webshipper API token")
        return WebshipperCredentials(args.webshipper_account, api_token=token)
    if args.webshipper_api_token_file is not None:
        raise usage("give either --webshipper-user (and its password) or a Webshipper API token, not both")
    if not args.webshipper_user:
        raise usage(f"a {KIND} connection needs --webshipper-user (or --webshipper-api-token-file)")
    password = secret(
        args.webshipper_password_file, WEBSHIPPER_PASSWORD_ENV, f"the Webshipper password of {args.webshipper_user}"
    )
    return WebshipperCredentials(args.webshipper_account, args.webshipper_user, password)


def applied_lines(applied: Applied) -> list[str]:
    if applied.not_applied:
        return [f"webhooks: not changed ({applied.not_applied})"]
    return [
        *(["connection activated"] if applied.activated else []),
        f"webshipper webhooks registered  {', '.join(applied.webshipper_topics) or 'none (all there)'}",
        f"rackbeat webhooks registered    {', '.join(applied.rackbeat_events) or 'none (all there)'}",
        *(
            [f"poll schedules                 {', '.join(f'{s} {what}' for s, what in applied.schedules.items())}"]
            if applied.schedules
            else []
        ),
    ]


def choices(target: OperatorTarget, args: argparse.Namespace) -> str:
    found = webshipper_onboarding.webshipper_choices(target, args.connection_id)
    if args.json:
        return out.as_json(found)
    return "\n".join([f"connection {found.connection_id}: what the settings choose from", *found.lines])
