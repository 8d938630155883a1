"""The operator's onboarding commands (issue 13): `connections create|install-link|pause|resume|uninstall`,
`settings show|validate|set`, `initial-sync start|progress`.

They act on the same targets as the looking commands (`--stack` and `--local`), through `crossdock.operations`;
with `--stack` the target also gets the stack's KMS key, initial-sync workflow, poll schedule group and webhook
address (`aws_target(onboarding=True)`). Secrets are never taken as arguments, where shell history and `ps` would
show them: from a file (`--rackbeat-api-key-file`), an environment variable (`CROSSDOCK_RACKBEAT_API_KEY`,
`CROSSDOCK_SHOPIFY_CLIENT_SECRET`, `CROSSDOCK_SHOPBOX_PASSWORD`, `CROSSDOCK_SHOPBOX_API_TOKEN`), or typed at a
prompt that does not echo. `connections create --kind rackbeat_shopbox` takes the Shopbox login (`--shopbox-user`,
the password as a secret) or `--shopbox-api-token-file`, and `--shopbox-client` when the login acts for several;
`--kind rackbeat_webshipper` takes `--webshipper-account` and `--webshipper-user` (or an API token), and `settings
choices` lists its Webshipper channels and rates (`operator_webshipper`).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from crossdock.integrations.peakwms_shopify.connection import KIND as PEAKWMS_KIND
from crossdock.integrations.rackbeat_shopbox.activation import Applied as ShopboxApplied
from crossdock.integrations.rackbeat_shopbox.connection import KIND as SHOPBOX_KIND
from crossdock.integrations.rackbeat_shopbox.install import ShopboxCredentials
from crossdock.integrations.rackbeat_shopify.connection import KIND
from crossdock.integrations.rackbeat_webshipper.activation import Applied as WebshipperApplied
from crossdock.integrations.rackbeat_webshipper.connection import KIND as WEBSHIPPER_KIND
from crossdock.operations import connections as operator_connections
from crossdock.operations import initial_sync, lifecycle, onboarding, settings_input, stack_access
from crossdock.operations import settings as connection_settings
from crossdock.operations.initial_sync import InitialSyncProgress
from crossdock.operations.target import OperatorTarget
from crossdock_local import operator_output as out
from crossdock_local import operator_peakwms, operator_webshipper

Command = Callable[[OperatorTarget, argparse.Namespace], str]
AddCommand = Callable[[Any, str, Command, str], argparse.ArgumentParser]
RACKBEAT_API_KEY_ENV = "CROSSDOCK_RACKBEAT_API_KEY"
SHOPIFY_CLIENT_SECRET_ENV = "CROSSDOCK_SHOPIFY_CLIENT_SECRET"
SHOPBOX_PASSWORD_ENV = "CROSSDOCK_SHOPBOX_PASSWORD"
SHOPBOX_API_TOKEN_ENV = "CROSSDOCK_SHOPBOX_API_TOKEN"
BAR_WIDTH = 30


class UsageError(Exception):
    """The command line asks for something that cannot be: exit code 2 (operator_cli maps it)."""


def add_commands(commands: Any, connection_commands: Any, command: AddCommand) -> None:
    """Adds the onboarding commands: to `connections` (its subparsers) and as the `settings` and `initial-sync`
    groups of `commands`. `command` is operator_cli's: it gives a parser the target options and runs it."""

    def onboarding_command(group: Any, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        parser = command(group, name, run, help_text)
        parser.set_defaults(onboarding=True)
        return parser

    create = onboarding_command(connection_commands, "create", _create, "a new connection, waiting for the install")
    create.add_argument(
        "--kind",
        default=KIND,
        choices=(KIND, SHOPBOX_KIND, WEBSHIPPER_KIND, PEAKWMS_KIND),
        help=f"the connection's kind (default {KIND})",
    )
    create.add_argument("--shop", help=f"{KIND}: the shop's *.myshopify.com domain")
    create.add_argument("--shopify-client-id", help=f"{KIND}: the Shopify app's client id")
    create.add_argument(
        "--shopify-client-secret-file",
        type=Path,
        help=f"file holding the app's client secret (default: ${SHOPIFY_CLIENT_SECRET_ENV}, or asked for)",
    )
    create.add_argument(
        "--rackbeat-api-key-file",
        type=Path,
        help=f"file holding the merchant's Rackbeat API key (default: ${RACKBEAT_API_KEY_ENV}, or asked for)",
    )
    create.add_argument("--shopbox-user", help=f"{SHOPBOX_KIND}: the Shopbox login's e-mail (its password is a secret)")
    create.add_argument(
        "--shopbox-password-file",
        type=Path,
        help=f"{SHOPBOX_KIND}: file holding the login's password (default: ${SHOPBOX_PASSWORD_ENV}, or asked for)",
    )
    create.add_argument(
        "--shopbox-api-token-file",
        type=Path,
        help=f"{SHOPBOX_KIND}: file holding a Shopbox API token, instead of a login (or ${SHOPBOX_API_TOKEN_ENV})",
    )
    create.add_argument(
        "--shopbox-client", help=f"{SHOPBOX_KIND}: the Shopbox client (company) uid, when the login acts for several"
    )
    create.add_argument(
        "--tenant", help="the merchant tenant the connection belongs to (its users see it in the admin API)"
    )
    operator_webshipper.add_create_options(create)
    operator_peakwms.add_create_options(create)
    _settings_input(create)
    for name, run, help_text in (
        ("install-link", _install_link, "the Shopify install link of a connection created before"),
        ("pause", _pause, "stop working for a connection: its events are skipped until resumed"),
        ("resume", _resume, "work for a paused connection again"),
        ("uninstall", _uninstall, "as Shopify's app/uninstalled: webhooks, schedules and Shopify tokens go"),
    ):
        onboarding_command(connection_commands, name, run, help_text).add_argument("connection_id")
    tenant = command(connection_commands, "tenant", _tenant, "give a connection to a merchant tenant (or to none)")
    tenant.add_argument("connection_id")
    tenant.add_argument("tenant", nargs="?", help="the tenant; left out: the connection belongs to no tenant")

    settings_commands = commands.add_parser("settings", help="a connection's settings").add_subparsers(
        dest="action", required=True
    )
    show = onboarding_command(settings_commands, "show", _settings_show, "the settings in force and their version")
    show.add_argument("connection_id")
    show.add_argument("--document", action="store_true", help="only the settings, as a JSON document to edit")
    onboarding_command(
        settings_commands,
        "choices",
        _settings_choices,
        f"{WEBSHIPPER_KIND}: the Webshipper order channels and shipping rates; {PEAKWMS_KIND}: the shop's locations",
    ).add_argument("connection_id")
    for name, run, help_text in (
        ("validate", _settings_validate, "check settings as a save would, against the Rackbeat account; save nothing"),
        ("set", _settings_set, "save settings as the next version, then register webhooks and move schedules"),
    ):
        parser = onboarding_command(settings_commands, name, run, help_text)
        parser.add_argument("connection_id")
        parser.add_argument(
            "--expected-version", type=int, help="refuse unless this is the version stored now (default: as read)"
        )
        _settings_input(parser, base="the settings in force")

    sync_commands = commands.add_parser("initial-sync", help="the connection's one initial sync").add_subparsers(
        dest="action", required=True
    )
    onboarding_command(
        sync_commands, "start", _sync_start, "start the initial sync (once per connection)"
    ).add_argument("connection_id")
    progress = onboarding_command(sync_commands, "progress", _sync_progress, "how far the initial sync is")
    progress.add_argument("connection_id")
    progress.add_argument("--wait", action="store_true", help="follow it until it is done or has failed")
    progress.add_argument("--every", type=float, default=5.0, help="seconds between looks with --wait (5)")


def _settings_input(parser: argparse.ArgumentParser, base: str = "the defaults") -> None:
    parser.add_argument("--file", type=Path, help=f"a JSON or YAML (.yaml/.yml) settings document (default: {base})")
    parser.add_argument("assignments", nargs="*", metavar="KEY=VALUE", help="settings on top, dotted keys")


def _document(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    try:
        document = base
        if args.file is not None:
            document = settings_input.read_document(_read(args.file), str(args.file))
        return settings_input.apply_assignments(document, args.assignments)
    except ValueError as wrong:
        raise UsageError(str(wrong)) from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as unreadable:
        raise UsageError(f"{path}: {unreadable.strerror}") from None


def _secret(path: Path | None, variable: str, prompt: str) -> str:
    if path is not None:
        return _read(path).strip()
    if os.environ.get(variable):
        return os.environ[variable].strip()
    if sys.stdin.isatty():
        return getpass.getpass(f"{prompt}: ").strip()
    raise UsageError(f"{prompt}: give a file, set ${variable}, or run on a terminal to type it")


# -- connections ---------------------------------------------------------------------------------------------------


def _create(target: OperatorTarget, args: argparse.Namespace) -> str:
    if args.kind == SHOPBOX_KIND:
        return _create_shopbox(target, args)
    if args.kind == PEAKWMS_KIND:
        return operator_peakwms.create(target, args, settings=_document(args, {}), secret=_secret, usage=UsageError)
    if args.kind == WEBSHIPPER_KIND:
        return operator_webshipper.create(
            target,
            args,
            rackbeat_api_key=_secret(args.rackbeat_api_key_file, RACKBEAT_API_KEY_ENV, "the Rackbeat API key"),
            settings=_document(args, {}),
            secret=_secret,
            usage=UsageError,
        )
    missing = [
        option
        for option, value in (("--shop", args.shop), ("--shopify-client-id", args.shopify_client_id))
        if not value
    ]
    if missing:
        raise UsageError(f"a {KIND} connection needs {' and '.join(missing)}")
    created = onboarding.create_connection(
        target,
        args.kind,
        shop_domain=args.shop,
        shopify_client_id=args.shopify_client_id,
        shopify_client_secret=_secret(
            args.shopify_client_secret_file, SHOPIFY_CLIENT_SECRET_ENV, "the Shopify app's client secret"
        ),
        rackbeat_api_key=_secret(args.rackbeat_api_key_file, RACKBEAT_API_KEY_ENV, "the Rackbeat API key"),
        settings=_document(args, {}),
        tenant=args.tenant,
    )
    if args.json:
        return out.as_json(created)
    return "\n".join(
        [
            f"connection {created.connection_id} created for {created.shop_domain} ({created.kind}): {created.state}",
            f"rackbeat        account {created.rackbeat_account_id} (Rackbeat accepted the API key)",
            f"settings        version {created.settings_version}",
            f"secrets stored  {', '.join(created.secret_names)} (KMS-encrypted; names only)",
            *(
                f"warning: {missing} (yet); add it there or change the setting (settings set) before the install"
                for missing in created.missing_references
            ),
            "",
            *_links(created),
        ]
    )


def _create_shopbox(target: OperatorTarget, args: argparse.Namespace) -> str:
    if args.shop or args.shopify_client_id:
        raise UsageError(f"--shop and --shopify-client-id are for {KIND} connections, not {SHOPBOX_KIND}")
    created = onboarding.create_shopbox_connection(
        target,
        rackbeat_api_key=_secret(args.rackbeat_api_key_file, RACKBEAT_API_KEY_ENV, "the Rackbeat API key"),
        shopbox=_shopbox_credentials(args),
        settings=_document(args, {}),
        tenant=args.tenant,
    )
    if args.json:
        return out.as_json(created)
    login = f"login {created.shopbox_username}" if created.shopbox_username else "an API token"
    name = f" ({created.shopbox_client_name})" if created.shopbox_client_name else ""
    lines = [
        f"connection {created.connection_id} created ({created.kind}): {created.state}",
        f"rackbeat        account {created.rackbeat_account_id} (Rackbeat accepted the API key)",
        f"shopbox         client {created.shopbox_client_uid}{name} with {login}; {created.shopbox_branches} branches",
        f"settings        version {created.settings_version}",
        f"secrets stored  {', '.join(created.secret_names)} (KMS-encrypted; names only)",
    ]
    if created.schedules:
        lines.append("poll schedules  " + ", ".join(f"{stream} {what}" for stream, what in created.schedules.items()))
    lines += [f"missing: {missing}" for missing in created.missing_references]
    if created.missing_references:
        lines.append("Add what is missing (or change the settings) and run `settings set`: that activates it.")
    return "\n".join(lines)


def _shopbox_credentials(args: argparse.Namespace) -> ShopboxCredentials:
    if args.shopbox_api_token_file is not None or (not args.shopbox_user and os.environ.get(SHOPBOX_API_TOKEN_ENV)):
        if args.shopbox_user:
            raise UsageError("give either --shopbox-user (and its password) or a Shopbox API token, not both")
        token = _secret(args.shopbox_api_token_file, SHOPBOX_API_TOKEN_ENV, "the Shopbox API token")
        return ShopboxCredentials(api_token=token, client_uid=args.shopbox_client)
    if not args.shopbox_user:
        raise UsageError(f"a {SHOPBOX_KIND} connection needs --shopbox-user (or --shopbox-api-token-file)")
    password = _secret(args.shopbox_password_file, SHOPBOX_PASSWORD_ENV, f"the Shopbox password of {args.shopbox_user}")
    return ShopboxCredentials(username=args.shopbox_user, password=password, client_uid=args.shopbox_client)


def _links(created: onboarding.CreatedConnection) -> list[str]:
    return [
        "The shop owner opens this link to install the app:",
        f"  {created.install_link}",
        "The app's configuration in Shopify's Partner dashboard must say:",
        f"  App URL                  {created.app_url}",
        f"  Allowed redirection URL  {created.redirect_url}",
    ]


def _install_link(target: OperatorTarget, args: argparse.Namespace) -> str:
    created = onboarding.install_link(target, args.connection_id)
    if args.json:
        return out.as_json(created)
    return "\n".join([f"connection {created.connection_id} ({created.shop_domain}): {created.state}", *_links(created)])


def _tenant(target: OperatorTarget, args: argparse.Namespace) -> str:
    changed = operator_connections.give_to_tenant(target, args.connection_id, args.tenant)
    if args.json:
        return out.as_json(changed)
    return f"connection {changed.connection_id}: tenant {changed.before or 'none'} → {changed.tenant or 'none'}"


def _pause(target: OperatorTarget, args: argparse.Namespace) -> str:
    return _state_changed(lifecycle.pause(target, args.connection_id), args)


def _resume(target: OperatorTarget, args: argparse.Namespace) -> str:
    return _state_changed(lifecycle.resume(target, args.connection_id), args)


def _state_changed(changed: lifecycle.StateChanged, args: argparse.Namespace) -> str:
    if args.json:
        return out.as_json(changed)
    head = f"connection {changed.connection_id} ({changed.account}): {changed.before} → {changed.state}"
    return "\n".join([head, *(f"  {note}" for note in changed.notes)])


def _uninstall(target: OperatorTarget, args: argparse.Namespace) -> str:
    done = lifecycle.uninstall(target, args.connection_id)
    if args.json:
        return out.as_json(done)
    lines = [f"connection {done.connection_id} ({done.account}): {done.before} → {done.state}"]
    lines += [
        f"{system} webhooks removed".ljust(31) + (", ".join(hooks) or "-")
        for system, hooks in sorted(done.webhooks_removed.items())
    ]
    lines += [f"outcome                        {done.outcome} (event {done.event_id})", *done.notes]
    return "\n".join(lines)


# -- settings ------------------------------------------------------------------------------------------------------


def _settings_choices(target: OperatorTarget, args: argparse.Namespace) -> str:
    if stack_access.load_onboarded(target, args.connection_id).kind == PEAKWMS_KIND:
        return operator_peakwms.choices(target, args)
    return operator_webshipper.choices(target, args)


def _settings_show(target: OperatorTarget, args: argparse.Namespace) -> str:
    view = connection_settings.show_settings(target, args.connection_id)
    if args.document:
        return out.as_json(view.settings)
    if args.json:
        return out.as_json(view)
    saved = f", saved {view.saved_at}" if view.saved_at else ""
    head = f"connection {view.connection_id} ({view.state}): settings version {view.version}{saved}"
    return head + "\n" + out.as_json(view.settings)


def _settings_validate(target: OperatorTarget, args: argparse.Namespace) -> str:
    current = connection_settings.show_settings(target, args.connection_id)
    checked = connection_settings.validate_settings(
        target, args.connection_id, _document(args, current.settings), expected_version=args.expected_version
    )
    if args.json:
        return out.as_json(checked)
    return "\n".join(
        [
            f"the settings are valid for connection {checked.connection_id} (against version "
            f"{checked.based_on_version} and its accounts); nothing was saved",
            *_changes(checked.changes),
        ]
    )


def _settings_set(target: OperatorTarget, args: argparse.Namespace) -> str:
    current = connection_settings.show_settings(target, args.connection_id)
    expected = args.expected_version if args.expected_version is not None else current.version
    saved = connection_settings.set_settings(
        target, args.connection_id, _document(args, current.settings), expected_version=expected
    )
    if args.json:
        return out.as_json(saved)
    applied = saved.applied
    lines = [f"settings version {saved.version} saved for connection {saved.connection_id}", *_changes(saved.changes)]
    if isinstance(applied, ShopboxApplied):
        return "\n".join(lines + _shopbox_applied(applied))
    if isinstance(applied, WebshipperApplied):
        return "\n".join(lines + operator_webshipper.applied_lines(applied))
    if applied.not_applied:
        lines.append(f"webhooks and schedules: not changed ({applied.not_applied})")
    else:
        lines += [
            f"rackbeat webhooks   {', '.join(applied.rackbeat_events) or '-'}"
            + (f" (removed: {', '.join(applied.rackbeat_events_removed)})" if applied.rackbeat_events_removed else ""),
            f"shopify topics      created {', '.join(applied.shopify_topics_created) or 'none (all there)'}",
            "poll schedules      " + ", ".join(f"{stream} {what}" for stream, what in applied.schedules.items()),
        ]
    return "\n".join(lines)


def _shopbox_applied(applied: ShopboxApplied) -> list[str]:
    if applied.not_applied:
        return [f"schedules: not changed ({applied.not_applied})"]
    schedules = ", ".join(f"{stream} {what}" for stream, what in applied.schedules.items()) or "-"
    return [*(["connection activated"] if applied.activated else []), f"poll schedules      {schedules}"]


def _changes(found: list[str]) -> list[str]:
    return ["changes:", *(f"  {change}" for change in found)] if found else ["changes: none"]


# -- initial sync --------------------------------------------------------------------------------------------------


def _sync_start(target: OperatorTarget, args: argparse.Namespace) -> str:
    started = initial_sync.start_initial_sync(target, args.connection_id)
    if args.json:
        return out.as_json(started)
    return "\n".join(
        [
            f"initial sync of connection {started.connection_id}: {started.status} ({started.execution_arn})",
            f"note: {started.warning}",
            f"follow it with: crossdock initial-sync progress {started.connection_id} --wait",
        ]
    )


def _sync_progress(target: OperatorTarget, args: argparse.Namespace) -> str:
    progress = initial_sync.initial_sync_progress(target, args.connection_id)
    if args.wait:
        progress = follow(target, args.connection_id, progress, args.every, sys.stderr)
    if args.json:
        return out.as_json(progress)
    return progress_line(progress)


def follow(
    target: OperatorTarget,
    connection_id: str,
    progress: InitialSyncProgress,
    every: float,
    stream: TextIO,
    look: Callable[[OperatorTarget, str], InitialSyncProgress] = initial_sync.initial_sync_progress,
) -> InitialSyncProgress:
    """Looks again every `every` seconds until the sync has finished (or never started): a bar redrawn in place
    on a terminal, a line per change otherwise. A person waits here, so the wait is real time."""
    terminal = stream.isatty()
    shown = ""
    while True:
        text = progress_bar(progress) if terminal else progress_line(progress)
        if text != shown:
            stream.write(("\r" + text) if terminal else text + "\n")
            stream.flush()
            shown = text
        if progress.finished or progress.status == "not started":
            if terminal:
                stream.write("\n")
            return progress
        time.sleep(every)
        progress = look(target, connection_id)


def progress_line(progress: InitialSyncProgress) -> str:
    total = "?" if progress.total is None else str(progress.total)
    line = (
        f"initial sync {progress.status}: {progress.done} of {total} variants "
        f"({progress.created} created, {progress.existing} already in Rackbeat, {progress.skipped} skipped)"
    )
    if progress.error:
        line += f"; error: {out.shorten(progress.error)}"
    return line


def progress_bar(progress: InitialSyncProgress, width: int = BAR_WIDTH) -> str:
    """`[#########.....................]  30%  300/1000 importing`; no share until the export has been counted."""
    if progress.total or progress.status == "done":
        share = min(1.0, progress.done / progress.total) if progress.total else 1.0
        filled = round(share * width)
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  {progress.done}/{progress.total} {progress.status}"
        )
    return f"[{'.' * width}]    -  {progress.status}"
