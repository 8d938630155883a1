"""A simulator of the PeakWMS integration API v1 (`/work/shared/reference/peakwms.md`), for issue 16.

Mounted at `/_sim/peakwms/<customer>/api/integration/v1` (the customer stands in for the API key's account, which
the real API finds from the key alone). Modules: `state` (what it remembers), `rules` (the fact sheet's guesses as
switches), `wire` (PeakWMS's error bodies, field checks), `session` (a handler's context), `auth`, `paging`
(keyset pages), `products`, `stock`, `orders` (sales orders and their hold), `fulfilment` (pick orders, packing,
shipping, refunds), `webhooks`, `history` (sales history), `control` (what a test or an operator does in PeakWMS
itself), `simulator` (the pipeline).
"""
