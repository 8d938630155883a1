"""In-memory simulator of the Rackbeat ERP API (`simulator.RackbeatSimulator`).

Follows the fact sheet `shared/reference/rackbeat.md`: bearer-key auth, 480 requests/minute per token, singular
envelopes for one resource and plural envelopes with paging fields answered as HTTP 206 for lists,
`simple_filter[<field>]` / `search=` filters, 422 `{"errors": {"<field.path>": ["..."]}}`, orders that go
draft → booked → shipment → shipped → invoice, and webhooks authenticated by a static token with the minimal
body `{"key_name": ..., "key": ...}`. Whatever the sheet marks as a guess, or the simulator had to invent, carries a
"Guess:" comment so the client stays tolerant of the alternatives.

Money is kept as `Decimal` in the state and emitted as strings with at least two decimals ("199.00"); quantities and
percentages are emitted as JSON numbers. The package is layered (an import-linter contract holds it): `state` at the
bottom; `wire` and `session`, `paging`, then the rules several resources share (`fulfilment`, `catalogue`,
`pricing`); one module per API resource, none importing another; `simulator` composing them on top.
"""
