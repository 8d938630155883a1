"""The Shopify simulator: Admin GraphQL API (graphql-core, `schema.graphql`), webhooks, OAuth app install, control API.

`ShopifySimulator` (simulator.py) is the entry point; the modules below it each hold one API resource, over the
state in `state.py` (see docs/local-runtime.md, "The Shopify simulator").
"""

from crossdock_local.sims.shopify.simulator import ShopifySimulator

__all__ = ["ShopifySimulator"]
