"""Sales channels' publications (Admin GraphQL `publications`, `publishablePublish`, `publishableUnpublish`).

A product shows in the Online Store only while it is published to the Online Store's publication; its status
(ACTIVE, DRAFT) only says whether any channel may show it. Products made through the API are published nowhere
until they are published. The Online Store's publication is found by its name, once per shop and container: its id
differs per shop and changes only when the channel is removed and added again, which a refused publish reveals
(the id is then looked up afresh). Needs the `write_publications` scope (it covers `read_publications`).
"""

from __future__ import annotations

from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

ONLINE_STORE = "Online Store"

PUBLICATIONS = """
query Publications($after: String) {
  publications(first: 25, after: $after) {
    nodes { id name }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PUBLISH = """
mutation Publish($id: ID!, $input: [PublicationInput!]!) {
  publishablePublish(id: $id, input: $input) {
    userErrors { field message }
  }
}
"""

UNPUBLISH = """
mutation Unpublish($id: ID!, $input: [PublicationInput!]!) {
  publishableUnpublish(id: $id, input: $input) {
    userErrors { field message }
  }
}
"""

# Shop domain → the id of its Online Store publication.
_online_store: dict[str, str] = {}


def online_store_publication(shopify: ShopifyAdmin) -> str:
    """The id of the shop's Online Store publication; refused when the shop has no Online Store channel (a
    POS-only shop cannot publish online, and no retry changes that)."""
    known = _online_store.get(shopify.shop_domain)
    if known is not None:
        return known
    after = None
    while True:
        page = shopify.run(PUBLICATIONS, {"after": after}, expected_cost=27)["publications"]
        for node in page["nodes"]:
            if node.get("name") == ONLINE_STORE:
                _online_store[shopify.shop_domain] = str(node["id"])
                return str(node["id"])
        if not page["pageInfo"]["hasNextPage"]:
            raise PermanentError(
                f"{shopify.shop_domain} has no Online Store sales channel to publish products to "
                "(product_sync.online_availability needs it)",
                FailureClass.VALIDATION,
            )
        after = page["pageInfo"]["endCursor"]


def set_online(shopify: ShopifyAdmin, product_id: str, online: bool) -> None:
    """Publishes the product to the Online Store, or unpublishes it from there; other channels are left alone.
    Repeating either is harmless (Shopify changes nothing and reports no error)."""
    for attempt in range(2):
        publication = online_store_publication(shopify)
        document, field = (PUBLISH, "publishablePublish") if online else (UNPUBLISH, "publishableUnpublish")
        variables = {"id": product_id, "input": [{"publicationId": publication}]}
        errors = shopify.run(document, variables)[field]["userErrors"]
        if not errors:
            return
        if attempt == 0 and any("publicationId" in (error.get("field") or []) for error in errors):
            _online_store.pop(shopify.shop_domain, None)  # the channel was added again under a new id
            continue
        detail = "; ".join(f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}" for e in errors)
        verb = "publish" if online else "unpublish"
        raise PermanentError(
            f"Shopify refused to {verb} product {product_id} in the Online Store: {detail}", FailureClass.VALIDATION
        )
