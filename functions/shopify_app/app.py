"""Shopify app: the install routes a shop owner's browser follows (OAuth authorization-code grant)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from crossdock import pacing, services
from crossdock.aws import schedules
from crossdock.aws.observability import logger, metrics, trace_outbound_http, tracer
from crossdock.environment import FunctionEnvironment, MisconfiguredFunction
from crossdock.flows.poll_schedules import PollSchedules
from crossdock.integrations.rackbeat_shopify.install import InstallAnswer, InstallDeps, begin_install, complete_install
from crossdock.registry import poll_streams


@dataclass(frozen=True, kw_only=True)
class Environment(FunctionEnvironment):
    public_base_url: str | None = None
    poll_schedule_group: str
    poll_function_arn: str
    poll_schedule_role_arn: str
    poll_dead_letter_arn: str | None = None


ENV = Environment.read(os.environ)
# Without PUBLIC_BASE_URL the addresses Shopify is given (the OAuth redirect_uri, the webhooks' address) would come
# from the request's Host header, which the caller chooses: allowed only where the runtime says it is local.
if not ENV.public_base_url and not ENV.crossdock_local_stack:
    raise MisconfiguredFunction(
        "environment variable PUBLIC_BASE_URL is empty: set the stack's PublicBaseUrl parameter to the API's public "
        "URL (only the local runtime, CROSSDOCK_LOCAL_STACK=true, may take it from each request)"
    )
services.configure(ENV)
# The install creates the connection's poll schedules: they invoke the poll function through the scheduler's role.
_POLL_TARGET = schedules.ScheduleTarget(ENV.poll_function_arn, ENV.poll_schedule_role_arn, ENV.poll_dead_letter_arn)

trace_outbound_http()  # Rackbeat's and Shopify's answers, timed in X-Ray

app = APIGatewayRestResolver()


def _deps() -> InstallDeps:
    return InstallDeps(
        table=services.table(),
        secrets=services.secrets(),
        clients=services.clients(ENV),
        now=pacing.clock.time,
        schedules=PollSchedules(
            services.table(), schedules.ScheduleGroup.named(ENV.poll_schedule_group, _POLL_TARGET), poll_streams
        ),
    )


def _public_base_url() -> str:
    """Where Shopify sends the browser back to and delivers webhooks: `PUBLIC_BASE_URL` (the API's public URL,
    which should be in the app's allowed redirection URLs); in the local runtime only, when it is empty, the URL this
    request came in on (the import refuses anything else). Without X-Forwarded-Proto the request reached us
    directly, over plain HTTP. Only the execute-api domain carries the stage in its paths."""
    configured = (ENV.public_base_url or "").rstrip("/")
    if configured:
        return configured
    event = app.current_event
    host = event.headers.get("Host") or event.request_context.domain_name or ""
    scheme = event.headers.get("X-Forwarded-Proto") or "http"
    stage = f"/{event.request_context.stage}" if host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{stage}"


def _params() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _respond(answer: InstallAnswer, step: str) -> Response[str]:
    metrics.add_metric(name=f"shopify_{step}_{answer.status}", unit=MetricUnit.Count, value=1)
    headers = {"Cache-Control": "no-store"}  # answers carry one-time states and must not be replayed from a cache
    if answer.location is not None:
        headers["Location"] = answer.location
    if answer.status >= 400:
        logger.warning(f"shopify {step} refused", extra={"status": answer.status, "refusal": answer.message})
        return Response(answer.status, content_types.TEXT_PLAIN, answer.message, headers)
    logger.info(f"shopify {step}", extra={"status": answer.status, "shop": _params().get("shop")})
    page = f"<!doctype html><title>Crossdock</title><p>{html.escape(answer.message)}</p>"
    return Response(answer.status, content_types.TEXT_HTML, page, headers)


@app.get("/shopify/install")
def install() -> Response[str]:
    return _respond(begin_install(_params(), _public_base_url(), _deps()), "install")


@app.get("/shopify/callback")
def callback() -> Response[str]:
    return _respond(complete_install(_params(), _public_base_url(), _deps()), "callback")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
