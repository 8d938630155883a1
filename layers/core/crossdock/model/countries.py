"""Which countries are in the EU, for the VAT zone an order's delivery country puts it in.

One list, written out: membership changes by treaty, rarely, and a library's idea of "Europe" (the continent, the
EEA, the customs union) is not the VAT area. As of 2026-12-07 the EU has 27 members (the United Kingdom left on
2020-01-31). ISO 3166 alpha-2 codes as Shopify sends them (Greece is GR, not the VAT prefix EL). Territories with
codes of their own are not members: the Faroe Islands (FO) and Greenland (GL) are Danish but outside the EU, as is
Åland (AX) for VAT. Special territories that an address writes with a member's code (the Canary Islands are ES) are
not told apart (docs/known-limits.md).
"""

from __future__ import annotations

EU_MEMBERS = frozenset(
    {
        "AT",  # Austria
        "BE",  # Belgium
        "BG",  # Bulgaria
        "CY",  # Cyprus
        "CZ",  # Czechia
        "DE",  # Germany
        "DK",  # Denmark
        "EE",  # Estonia
        "ES",  # Spain
        "FI",  # Finland
        "FR",  # France
        "GR",  # Greece
        "HR",  # Croatia
        "HU",  # Hungary
        "IE",  # Ireland
        "IT",  # Italy
        "LT",  # Lithuania
        "LU",  # Luxembourg
        "LV",  # Latvia
        "MT",  # Malta
        "NL",  # Netherlands
        "PL",  # Poland
        "PT",  # Portugal
        "RO",  # Romania
        "SE",  # Sweden
        "SI",  # Slovenia
        "SK",  # Slovakia
    }
)


def in_eu(country_code: str) -> bool:
    return country_code.upper() in EU_MEMBERS
