"""Names under which a connection's Shopbox secrets are stored (KMS-encrypted, see `store.secrets`): one list, so the
functions that read them and the tools that write them cannot drift apart."""

# The login's password: kept so an expired login token can be replaced without asking the merchant again.
SHOPBOX_PASSWORD = "shopbox_password"
# A long-lived `api-token` (reference/shopbox.md "Auth" [seen S2]); with one, no password or login token is stored.
SHOPBOX_API_TOKEN = "shopbox_api_token"
# The current login token (`accessToken`); replaced single-flight when Shopbox answers 401 (see `tokens`).
SHOPBOX_ACCESS_TOKEN = "shopbox_access_token"
