"""The admin API on the embedded stack as the console uses it: users made by an operator sign in (InitiateAuth
through the local endpoint), every call goes over HTTP through AdminApi's Cognito authorizer with the id token, and
the tenant comes from the token, never from the request."""

from __future__ import annotations

import itertools

import httpx
from embedded_merchants import signed_in

from crossdock.store import connections, events
from crossdock_local.scenarios.demo import demo_settings
from crossdock_local.stack import LocalInstall, LocalStack

_numbers = itertools.count(1)


def test_a_merchant_creates_installs_and_configures_its_connection_and_no_other_tenant_sees_it(
    stack: LocalStack,
) -> None:
    # GIVEN merchant users of two tenants and an operator, signed in
    anna, gustav = signed_in(stack, "anna", tenant="acme"), signed_in(stack, "gustav", tenant="globex")
    ops = signed_in(stack, "ops", operator=True)
    # AND a shop with the app registered and a Rackbeat account
    shop_domain = f"signed-in-{next(_numbers)}.myshopify.com"
    client_id, client_secret = stack.new_shop(shop_domain, None, expiring_tokens=False)
    account, rackbeat_api_key = stack.new_rackbeat_account()
    # WHEN anna creates the connection through the API (giving no tenant: hers comes from her token)
    created = anna.call(
        "POST",
        "/admin/connections",
        {
            "kind": "rackbeat_shopify",
            "shop_domain": shop_domain,
            "shopify_client_id": client_id,
            "secrets": {"rackbeat_api_key": rackbeat_api_key, "shopify_client_secret": client_secret},
            "settings": demo_settings(),
        },
    )
    assert created.status_code == 201, created.text
    connection_id = created.json()["connection_id"]
    # AND the shop owner installs the app from the install link
    stack.install(LocalInstall(connection_id, shop_domain, client_id, client_secret, account, rackbeat_api_key))
    # THEN it is acme's and active, listed for anna and the operator, not for gustav
    assert connections.tenant_of(stack.table, connection_id) == "acme"
    listed = anna.call("GET", "/admin/connections").json()["connections"]
    assert [(row["connection_id"], row["state"]) for row in listed] == [(connection_id, "active")]
    assert gustav.call("GET", "/admin/connections").json() == {"connections": []}
    assert connection_id in {
        row["connection_id"] for row in ops.call("GET", "/admin/connections").json()["connections"]
    }
    # WHEN anna saves a setting on the version she read
    shown = anna.call("GET", f"/admin/connections/{connection_id}/settings").json()
    wanted = {**shown["settings"], "employees": {**shown["settings"]["employees"], "pos": 1}}
    saved = anna.call(
        "PUT", f"/admin/connections/{connection_id}/settings", {"version": shown["version"], "settings": wanted}
    )
    # THEN a new version, saved by her, in the log with who made it
    assert saved.status_code == 200, saved.text
    assert anna.call("GET", f"/admin/connections/{connection_id}/settings").json()["saved_by"] == anna.email
    topics = anna.call("GET", f"/admin/connections/{connection_id}/events", topic="settings/saved").json()["events"]
    assert [row["reason"].split(":")[0] for row in topics] == [anna.email]
    # AND gustav gets the unknown connection's 404 for every look and change, and changes nothing
    for method, path, body in (
        ("GET", "", None),
        ("GET", "/settings", None),
        ("PUT", "/settings", {"version": saved.json()["version"], "settings": wanted}),
        ("POST", "/pause", None),
        ("GET", "/events", None),
    ):
        answer = gustav.call(method, f"/admin/connections/{connection_id}{path}", body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json() == {"message": f"no connection {connection_id}"}
    assert connections.load_connection(stack.table, connection_id).state.value == "active"  # type: ignore[union-attr]
    # AND the operator pauses and resumes it, recorded as the operator's
    assert ops.call("POST", f"/admin/connections/{connection_id}/pause").json()["state"] == "paused"
    assert ops.call("POST", f"/admin/connections/{connection_id}/resume").json()["state"] == "active"
    admin_events = [e for e in events.list_events(stack.table, connection_id) if e["source"] == "admin"]
    assert [e["reason"].split(":")[0] for e in admin_events[-2:]] == [ops.email, ops.email]


def test_without_a_token_the_api_answers_401_and_the_document_needs_none(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.admin_api_url}/admin/connections", timeout=30).status_code == 401
    document = httpx.get(f"{stack.admin_api_url}/admin/openapi.json", timeout=30)
    assert document.status_code == 200 and document.json()["info"]["title"] == "Crossdock admin API"
