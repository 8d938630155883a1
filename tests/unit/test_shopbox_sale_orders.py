"""A Shopbox basket → one Rackbeat order (integrations/rackbeat_shopbox: sales_order, order_workflow, cancellation),
run stage by stage against the Rackbeat simulator through Crossdock's own Rackbeat client, with the mapping table
and event log in moto and a Shopbox client that answers the basket's detail.

What it must hold: lines on the Rackbeat items the Shopbox UIDs (or the SKU) name, VAT and discounts so Rackbeat
totals what the till took, the branch's location, the POS customer, the basket's reference so a retry finds the
order; bad input refused naming the field with nothing written; a cancellation cancels or credits."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from shopbox_sales_fakes import (
    CLIENT_UID,
    OTHER_BRANCH,
    OTHER_REGISTER,
    Clients,
    PagedBaskets,
    connection,
    sale_line,
    wire_basket,
)

from crossdock.connectors.rackbeat.client import RackbeatClient
from crossdock.errors import PermanentError, RetryableError
from crossdock.integrations.rackbeat_shopbox.order_workflow import ORDER_WORKFLOW
from crossdock.integrations.rackbeat_shopbox.sales_order import basket_reference
from crossdock.store import events, mappings
from crossdock_local.sims.base import transport
from crossdock_local.sims.rackbeat.simulator import RackbeatSimulator

KEY = "key-shopbox-sales"
T0 = 1_796_205_600
MUG, TEE, TEE_M, CARD = 812, 820, 8201, 830


class Stages:
    """What the order steps function hands the stages (`ports.StagePorts`)."""

    def __init__(self, table: Any, clients: Clients) -> None:
        self.table = table
        self.clients = clients
        self.running: set[str] = set()

    def workflow_status(self, execution: str) -> str | None:
        return "RUNNING" if execution.rsplit(":", 1)[-1] in self.running else None


@pytest.fixture(autouse=True)
def metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    # Finished events are counted (Powertools metrics), which needs a namespace.
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Crossdock")


@pytest.fixture
def sim() -> RackbeatSimulator:
    sim = RackbeatSimulator()
    account = sim.add_account(KEY)
    sim.seed_location(account, "L1", "Strøget")
    sim.seed_location(account, "L9", "Main warehouse")
    sim.seed_field(account, 7, "Shopbox UID felt ID", type="text")
    sim.seed_field(account, 8, "Shopbox variasjonsfelt ID", type="text")
    sim.seed_product(account, "MUG-1", "Blue mug", "63.20", location_stock={"L1": 20})
    sim.seed_product(account, "TEE-M", "T-shirt M", "160", location_stock={"L1": 5})
    sim.seed_product(account, "TEE-L", "T-shirt L", "160", location_stock={"L1": 5})
    sim.seed_product(account, "CARD", "Gift card", "100", inventory_enabled=False)
    sim.seed_customer(account, 900, "Butikssalg Strøget")
    sim.set_field_value(account, "MUG-1", 7, str(MUG), emit=False)
    for number, variant in (("TEE-M", TEE_M), ("TEE-L", 8202)):
        sim.set_field_value(account, number, 7, str(TEE), emit=False)
        sim.set_field_value(account, number, 8, str(variant), emit=False)
    return sim


@pytest.fixture
def rackbeat(sim: RackbeatSimulator) -> RackbeatClient:
    return RackbeatClient("https://app.rackbeat.com/api/", KEY, transport=transport(sim, root="/api"))


@pytest.fixture
def shopbox() -> PagedBaskets:
    return PagedBaskets()


@pytest.fixture
def stages(table: Any, rackbeat: RackbeatClient, shopbox: PagedBaskets) -> Stages:
    return Stages(table, Clients(shopbox_client=shopbox, rackbeat_client=rackbeat))


def orders(sim: RackbeatSimulator) -> list[dict[str, Any]]:
    return list(sim.state(1).orders.values())


def context(stages: Stages, uid: int, kind: str = "order", **settings: Any) -> dict[str, Any]:
    conn = connection(**settings)
    # Dispatch has read the basket's detail from Shopbox into the event (sales_inbound._start_order).
    detail = stages.clients.shopbox_client.basket(str(uid))
    payload = "{}" if detail is None else json.dumps(detail.model_dump(mode="json"))
    sk = events.record_received(stages.table, conn.id, f"basket-{uid}", "shopbox", f"baskets/{kind}", payload, "-")
    return {
        "kind": kind,
        "connection_id": conn.id,
        "event_sk": sk,
        "order_id": str(uid),
        "target": conn.settings.sales.rackbeat_status.value,
        "settings": conn.settings.model_dump(mode="json"),
    }


def run_all(stages: Stages, ctx: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """Every stage the target needs, one after the other, as the workflow runs them."""
    conn = connection(**settings)
    stage = "transfer" if ctx["kind"] == "order" else "cancel"
    while stage != "done":
        ctx = ORDER_WORKFLOW.run(stage, ctx, conn, stages, "arn:aws:states:eu-west-1:1:execution:order:x")
        stage = ctx["next"]
    return ctx


def event_reason(stages: Stages, ctx: dict[str, Any]) -> tuple[str, str]:
    found = events.load_event(stages.table, ctx["connection_id"], ctx["event_sk"])
    assert found is not None
    return found["status"], found["reason"]


# ---- the order ------------------------------------------------------------------------------------------------------


def three_lines() -> list[dict[str, Any]]:
    return [
        sale_line(MUG, None, "MUG-1", 2, 7900, discount=1580),  # 10 % off the line
        sale_line(TEE, TEE_M, "TEE-M", 1, 20000, name="T-shirt - M"),
        sale_line(CARD, None, "CARD", 1, 10000, vat_rate=0, name="Gift card"),
    ]


def test_a_basket_becomes_one_invoiced_and_shipped_rackbeat_order_that_totals_the_till(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a basket at the Strøget branch: two mugs with 10 % off, a T-shirt variant, and a gift card without VAT
    shopbox.add(wire_basket(991, T0, lines=three_lines()))
    # WHEN its workflow runs to the default target (invoiced_and_shipped)
    ctx = run_all(stages, context(stages, 991))
    # THEN Rackbeat has one order for it, on the POS customer, found by the basket's reference
    (order,) = orders(sim)
    assert order["customer_id"] == 900 and order["other_reference"] == basket_reference("991", CLIENT_UID)
    # AND its lines name the Rackbeat items the Shopbox UIDs and the SKU found, from the branch's location
    lines = [(ln["item_id"], ln["quantity"], ln["location_id"]) for ln in order["lines"]]
    assert lines == [("MUG-1", 2, "L1"), ("TEE-M", 1, "L1"), ("CARD", 1, "L1")]
    # AND prices go without VAT with each line's rate, the discount as a share, so the total is the till's 442.20
    mug = order["lines"][0]
    assert Decimal(mug["line_price"]) == Decimal("63.2") and Decimal(mug["vat_percentage"]) == 25
    assert Decimal(mug["discount_percentage"]) == 10
    assert Decimal(str(order["total"])) == Decimal("442.20")
    # AND it is booked, shipped and invoiced; the mapping and the event say so
    assert order["is_booked"] and order["is_shipped"] and order["is_invoiced"]
    mapped = mappings.get_mapping(stages.table, ctx["connection_id"], "order", "shopbox", "991")
    assert mapped is not None and mapped["status"] == "done" and mapped["target_id"] == str(order["number"])
    assert event_reason(stages, ctx) == (
        "done",
        f"Shopbox basket 991 is Rackbeat order {order['number']} (invoiced_and_shipped)",
    )


def test_a_transfer_retried_after_a_lost_response_finds_the_order_instead_of_making_another(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a basket whose transfer made the order, but the mapping was never written (the Lambda died after)
    shopbox.add(wire_basket(992, T0))
    conn = connection(sales={"customer_number": 900, "rackbeat_status": "draft"})
    first = ORDER_WORKFLOW.run("transfer", context(stages, 992), conn, stages, None)
    stages.table.delete_item(Key={"pk": f"CONN#{conn.id}", "sk": "MAP#order#shopbox#992"})
    # WHEN the stage runs again
    again = ORDER_WORKFLOW.run("transfer", context(stages, 992), conn, stages, None)
    # THEN it found the same order: Rackbeat has one
    assert again["rackbeat_order"] == first["rackbeat_order"] and len(orders(sim)) == 1


def test_without_add_vat_the_order_is_registered_without_vat(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN add_vat off and a basket of one mug at 79.00 incl. VAT
    shopbox.add(wire_basket(993, T0))
    settings = {"add_vat": False, "sales": {"customer_number": 900, "rackbeat_status": "draft"}}
    # WHEN it is transferred
    run_all(stages, context(stages, 993, **settings), **settings)
    # THEN its line carries the price without VAT and no VAT
    (order,) = orders(sim)
    assert Decimal(order["lines"][0]["vat_percentage"]) == 0 and Decimal(str(order["total"])) == Decimal("63.20")


def test_a_branch_without_a_location_draws_from_main_location_rackbeat(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a sale at a branch `locations` does not map, and main_location_rackbeat L9
    shopbox.add(wire_basket(994, T0, branch=OTHER_BRANCH, register=OTHER_REGISTER))
    settings = {"main_location_rackbeat": "L9", "sales": {"customer_number": 900, "rackbeat_status": "booked"}}
    # WHEN it is transferred and booked
    run_all(stages, context(stages, 994, **settings), **settings)
    # THEN its lines draw from L9
    (order,) = orders(sim)
    assert [line["location_id"] for line in order["lines"]] == ["L9"] and order["is_booked"]


# ---- bad input: needs attention naming the field, nothing written ---------------------------------------------------


@pytest.mark.parametrize(
    ("basket", "field"),
    [
        (wire_basket(995, T0, lines=[sale_line(777, None, "NOPE", 1, 7900)]), "lines[0].product"),
        (wire_basket(995, T0, lines=[sale_line(MUG, None, "MUG-1", -1, 7900)]), "return_of"),
        (
            wire_basket(
                995, T0, lines=[sale_line(MUG, None, "MUG-1", 1, 7900), sale_line(CARD, None, "CARD", -1, 100)]
            ),
            "lines",
        ),
        (wire_basket(995, T0, branch=OTHER_BRANCH, register=OTHER_REGISTER), "branch"),
        (wire_basket(995, T0, total=8000), "total"),
        (wire_basket(995, T0, lines=[sale_line(MUG, None, "MUG-1", 1, 7900, discount=9000)]), "lines[0].discount"),
        (wire_basket(995, T0, lines=[]), "lines"),
    ],
    ids=[
        "unknown product",
        "a return naming no sale",
        "an exchange",
        "unmapped branch",
        "total off",
        "discount over price",
        "no lines",
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages, basket: dict[str, Any], field: str
) -> None:
    # GIVEN a basket with one thing wrong
    shopbox.add(basket)
    ctx = context(stages, 995)
    # WHEN its transfer runs
    with pytest.raises(PermanentError) as refused:
        ORDER_WORKFLOW.run("transfer", ctx, connection(), stages, None)
    # THEN it is refused for good, naming the field, and Rackbeat has no order and the basket no mapping
    assert f"basket 995: {field}" in refused.value.reason
    assert orders(sim) == []
    assert mappings.get_mapping(stages.table, ctx["connection_id"], "order", "shopbox", "995") is None


def test_a_variant_no_item_holds_falls_back_to_its_sku(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a sale of a T-shirt variant whose UID no Rackbeat item holds yet, though its SKU is an item number
    shopbox.add(wire_basket(996, T0, lines=[sale_line(TEE, 8299, "TEE-L", 1, 20000)]))
    # WHEN it is transferred
    run_all(stages, context(stages, 996, sales={"customer_number": 900, "rackbeat_status": "draft"}))
    # THEN the line is on the SKU's item (the product's UID alone is on two items: it decides nothing)
    (order,) = orders(sim)
    assert [line["item_id"] for line in order["lines"]] == ["TEE-L"]


# ---- cancellations --------------------------------------------------------------------------------------------------


def test_a_cancelled_basket_whose_order_is_booked_is_cancelled_in_rackbeat(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a basket transferred and booked
    shopbox.add(wire_basket(997, T0))
    settings = {"sales": {"customer_number": 900, "rackbeat_status": "booked"}}
    run_all(stages, context(stages, 997, **settings), **settings)
    # WHEN Shopbox cancels it and its cancellation runs
    shopbox.cancel(997, T0 + 600)
    ctx = run_all(stages, context(stages, 997, "cancel", **settings), **settings)
    # THEN the Rackbeat order is cancelled, and the mapping says so
    (order,) = orders(sim)
    assert order["is_cancelled"]
    status, reason = event_reason(stages, ctx)
    assert status == "done" and reason.endswith("cancelled (it was booked)")
    mapped = mappings.get_mapping(stages.table, ctx["connection_id"], "order", "shopbox", "997")
    assert mapped is not None and mapped["status"] == "cancelled"


def test_a_cancelled_basket_whose_order_is_invoiced_is_credited_once(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a basket invoiced and shipped (the default target: 2 mugs drawn from L1)
    shopbox.add(wire_basket(998, T0, lines=[sale_line(MUG, None, "MUG-1", 2, 7900)]))
    run_all(stages, context(stages, 998))
    drawn = sim.product_stock(1, "MUG-1", "L1")
    # WHEN Shopbox cancels it and the cancellation runs, and then runs again (a replay)
    ctx = run_all(stages, context(stages, 998, "cancel"))
    run_all(stages, context(stages, 998, "cancel"))
    # THEN one booked credit note credits the whole invoice, and the mugs are back in stock
    (note,) = sim.credit_notes(1)
    assert note["is_booked"] and Decimal(str(note["total"])) == Decimal("158.00")
    assert sim.product_stock(1, "MUG-1", "L1") == drawn + 2
    mapped = mappings.get_mapping(stages.table, ctx["connection_id"], "order", "shopbox", "998")
    assert mapped is not None and mapped["status"] == "credited"


def test_a_basket_cancelled_before_it_reached_rackbeat_is_never_transferred(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a basket whose cancellation runs before its transfer
    shopbox.add(wire_basket(999, T0))
    run_all(stages, context(stages, 999, "cancel"))
    # WHEN its transfer runs after all
    ctx = run_all(stages, context(stages, 999))
    # THEN Rackbeat has no order and the transfer's event says why
    assert orders(sim) == []
    assert event_reason(stages, ctx) == ("skipped", "Shopbox basket 999 was cancelled before it reached Rackbeat")


def test_a_cancellation_waits_while_the_basket_is_still_being_transferred(
    shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a basket whose own workflow is running
    shopbox.add(wire_basket(1001, T0))
    ctx = context(stages, 1001, "cancel")
    stages.running.add(f"{ctx['connection_id']}-order-1001")
    # WHEN the cancellation runs
    # THEN it asks to be retried (the workflow's Retry waits) rather than deciding on half a picture
    with pytest.raises(RetryableError):
        ORDER_WORKFLOW.run("cancel", ctx, connection(), stages, "arn:aws:states:eu-west-1:1:execution:order:c")


# ---- the POS customer -----------------------------------------------------------------------------------------------


def basket_of(uid: int, customer: dict[str, Any] | None) -> dict[str, Any]:
    return {**wire_basket(uid, T0), "customer": customer}


def test_a_basket_naming_a_known_e_mail_is_an_order_of_that_rackbeat_customer(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN Rackbeat knows Mette by her e-mail, and her sale names her in other letters
    sim.seed_customer(1, 1042, "Mette Jensen", contact_email="mette.jensen@example.dk")
    shopbox.add(basket_of(1101, {"uid": 77, "name": "Mette Jensen", "email": "Mette.Jensen@Example.dk"}))
    # WHEN its workflow runs
    run_all(stages, context(stages, 1101))
    # THEN the order is hers, not the till's
    (order,) = orders(sim)
    assert order["customer_id"] == 1042


def test_without_an_e_mail_match_the_phone_finds_the_customer_however_it_is_written(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN Rackbeat knows Søren by his phone only; the till has another e-mail for him and writes the number +45
    sim.seed_customer(1, 1043, "Søren Hansen", contact_phone="20 30 40 50")
    customer = {"uid": 78, "name": "Søren Hansen", "email": "soren@other.dk", "phone": "+4520304050"}
    shopbox.add(basket_of(1102, customer))
    # WHEN its workflow runs
    run_all(stages, context(stages, 1102))
    # THEN the order is his (found by the phone's digits)
    (order,) = orders(sim)
    assert order["customer_id"] == 1043


def test_a_customer_rackbeat_does_not_know_falls_back_to_the_till_customer_and_none_is_created(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN a sale to a passer-by Rackbeat has never seen
    before = set(sim.state(1).customers)
    shopbox.add(basket_of(1103, {"uid": 79, "name": "Anne Lund", "email": "anne@example.dk", "phone": "31 41 51 61"}))
    # WHEN its workflow runs
    run_all(stages, context(stages, 1103))
    # THEN the order is the till customer's (sales.customer_number), and no customer was made
    (order,) = orders(sim)
    assert order["customer_id"] == 900
    assert set(sim.state(1).customers) == before


def test_a_short_phone_matches_nobody() -> None:
    # GIVEN a phone of four digits (a till's extension), WHEN compared THEN it is not looked up at all
    from crossdock.connectors.rackbeat.customers import by_phone, phone_digits

    class NoCalls:
        def iterate(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a short phone must not be searched")

    assert by_phone(NoCalls(), "12 34") is None  # type: ignore[arg-type]
    assert phone_digits("+45 20 30 40 50") == phone_digits("0045-20304050") == "20304050"


# ---- returns at the till ------------------------------------------------------------------------------------------


def a_return(uid: int, of: int, quantity: int = -1) -> dict[str, Any]:
    """A return rung up against the receipt of basket `of`: negative quantities (a guess, as is `return_of`)."""
    return {**wire_basket(uid, T0 + 3600, lines=[sale_line(MUG, None, "MUG-1", quantity, 7900)]), "return_of": of}


def test_a_return_against_its_receipt_is_credited_once_on_the_original_invoice(
    sim: RackbeatSimulator, shopbox: PagedBaskets, stages: Stages
) -> None:
    # GIVEN two mugs sold, invoiced and shipped from L1
    shopbox.add(wire_basket(1201, T0, lines=[sale_line(MUG, None, "MUG-1", 2, 7900)]))
    run_all(stages, context(stages, 1201))
    (order,) = orders(sim)
    drawn = sim.product_stock(1, "MUG-1", "L1")
    # WHEN one is brought back against the receipt, and the return's workflow runs, then runs again (a replay)
    shopbox.add(a_return(1202, of=1201))
    ctx = run_all(stages, context(stages, 1202))
    run_all(stages, context(stages, 1202))
    # THEN one booked credit note of the original invoice credits one mug at its price, and the mug is back
    (note,) = sim.credit_notes(1)
    assert note["is_booked"] and note["order_number"] == order["number"]
    assert Decimal(str(note["total"])) == Decimal("79.00")
    assert [Decimal(str(line["quantity"])) for line in note["lines"]] == [1]
    assert sim.product_stock(1, "MUG-1", "L1") == drawn + 1
    # AND no order was made of the return; its mapping and event say what was done
    assert len(orders(sim)) == 1
    mapped = mappings.get_mapping(stages.table, ctx["connection_id"], "order", "shopbox", "1202")
    assert mapped is not None and mapped["status"] == "credited" and mapped["return_of"] == "1201"
    status, reason = event_reason(stages, ctx)
    assert status == "done" and reason.startswith(
        f"Shopbox return basket 1202 credited on Rackbeat order {order['number']}"
    )


@pytest.mark.parametrize(
    ("original", "returned", "field"),
    [
        (None, -1, "return_of: the original basket 1211 is not in Rackbeat"),
        ("draft", -1, "is not invoiced"),
        ("invoiced_and_shipped", -3, "lines[0].quantity: 3 returned, 2 sold"),
    ],
    ids=["original not in Rackbeat", "original not invoiced", "more returned than sold"],
)
def test_a_return_that_cannot_be_credited_is_refused_naming_why_and_nothing_is_written(
    sim: RackbeatSimulator,
    shopbox: PagedBaskets,
    stages: Stages,
    original: str | None,
    returned: int,
    field: str,
) -> None:
    # GIVEN a sale of two mugs (transferred to `original`'s target, or not at all) and a return against it
    shopbox.add(wire_basket(1211, T0, lines=[sale_line(MUG, None, "MUG-1", 2, 7900)]))
    if original is not None:
        settings = {"sales": {"customer_number": 900, "rackbeat_status": original}}
        run_all(stages, context(stages, 1211, **settings), **settings)
    shopbox.add(a_return(1212, of=1211, quantity=returned))
    # WHEN the return's transfer runs
    with pytest.raises(PermanentError) as refused:
        ORDER_WORKFLOW.run("transfer", context(stages, 1212), connection(), stages, None)
    # THEN it is refused for good, saying why; no credit note, no order of the return
    assert refused.value.reason.startswith("Shopbox return basket 1212: ") and field in refused.value.reason
    assert sim.credit_notes(1) == []
    assert len(orders(sim)) == (0 if original is None else 1)
