"""The Webshipper simulator's shipping side: shipments with carrier and tracking that dispatch an order's lines
(partly, then fully), bookings that fail and leave the order in `error`, drop point lookups, and the webhooks
Webshipper sends — signed as the sheet says, for our own writes too, stopped by `enabled=false`, and duplicated,
reordered, lost or retried under the outbox's faults. Uses the `Account` of test_webshipper_sim.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from test_webshipper_sim import ACCOUNT as ACCOUNT_NAME
from test_webshipper_sim import API, JSONAPI, Account, error_of, open_account

HOOK_URL = "https://crossdock.test/webhooks/webshipper/conn-1"
SECRET = "per-connection-secret-7f3a"


@pytest.fixture
def account() -> Account:
    return open_account()


def register(account: Account, token: str, topic: str, *, secret: str = SECRET, enabled: bool = True) -> str:
    answer = account.call(
        "POST",
        "webhooks",
        token,
        {"data": {"type": "webhooks", "attributes": {"url": HOOK_URL, "topic": topic, "enabled": enabled,
                                                     "secret": secret}}},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert "secret" not in answer.json()["data"]["attributes"]  # never shown back
    hook_id: str = answer.json()["data"]["id"]
    return hook_id


def delivered(account: Account) -> list[tuple[str, dict[str, Any]]]:
    """(topic, body) of every delivery the receiver got, in order."""
    return [(headers["X-Webshipper-Topic"], json.loads(body)) for _, headers, body in account.sink.calls]


def ship(account: Account, token: str, order_id: str, **attributes: Any) -> Any:
    return account.call(
        "POST",
        "shipments",
        token,
        {"data": {"type": "shipments", "attributes": attributes,
                  "relationships": {"order": {"data": {"type": "orders", "id": int(order_id)}}}}},
    )  # fmt: skip


# ---- shipments ----------------------------------------------------------------------------------------------------


def test_a_shipment_of_some_lines_partly_dispatches_the_order_and_the_rest_dispatches_it(account: Account) -> None:
    token = account.login()
    order = account.create_order(token)
    first_line, second_line = (line["id"] for line in order["attributes"]["order_lines"])
    # WHEN a shipment covers the first line (only `relationships.order` and the lines are sent)
    answer = ship(account, token, order["id"], order_line_ids=[first_line])
    # THEN 201; the address and rate are copied from the order, GLS booked a tracking number and URL
    assert answer.status_code == 201, answer.text
    shipment = answer.json()["data"]
    attributes = shipment["attributes"]
    assert attributes["delivery_address"]["att_contact"] == "A. Jensen"
    assert attributes["carrier_id"] == account.gls and attributes["reference"] == "1021"
    (tracking,) = attributes["tracking_links"]
    assert tracking["url"] == f"https://gls-group.eu/track/{tracking['number']}"
    assert attributes["packages"] == [{"weight": 700.0, "weight_unit": "g", "dimensions": None}]
    carrier = account.call("GET", shipment["relationships"]["carrier"]["links"]["related"], token).json()
    assert carrier["data"]["attributes"]["alias"] == "gls"
    # AND the line is dispatched, the order partly so
    now = account.call("GET", f"orders/{order['id']}", token).json()["data"]["attributes"]
    assert now["status"] == "partly_dispatched"
    assert [line["status"] for line in now["order_lines"]] == ["dispatched", "pending"]
    # WHEN the rest ships (no lines named: every pending one) THEN the order is dispatched
    assert ship(account, token, order["id"]).status_code == 201
    assert account.call("GET", f"orders/{order['id']}", token).json()["data"]["attributes"]["status"] == "dispatched"
    listed = account.call("GET", f"orders/{order['id']}/shipments", token).json()["data"]
    assert [s["attributes"]["order_line_ids"] for s in listed] == [[first_line], [second_line]]
    # AND a line already shipped cannot ship again
    again = ship(account, token, order["id"], order_line_ids=[first_line])
    assert again.status_code == 422
    assert error_of(again)["source"]["pointer"] == "/data/attributes/order_line_ids/0"


def test_the_control_api_ships_with_the_warehouses_tracking_and_shipments_filter_by_it(account: Account) -> None:
    token = account.login()
    order = account.create_order(token)
    # WHEN the warehouse books the label elsewhere and Webshipper records it
    shipment = account.sim.ship(
        ACCOUNT_NAME, int(order["id"]), tracking_number="00340434161094042557", tracking_url="https://t.gls/557"
    )["data"]
    assert shipment["attributes"]["tracking_links"][0] == {
        "number": "00340434161094042557",
        "url": "https://t.gls/557",
        "latest_transit_event": None,
    }
    # THEN the client finds it by tracking number and by order, and nothing by another number
    for params in ({"filter[tracking_number]": "00340434161094042557"}, {"filter[order]": order["id"]}):
        found = account.call("GET", "shipments", token, params=params).json()["data"]
        assert [s["id"] for s in found] == [shipment["id"]]
    assert account.call("GET", "shipments", token, params={"filter[tracking_number]": "1"}).json()["data"] == []
    assert account.call("GET", f"shipments/{shipment['id']}", token).json()["data"]["id"] == shipment["id"]


@pytest.mark.parametrize(
    ("address", "rate", "error_class"),
    [
        ({"address_1": "Vej 1", "zip": "8000", "city": "Aarhus", "country_code": "DK"}, "home", "AddressError"),
        (None, "unknown", "MissingShippingRate"),
    ],
)
def test_a_shipment_that_cannot_be_booked_is_422_and_leaves_the_order_in_error(
    account: Account, address: dict[str, str] | None, rate: str, error_class: str
) -> None:
    token = account.login()
    document = account.order_document(rate=account.home if rate == "home" else 99999)
    if address is not None:
        document["data"]["attributes"]["delivery_address"] = address  # neither contact nor company
    order = account.call("POST", "orders", token, document).json()["data"]
    # WHEN a shipment is asked for THEN 422, no shipment exists, and the order records the failure
    answer = ship(account, token, order["id"])
    assert answer.status_code == 422
    assert error_of(answer)["source"]["pointer"] == "/data/relationships/order"
    assert account.sim.shipments(ACCOUNT_NAME) == []
    attributes = account.call("GET", f"orders/{order['id']}", token).json()["data"]["attributes"]
    assert attributes["status"] == "error" and attributes["error_class"] == error_class
    assert attributes["error_message"].startswith("Shipment not booked")
    assert {line["status"] for line in attributes["order_lines"]} == {"pending"}


def test_a_shipment_of_no_known_order_or_malformed_is_422_naming_the_field(account: Account) -> None:
    token = account.login()
    assert error_of(ship(account, token, "99999"))["source"]["pointer"] == "/data/relationships/order"
    order = account.create_order(token)
    bad = ship(account, token, order["id"], tracking_links=[{"url": "https://t/1"}])
    assert error_of(bad)["source"]["pointer"] == "/data/attributes/tracking_links/0/number"
    assert account.sim.shipments(ACCOUNT_NAME) == []
    assert account.call("GET", f"orders/{order['id']}", token).json()["data"]["attributes"]["status"] == "pending"


# ---- drop points --------------------------------------------------------------------------------------------------


def test_drop_points_are_located_for_a_rate_and_go_into_the_order(account: Account) -> None:
    token = account.login()
    located = account.call(
        "POST", "drop_point_locators", token,
        {"data": {"type": "drop_point_locators",
                  "attributes": {"shipping_rate_id": account.parcel_shop,
                                 "delivery_address": {"zip": "8000", "country_code": "DK", "city": "Aarhus"}}}},
    )  # fmt: skip
    assert located.status_code == 201, located.text
    (point,) = located.json()["data"]["attributes"]["drop_points"]
    assert point["drop_point_id"] == "PN-8000-1" and point["opening_hours"][0]["day"] == 0
    # WHEN the order carries the drop point THEN the drop-point rate is fine and it ships
    document = account.order_document(rate=account.parcel_shop)
    document["data"]["attributes"]["drop_point"] = point
    order = account.call("POST", "orders", token, document).json()["data"]
    assert order["attributes"]["status"] == "pending"
    assert ship(account, token, order["id"]).json()["data"]["attributes"]["drop_point"] == point
    # AND a lookup without the address's zip is 422 naming it
    missing = account.call(
        "POST", "drop_point_locators", token,
        {"data": {"type": "drop_point_locators",
                  "attributes": {"carrier_id": account.gls, "service_code": "PS",
                                 "delivery_address": {"country_code": "DK"}}}},
    )  # fmt: skip
    assert error_of(missing)["source"]["pointer"] == "/data/attributes/delivery_address/zip"


# ---- webhooks -----------------------------------------------------------------------------------------------------


def test_webhooks_are_signed_with_the_webhooks_secret_over_the_raw_body(account: Account) -> None:
    token = account.login()
    register(account, token, "order/created")
    order = account.create_order(token)
    # WHEN the outbox delivers
    report = account.sim.deliver()
    assert report.delivered == 1
    ((url, headers, body),) = account.sink.calls
    # THEN the headers are those seen live (W3) and the signature is base64(HMAC-SHA256(secret, raw body))
    assert url == HOOK_URL
    assert headers["X-Webshipper-Topic"] == "order/created"
    assert headers["User-Agent"] == "Webshipper"
    assert headers["Content-Type"] == f"{JSONAPI};charset=utf-8"
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(headers["X-Webshipper-Hmac-Sha256"], expected)
    # AND the body is the order's full document with links-only relationships, as the API shows it
    sent = json.loads(body)
    assert sent["data"]["id"] == order["id"] and sent["data"]["type"] == "orders"
    assert set(sent["data"]["relationships"]["order_channel"]) == {"links"}
    assert sent["data"]["attributes"]["updated_at"] == order["attributes"]["updated_at"]


def test_every_change_is_announced_our_own_writes_included_and_disabled_webhooks_are_silent(
    account: Account,
) -> None:
    token = account.login()
    for topic in ("order/created", "order/updated", "shipment/created", "order/deleted"):
        register(account, token, topic)
    register(account, token, "order/created", enabled=False)  # a second receiver, switched off
    order = account.create_order(token)
    account.call("PATCH", f"orders/{order['id']}", token,
                 {"data": {"type": "orders", "attributes": {"internal_comment": "gave plukket"}}})  # fmt: skip
    shipment = ship(account, token, order["id"]).json()["data"]
    other = account.create_order(token, "RB-2")
    account.call("DELETE", f"orders/{other['id']}", token)
    account.sim.deliver()
    topics = [(topic, body["data"]["id"]) for topic, body in delivered(account)]
    assert topics == [
        ("order/created", order["id"]),
        ("order/updated", order["id"]),
        ("shipment/created", shipment["id"]),
        ("order/updated", order["id"]),
        ("order/created", other["id"]),
        ("order/deleted", other["id"]),
    ]
    # AND the dispatched order's update carries the shipment's effect
    assert delivered(account)[3][1]["data"]["attributes"]["status"] == "dispatched"


def test_a_refused_delivery_is_retried_then_recorded_as_a_webhook_failure() -> None:
    account = open_account(sink_status=500)
    token = account.login()
    hook = register(account, token, "order/created")
    order = account.create_order(token)
    # WHEN the receiver refuses every attempt THEN it is tried 6 times in all (one a delivery round), then given up
    reports = [account.sim.deliver() for _ in range(6)]
    assert [r.failed for r in reports] == [1] * 6 and reports[-1].given_up == 1
    assert account.sim.pending() == [] and len(account.sink.calls) == 6
    # AND Webshipper shows the failure and the webhook's health
    failures = account.call("GET", "webhook_failures", token).json()["data"]
    assert [(f["attributes"]["record_id"], f["attributes"]["message"]) for f in failures] == [(order["id"], "HTTP 500")]
    shown = account.call("GET", f"webhooks/{hook}", token).json()["data"]["attributes"]
    assert shown["health"] == "failing" and shown["latest_error"] == "HTTP 500"


def test_a_rotated_secret_signs_the_retries_and_a_deleted_webhook_stops_new_deliveries(account: Account) -> None:
    token = account.login()
    hook = register(account, token, "order/created")
    account.sink.status = 503
    account.create_order(token)
    account.sim.deliver()
    # WHEN the secret is changed before the retry THEN the retry is signed with the new one
    account.call("PATCH", f"webhooks/{hook}", token, {"data": {"type": "webhooks", "attributes": {"secret": "new"}}})
    account.sink.status = 200
    account.sim.deliver()
    _, headers, body = account.sink.calls[-1]
    assert (
        headers["X-Webshipper-Hmac-Sha256"]
        == base64.b64encode(hmac.new(b"new", body, hashlib.sha256).digest()).decode()
    )
    # WHEN the webhook is deleted THEN later orders are not announced
    assert account.call("DELETE", f"webhooks/{hook}", token).status_code == 204
    account.create_order(token, "RB-2")
    assert account.sim.pending() == []


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"url": "ftp://x", "topic": "order/created"}, "/data/attributes/url"),
        ({"url": HOOK_URL, "topic": "order/shipped"}, "/data/attributes/topic"),
        ({"url": HOOK_URL}, "/data/attributes/topic"),
        ({"url": HOOK_URL, "topic": "order/created", "enabled": "yes"}, "/data/attributes/enabled"),
    ],
)
def test_a_malformed_webhook_is_422_naming_the_field(account: Account, attributes: Any, pointer: str) -> None:
    token = account.login()
    answer = account.call("POST", "webhooks", token, {"data": {"type": "webhooks", "attributes": attributes}})
    assert answer.status_code == 422 and error_of(answer)["source"]["pointer"] == pointer
    assert account.call("GET", "webhooks", token).json()["data"] == []


def test_the_outbox_faults_duplicate_reorder_and_lose_deliveries_seeded() -> None:
    def run(**faults: Any) -> list[tuple[str, str]]:
        account = open_account(seed=11)
        token = account.sim.add_api_token(ACCOUNT_NAME)
        register(account, token, "order/created")
        for name, value in faults.items():
            setattr(account.sim.delivery_faults, name, value)
        for n in range(10):
            account.create_order(token, f"RB-{n}")
        account.sim.deliver()
        return [(body["data"]["attributes"]["ext_ref"], body["data"]["id"]) for _, body in delivered(account)]

    in_order = run()
    assert [ref for ref, _ in in_order] == [f"RB-{n}" for n in range(10)]
    duplicated = run(duplicate_rate=0.5)
    assert len(duplicated) > 10 and set(duplicated) == set(in_order)  # same events, some twice
    reordered = run(reorder=True)
    assert sorted(reordered) == sorted(in_order) and reordered != in_order
    lost = run(lose_rate=0.5)
    assert 0 < len(lost) < 10 and set(lost) < set(in_order)
    assert run(duplicate_rate=0.5) == duplicated  # a seeded run replays the same faults


def test_the_webhook_fault_switches_of_the_control_api_reach_the_outbox(account: Account) -> None:
    control = account.http.put(f"{API.rsplit('/', 3)[0]}/_control/faults", json={"webhook_reorder": True})
    assert control.status_code == 200 and control.json()["webhook_reorder"] is True
    assert account.sim.delivery_faults.reorder is True


# ---- tracking events ----------------------------------------------------------------------------------------------


def test_a_carrier_scan_is_a_tracking_event_on_the_shipment_and_is_announced(account: Account) -> None:
    token = account.login()
    register(account, token, "trackingevent/created")
    register(account, token, "shipment/updated")
    order = account.create_order(token)
    shipment = ship(account, token, order["id"]).json()["data"]
    number = shipment["attributes"]["tracking_links"][0]["number"]
    # WHEN the carrier reports the parcel in transit, then delivered
    account.sim.track(ACCOUNT_NAME, int(shipment["id"]), "in_transit")
    account.clock.advance(3600)
    delivered_event = account.sim.track(ACCOUNT_NAME, int(shipment["id"]), "delivered", "Afleveret")["data"]
    # THEN both are listed, filterable by status and tracking number, linked to the shipment
    events = account.call("GET", "tracking_events", token, params={"filter[tracking_number]": number}).json()["data"]
    assert [e["attributes"]["status"] for e in events] == ["in_transit", "delivered"]
    only = account.call("GET", "tracking_events", token, params={"filter[status]": "delivered"}).json()["data"]
    assert [e["id"] for e in only] == [delivered_event["id"]]
    assert only[0]["relationships"]["shipment"]["links"]["related"] == f"{API}shipments/{shipment['id']}"
    # AND the shipment shows the latest event
    now = account.call("GET", f"shipments/{shipment['id']}", token).json()["data"]["attributes"]
    assert now["tracking_links"][0]["latest_transit_event"]["status"] == "delivered"
    # AND each scan was announced as a tracking event and a shipment update
    account.sim.deliver()
    assert [topic for topic, _ in delivered(account)] == ["trackingevent/created", "shipment/updated"] * 2
    # AND a status the carrier does not report, or a shipment that does not exist, is refused naming it
    with pytest.raises(ValueError, match="status"):
        account.sim.track(ACCOUNT_NAME, int(shipment["id"]), "lost_in_space")
    with pytest.raises(ValueError, match="shipment_id"):
        account.sim.track(ACCOUNT_NAME, 1, "delivered")
