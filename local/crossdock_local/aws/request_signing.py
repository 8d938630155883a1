"""Requests to the emulated DynamoDB, SQS and Step Functions carry SigV4's Authorization header without computing
its signature.

botocore signs every request with SigV4 (through awscrt when it is installed): a canonical request, a SHA-256 of
the body, a chain of HMACs — about 7 % of the busy time of a chaos run (issue 12's third profile), in the calls the
functions make most, for a signature nothing checks: moto verifies no signature (its IAM authentication is off;
the embedded stack decides what a caller may do by the calling function, `iam_enforcement`). What moto does read
from the header is the access key (`BaseResponse.get_access_key`: the caller's account, and for an assumed role's
key the role) and, where the URL does not name it, the region. So for these services the header keeps the shape
SigV4 gives it, `AWS4-HMAC-SHA256 Credential=<access key>/<date>/<region>/<service>/aws4_request,
SignedHeaders=host;x-amz-date, Signature=…`, with the caller's own access key and the date, region and signing
name botocore would sign with, and a signature of zeros; `X-Amz-Date` and `X-Amz-Security-Token` are set as SigV4
sets them. The `before-sign` event is still emitted. Everything else is signed by botocore as before: other
services (S3's payload hash is read by moto), presigned URLs, a client configured unsigned, and a request with
credentials or an identity cache of its own.

Written against botocore 1.43 (`RequestSigner.sign`, `_credentials`, `_signing_name`, `_region_name`) and moto
5.2.5, whose stubber reads the header after botocore's `before-send`.
`tests/component/test_request_signing.py` holds moto's answers to these requests equal to its answers to signed
ones.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import botocore
from botocore.signers import RequestSigner

# Signing names of the services whose requests carry the header unsigned: the ones the functions call per event.
UNSIGNED_SERVICES = frozenset({"dynamodb", "sqs", "states"})
_NO_SIGNATURE = "0" * 64
_SIGV4_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")

Sign = Callable[..., None]


def header_without_signature(signer: Any, operation_name: str, request: Any, region_name: str | None) -> bool:
    """Sets the SigV4 headers with a signature of zeros; False (nothing done) where botocore must sign itself."""
    signing = request.context.get("signing", {})
    credentials = signer._credentials
    if (
        signer._signing_name not in UNSIGNED_SERVICES
        or signer._signature_version in (botocore.UNSIGNED, None)
        or credentials is None
        or signing.get("signing_name")
        or signing.get("request_credentials")
        or signing.get("identity_cache") is not None
    ):
        return False
    region = region_name or signing.get("region") or signer._region_name
    signer._event_emitter.emit(
        f"before-sign.{signer._service_id.hyphenize()}.{operation_name}",
        request=request,
        signing_name=signer._signing_name,
        region_name=signer._region_name,
        signature_version=signer._signature_version,
        request_signer=signer,
        operation_name=operation_name,
    )
    frozen = credentials.get_frozen_credentials()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = request.headers
    for name in _SIGV4_HEADERS:
        if name in headers:
            del headers[name]
    headers["X-Amz-Date"] = stamp
    if frozen.token:
        headers["X-Amz-Security-Token"] = frozen.token
    scope = f"{stamp[:8]}/{region}/{signer._signing_name}/aws4_request"
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, "
        f"SignedHeaders=host;x-amz-date, Signature={_NO_SIGNATURE}"
    )
    return True


def without_signatures(original: Sign) -> Sign:
    def sign(
        signer: Any,
        operation_name: str,
        request: Any,
        region_name: str | None = None,
        signing_type: str = "standard",
        expires_in: int | None = None,
        signing_name: str | None = None,
    ) -> None:
        plain = signing_type == "standard" and signing_name is None and expires_in is None
        if plain and header_without_signature(signer, operation_name, request, region_name):
            return
        original(signer, operation_name, request, region_name, signing_type, expires_in, signing_name)

    return sign


def skip_signatures(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(RequestSigner, "sign", without_signatures(RequestSigner.sign)))
