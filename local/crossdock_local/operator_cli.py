"""The operator's commands: `crossdock connections|events|dlq|orders|status …` (issue #5), and the onboarding
ones (`connections create|pause|resume|uninstall`, `settings`, `initial-sync`: `operator_onboarding`, issue 13), and
the guided setup (`setup show|run|skip`: `operator_setup`, issue 16).

Each command works on a target stack: `--stack NAME` (with `--profile`/`--region`) for a deployed one, or `--local
[STATE_FILE]` for the embedded stack of a running `crossdock serve`. Tables by default, `--json` for scripts. Exit
codes: 0 done, 1 not found or refused (the message says why), 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from crossdock.operations import connections, dead_letters, events, order_sync, resync, status
from crossdock.operations.errors import OperatorError
from crossdock.operations.target import DEAD_LETTER_QUEUE_NAMES, OperatorTarget
from crossdock.store.events import EventStatus
from crossdock_local import operator_choices, operator_onboarding, operator_setup
from crossdock_local import operator_output as out
from crossdock_local.operator_onboarding import UsageError
from crossdock_local.operator_targets import DEFAULT_STATE_FILE, aws_target, local_target

USAGE = 2
REFUSED = 1
Command = Callable[[OperatorTarget, argparse.Namespace], str]


def add_commands(commands: Any) -> None:
    """Adds the operator commands to `crossdock`'s subcommands (an argparse subparsers action)."""
    target = target_options()

    def command(group: Any, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = group.add_parser(name, parents=[target], help=help_text)
        parser.set_defaults(run=lambda args: operate(run, args), operate=run)
        return parser

    connection_commands = commands.add_parser(
        "connections", help="list, show, create and change connections"
    ).add_subparsers(dest="action", required=True)
    command(connection_commands, "list", _connections_list, "every connection, its state and last event")
    show = command(connection_commands, "show", _connections_show, "one connection and its settings (no secrets)")
    show.add_argument("connection_id")
    operator_onboarding.add_commands(commands, connection_commands, command)
    operator_setup.add_commands(commands, command)
    operator_choices.add_commands(connection_commands, command)

    event_commands = commands.add_parser("events", help="list and retry events").add_subparsers(
        dest="action", required=True
    )
    listing = command(event_commands, "list", _events_list, "events needing attention, or a connection's events")
    listing.add_argument("--status", choices=[status.value for status in EventStatus])
    listing.add_argument("--connection", dest="connection_id", help="one connection's events")
    listing.add_argument("--since", help="received at or after this ISO 8601 time (no zone: UTC)")
    listing.add_argument("--limit", type=_positive, default=50, help="at most this many, newest first (50)")
    retry = command(event_commands, "retry", _events_retry, "send a failed event's message again")
    retry.add_argument("event_id")
    retry.add_argument("--connection", dest="connection_id", help="the event's connection (needed for finished ones)")
    retry.add_argument("--force", action="store_true", help="retry even if it is not needs_attention")

    dlq_commands = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="action", required=True)
    dlq_show = command(dlq_commands, "show", _dlq_show, "what is in the dead-letter queues")
    dlq_show.add_argument("--queue", choices=DEAD_LETTER_QUEUE_NAMES, help="one queue (default: all)")
    dlq_show.add_argument("--limit", type=_positive, default=20, help="messages shown per queue (20)")
    dlq_show.add_argument("--payload", action="store_true", help="show the payloads (they hold customer data)")
    dlq_redrive = command(dlq_commands, "redrive", _dlq_redrive, "move dead letters back to their source queue")
    dlq_redrive.add_argument("--queue", choices=DEAD_LETTER_QUEUE_NAMES, help="one queue (default: all that can)")
    dlq_redrive.add_argument("--limit", type=_positive, help="at most this many per queue (default: all there now)")

    order_commands = commands.add_parser("orders", help="orders").add_subparsers(dest="action", required=True)
    resync_order = command(order_commands, "resync", _orders_resync, "have dispatch look at one Shopify order again")
    resync_order.add_argument("connection_id")
    resync_order.add_argument("order_id", help="Shopify's numeric order id (or gid://shopify/Order/…)")
    sync_order = command(
        order_commands, "sync", _orders_sync, "transfer one order a webhook or the poll missed, never twice"
    )
    sync_order.add_argument("connection_id")
    sync_order.add_argument(
        "order",
        help="rackbeat_shopbox: the Shopbox basket's uid; rackbeat_webshipper: a Webshipper order id (1025) or a "
        "Rackbeat order number (rackbeat:1021)",
    )

    command(commands, "status", _status, "per connection: last event, backlog, failures; queue depths")


def target_options() -> argparse.ArgumentParser:
    """The options that say which stack an operator command works on (`--local [STATE_FILE]` or `--stack`, with
    `--profile`/`--region`) and `--json`: a parent parser for every command, these and `users`."""
    target = argparse.ArgumentParser(add_help=False)
    where = target.add_argument_group("target stack (one of)")
    where.add_argument(
        "--local",
        nargs="?",
        const=DEFAULT_STATE_FILE,
        metavar="STATE_FILE",
        help=f"the embedded stack of a running `crossdock serve` (default state file {DEFAULT_STATE_FILE})",
    )
    where.add_argument("--stack", help="the deployed SAM stack's CloudFormation name")
    where.add_argument("--profile", help="AWS profile for --stack (default: the usual credential chain)")
    where.add_argument("--region", help="AWS region for --stack (default: the profile's)")
    target.add_argument("--json", action="store_true", help="machine-readable output")
    return target


def run(argv: list[str], target: OperatorTarget, output: TextIO | None = None) -> int:
    """One operator command against `target` (no target options needed), its report written to `output` (stdout):
    for tests and embedding."""
    parser = argparse.ArgumentParser(prog="crossdock")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return _execute(args.operate, target, args, output)


def operate(command: Command, args: argparse.Namespace) -> int:
    try:
        target = connect(args)
    except UsageError as wrong:
        return _fail(USAGE, str(wrong))
    except (OperatorError, BotoCoreError, ClientError) as failed:
        return _fail(REFUSED, str(failed))
    return _execute(command, target, args)


def connect(args: argparse.Namespace) -> OperatorTarget:
    if is_local(args):
        return local_target(args.local)
    return aws_target(args.stack, args.profile, args.region, onboarding=getattr(args, "onboarding", False))


def is_local(args: argparse.Namespace) -> bool:
    """Whether the target options name the embedded stack (`--local`) rather than a deployed one (`--stack`); a
    `UsageError` when they name neither or both, or `--profile`/`--region` without `--stack`."""
    if args.local is not None and args.stack:
        raise UsageError("give either --local or --stack, not both")
    if args.local is not None:
        if args.profile or args.region:
            raise UsageError("--profile and --region go with --stack; --local uses the state file's endpoint")
        return True
    if args.stack:
        return False
    raise UsageError("which stack? give --local [STATE_FILE] or --stack NAME (with --profile/--region)")


def _execute(command: Command, target: OperatorTarget, args: argparse.Namespace, output: TextIO | None = None) -> int:
    try:
        report = command(target, args)
    except UsageError as wrong:
        return _fail(USAGE, str(wrong))
    except (OperatorError, BotoCoreError, ClientError) as failed:
        return _fail(REFUSED, str(failed))
    try:
        print(report, file=output or sys.stdout, flush=True)
    except BrokenPipeError:
        # The reader (`| head`) stopped reading: not an error. Python's own advice: point stdout at devnull so
        # the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _fail(code: int, message: str) -> int:
    print(f"crossdock: {message}", file=sys.stderr)
    return code


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _usage(parse: Callable[[str], str], text: str) -> str:
    try:
        return parse(text)
    except ValueError as wrong:
        raise UsageError(str(wrong)) from wrong


def _bail(message: str) -> NoReturn:
    raise UsageError(message)


# -- connections ---------------------------------------------------------------------------------------------------


def _connections_list(target: OperatorTarget, args: argparse.Namespace) -> str:
    found = connections.list_connections(target)
    if args.json:
        return out.as_json(found)
    rows = [
        [
            c.connection_id,
            c.shop_domain,
            c.state + (f" since {out.moment(c.state_since)}" if c.state_since else ""),
            c.rackbeat_account_id,
            f"v{c.settings_version}" + (f" saved {out.moment(c.settings_saved_at)}" if c.settings_saved_at else ""),
            out.event_summary(c.last_event),
        ]
        for c in found
    ]
    return out.table(["CONNECTION", "SHOP", "STATE", "RACKBEAT", "SETTINGS", "LAST EVENT"], rows)


def _connections_show(target: OperatorTarget, args: argparse.Namespace) -> str:
    detail = connections.show_connection(target, args.connection_id)
    if args.json:
        return out.as_json(detail)
    summary = detail.summary
    saved = f" (saved {summary.settings_saved_at})" if summary.settings_saved_at else ""
    lines = [
        f"connection      {summary.connection_id} ({detail.kind})",
        f"shop            {summary.shop_domain}  {detail.shopify_api_base}",
        f"rackbeat        account {summary.rackbeat_account_id}  {detail.rackbeat_api_base}",
        f"state           {summary.state}" + (f" since {summary.state_since}" if summary.state_since else ""),
        f"shopify app     {detail.shopify_client_id or '-'}",
        f"settings        version {summary.settings_version}{saved}",
        f"last event      {out.event_summary(summary.last_event) or '-'}",
        f"open events     {detail.needs_attention} needs_attention, {detail.in_progress} in progress",
        f"initial sync    {_initial_sync(detail.initial_sync)}",
        f"webhooks        {detail.webhooks}",
        f"secrets stored  {', '.join(detail.secret_names) or '-'} (names only)",
        "",
        "settings history",
        out.table(["VERSION", "SAVED"], [[v["version"], v["saved_at"]] for v in detail.settings_history]),
        "",
        "settings",
        out.as_json(detail.settings),
    ]
    return "\n".join(lines)


def _initial_sync(progress: dict[str, Any] | None) -> str:
    if not progress:
        return "-"
    total = progress.get("total")
    return f"{progress.get('status')} ({progress.get('done', 0)} of {total if total is not None else '?'})"


# -- events --------------------------------------------------------------------------------------------------------


def _events_list(target: OperatorTarget, args: argparse.Namespace) -> str:
    wanted = EventStatus(args.status) if args.status else None
    since = _usage(events.stamp_since, args.since) if args.since else None
    if args.connection_id is None:
        if wanted not in events.OPEN_STATUSES:
            _bail(
                "events of every connection are listed by --status needs_attention or --status received; "
                "give --connection for a connection's whole log"
            )
        assert wanted is not None
        found = events.open_events(target, wanted, since=since)
    else:
        found = events.connection_events(target, args.connection_id, status=wanted, since=since, limit=args.limit)
    shown = found[: args.limit]
    if args.json:
        return out.as_json(shown)
    rows = [
        [
            out.moment(e.received_at),
            e.connection_id,
            e.topic,
            e.status,
            e.failure_class,
            out.shorten(e.reason),
            e.event_id,
        ]
        for e in shown
    ]
    listing = out.table(["RECEIVED", "CONNECTION", "TOPIC", "STATUS", "CLASS", "REASON", "EVENT ID"], rows)
    if len(found) > len(shown):
        listing += f"\n({len(shown)} newest of {len(found)}; --limit shows more)"
    return listing


def _events_retry(target: OperatorTarget, args: argparse.Namespace) -> str:
    result = events.retry_event(target, args.event_id, args.connection_id, force=args.force)
    if args.json:
        return out.as_json(result)
    old = result.event
    lines = [
        f"event {old.event_id} ({old.source} {old.topic}, {old.status}) sent again as event {result.new_event_id}",
        f"connection {old.connection_id}; dispatch handles it as an operator's redrive",
    ]
    if result.marked:
        lines.append(f"event {old.event_id} is now skipped: retried as event {result.new_event_id}")
    else:
        lines.append(
            f"event {old.event_id} changed while it was being retried and was left as it is now; "
            "dispatch never starts the same work twice"
        )
    return "\n".join(lines)


# -- dead letters --------------------------------------------------------------------------------------------------


def _dlq_show(target: OperatorTarget, args: argparse.Namespace) -> str:
    names = [args.queue] if args.queue else [queue.name for queue in target.dead_letter_queues]
    reports = [dead_letters.show(target, name, limit=args.limit, with_payload=args.payload) for name in names]
    if args.json:
        return out.as_json(reports)
    return "\n\n".join(_dlq_report(report, args.payload) for report in reports)


def _dlq_report(report: dead_letters.DeadLetterReport, with_payload: bool) -> str:
    back = "redrive sends them back to their queue" if report.redrive_to else "no queue to redrive to"
    head = f"{report.queue} dead-letter queue: {report.waiting} waiting, {report.in_flight} in flight ({back})"
    if not report.messages:
        return head
    rows = [
        [m.message_id, m.connection_id, m.what, m.event_id, m.receive_count, m.first_received_at, m.group_id]
        for m in report.messages
    ]
    lines = [
        head,
        out.table(["MESSAGE ID", "CONNECTION", "WHAT", "EVENT ID", "RECEIVES", "FIRST RECEIVED", "GROUP"], rows),
    ]
    if with_payload:
        lines += [f"\n{m.message_id}:\n{m.payload}" for m in report.messages]
    if len(report.messages) < report.waiting:
        lines.append(f"({len(report.messages)} of {report.waiting} shown)")
    return "\n".join(lines)


def _dlq_redrive(target: OperatorTarget, args: argparse.Namespace) -> str:
    if args.queue:
        names = [args.queue]
    else:
        names = [queue.name for queue in target.dead_letter_queues if queue.source_url is not None]
    reports = [dead_letters.redrive(target, name, limit=args.limit) for name in names]
    failed = any(report.failed for report in reports)
    if args.json:
        text = out.as_json(reports)
    else:
        lines = []
        for report in reports:
            lines.append(
                f"{report.queue}: moved {report.moved} back to the source queue, {len(report.failed)} failed, "
                f"{report.remaining} left in the dead-letter queue"
            )
            lines += [f"  not moved {message_id}: {why}" for message_id, why in report.failed.items()]
            lines += [f"  moved but not deleted (will show again) {message_id}" for message_id in report.not_deleted]
        text = "\n".join(lines)
    if failed:
        raise OperatorError(text + "\nsome messages were not moved: they are still in the dead-letter queue")
    return text


# -- orders and status ---------------------------------------------------------------------------------------------


def _orders_resync(target: OperatorTarget, args: argparse.Namespace) -> str:
    order_id = _usage(resync.parse_order_id, args.order_id)
    request = resync.resync_order(target, args.connection_id, order_id)
    if args.json:
        return out.as_json(request)
    return (
        f"queued {resync.RESYNC_TOPIC} of Shopify order {request.order_id} for connection {request.connection_id} "
        f"as event {request.event_id} (SQS message {request.message_id}); dispatch fetches the order from Shopify "
        "and skips it if it is already in Rackbeat"
    )


def _orders_sync(target: OperatorTarget, args: argparse.Namespace) -> str:
    try:
        done = order_sync.sync_order(target, args.connection_id, args.order)
    except order_sync.InvalidId as wrong:
        raise UsageError(str(wrong)) from wrong
    if args.json:
        return out.as_json(done)
    if done.already_transferred:
        return f"already transferred: {done.described} is {done.transferred_as}; nothing sent"
    return (
        f"queued the transfer of {done.described} for connection {done.connection_id} as event {done.event_id} "
        f"(SQS message {done.message_id}); dispatch reads it again and skips it if it is already transferred"
    )


def _status(target: OperatorTarget, args: argparse.Namespace) -> str:
    report = status.stack_status(target)
    if args.json:
        return out.as_json(report)
    rows = [
        [
            c.shop_domain,
            c.connection_id,
            c.state,
            out.event_summary(c.last_event),
            c.backlog,
            out.moment(c.oldest_backlog_at),
            out.failures(c.failures),
        ]
        for c in report.connections
    ]
    inbound = report.inbound
    lines = [
        f"Crossdock — {report.target}",
        out.table(["SHOP", "CONNECTION", "STATE", "LAST EVENT", "BACKLOG", "OLDEST", "NEEDS ATTENTION"], rows),
        "",
        f"inbound queue: {inbound.waiting} waiting, {inbound.in_flight} in flight, {inbound.delayed} delayed",
        "dead letters: " + ", ".join(f"{q.name} {q.waiting + q.in_flight}" for q in report.dead_letters),
    ]
    if report.orphaned:
        lines.append(
            "open events of erased connections: "
            + ", ".join(f"{connection} {count}" for connection, count in report.orphaned.items())
        )
    return "\n".join(lines)
