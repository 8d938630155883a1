"""Webhook subscriptions through the Admin API: `webhookSubscriptions`, `webhookSubscriptionCreate` and
`webhookSubscriptionDelete`."""

from __future__ import annotations

from typing import Any

from crossdock_local.sims.shopify.graphql_api import GqlField
from crossdock_local.sims.shopify.paging import connection
from crossdock_local.sims.shopify.state import Shop, Subscription
from crossdock_local.sims.shopify.values import gql_datetime
from crossdock_local.sims.shopify.webhooks import TOPIC_ENUMS, TOPICS, WebhookDelivery, valid_callback


def _gql_subscription(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.gid,
        "legacyResourceId": str(subscription.id),
        "topic": TOPIC_ENUMS.get(subscription.topic, subscription.topic.upper().replace("/", "_")),
        "uri": subscription.uri,
        "callbackUrl": subscription.uri,  # deprecated alias of uri, still answered
        "format": "JSON",
        "createdAt": gql_datetime(subscription.created_at),
        "updatedAt": gql_datetime(subscription.created_at),
        "includeFields": [],
        "filter": None,
    }


def _user_error(path: list[str], message: str) -> dict[str, Any]:
    return {"webhookSubscription": None, "userErrors": [{"field": path, "message": message}]}


class WebhookSubscriptions:
    """Registers the subscription root fields on the simulator."""

    def __init__(self, sim: WebhookDelivery) -> None:
        self.sim = sim
        # Each app sees and changes only the subscriptions it made (`GqlField.app`: the asking custom app or None).
        sim.resolvers["webhookSubscriptions"] = lambda shop, field, _v: self._resolve_subscriptions(shop, field)
        sim.resolvers["webhookSubscriptionCreate"] = lambda shop, field, _v: self._resolve_subscription_create(
            shop, field
        )
        sim.resolvers["webhookSubscriptionDelete"] = lambda shop, field, _v: self._resolve_subscription_delete(
            shop, field
        )

    def _resolve_subscriptions(self, shop: Shop, field: GqlField) -> dict[str, Any]:
        args = field.args
        topics = args.get("topics")
        wanted = {TOPICS.get(str(t), str(t)) for t in topics} if topics else None
        items = [
            _gql_subscription(s)
            for s in shop.subscriptions
            if s.app == field.app and (wanted is None or s.topic in wanted)
        ]
        return connection(items)(args)

    def _resolve_subscription_create(self, shop: Shop, field: GqlField) -> dict[str, Any]:
        args = field.args
        topic = str(args.get("topic"))  # a WebhookSubscriptionTopic: the schema refused any other value
        spec = args.get("webhookSubscription") or {}
        uri = spec.get("uri", spec.get("callbackUrl")) if isinstance(spec, dict) else None
        if not isinstance(uri, str) or not valid_callback(uri):
            return _user_error(["webhookSubscription", "callbackUrl"], "Address is invalid")
        mine = [s for s in shop.subscriptions if s.app == field.app]
        if any(s.topic == TOPICS[topic] and s.uri == uri for s in mine):
            return _user_error(["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")
        subscription = self.sim.subscribe(shop.domain, topic, uri, app=field.app)
        return {"webhookSubscription": _gql_subscription(subscription), "userErrors": []}

    def _resolve_subscription_delete(self, shop: Shop, field: GqlField) -> dict[str, Any]:
        gid = str(field.args.get("id"))
        with self.sim.lock:
            found = next((s for s in shop.subscriptions if s.gid == gid and s.app == field.app), None)
            if found is not None:
                shop.subscriptions.remove(found)
        if found is None:
            # Guess: the wording Shopify uses for an id of another shop or one deleted already.
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": gid, "userErrors": []}
