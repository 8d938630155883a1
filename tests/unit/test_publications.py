"""Publishing to the Online Store (`product_sync.online_availability`): the Shopify simulator's publications
(`publications`, `publishablePublish`, `publishableUnpublish`, `Product.publishedOnPublication`) with Shopify's
names, and the connector that finds the Online Store's publication and publishes to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_shopify_catalog_sim import SHOP, TOKEN, data, graphql, make_sim

from crossdock.connectors.shopify import publications
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import PermanentError
from crossdock_local.sims.base import transport
from crossdock_local.sims.shopify.simulator import ShopifySimulator

PRODUCT_SET = """
mutation Create($input: ProductSetInput!) {
  productSet(input: $input) { product { id publishedAt } userErrors { field message } }
}
"""
PUBLISHED_ON = """
query On($id: ID!, $publication: ID!) { product(id: $id) { publishedOnPublication(publicationId: $publication) } }
"""


@pytest.fixture
def sim() -> ShopifySimulator:
    return make_sim()


@pytest.fixture
def admin(sim: ShopifySimulator) -> Iterator[ShopifyAdmin]:
    client = ShopifyAdmin("https://nordisk-hjem.myshopify.com", SHOP, TOKEN, transport=transport(sim))
    yield client
    client.close()


def _api_product(sim: ShopifySimulator) -> str:
    created = data(sim, PRODUCT_SET, input={"title": "Regnjakke", "status": "ACTIVE"})["productSet"]
    assert created["product"]["publishedAt"] is None  # made through the API: on no channel, active or not
    product_id: str = created["product"]["id"]
    return product_id


def _legacy(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])


def test_the_shop_lists_its_channels_publications(sim: ShopifySimulator) -> None:
    nodes = data(sim, publications.PUBLICATIONS, after=None)["publications"]["nodes"]
    assert [node["name"] for node in nodes] == ["Online Store", "Point of Sale"]
    assert all(node["id"].startswith("gid://shopify/Publication/") for node in nodes)


def test_publishing_to_the_online_store_shows_the_product_there_only(
    sim: ShopifySimulator, admin: ShopifyAdmin
) -> None:
    # GIVEN an active product made through the API
    product = _api_product(sim)
    online = publications.online_store_publication(admin)
    # WHEN Crossdock publishes it to the Online Store
    publications.set_online(admin, product, True)
    # THEN it is published there (and only there), with a publish date, and Shopify said products/update
    assert data(sim, PUBLISHED_ON, id=product, publication=online)["product"]["publishedOnPublication"] is True
    assert sim.publications.channels(SHOP, _legacy(product)) == ["Online Store"]
    assert sim.catalog.products(SHOP)[0]["published_at"] is not None
    # WHEN it is unpublished (twice: the second changes nothing and is no error)
    publications.set_online(admin, product, False)
    publications.set_online(admin, product, False)
    # THEN the Online Store no longer shows it
    assert data(sim, PUBLISHED_ON, id=product, publication=online)["product"]["publishedOnPublication"] is False
    assert sim.publications.channels(SHOP, _legacy(product)) == []
    assert sim.catalog.products(SHOP)[0]["published_at"] is None


def test_a_product_made_in_the_admin_is_on_every_channel(sim: ShopifySimulator, admin: ShopifyAdmin) -> None:
    made = sim.create_product(SHOP, {"title": "Plaid", "variants": [{"sku": "PLAID", "price": "10"}]}, emit=False)
    assert sim.publications.channels(SHOP, made["id"]) == ["Online Store", "Point of Sale"]
    publications.set_online(admin, made["admin_graphql_api_id"], False)
    assert sim.publications.channels(SHOP, made["id"]) == ["Point of Sale"]  # the POS channel is left alone


def test_an_unknown_publication_or_product_is_a_user_error_naming_the_field(sim: ShopifySimulator) -> None:
    product = _api_product(sim)
    unknown = {"id": product, "input": [{"publicationId": "gid://shopify/Publication/1"}]}
    answer: dict[str, Any] = data(sim, publications.PUBLISH, **unknown)["publishablePublish"]
    assert answer["userErrors"] == [{"field": ["input", "0", "publicationId"], "message": "Publication does not exist"}]
    missing = {"id": "gid://shopify/Product/1", "input": [{"publicationId": "gid://shopify/Publication/1"}]}
    answer = data(sim, publications.UNPUBLISH, **missing)["publishableUnpublish"]
    assert answer["userErrors"] == [{"field": ["id"], "message": "Product does not exist"}]


def test_publishing_needs_the_input_list_shopify_declares(sim: ShopifySimulator) -> None:
    body = graphql(sim, publications.PUBLISH, id=_api_product(sim))
    assert body["errors"][0]["message"].startswith("Variable $input of type [PublicationInput!]! was provided invalid")


def test_a_shop_without_an_online_store_is_refused_for_good(sim: ShopifySimulator, admin: ShopifyAdmin) -> None:
    # GIVEN a shop whose only channel is Point of Sale (its Online Store channel removed)
    answer = {"publications": {"nodes": [{"id": "gid://shopify/Publication/2", "name": "Point of Sale"}],
                               "pageInfo": {"hasNextPage": False, "endCursor": None}}}  # fmt: skip
    publications._online_store.pop(SHOP, None)
    original = admin.run
    admin.run = lambda document, variables=None, **kw: (
        answer
        if "publications(" in document
        else original(  # type: ignore[method-assign]
            document, variables, **kw
        )
    )
    # WHEN Crossdock looks for the Online Store; THEN it is refused, naming the setting that needs it
    with pytest.raises(PermanentError, match="online_availability"):
        publications.online_store_publication(admin)
