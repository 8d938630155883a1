"""The shop's locations (`locations`): what a connection's location settings may name (read at install and on every
settings save; a shop has a handful, so one page of `first: 250` is all of them)."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.connectors.shopify.graphql import ShopifyAdmin

PAGE = 250

SHOP_LOCATIONS = """
query ShopLocations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    nodes { legacyResourceId name isActive }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass(frozen=True)
class ShopLocation:
    id: str  # the numeric id, as webhooks and the REST API name it
    name: str
    active: bool

    def __str__(self) -> str:
        return f"{self.id} {self.name}" + ("" if self.active else " (inactive)")


def shop_locations(admin: ShopifyAdmin) -> list[ShopLocation]:
    """Every location of the shop, deactivated ones too (an order may still name one), in Shopify's order."""
    found: list[ShopLocation] = []
    after: str | None = None
    while True:
        data = admin.run(SHOP_LOCATIONS, {"first": PAGE, "after": after}, expected_cost=5)
        page = (data or {}).get("locations") or {}
        for node in page.get("nodes") or []:
            found.append(
                ShopLocation(
                    str(node["legacyResourceId"]), str(node.get("name") or ""), node.get("isActive") is not False
                )
            )
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return found
        after = str(info["endCursor"])
