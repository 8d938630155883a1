"""In-memory simulator of the Shopbox POS API v3 (`simulator.ShopboxSimulator`).

Follows the fact sheet `shared/reference/shopbox.md`: auth in the query string (`accessToken=` or `api-token=`,
plus `client=` choosing the tenant), login tokens that expire on the simulator's clock and API tokens that never
do, integer øre, products with `product_variances` and the create-or-update upsert, stock per branch, baskets
(sales) made at the till through the control API, listed only after a delay, newest first, cancelled later, and
lists in `{"data": [...], "meta": {"pagination": ...}}`. Whatever the sheet marks as a guess carries a "Guess:"
comment and, where a client could meet another answer, is a switch of `ShopboxRules`.

The package is layered (an import-linter contract holds it): `rules` and `state` at the bottom; `wire` and
`session`; `paging` and `sale_generator` (varied sales); one module per API resource, none importing another
(`auth`, `branches`, `tags`, `products`, `inventories`, `baskets`, and `push`, the optional stock-delta push);
`control` (the `/_control/...` calls a test or the demo makes); `simulator` on top.
"""
