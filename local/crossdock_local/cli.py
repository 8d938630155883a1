"""`crossdock` command line: the demo, the local server, and the operator's commands (`operator_cli`)."""

# The operator's commands run with only the runtime dependencies installed (`pip install crossdock`, no `local`
# extra): the local runtime (the stack, the embedded AWS on moto, the scenarios) is imported only by the commands
# that run it, `demo`, `serve` and the `chaos` runs, and only when one of them is asked for.

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from crossdock_local import operator_cli, operator_users

if TYPE_CHECKING:
    from crossdock_local.stack import LocalStack

LOCAL_COMMANDS = ("demo", "serve", "chaos", "chaos-shopbox", "chaos-webshipper", "chaos-peakwms")

# `crossdock chaos` defines its options in the scenario (`chaos.add_command`); other command lines show it by this.
CHAOS_HELP = "run orders, refunds and stock changes under faults and audit them"
CHAOS_SHOPBOX_HELP = "run Shopbox till sales into Rackbeat under faults and audit them"
CHAOS_WEBSHIPPER_HELP = "run orders through Rackbeat ⇄ Webshipper under faults and audit them"
CHAOS_PEAKWMS_HELP = "run Shopify orders through PeakWMS ⇄ Shopify under faults and audit them"


def _demo(args: argparse.Namespace) -> int:
    from crossdock_local.scenarios.demo import DEMO_LOG, render, run_demo

    result = run_demo(order_count=args.orders, seed=args.seed, rackbeat_rate_limit=args.rackbeat_rate_limit)
    print(render(result))
    print(f"function logs and metrics: {DEMO_LOG}")
    return 0 if result.ok else 1


def _serve(args: argparse.Namespace) -> int:
    from crossdock_local.aws.endpoint import AwsEndpoint, endpoint_state
    from crossdock_local.scenarios.demo import demo_settings
    from crossdock_local.stack import LocalStack

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(port=args.port) as stack, AwsEndpoint(port=args.aws_port) as aws:
        aws_url = aws.start()
        connection = stack.create_connection(demo_settings())
        stack.seed_items(connection.rackbeat_account_id, [f"SKU-{n:03d}" for n in range(1, 41)])
        # A second shop waiting to be installed through OAuth (README, "Installing a shop (OAuth)").
        pending = stack.begin_install(demo_settings(), shop_domain="acme-new.myshopify.com")
        state = {
            "base_url": stack.base_url,
            **connection.public(stack.base_url),
            "install": {"shop_domain": pending.shop_domain, "client_id": pending.client_id},
            # The admin API and its console's sign-in: Cognito's API is served at cognito_endpoint, as a browser
            # calls https://cognito-idp.<region>.amazonaws.com/ (make users with `crossdock users create --local`).
            "admin": {
                "api_url": stack.admin_api_url,
                "user_pool_id": stack.user_pool_id,
                "user_pool_client_id": stack.user_pool_client_id,
                "cognito_endpoint": stack.cognito_endpoint,
            },
            # For `crossdock <operator command> --local` and any AWS SDK: the stack's AWS APIs and resource names.
            "aws": endpoint_state(stack.aws, aws_url),
        }
        Path(args.state_file).write_text(json.dumps(state, indent=2))
        print(
            f"Crossdock is serving on {stack.base_url}, its AWS APIs on {aws_url} (state in {args.state_file}); "
            "Ctrl-C stops it.",
            flush=True,
        )
        print(f"The web console: {stack.base_url}/console/ (users: `crossdock users create --local`).", flush=True)
        worker = threading.Thread(target=_keep_running, args=(stack, stop), daemon=True)
        worker.start()
        try:
            stop.wait()
        except KeyboardInterrupt:
            stop.set()
        worker.join(timeout=10)
    return 0


def _keep_running(stack: LocalStack, stop: threading.Event) -> None:
    """What AWS does continuously: poll the queues, run workflows, and fire the schedules whose time has come
    (`drain` fires them; the virtual clock runs with real time here, so the self-check runs hourly)."""
    while not stop.is_set():
        sent = stack.deliver_rackbeat_webhooks()
        if not stack.aws.drain() and not sent:
            stop.wait(0.2)


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """`crossdock`'s parser for the command line `argv`: `chaos`'s own options only when `argv` asks for `chaos`,
    since they come with the scenario and its local runtime."""
    parser = argparse.ArgumentParser(prog="crossdock", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run 200 Shopify orders through the embedded stack and audit them")
    demo.add_argument("--orders", type=int, default=200)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--rackbeat-rate-limit", type=int, default=480, help="requests/minute per token")
    demo.set_defaults(run=_demo)
    serve = commands.add_parser("serve", help="keep the stack running with webhook routes and simulators")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--state-file", default=".crossdock-state.json")
    serve.add_argument("--aws-port", type=int, default=3001, help="port of the embedded AWS APIs (0: any free one)")
    serve.set_defaults(run=_serve)
    operator_cli.add_commands(commands)
    operator_users.add_commands(commands)
    if _command_in(argv) == "chaos":
        from crossdock_local.scenarios import chaos

        chaos.add_command(commands)
    else:
        commands.add_parser("chaos", help=CHAOS_HELP)
    if _command_in(argv) == "chaos-shopbox":
        from crossdock_local.scenarios import chaos_shopbox

        chaos_shopbox.add_command(commands)
    else:
        commands.add_parser("chaos-shopbox", help=CHAOS_SHOPBOX_HELP)
    if _command_in(argv) == "chaos-webshipper":
        from crossdock_local.scenarios import chaos_webshipper

        chaos_webshipper.add_command(commands)
    else:
        commands.add_parser("chaos-webshipper", help=CHAOS_WEBSHIPPER_HELP)
    if _command_in(argv) == "chaos-peakwms":
        from crossdock_local.scenarios import chaos_peakwms

        chaos_peakwms.add_command(commands)
    else:
        commands.add_parser("chaos-peakwms", help=CHAOS_PEAKWMS_HELP)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The subcommand `argv` names: its first word that is not an option (`crossdock` has no option of its own
    that takes a value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser(words).parse_args(words)
        code: int = args.run(args)
    except ModuleNotFoundError as missing:
        command = _command_in(words)
        if command not in LOCAL_COMMANDS or not missing.name:
            raise
        print(
            f"crossdock: `crossdock {command}` runs the local runtime, which needs {missing.name.split('.')[0]} "
            "(not installed): pip install 'crossdock[local]'",
            file=sys.stderr,
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
