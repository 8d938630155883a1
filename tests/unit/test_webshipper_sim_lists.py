"""The Webshipper simulator's lists: fixed pages of 30 with `links.next`, `filter[...]` in the plain and the
value/operator form (times read leniently), and channels and rates with the carrier included. Uses the `Account` of
test_webshipper_sim.py."""

from __future__ import annotations

import pytest
from test_webshipper_sim import ACCOUNT, Account, error_of, open_account


@pytest.fixture
def account() -> Account:
    return open_account()


# ---- paging and filters -------------------------------------------------------------------------------------------


def test_orders_come_in_fixed_pages_of_30_with_a_next_link_while_more_exist(account: Account) -> None:
    token = account.sim.add_api_token(ACCOUNT)
    account.sim.rules.burst = 1000  # 70 writes at once: the rate limit is tested on its own
    made = [account.create_order(token, f"RB-{n}")["id"] for n in range(65)]
    pages, url = [], "orders"
    while url:
        # `page[size]` is no parameter of Webshipper's: it is ignored
        body = account.call("GET", url, token, params={"page[size]": "100"} if url == "orders" else None).json()
        pages.append([o["id"] for o in body["data"]])
        url = body["links"].get("next")
    assert [len(p) for p in pages] == [30, 30, 5]
    assert [i for p in pages for i in p] == made
    # AND with the paging links switched off, a page past the end is empty (the client stops on a short page)
    account.sim.rules.paging_links = False
    beyond = account.call("GET", "orders", token, params={"page[number]": "4"}).json()
    assert beyond == {"data": []}
    assert account.call("GET", "orders", token, params={"page[number]": "0"}).status_code == 400


def test_filters_plain_and_with_operators(account: Account) -> None:
    token = account.sim.add_api_token(ACCOUNT)
    first = account.create_order(token, "RB-1")
    account.clock.advance(60)
    second = account.create_order(token, "RB-2", channel=account.webshop)
    account.clock.advance(60)
    third = account.create_order(token, "RB-3")

    def ids(**params: str) -> list[str]:
        answer = account.call("GET", "orders", token, params=params)
        assert answer.status_code == 200, answer.text
        return [o["id"] for o in answer.json()["data"]]

    # plain form = eq
    assert ids(**{"filter[order_channel_id]": str(account.webshop)}) == [second["id"]]
    assert ids(**{"filter[sku]": "TEE-M"}) == [first["id"], second["id"], third["id"]]
    # operator form (seen W4), on the update time the client polls by (the spec's and the live format both read)
    since = second["attributes"]["updated_at"]
    assert ids(**{"filter[updated_at][value]": since, "filter[updated_at][operator]": "gte"}) == [
        second["id"],
        third["id"],
    ]
    live_format = since[:19] + ".0Z"
    assert ids(**{"filter[updated_at][value]": live_format, "filter[updated_at][operator]": "gt"}) == [third["id"]]
    assert ids(**{"filter[id][value]": first["id"], "filter[id][operator]": "lte"}) == [first["id"]]
    # an offset reads as one, also when its `+` arrived as a space (sent unencoded)
    one_hour_ahead = f"{since[:11]}{int(since[11:13]) + 1:02d}{since[13:19]}+01:00"
    assert ids(**{"filter[updated_at][value]": one_hour_ahead, "filter[updated_at][operator]": "gte"}) == [
        second["id"],
        third["id"],
    ]
    assert (
        account.call("GET", f"orders?filter[updated_at]={since[:19]}+00:00", token).json()["data"][0]["id"]
        == (second["id"])
    )
    # an unknown field, operator or an uncomparable value is a 400 naming it
    for params in (
        {"filter[colour]": "red"},
        {"filter[id][value]": "1", "filter[id][operator]": "like"},
        {"filter[updated_at]": "yesterday"},
    ):
        answer = account.call("GET", "orders", token, params=params)
        assert answer.status_code == 400 and "filter[" in error_of(answer)["detail"]


def test_channels_and_rates_are_listed_with_the_carrier_included(account: Account) -> None:
    token = account.login()
    channels = account.call("GET", "order_channels", token).json()["data"]
    assert [c["attributes"]["channel_label"] for c in channels] == ["Rackbeat", "Webshop"]
    rates = account.call("GET", f"order_channels/{account.rackbeat}/shipping_rates", token).json()["data"]
    assert [r["attributes"]["name"] for r in rates] == ["GLS Privat", "PostNord Pakkeshop"]
    assert account.call("GET", f"order_channels/{account.webshop}/shipping_rates", token).json()["data"] == []
    listed = account.call("GET", "shipping_rates", token, params={"include": "carrier"}).json()
    assert sorted(c["attributes"]["alias"] for c in listed["included"]) == ["gls", "postnord"]
    one = account.call("GET", f"shipping_rates/{account.home}", token, params={"include": "carrier"}).json()
    assert one["data"]["attributes"]["require_drop_point"] is False
    assert [c["id"] for c in one["included"]] == [str(account.gls)]
    assert account.call("GET", "shipping_rates", token, params={"include": "zone"}).status_code == 400
