"""The admin API's function (AdminApiFunction) on the embedded stack, driven with API Gateway proxy events whose
claims are made by hand, as the Cognito authorizer would hand them over (tests/e2e/test_admin_api_signed_in.py
goes through the authorizer with real tokens).

A connection made the way production makes it (`stack.create_connection`: the operator's create, the shop's
install) belongs to tenant `acme`; merchants of `acme` and `globex`, and an operator, call the routes.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from admin_events import Answer, claims, event

from crossdock.admin.app import openapi_document
from crossdock.operations import settings as settings_ops
from crossdock.store import connections, events
from crossdock_local import operator_cli
from crossdock_local.aws.log_capture import capture_function_logs
from crossdock_local.operator_onboarding import RACKBEAT_API_KEY_ENV, SHOPIFY_CLIENT_SECRET_ENV
from crossdock_local.scenarios.demo import DEMO_SKUS, demo_settings
from crossdock_local.stack import LocalConnection, LocalStack

ACME, GLOBEX = "acme", "globex"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seed=41) as running:
        yield running


@pytest.fixture(scope="module")
def shop(stack: LocalStack) -> LocalConnection:
    connection = stack.create_connection(demo_settings(), shop_domain="admin-acme.myshopify.com")
    stack.seed_items(connection.rackbeat_account_id, DEMO_SKUS)
    assert connections.set_tenant(stack.table, connection.connection_id, ACME)
    return connection


def call(stack: LocalStack, method: str, path: str, who: dict[str, str] | None, **request: Any) -> Answer:
    return Answer.of(stack.aws.invoke("AdminApiFunction", event(method, path, who, **request)))


def test_me_names_the_caller_from_the_claims(stack: LocalStack) -> None:
    # GIVEN a merchant user of acme and an operator (groups as a REST API's authorizer joins them)
    merchant = claims(tenant=ACME, email="anna@acme.example")
    operator = claims(operator=True)
    operator["cognito:groups"] = "support,operators"
    # WHEN each asks who they are
    # THEN the claims are read: tenant, e-mail, and the operators group among others
    assert call(stack, "GET", "/admin/me", merchant).body == {
        "user": merchant["sub"],
        "email": "anna@acme.example",
        "operator": False,
        "tenant": ACME,
    }
    assert call(stack, "GET", "/admin/me", operator).body["operator"] is True


def test_a_user_of_no_tenant_who_is_no_operator_may_do_nothing(stack: LocalStack, shop: LocalConnection) -> None:
    nobody = claims()
    for path in ("/admin/me", "/admin/connections", f"/admin/connections/{shop.connection_id}"):
        answer = call(stack, "GET", path, nobody)
        assert answer.status == 403, path
        assert answer.body["message"] == "this user is neither an operator nor a user of a tenant"


def test_a_merchant_lists_only_its_tenants_connections_and_an_operator_all(
    stack: LocalStack, shop: LocalConnection
) -> None:
    # GIVEN a second connection that belongs to no tenant
    other = stack.create_connection(demo_settings(), shop_domain="admin-untenanted.myshopify.com")
    # WHEN acme's merchant, globex's merchant and an operator list the connections
    acme = call(stack, "GET", "/admin/connections", claims(tenant=ACME)).body["connections"]
    globex = call(stack, "GET", "/admin/connections", claims(tenant=GLOBEX)).body["connections"]
    every = call(stack, "GET", "/admin/connections", claims(operator=True)).body["connections"]
    # THEN each sees what is theirs, with its health
    assert [row["connection_id"] for row in acme] == [shop.connection_id]
    assert acme[0]["account"] == "admin-acme.myshopify.com"
    assert acme[0]["state"] == "active" and acme[0]["tenant"] == ACME and acme[0]["needs_attention"] == 0
    assert globex == []
    assert {shop.connection_id, other.connection_id} <= {row["connection_id"] for row in every}
    # AND the filters filter
    paused = call(stack, "GET", "/admin/connections", claims(operator=True), query={"state": "paused"}).body
    assert shop.connection_id not in {row["connection_id"] for row in paused["connections"]}
    wrong = call(stack, "GET", "/admin/connections", claims(operator=True), query={"state": "asleep"})
    assert wrong.status == 422 and wrong.body["errors"][0]["field"] == "state"


def test_status_shows_a_merchant_its_connections_only(stack: LocalStack, shop: LocalConnection) -> None:
    mine = call(stack, "GET", "/admin/status", claims(tenant=ACME)).body
    assert [row["connection_id"] for row in mine["connections"]] == [shop.connection_id]
    assert mine["dead_letters"] == []
    assert call(stack, "GET", "/admin/status", claims(tenant=GLOBEX)).body["connections"] == []
    assert len(call(stack, "GET", "/admin/status", claims(operator=True)).body["dead_letters"]) == 5


def test_settings_are_shown_with_their_schema_and_history(stack: LocalStack, shop: LocalConnection) -> None:
    shown = call(stack, "GET", f"/admin/connections/{shop.connection_id}/settings", claims(tenant=ACME)).body
    assert shown["kind"] == "rackbeat_shopify"
    assert shown["settings"]["fulfillment"]["rackbeat_location"] == "L1"
    assert "properties" in shown["schema"]
    # The operator's create stored version 1 and no one has saved since: no one is named as its saver.
    assert (shown["version"], shown["saved_by"]) == (1, None)


def test_invalid_settings_come_back_by_field_as_the_cli_reports_them(stack: LocalStack, shop: LocalConnection) -> None:
    # GIVEN settings with several problems, and what the CLI's check says of them
    path = f"/admin/connections/{shop.connection_id}/settings"
    merchant = claims(tenant=ACME)
    current = call(stack, "GET", path, merchant).body
    broken = copy.deepcopy(current["settings"])
    broken["shipping_product_number"] = " "
    broken["colour"] = "blue"
    with pytest.raises(settings_ops.SettingsRefused) as cli:
        settings_ops.validate_settings(stack.operator, shop.connection_id, broken)
    # WHEN the merchant saves them
    answer = call(stack, "PUT", path, merchant, body={"version": current["version"], "settings": broken})
    # THEN 422, every problem by field under `settings.`, worded as the CLI words it, and nothing is saved
    assert answer.status == 422
    assert answer.body["errors"] == [
        {"field": f"settings.{problem.field}", "message": problem.message} for problem in cli.value.problems
    ]
    assert call(stack, "GET", path, merchant).body["version"] == current["version"]


def test_a_save_names_who_saved_it_and_an_old_version_is_a_conflict(stack: LocalStack, shop: LocalConnection) -> None:
    path = f"/admin/connections/{shop.connection_id}/settings"
    merchant = claims(tenant=ACME, email="anna@acme.example")
    current = call(stack, "GET", path, merchant).body
    wanted = copy.deepcopy(current["settings"])
    wanted["employees"]["pos"] = 1
    # WHEN the merchant saves a change based on the current version
    saved = call(stack, "PUT", path, merchant, body={"version": current["version"], "settings": wanted})
    # THEN a new version, saved by the merchant, and the change in the connection's log with who made it
    assert saved.status == 200, saved.body
    assert saved.body["version"] == current["version"] + 1
    assert saved.body["changes"] == ["employees.pos: 2 → 1"]
    again = call(stack, "GET", path, merchant).body
    assert again["saved_by"] == "anna@acme.example"
    logged = [e for e in events.list_events(stack.table, shop.connection_id) if e["source"] == "admin"]
    assert logged[-1]["topic"] == "settings/saved" and logged[-1]["status"] == "done"
    assert logged[-1]["reason"] == (
        f"anna@acme.example: saved settings version {saved.body['version']}: employees.pos: 2 → 1"
    )
    # AND a save based on the version before is refused, writing nothing
    stale = call(stack, "PUT", path, merchant, body={"version": current["version"], "settings": wanted})
    assert stale.status == 409
    assert call(stack, "GET", path, merchant).body["version"] == saved.body["version"]
    # AND a body that is not a save is a 422 naming the field
    bad = call(stack, "PUT", path, merchant, body={"version": "first", "settings": wanted})
    assert bad.status == 422 and [error["field"] for error in bad.body["errors"]] == ["version"]


def test_pause_and_resume_are_recorded_with_who(stack: LocalStack, shop: LocalConnection) -> None:
    merchant = claims(tenant=ACME, email="anna@acme.example")
    base = f"/admin/connections/{shop.connection_id}"
    paused = call(stack, "POST", f"{base}/pause", merchant)
    assert paused.status == 200 and paused.body["state"] == "paused"
    twice = call(stack, "POST", f"{base}/pause", merchant)
    assert twice.status == 409 and "only an active connection can be paused" in twice.body["message"]
    resumed = call(stack, "POST", f"{base}/resume", merchant)
    assert resumed.status == 200 and resumed.body["state"] == "active"
    topics = [e["topic"] for e in events.list_events(stack.table, shop.connection_id) if e["source"] == "admin"]
    assert topics[-2:] == ["connection/paused", "connection/resumed"]


def test_events_are_listed_newest_first_in_pages(stack: LocalStack, shop: LocalConnection) -> None:
    merchant = claims(tenant=ACME)
    path = f"/admin/connections/{shop.connection_id}/events"
    first = call(stack, "GET", path, merchant, query={"limit": "1"}).body
    assert len(first["events"]) == 1 and first["cursor"]
    second = call(stack, "GET", path, merchant, query={"limit": "1", "cursor": first["cursor"]}).body
    assert second["events"][0]["received_at"] <= first["events"][0]["received_at"]
    assert second["events"][0]["event_id"] != first["events"][0]["event_id"]
    saved = call(stack, "GET", path, merchant, query={"topic": "settings/saved"}).body["events"]
    assert saved and {row["topic"] for row in saved} == {"settings/saved"}
    wrong = call(stack, "GET", path, merchant, query={"since": "yesterday"})
    assert wrong.status == 422 and wrong.body["errors"][0]["field"] == "since"


def test_dead_letters_are_for_operators_only(stack: LocalStack) -> None:
    refused = call(stack, "GET", "/admin/dead-letters", claims(tenant=ACME))
    assert refused.status == 403 and refused.body == {"message": "only operators may do this"}
    assert (
        call(stack, "POST", "/admin/dead-letters/redrive", claims(tenant=ACME), body={"queue": "inbound"}).status == 403
    )
    listed = call(stack, "GET", "/admin/dead-letters", claims(operator=True), query={"queue": "inbound"}).body
    assert [report["queue"] for report in listed] == ["inbound"]
    unknown = call(stack, "GET", "/admin/dead-letters", claims(operator=True), query={"queue": "nowhere"})
    assert unknown.status == 404 and "no dead-letter queue 'nowhere'" in unknown.body["message"]


def test_an_unknown_route_or_method_is_a_404_and_a_body_not_sent_as_json_a_415(stack: LocalStack) -> None:
    operator = claims(operator=True)
    for method, path in (("GET", "/admin/nowhere"), ("TRACE", "/admin/connections"), ("DELETE", "/admin/me")):
        answer = call(stack, method, path, operator)
        assert (answer.status, answer.body) == (404, {"message": "no such route"}), (method, path)
    request = event("PUT", f"/admin/connections/{UNKNOWN}/settings", operator, body={"version": 1, "settings": {}})
    request["headers"]["Content-Type"] = "text/plain"
    answer = Answer.of(stack.aws.invoke("AdminApiFunction", request))
    assert (answer.status, answer.body) == (415, {"message": "send the body as application/json"})


# ---- tenancy, route by route -------------------------------------------------------------------------------------

# A body each route takes (validation answers before the route does; these pass it), and a value for other path
# parameters. A route added to the document without one here fails `test_every_connection_route_is_covered`.
BODIES: dict[tuple[str, str], Any] = {
    ("put", "/admin/connections/{connection_id}/settings"): {"version": 1, "settings": {}},
    ("post", "/admin/connections/{connection_id}/sync"): {"external_id": "1001"},
    ("put", "/admin/connections/{connection_id}/tenant"): {"tenant": GLOBEX},
}
PATH_VALUES = {"event_id": "evt-1", "step": "products"}
# Operator-only routes answer 403 to every merchant, whatever the id: nothing is learnt of the connection either.
OPERATOR_ONLY = {("put", "/admin/connections/{connection_id}/tenant")}


def connection_routes() -> list[tuple[str, str, dict[str, Any]]]:
    document = json.loads(openapi_document())
    found = []
    for path, methods in document["paths"].items():
        if "{connection_id}" not in path:
            continue
        for method, operation in methods.items():
            body_required = bool(operation.get("requestBody", {}).get("required"))
            found.append((method, path, {"body_required": body_required}))
    return sorted(found)


def test_every_connection_route_is_covered() -> None:
    routes = connection_routes()
    assert len(routes) >= 11
    for method, path, shape in routes:
        if shape["body_required"]:
            assert (method, path) in BODIES, f"{method} {path}: give the tenancy test a body for it"


@pytest.mark.parametrize(("method", "path", "shape"), connection_routes())
def test_another_tenants_connection_is_not_found_exactly_as_an_unknown_one(
    stack: LocalStack, shop: LocalConnection, method: str, path: str, shape: dict[str, Any]
) -> None:
    # GIVEN a merchant of globex and acme's connection
    globex = claims(tenant=GLOBEX)
    body = BODIES.get((method, path))

    def ask(connection_id: str) -> Answer:
        concrete = path.replace("{connection_id}", connection_id)
        for name, value in PATH_VALUES.items():
            concrete = concrete.replace(f"{{{name}}}", value)
        return call(stack, method.upper(), concrete, globex, body=body)

    # WHEN the merchant asks for acme's connection, and for one that does not exist
    with capture_function_logs(stack.aws) as logs:
        theirs = ask(shop.connection_id)
    unknown = ask(UNKNOWN)
    # THEN both answer alike: 404 with the same body, the id aside (403 alike on an operator's route)
    expected = 403 if (method, path) in OPERATOR_ONLY else 404
    assert (theirs.status, unknown.status) == (expected, expected), (theirs, unknown)
    assert json.dumps(theirs.body).replace(shop.connection_id, "<id>") == json.dumps(unknown.body).replace(
        UNKNOWN, "<id>"
    )
    # AND the refusal is logged with the user, its tenant and the connection, for a 404
    if expected == 404:
        refused = [json.loads(line.text) for line in logs.lines if '"tenant_refused"' in line.text]
        assert refused and refused[0]["tenant"] == GLOBEX and refused[0]["connection_id"] == shop.connection_id
        assert refused[0]["user"] == globex["sub"]
    # AND nothing changed
    assert connections.load_connection(stack.table, shop.connection_id).state.value == "active"  # type: ignore[union-attr]
    assert connections.tenant_of(stack.table, shop.connection_id) == ACME


# ---- creating a connection ---------------------------------------------------------------------------------------


def new_shopify_body(stack: LocalStack, shop_domain: str, **changes: Any) -> dict[str, Any]:
    client_id, client_secret = stack.new_shop(shop_domain, None, expiring_tokens=False)
    _, rackbeat_api_key = stack.new_rackbeat_account()
    body = {
        "kind": "rackbeat_shopify",
        "shop_domain": shop_domain,
        "shopify_client_id": client_id,
        "secrets": {"rackbeat_api_key": rackbeat_api_key, "shopify_client_secret": client_secret},
        "settings": demo_settings(),
    }
    return {**body, **changes}


def test_a_merchant_creates_a_connection_of_its_own_tenant(stack: LocalStack) -> None:
    # GIVEN a shop with the app registered and a Rackbeat account
    body = new_shopify_body(stack, "admin-created.myshopify.com")
    merchant = claims(tenant=ACME, email="anna@acme.example")
    # WHEN acme's merchant creates the connection
    with capture_function_logs(stack.aws) as logs:
        created = call(stack, "POST", "/admin/connections", merchant, body=body)
    # THEN 201: the CLI's create (installing, with its install link), stored for acme, recorded with who
    assert created.status == 201, created.body
    connection_id = created.body["connection_id"]
    assert created.body["state"] == "installing" and created.body["install_link"]
    assert created.body["secret_names"] == ["rackbeat_api_key", "rackbeat_webhook_tokens", "shopify_app_secret"]
    assert connections.tenant_of(stack.table, connection_id) == ACME
    (logged,) = [e for e in events.list_events(stack.table, connection_id) if e["source"] == "admin"]
    assert logged["reason"] == "anna@acme.example: created the rackbeat_shopify connection"
    # AND no secret was written to the logs or echoed
    logs.assert_no_secrets(body["secrets"])
    assert body["secrets"]["rackbeat_api_key"] not in json.dumps(created.body)
    # AND globex does not see it
    assert call(stack, "GET", f"/admin/connections/{connection_id}", claims(tenant=GLOBEX)).status == 404


def test_a_refused_create_names_every_problem_and_stores_nothing(stack: LocalStack) -> None:
    body = new_shopify_body(stack, "admin-refused.myshopify.com")
    body["secrets"]["rackbeat_api_key"] = "rb_wrong"
    body["settings"]["shipping_product_number"] = " "
    before = {c.id for c in connections.list_connections(stack.table)}
    answer = call(stack, "POST", "/admin/connections", claims(tenant=ACME), body=body)
    assert answer.status == 422, answer.body
    assert answer.body["message"] == "the connection was not created, nothing was saved"
    assert answer.body["errors"], answer.body
    assert "rb_wrong" not in json.dumps(answer.body)
    assert {c.id for c in connections.list_connections(stack.table)} == before


def test_a_merchant_cannot_create_for_another_tenant_and_a_bad_body_names_its_field(stack: LocalStack) -> None:
    body = new_shopify_body(stack, "admin-other.myshopify.com", tenant=GLOBEX)
    answer = call(stack, "POST", "/admin/connections", claims(tenant=ACME), body=body)
    assert answer.status == 422 and answer.body["errors"] == [{"field": "tenant", "message": "not your tenant"}]
    missing = {k: v for k, v in body.items() if k != "shop_domain"}
    answer = call(stack, "POST", "/admin/connections", claims(tenant=ACME), body=missing)
    assert answer.status == 422
    assert "rackbeat_shopify.shop_domain" in {error["field"] for error in answer.body["errors"]}
    assert body["secrets"]["rackbeat_api_key"] not in json.dumps(answer.body)


def test_testing_a_new_connection_checks_everything_a_create_does_and_stores_nothing(stack: LocalStack) -> None:
    # GIVEN a shop with the app registered and a Rackbeat account
    body = new_shopify_body(stack, "admin-tested.myshopify.com")
    merchant = claims(tenant=ACME)
    items = int(stack.table.scan(Select="COUNT")["Count"])
    # WHEN the merchant tests it, then tests it with a wrong key
    passed = call(stack, "POST", "/admin/connections/test", merchant, body=body)
    wrong = copy.deepcopy(body)
    wrong["secrets"]["rackbeat_api_key"] = "rb_wrong"
    refused = call(stack, "POST", "/admin/connections/test", merchant, body=wrong)
    # THEN the first is accepted, the second refused as a create would refuse it, and nothing was stored
    assert passed.status == 200, passed.body
    assert passed.body == {"kind": "rackbeat_shopify", "accepted": True, "missing_references": []}
    assert refused.status == 422 and refused.body["message"] == "the connection was not created, nothing was saved"
    assert refused.body["errors"]
    assert int(stack.table.scan(Select="COUNT")["Count"]) == items
    # AND the tested connection can then be created
    assert call(stack, "POST", "/admin/connections", merchant, body=body).status == 201


# ---- the CLI's part: --tenant and `connections tenant` -----------------------------------------------------------


def cli(stack: LocalStack, *argv: str) -> tuple[int, str]:
    report = io.StringIO()
    return operator_cli.run(list(argv), stack.operator, report), report.getvalue()


def test_the_cli_creates_for_a_tenant_and_moves_a_connection_between_tenants(stack: LocalStack, tmp_path: Path) -> None:
    # GIVEN a shop with the app registered and a Rackbeat account, and the secrets where the CLI reads them
    body = new_shopify_body(stack, "admin-cli.myshopify.com")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(body["settings"]))
    env = {
        RACKBEAT_API_KEY_ENV: body["secrets"]["rackbeat_api_key"],
        SHOPIFY_CLIENT_SECRET_ENV: body["secrets"]["shopify_client_secret"],
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        # WHEN the operator creates the connection for acme
        code, report = cli(
            stack,
            "connections", "create", "--shop", body["shop_domain"], "--shopify-client-id", body["shopify_client_id"],
            "--tenant", ACME, "--file", str(settings), "--json",
        )  # fmt: skip
    # THEN it is acme's: acme's merchant sees it, globex's does not
    assert code == 0, report
    connection_id = json.loads(report)["connection_id"]
    assert call(stack, "GET", f"/admin/connections/{connection_id}", claims(tenant=ACME)).status == 200
    assert call(stack, "GET", f"/admin/connections/{connection_id}", claims(tenant=GLOBEX)).status == 404
    # WHEN the operator gives it to globex, then to no one
    assert cli(stack, "connections", "tenant", connection_id, GLOBEX) == (
        0,
        f"connection {connection_id}: tenant {ACME} → {GLOBEX}\n",
    )
    assert call(stack, "GET", f"/admin/connections/{connection_id}", claims(tenant=GLOBEX)).status == 200
    assert call(stack, "GET", f"/admin/connections/{connection_id}", claims(tenant=ACME)).status == 404
    assert cli(stack, "connections", "tenant", connection_id)[0] == 0
    assert connections.tenant_of(stack.table, connection_id) is None
    # AND an unknown connection is refused by name
    code, _ = cli(stack, "connections", "tenant", UNKNOWN, ACME)
    assert code == 1
