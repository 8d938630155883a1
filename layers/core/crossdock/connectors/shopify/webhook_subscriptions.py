"""A shop's webhook subscriptions to one address: listed, and the missing ones created (reference/shopify.md,
"Webhooks"), for a kind whose app subscribes topic by topic as its guided setup goes (`peakwms_shopify`).

Creating is made safe to repeat by looking first: a topic already subscribed to the address is left alone, and one
that a concurrent run created in between ("has already been taken") counts as there. A subscription is the app's
own: with a custom app's token the shop lists only what that app made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crossdock.connectors.shopify import queries
from crossdock.connectors.shopify.graphql import ShopifyAdmin
from crossdock.errors import FailureClass, PermanentError

LIST_COST = 252  # 250 subscriptions and the page
TWO_WORD_RESOURCES = (
    *("inventory_levels", "inventory_items", "fulfillment_orders", "fulfillment_holds", "bulk_operations"),
)


@dataclass(frozen=True)
class Subscription:
    id: str
    topic: str  # REST form: orders/create
    uri: str


def topic_enum(topic: str) -> str:
    """`orders/create` → `ORDERS_CREATE` (Shopify's `WebhookSubscriptionTopic`)."""
    return topic.upper().replace("/", "_")


def rest_topic(enum: str) -> str:
    """`ORDERS_CREATE` → `orders/create`; the first underscore splits resource and action, except for the resources
    whose own name has one (`inventory_levels/update`, `fulfillment_orders/…`)."""
    lower = enum.lower()
    for resource in (
        "inventory_levels",
        "inventory_items",
        "fulfillment_orders",
        "fulfillment_holds",
        "bulk_operations",
    ):
        if lower.startswith(resource + "_"):
            return f"{resource}/{lower[len(resource) + 1 :]}"
    resource, _, action = lower.partition("_")
    return f"{resource}/{action}"


def subscriptions(shopify: ShopifyAdmin) -> list[Subscription]:
    found: list[Subscription] = []
    after = None
    while True:
        page = shopify.run(queries.WEBHOOK_SUBSCRIPTIONS, {"after": after}, expected_cost=LIST_COST)
        page = page["webhookSubscriptions"]
        found.extend(Subscription(str(n["id"]), rest_topic(str(n["topic"])), str(n["uri"])) for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def subscribe_missing(shopify: ShopifyAdmin, uri: str, topics: Iterable[str]) -> list[str]:
    """Subscribes `uri` to each of `topics` it is not subscribed to yet; returns the topics created. When nothing is
    missing, the listing is the only call. `PermanentError` naming the topic when Shopify refuses one (the ones
    created before it stay, and a repeat creates only the rest)."""
    there = {s.topic for s in subscriptions(shopify) if s.uri == uri}
    created = []
    for topic in topics:
        if topic in there:
            continue
        answer = shopify.run(queries.CREATE_WEBHOOK_SUBSCRIPTION, {"topic": topic_enum(topic), "uri": uri})
        errors = answer["webhookSubscriptionCreate"]["userErrors"]
        problems = [e.get("message", "") for e in errors if "already been taken" not in e.get("message", "")]
        if problems:
            raise PermanentError(
                f"Shopify refused the {topic} subscription of {shopify.shop_domain}: {'; '.join(problems)}",
                FailureClass.BUG,
            )
        if not errors:
            created.append(topic)
    return created
