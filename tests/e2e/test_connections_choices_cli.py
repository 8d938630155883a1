"""`crossdock connections choices <connection>` on the embedded stack (issue 17): the connection's secrets read
through the stack's KMS key, Rackbeat and Shopify asked over HTTP as a deployed stack asks them, and every setting
that names something in them offered with the value `settings set` takes."""

from __future__ import annotations

import io
import json
from typing import Any

from crossdock_local import operator_cli
from crossdock_local.stack import LocalStack


def cli(stack: LocalStack, *argv: str) -> tuple[int, str]:
    output = io.StringIO()
    return operator_cli.run(list(argv), stack.operator, output), output.getvalue()


def test_the_choices_of_a_shop_connection_come_from_its_rackbeat_account_and_its_shop(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a rackbeat_shopify connection whose Rackbeat account has the stack's reference data (layout 1
    # "Standard", employees 1 and 2, location L1) and a second customer group added by the merchant
    merchant = merchant_with()
    stack.rackbeat.seed_customer_group(merchant.account, 5, "Forhandlere")
    stack.shopify.add_location(merchant.domain, "Lager Aarhus")
    connection_id = merchant.connection.connection_id
    # WHEN the operator asks for its choices, as a table and as JSON
    code, table = cli(stack, "connections", "choices", connection_id)
    json_code, document = cli(stack, "connections", "choices", connection_id, "--json")
    # THEN both answer, nothing is unavailable, and each field lists what the account has
    assert (code, json_code) == (0, 0), table
    read = json.loads(document)
    assert read["connection_id"] == connection_id and read["kind"] == "rackbeat_shopify"
    assert read["unavailable"] == {}
    found = read["choices"]
    assert {"value": 5, "label": "Forhandlere (5)"} in found["customer_defaults.customer_group"]
    assert {"value": 1, "label": "Standard (1)"} in found["customer_defaults.layout"]
    assert [choice["value"] for choice in found["employees.web"]] == [1, 2]
    assert {"value": "L1", "label": "Lager København (L1)"} in found["fulfillment.rackbeat_location"]
    assert "Lager Aarhus" in [choice["label"] for choice in found["fulfillment.shopify_location"]]
    # the table says the same, one choice a line
    assert "customer_defaults.layout" in table and "Standard (1)" in table
    assert "could not be read" not in table


def test_an_unknown_connection_is_refused_by_name(stack: LocalStack) -> None:
    # WHEN the operator asks for the choices of a connection that does not exist
    code, _ = cli(stack, "connections", "choices", "c-does-not-exist")
    # THEN the command is refused (exit 1), as every command naming an unknown connection is
    assert code == 1


def test_a_system_that_refuses_is_named_with_its_reason_and_the_rest_is_shown(
    stack: LocalStack, merchant_with: Any
) -> None:
    # GIVEN a connection whose shop has uninstalled the app: Shopify refuses its token from now on
    merchant = merchant_with()
    stack.shopify.uninstall(merchant.domain)
    # WHEN the operator asks for its choices
    code, table = cli(stack, "connections", "choices", merchant.connection.connection_id)
    # THEN the command still answers with Rackbeat's choices, and says Shopify could not be read and why
    assert code == 0
    assert "customer_defaults.layout" in table
    assert "fulfillment.shopify_location" not in table
    assert f"shopify could not be read: Shopify refused the access token of {merchant.domain}" in table
