"""Crossdock: keeps Rackbeat, Shopify and friends in sync. Everything a Lambda function imports lives here."""
