"""Sales channels' publications through the Admin API: `publications`, `publishablePublish` and
`publishableUnpublish`. A product shows in a sales channel (the Online Store, Point of Sale) only while it is
published to that channel's publication; its status (active, draft) says only whether it can be shown at all.

A product made through the API is on no channel until it is published; one made in the admin is on all of them.
Publishing to the Online Store sets the product's REST `published_at` (what its webhooks carry), unpublishing clears
it; either change sends `products/update`, as Shopify does. Publishing twice, or unpublishing what is not published,
changes nothing and is no error.
"""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.shopify.catalog_values import legacy_of, user_error
from crossdock_local.sims.shopify.catalog_views import CatalogViews
from crossdock_local.sims.shopify.graphql_api import by_args
from crossdock_local.sims.shopify.paging import connection
from crossdock_local.sims.shopify.state import ONLINE_STORE_PUBLICATION, PUBLICATIONS, Shop
from crossdock_local.sims.shopify.values import gid


def _gql_publication(publication_id: int) -> dict[str, Any]:
    return {
        "id": gid("Publication", publication_id),
        "name": PUBLICATIONS[publication_id],
        "autoPublish": False,
        "supportsFuturePublishing": publication_id == ONLINE_STORE_PUBLICATION,
    }


class Publications:
    """Registers the publication root fields on the simulator; works on the catalog's products."""

    def __init__(self, catalog: CatalogViews) -> None:
        self.catalog = catalog
        sim = catalog.sim
        sim.resolvers["publications"] = by_args(self._resolve_publications)
        sim.resolvers["publishablePublish"] = by_args(lambda shop, args: self._change(shop, args, publish=True))
        sim.resolvers["publishableUnpublish"] = by_args(lambda shop, args: self._change(shop, args, publish=False))

    def channels(self, domain: str, product_id: int | str) -> list[str]:
        """The names of the sales channels the product is published to (for tests and the control API)."""
        with self.catalog.sim.lock:
            shop = self.catalog.sim.shop(domain)
            product = shop.catalog.products[int(product_id)]
            return sorted(PUBLICATIONS[pid] for pid in shop.catalog.publications_of(product))

    def _resolve_publications(self, _shop: Shop, args: dict[str, Any]) -> dict[str, Any]:
        return connection([_gql_publication(publication_id) for publication_id in PUBLICATIONS])(args)

    def _change(self, shop: Shop, args: dict[str, Any], *, publish: bool) -> dict[str, Any]:
        catalog = shop.catalog
        product_id = legacy_of(args["id"], "Product")
        product = catalog.products.get(product_id) if product_id is not None else None
        if product is None:
            return {"publishable": None, "userErrors": [user_error(["id"], "Product does not exist")]}
        wanted = []
        for index, entry in enumerate(args["input"]):
            publication_id = legacy_of(entry.get("publicationId"), "Publication")
            if publication_id not in PUBLICATIONS:
                where = ["input", str(index), "publicationId"]
                return {"publishable": None, "userErrors": [user_error(where, "Publication does not exist")]}
            wanted.append(publication_id)
        published = set(catalog.publications_of(product))
        changed = published | set(wanted) if publish else published - set(wanted)
        if changed != published:
            catalog.published[int(product["id"])] = changed
            now = self.catalog.sim.shop_time(shop)
            if ONLINE_STORE_PUBLICATION in wanted:
                product["published_at"] = now if publish else None
            product["updated_at"] = now
            self.catalog.sim.emit(shop, "products/update", product)
        return {"publishable": self.catalog.gql_product(shop, product), "userErrors": []}
