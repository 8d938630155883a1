"""The shop as `app/uninstalled` carries it, and the mandatory privacy webhooks (customers/data_request,
customers/redact, shop/redact), sent to the app's compliance URI without a subscription."""

from __future__ import annotations

import zlib
from typing import Any

from crossdock_local.sims.shopify.state import App, PendingDelivery, Shop
from crossdock_local.sims.shopify.webhooks import WebhookDelivery, compact_json, new_uuid, triggered_at, valid_callback


def shop_id(domain: str) -> int:
    # Guess: a stable 11-digit id derived from the domain, so payloads agree without storing one more field.
    return 50_000_000_000 + zlib.crc32(domain.encode())


class PrivacyWebhooks:
    """Privacy webhooks of one simulator; the apps decide where they go."""

    def __init__(self, sim: WebhookDelivery, apps: dict[str, App]) -> None:
        self.sim = sim
        self.apps = apps
        self._compliance_deliveries = 0

    def shop_object(self, shop: Shop) -> dict[str, Any]:
        """The REST shop, as `app/uninstalled` carries it.

        Guess: the simulator's shops are Danish (DKK, Copenhagen time, prices including VAT) and existed when the
        simulator started; owner, e-mail and address are placeholders.
        """
        name = shop.domain.removesuffix(".myshopify.com")
        created = self.sim.epoch.astimezone(shop.tz).isoformat(timespec="seconds")
        return {
            "id": shop_id(shop.domain),
            "name": name,
            "email": f"owner@{name}.example",
            "domain": shop.domain,
            "province": None,
            "country": "DK",
            "address1": "Vesterbrogade 1",
            "zip": "1620",
            "city": "København V",
            "source": None,
            "phone": None,
            "latitude": None,
            "longitude": None,
            "primary_locale": "da",
            "address2": None,
            "created_at": created,
            "updated_at": self.sim.shop_time(shop),
            "country_code": "DK",
            "country_name": "Denmark",
            "currency": shop.currency,
            "customer_email": f"kundeservice@{name}.example",
            "timezone": "(GMT+01:00) Europe/Copenhagen",
            "iana_timezone": "Europe/Copenhagen",
            "shop_owner": "Shop Owner",
            "money_format": "{{amount_with_comma_separator}} kr",
            "money_with_currency_format": "{{amount_with_comma_separator}} DKK",
            "weight_unit": "kg",
            "province_code": None,
            "taxes_included": True,
            "auto_configure_tax_inclusivity": None,
            "tax_shipping": None,
            "county_taxes": True,
            "plan_display_name": "Basic",
            "plan_name": "basic",
            "has_discounts": True,
            "has_gift_cards": False,
            "myshopify_domain": shop.domain,
            "google_apps_domain": None,
            "google_apps_login_enabled": None,
            "money_in_emails_format": "{{amount_with_comma_separator}} kr",
            "money_with_currency_in_emails_format": "{{amount_with_comma_separator}} DKK",
            "eligible_for_payments": True,
            "requires_extra_payments_agreement": False,
            "password_enabled": False,
            "has_storefront": True,
            "finances": True,
            "primary_location_id": shop.catalog.primary_location.id,
            "checkout_api_supported": True,
            "multi_location_enabled": True,
            "setup_required": False,
            "pre_launch_enabled": False,
            "enabled_presentment_currencies": [shop.currency],
            "transactional_sms_disabled": False,
            "marketing_sms_consent_enabled_at_checkout": False,
        }

    def request_customer_data(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """`customers/data_request`: a customer asked the merchant for their data."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            payload = {
                **self._shop_ref(shop),
                "orders_requested": list(orders),
                "customer": self._customer(shop, customer_id),
                "data_request": {"id": self.sim.new_id()},
            }
            self._queue_privacy(shop, "customers/data_request", payload, uri)
            return payload

    def redact_customer(
        self, domain: str, customer_id: int, orders: list[int], *, uri: str | None = None
    ) -> dict[str, Any]:
        """`customers/redact`: delete this customer's personal data (and that of the listed orders)."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            payload = {
                **self._shop_ref(shop),
                "customer": self._customer(shop, customer_id),
                "orders_to_redact": list(orders),
            }
            self._queue_privacy(shop, "customers/redact", payload, uri)
            return payload

    def redact_shop(self, domain: str, *, uri: str | None = None) -> dict[str, Any]:
        """`shop/redact`: Shopify sends it 48 h after uninstall; the simulator sends it when called."""
        with self.sim.lock:
            shop = self.sim.shop(domain)
            payload = self._shop_ref(shop)
            self._queue_privacy(shop, "shop/redact", payload, uri)
            return payload

    def _shop_ref(self, shop: Shop) -> dict[str, Any]:
        return {"shop_id": shop_id(shop.domain), "shop_domain": shop.domain}

    def _customer(self, shop: Shop, customer_id: int) -> dict[str, Any]:
        """`{id, email, phone}` from the shop's orders when the customer is known there, else nulls."""
        email: str | None = None
        phone: str | None = None
        for order in shop.orders.values():
            customer = order.get("customer")
            if isinstance(customer, dict) and customer.get("id") == customer_id:
                email = email or customer.get("email") or order.get("email")
                phone = phone or customer.get("phone") or order.get("phone")
        if email is None:
            email = next((known for known, cid in shop.customer_ids.items() if cid == customer_id), None)
        return {"id": customer_id, "email": email, "phone": phone}

    def _queue_privacy(self, shop: Shop, topic: str, payload: dict[str, Any], uri: str | None) -> None:
        target = uri or self._compliance_uri(shop)
        if not valid_callback(target):
            raise ValueError(f"compliance URI must be https: {target!r}")
        # Privacy webhooks have no subscription; each gets its own negative id so a delivery that exhausts its
        # retries drops nothing but itself.
        self._compliance_deliveries -= 1
        # Not through the delivery faults (no duplicate, no delay): they never were, and seeded runs keep their draws.
        self.sim.outbox.queue(
            PendingDelivery(
                delivery_id=new_uuid(self.sim.webhook_rng),
                event_id=new_uuid(self.sim.id_rng),
                tenant=shop.domain,
                subscription=str(self._compliance_deliveries),
                topic=topic,
                url=target,
                body=compact_json(payload),
                facts={"api_version": self.sim.api_version, "triggered_at": triggered_at(self.sim.now())},
            ),
            faults=False,
        )

    def _compliance_uri(self, shop: Shop) -> str:
        # The app last installed keeps receiving them after uninstall: shop/redact comes 48 h later.
        app = self.apps.get(shop.app_client_id or "")
        if app is None or app.compliance_uri is None:
            raise ValueError(f"{shop.domain}: no compliance webhook URI (pass uri= or register the app with one)")
        return app.compliance_uri
