"""The shop's `web_url` as the merchant types it, turned into its admin domain (SPEC §4: the `*.myshopify.com`
admin domain, not the storefront URL).

Accepted with or without `https://`, a trailing slash or `/admin`. A storefront URL (`https://www.acme.dk`) does not
name the Admin API and is refused rather than guessed from: a custom domain says nothing about the shop's handle.
"""

from __future__ import annotations

import re

WEB_URL = "web_url"

# A shop's handle is a DNS label; Shopify's admin domain is always `<handle>.myshopify.com`.
_ADMIN_DOMAIN = re.compile(r"(?:https?://)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.myshopify\.com(?:/admin)?/?")


def shop_domain_of(web_url: str) -> str:
    """The shop's admin domain (`acme-dk.myshopify.com`) from what the merchant typed; `ValueError` with the words
    an operator needs when it is not one (a storefront URL, a blank)."""
    typed = web_url.strip().lower()
    found = _ADMIN_DOMAIN.fullmatch(typed)
    if found is None:
        if not typed:
            raise ValueError("is empty (the shop's admin domain, <shop>.myshopify.com)")
        raise ValueError(
            f"'{web_url.strip()}' is not the shop's admin domain: give <shop>.myshopify.com (Shopify admin → "
            "Settings → Domains shows it), not the storefront URL"
        )
    return f"{found.group(1)}.myshopify.com"
