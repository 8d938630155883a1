"""Connection secrets (tokens, API keys, webhook secrets), KMS-encrypted with the connection id as context.

The encryption context binds a ciphertext to its connection: a secret copied into another connection's item
cannot be decrypted there. Plaintext never leaves this module except as a return value, and is never logged.
"""

from __future__ import annotations

import time
from typing import Any

from crossdock.store import keys

# Ingest runs on every webhook; a KMS call per request would cost latency and money, so decrypted secrets are kept
# for a short while per container. A rotated secret is picked up within this many seconds.
CACHE_SECONDS = 60.0


class SecretStore:
    def __init__(self, table: Any, kms: Any, key_id: str | None) -> None:
        self._table = table
        self._kms = kms
        self._key_id = key_id
        self._cache: dict[tuple[str, str], tuple[float, str]] = {}

    def put(self, connection_id: str, name: str, value: str) -> None:
        self._table.put_item(Item=self.sealed(connection_id, name, value))
        self._cache.pop((connection_id, name), None)

    def sealed(self, connection_id: str, name: str, value: str) -> dict[str, Any]:
        """The secret's table item, encrypted and not written: for a caller that stores it in one transaction with
        what it belongs to (a new connection and its secrets, all or nothing)."""
        if not self._key_id:
            raise RuntimeError("KEY_ID is not configured: secrets cannot be encrypted")
        blob = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=value.encode(), EncryptionContext={"connection_id": connection_id}
        )["CiphertextBlob"]
        return {"pk": keys.connection_pk(connection_id), "sk": keys.secret_sk(name), "ciphertext": blob}

    def get(self, connection_id: str, name: str) -> str | None:
        cached = self._cache.get((connection_id, name))
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        item = self._table.get_item(Key={"pk": keys.connection_pk(connection_id), "sk": keys.secret_sk(name)}).get(
            "Item"
        )
        if item is None:
            return None
        blob = item["ciphertext"]
        plaintext: str = self._kms.decrypt(
            CiphertextBlob=bytes(blob.value if hasattr(blob, "value") else blob),
            EncryptionContext={"connection_id": connection_id},
        )["Plaintext"].decode()
        self._cache[(connection_id, name)] = (time.monotonic(), plaintext)
        return plaintext

    def fresh(self, connection_id: str, name: str) -> str | None:
        # Values are kept a minute per container; a token another container refreshed a moment ago must be seen
        # at once, so this container's copy is dropped before reading.
        self._cache.pop((connection_id, name), None)
        return self.get(connection_id, name)

    def delete(self, connection_id: str, name: str) -> None:
        self._table.delete_item(Key={"pk": keys.connection_pk(connection_id), "sk": keys.secret_sk(name)})
        self._cache.pop((connection_id, name), None)
