"""Names under which a connection's Shopify secrets are stored (KMS-encrypted, see `store.secrets`): one list, so the
functions that read them and the tools that write them cannot drift apart."""

SHOPIFY_APP_SECRET = "shopify_app_secret"
SHOPIFY_PREVIOUS_APP_SECRET = "shopify_app_secret_previous"  # accepted too while a rotation is under way
SHOPIFY_ACCESS_TOKEN = "shopify_access_token"  # the offline Admin API token of the shop
# Expiring offline tokens (reference/shopify.md, "App install"): the refresh token, and when the access token
# expires (epoch seconds, as text). Absent for non-expiring tokens.
SHOPIFY_REFRESH_TOKEN = "shopify_refresh_token"
SHOPIFY_ACCESS_TOKEN_EXPIRES_AT = "shopify_access_token_expires_at"
