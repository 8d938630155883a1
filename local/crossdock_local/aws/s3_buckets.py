"""An `AWS::S3::Bucket` of the template, made in moto's S3 through the S3 API as CloudFormation would make it.

CloudFormation's property names are not the API's (`ServerSideEncryptionByDefault` is the API's
`ApplyServerSideEncryptionByDefault`, a rule's `ExpirationInDays` its `Expiration.Days`), so each property the
template uses is translated here; a property this module does not know is refused by name rather than dropped,
so a bucket is never quietly kinder locally than in AWS (no encryption, public access, no expiry).
"""

from __future__ import annotations

import re
from typing import Any

_KNOWN = frozenset(
    {
        "BucketName",
        "BucketEncryption",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "LifecycleConfiguration",
        "VersioningConfiguration",
        "Tags",
    }
)


def bucket_name(stack_name: str, logical_id: str) -> str:
    """CloudFormation's generated name: `<stack>-<logical id>-…`, lower case, at most 63 characters."""
    name = re.sub(r"[^a-z0-9.-]+", "-", f"{stack_name}-{logical_id}".lower()).strip("-.")
    return name[:63].rstrip("-.")


def create_bucket(s3: Any, region: str, name: str, props: dict[str, Any]) -> dict[str, str]:
    """Creates the bucket with the template's settings; returns its `Fn::GetAtt` attributes."""
    unknown = sorted(set(props) - _KNOWN)
    if unknown:
        raise ValueError(f"bucket {name}: properties {unknown} are not supported by the embedded runtime")
    request: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":  # the one region that refuses a location constraint naming itself
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**request)
    if "BucketEncryption" in props:
        rules = [_encryption_rule(rule) for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        block = {key: bool(value) for key, value in props["PublicAccessBlockConfiguration"].items()}
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if props.get("Tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
    return {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
    }


def _encryption_rule(rule: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
    if "BucketKeyEnabled" in rule:
        answer["BucketKeyEnabled"] = bool(rule["BucketKeyEnabled"])
    return answer


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        answer["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        answer["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        answer["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return answer
