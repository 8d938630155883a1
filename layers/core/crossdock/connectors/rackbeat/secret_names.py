"""Names under which a connection's Rackbeat secrets are stored (KMS-encrypted, see `store.secrets`): one list, so the
functions that read them and the tools that write them cannot drift apart."""

RACKBEAT_API_KEY = "rackbeat_api_key"
RACKBEAT_WEBHOOK_TOKENS = "rackbeat_webhook_tokens"  # a JSON list: Rackbeat issues one token per webhook
