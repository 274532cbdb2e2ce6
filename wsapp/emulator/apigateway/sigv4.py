"""SigV4 on ``@connections`` requests: AWS requires a signature on every Management API call.

By default any well-formed signature is accepted (there is no IAM locally). With credentials
configured, the signature is recomputed with botocore's signer and must match.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


def check(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: tuple[str, str] | None = None,
) -> str | None:
    """None when the request is acceptably signed, else the message AWS would give."""
    lowered = {k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in headers.items()}
    match = _AUTH.match(lowered.get("authorization", ""))
    if match is None or "x-amz-date" not in lowered:
        return "Missing Authentication Token"
    if credentials is None:
        return None
    key, secret = credentials
    if match["key"] != key:
        return "The security token included in the request is invalid."
    signed = match["signed"].split(";")
    # A header the signer derived rather than sent (``host`` of an in-process SDK call, which never
    # went through an HTTP stack) is derived again here from the URL, as botocore did.
    present = {h: lowered[h] for h in signed if h in lowered}
    request = AWSRequest(method=method, url=url, data=body, headers=present)
    request.context["timestamp"] = lowered["x-amz-date"]
    signer = SigV4Auth(Credentials(key, secret), match["service"], match["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return (
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return None
