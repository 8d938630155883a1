"""The simulated Admin GraphQL refuses what Shopify refuses, in Shopify's shape, before anything runs or is charged.

Shopify runs graphql-ruby: a validation error names the problem in `message`, points at it with `locations` and a
`path` that starts with the operation, and carries `extensions.code` with the code's own keys. A variable that does
not fit its type is "provided invalid value", with `extensions.value` and `extensions.problems`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sim_fakes import FakeClock

from crossdock_local.sims.base.transport import transport
from crossdock_local.sims.shopify.graphql_api import cache_info
from crossdock_local.sims.shopify.simulator import ShopifySimulator

SHOP = "refusals.myshopify.com"
TOKEN = "shpat_refusals"
GRAPHQL = "/admin/api/2026-04/graphql.json"


@pytest.fixture
def sim() -> ShopifySimulator:
    simulator = ShopifySimulator(clock=FakeClock(), seed=5)
    simulator.add_shop(SHOP, "secret", TOKEN)
    return simulator


def post(sim: ShopifySimulator, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {"X-Shopify-Access-Token": TOKEN}
    with httpx.Client(transport=transport(sim), base_url=f"https://{SHOP}", headers=headers) as http:
        response = http.post(GRAPHQL, json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text  # Shopify answers refusals with 200 and `errors`
    body: dict[str, Any] = response.json()
    return body


def assert_refused_for_free(sim: ShopifySimulator, body: dict[str, Any]) -> dict[str, Any]:
    """Exactly one error, no `data`, nothing charged; returns the error."""
    assert "data" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 0
    assert sim.shop(SHOP).bucket.currently_available == sim.shop(SHOP).bucket.maximum_available
    (error,) = body["errors"]
    return error


def test_an_unknown_field_is_refused_naming_the_field_and_its_type(sim: ShopifySimulator) -> None:
    # GIVEN a query selecting a field Order does not have
    query = 'query Lookup { order(id: "gid://shopify/Order/1") { id colour } }'
    # WHEN it is sent
    error = assert_refused_for_free(sim, post(sim, query))
    # THEN Shopify's undefinedField answer comes back
    assert error == {
        "message": "Field 'colour' doesn't exist on type 'Order'",
        "locations": [{"line": 1, "column": 56}],
        "path": ["query Lookup", "order", "colour"],
        "extensions": {"code": "undefinedField", "typeName": "Order", "fieldName": "colour"},
    }


def test_an_argument_of_the_wrong_type_is_refused_naming_the_argument_and_the_expected_type(
    sim: ShopifySimulator,
) -> None:
    # GIVEN a page size written as a string
    query = '{ products(first: "ten") { nodes { id } } }'
    # WHEN it is sent
    error = assert_refused_for_free(sim, post(sim, query))
    # THEN Shopify's argumentLiteralsIncompatible answer comes back
    assert error == {
        "message": "Argument 'first' on Field 'products' has an invalid value (\"ten\"). Expected type 'Int'.",
        "locations": [{"line": 1, "column": 19}],
        "path": ["query", "products", "first"],
        "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "first"},
    }


def test_a_missing_required_variable_is_refused_as_an_invalid_value(sim: ShopifySimulator) -> None:
    # GIVEN the Order query's document without its required $id
    query = "query Order($id: ID!) { order(id: $id) { id } }"
    # WHEN it is sent without variables
    error = assert_refused_for_free(sim, post(sim, query))
    # THEN the variable is named with its type, and the problem explained
    assert error == {
        "message": "Variable $id of type ID! was provided invalid value",
        "locations": [{"line": 1, "column": 13}],
        "extensions": {
            "code": "INVALID_VARIABLE",
            "value": None,
            "problems": [{"path": [], "explanation": "Expected value to not be null"}],
        },
    }


def test_a_variable_missing_a_required_input_field_is_refused_with_its_path(sim: ShopifySimulator) -> None:
    # GIVEN a stock quantity without its location
    query = (
        "mutation SetStock($input: InventorySetQuantitiesInput!) { "
        'inventorySetQuantities(input: $input) @idempotent(key: "k") { userErrors { message } } }'
    )
    quantities = [{"inventoryItemId": "gid://shopify/InventoryItem/1", "quantity": 3, "changeFromQuantity": None}]
    variables = {"input": {"name": "available", "reason": "correction", "quantities": quantities}}
    # WHEN it is sent
    error = assert_refused_for_free(sim, post(sim, query, variables))
    # THEN the message and the problem name the missing field's path, and the mutation never ran
    assert error["message"] == (
        "Variable $input of type InventorySetQuantitiesInput! was provided invalid value "
        "for quantities.0.locationId (Expected value to not be null)"
    )
    assert error["extensions"]["problems"] == [
        {"path": ["quantities", 0, "locationId"], "explanation": "Expected value to not be null"}
    ]
    assert sim.mutation_count("inventorySetQuantities") == 0


def test_an_unknown_argument_is_refused_naming_the_field_and_the_argument(sim: ShopifySimulator) -> None:
    # GIVEN a misspelt search argument
    query = '{ inventoryItems(first: 1, quer: "sku:X") { nodes { id } } }'
    # WHEN it is sent
    error = assert_refused_for_free(sim, post(sim, query))
    # THEN Shopify's argumentNotAccepted answer comes back
    assert error == {
        "message": "Field 'inventoryItems' doesn't accept argument 'quer'",
        "locations": [{"line": 1, "column": 28}],
        "path": ["query", "inventoryItems", "quer"],
        "extensions": {
            "code": "argumentNotAccepted",
            "name": "inventoryItems",
            "typeName": "Field",
            "argumentName": "quer",
        },
    }


def test_missing_required_arguments_are_named_together(sim: ShopifySimulator) -> None:
    # GIVEN a mutation without either of its required arguments
    query = "mutation { productVariantsBulkUpdate { userErrors { message } } }"
    # WHEN it is sent
    error = assert_refused_for_free(sim, post(sim, query))
    # THEN one missingRequiredArguments error names both
    assert error["message"] == "Field 'productVariantsBulkUpdate' is missing required arguments: productId, variants"
    assert error["extensions"] == {
        "code": "missingRequiredArguments",
        "className": "Field",
        "name": "productVariantsBulkUpdate",
        "arguments": "productId, variants",
    }


def test_a_variable_declared_with_another_type_than_its_argument_is_refused(sim: ShopifySimulator) -> None:
    # GIVEN a URI variable declared as URL! where the argument takes a String
    query = "query Hooks($uri: URL!) { webhookSubscriptions(first: 1, uri: $uri) { nodes { id } } }"
    # WHEN it is sent
    error = assert_refused_for_free(sim, post(sim, query, {"uri": "https://x.example/hook"}))
    # THEN Shopify's variableMismatch answer comes back
    assert error["message"] == "Type mismatch on variable $uri and argument uri (URL! / String)"
    assert error["extensions"]["code"] == "variableMismatch"


def test_a_document_is_parsed_and_validated_once_however_often_it_is_sent(sim: ShopifySimulator) -> None:
    # GIVEN a query the cache has not seen
    query = "query Once($id: ID!) { order(id: $id) { id name } }"
    misses = cache_info().misses
    # WHEN it is sent five times with different variables
    for number in range(5):
        assert post(sim, query, {"id": f"gid://shopify/Order/{number}"})["data"] == {"order": None}
    # THEN it was parsed and validated only the first time
    assert cache_info().misses == misses + 1
