"""Names under which a connection's Webshipper secrets are stored (KMS-encrypted, see `store.secrets`): one list, so
the functions that read them and the tools that write them cannot drift apart."""

# The user's password: kept so an expired password-grant token can be replaced without asking the merchant again
# (reference/webshipper.md "Auth": the password grant [seen W5]).
PASSWORD = "webshipper_password"
# A stored API token [seen W6, W7]; with one, no password or grant token is stored and nothing is renewed.
API_TOKEN = "webshipper_api_token"
# The current password-grant token; replaced single-flight when Webshipper answers 401 (see `tokens`).
ACCESS_TOKEN = "webshipper_access_token"
# The secret every webhook we register is signed with (base64 HMAC-SHA256 of the body [seen W7, W8]).
WEBHOOK_SECRET = "webshipper_webhook_secret"
