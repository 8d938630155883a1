"""In-memory simulator of the Webshipper API v2 (`simulator.WebshipperSimulator`).

Follows the fact sheet `shared/reference/webshipper.md`: `/{account}/v2/...` (the account is the subdomain of
`https://{account}.api.webshipper.io/v2/`), `Authorization: Bearer` with a password-grant token (expires on the
simulator's clock) or a stored API token, JSON:API documents (string ids out, numeric or string ids in, 201 on
create, links-only relationships), fixed pages of 30, `filter[...]` in the plain and the value/operator form,
`ext_ref` unique per order channel (422), shipments with carrier and tracking that dispatch an order's lines,
tracking events, drop point lookups, and signed webhooks (`X-Webshipper-Hmac-Sha256`) sent through the shared base's
outbox. Whatever the sheet marks as a guess carries a "Guess:" comment and, where a client could meet another
answer, is a switch of `WebshipperRules`.

The package is layered (an import-linter contract holds it): `rules` and `state` at the bottom; `wire` (JSON:API
envelopes and errors) and `session`; `views` (resource objects) and `listing` (filters, pages); one module per API
resource, none importing another (`auth`, `channels`, `rates`, `orders`, `shipments`, `tracking`, `drop_points`,
`webhooks`); `control` (what a test or the demo does outside the API); `simulator` on top.
"""
