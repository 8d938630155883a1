"""Names under which a connection's PeakWMS secrets are stored (KMS-encrypted, see `store.secrets`): one list, so
the functions that read them and the tools that write them cannot drift apart."""

# The customer's static API key, sent as `Authorization: Bearer …` [seen P1]; no expiry or refresh is known [guess].
API_KEY = "peakwms_api_key"
# The per-connection key every PeakWMS webhook address carries (`?key=…`): PeakWMS signs nothing and names no
# event, so the key in the address is what tells a delivery from a stranger's POST (reference/peakwms.md "Webhooks").
WEBHOOK_KEY = "peakwms_webhook_key"
