"""What an operator does to a running Crossdock: look at connections, events, dead letters and status, and ask
for work again (retry an event, redrive dead letters, resync an order).

Every function takes an `OperatorTarget` (the stack's table and queues, as boto3 objects), so the same code runs
against a deployed stack and against the embedded one. Looking reads only; the writes only put messages on the
stack's own queues and mark events — the deployed functions do the work, so an operator needs AWS permissions and
never a merchant's Shopify or Rackbeat credentials.
"""
