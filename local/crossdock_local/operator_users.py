"""The operator's user commands (issue 17): `crossdock users create --email E (--tenant T | --operator)
[--password-file F]`, `users list`, `users set-password --email E --password-file F` and `users delete --email E`,
on the stack's user pool (`crossdock.operations.users`).

The password is read from a file (its first line), never from the command line, where the shell's history and the
process list would show it; without one, Cognito mails the user an invitation with a temporary password.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from crossdock.operations import users
from crossdock.operations.errors import OperatorError
from crossdock.operations.users import User, UserDirectory
from crossdock_local import operator_cli
from crossdock_local import operator_output as out
from crossdock_local.operator_onboarding import UsageError
from crossdock_local.operator_targets import aws_user_directory, local_user_directory

USAGE = 2
REFUSED = 1


def add_commands(commands: Any) -> None:
    """Adds the `users` group to `crossdock`'s subcommands, with the target options of the operator's commands."""
    target = operator_cli.target_options()
    group = commands.add_parser("users", help="who signs in to the admin API and console").add_subparsers(
        dest="action", required=True
    )
    create = group.add_parser("create", parents=[target], help="a merchant user of a tenant, or an operator")
    create.add_argument("--email", required=True, help="the user's e-mail address: what they sign in with")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--tenant", help="the merchant's tenant: the user sees only its connections")
    who.add_argument("--operator", action="store_true", help="an operator: sees and changes every connection")
    create.add_argument(
        "--password-file",
        type=Path,
        help="a file whose first line is the password (default: Cognito mails a temporary one)",
    )
    create.set_defaults(run=lambda args: _run(_create, args))
    listing = group.add_parser("list", parents=[target], help="every user, operators first")
    listing.set_defaults(run=lambda args: _run(_list, args))
    password = group.add_parser("set-password", parents=[target], help="a new password (a lost one)")
    password.add_argument("--email", required=True)
    password.add_argument("--password-file", type=Path, required=True, help="a file whose first line is the password")
    password.set_defaults(run=lambda args: _run(_set_password, args))
    delete = group.add_parser("delete", parents=[target], help="the user can no longer sign in")
    delete.add_argument("--email", required=True)
    delete.set_defaults(run=lambda args: _run(_delete, args))


def _run(command: Any, args: argparse.Namespace) -> int:
    try:
        report = command(_directory(args), args)
    except UsageError as wrong:
        print(f"crossdock: {wrong}", file=sys.stderr)
        return USAGE
    except (OperatorError, BotoCoreError, ClientError) as failed:
        print(f"crossdock: {failed}", file=sys.stderr)
        return REFUSED
    print(report, flush=True)
    return 0


def _directory(args: argparse.Namespace) -> UserDirectory:
    if operator_cli.is_local(args):
        return local_user_directory(args.local)
    return aws_user_directory(args.stack, args.profile, args.region)


def _create(directory: UserDirectory, args: argparse.Namespace) -> str:
    password = _password(args.password_file) if args.password_file else None
    user = users.create_user(directory, args.email, tenant=args.tenant, operator=args.operator, password=password)
    if args.json:
        return out.as_json(user)
    how = "with the password from the file" if password is not None else "invited by mail (temporary password)"
    role = "operator" if user.operator else f"tenant {user.tenant}"
    return f"{directory.description}: created {user.email} ({role}), {how}; user id {user.user}"


def _set_password(directory: UserDirectory, args: argparse.Namespace) -> str:
    user = users.set_password(directory, args.email, _password(args.password_file))
    if args.json:
        return out.as_json(user)
    return f"{directory.description}: {user.email} has a new password (status {user.status})"


def _delete(directory: UserDirectory, args: argparse.Namespace) -> str:
    users.delete_user(directory, args.email)
    if args.json:
        return out.as_json({"deleted": args.email})
    return f"{directory.description}: deleted {args.email}; a token issued before passes until it expires (1 hour)"


def _list(directory: UserDirectory, args: argparse.Namespace) -> str:
    found = users.list_users(directory)
    if args.json:
        return out.as_json(found)
    return f"{directory.description}: {len(found)} users\n" + out.table(
        ["email", "role", "status", "enabled", "created", "user"], [_row(user) for user in found]
    )


def _row(user: User) -> list[Any]:
    role = "operator" if user.operator else f"tenant {user.tenant}" if user.tenant else "none (refused everywhere)"
    created = user.created.strftime("%Y-%m-%dT%H:%M:%SZ") if user.created else None
    return [user.email, role, user.status, "yes" if user.enabled else "no", created, user.user]


def _password(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as unreadable:
        raise UsageError(f"--password-file {path}: {unreadable.strerror}") from unreadable
    if not lines or not lines[0]:
        raise UsageError(f"--password-file {path}: its first line is empty")
    return lines[0]
