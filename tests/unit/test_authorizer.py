import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from wsapp.auth import issue_token
from wsapp.errors import ConfigError, Unauthorized
from wsapp.handlers.authorizer import handler

SECRET = "k" * 40
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/$connect"
STAGE_RESOURCE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*"


@pytest.fixture(autouse=True)
def token_secret(monkeypatch):
    monkeypatch.setenv("TOKEN_SECRET", SECRET)


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_signed(alg, claims, digest):
    """Correctly signed with SECRET, so only the ``alg`` header is wrong."""
    signing_input = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}"
    return f"{signing_input}.{b64(hmac.new(SECRET.encode(), signing_input.encode(), digest).digest())}"


def now():
    return int(time.time())


def request_with(event, protocols):
    """The sample authorizer event with ``Sec-WebSocket-Protocol`` replaced (None: header absent)."""
    raw = event("authorizer_request")
    del raw["headers"]["Sec-WebSocket-Protocol"]
    del raw["multiValueHeaders"]["Sec-WebSocket-Protocol"]
    if protocols is not None:
        raw["headers"]["Sec-WebSocket-Protocol"] = protocols
        raw["multiValueHeaders"]["Sec-WebSocket-Protocol"] = [protocols]
    return raw


def fresh_token(sub="alice", **kwargs):
    return issue_token(sub, secret=SECRET, ttl=300, **kwargs)


def deny():
    return {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}],
        },
    }


def test_a_valid_token_is_allowed_for_the_whole_stage(event):
    result = handler(request_with(event, f"wsapp.v1, {fresh_token('carol')}"), None)

    assert result == {
        "principalId": "carol",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_RESOURCE}],
        },
        "context": {"sub": "carol"},
    }


def test_a_token_offered_alone_is_allowed(event):
    assert handler(request_with(event, fresh_token()), None)["principalId"] == "alice"


def test_a_hand_signed_hs256_token_is_allowed_so_the_alg_forgeries_differ_only_in_alg(event):
    token = hand_signed("HS256", {"sub": "dave", "exp": now() + 60}, hashlib.sha256)

    assert handler(request_with(event, f"wsapp.v1, {token}"), None)["principalId"] == "dave"


def test_the_header_is_found_in_any_casing(event):
    raw = request_with(event, None)
    raw["headers"]["sec-websocket-protocol"] = f"wsapp.v1, {fresh_token()}"

    assert handler(raw, None)["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def forged_tokens():
    good = fresh_token()
    header, payload, signature = good.split(".")
    claims = {"sub": "alice", "iat": now(), "exp": now() + 300}
    return {
        "expired": issue_token("alice", secret=SECRET, ttl=60, now=now() - 120),
        "not yet valid (nbf)": fresh_token(claims={"nbf": now() + 3600}),
        "wrong key": issue_token("alice", secret="w" * 40, ttl=300),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "alg none with the good signature": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}",
        "HS512": hand_signed("HS512", claims, hashlib.sha512),
        "RS256 header, HMAC signature": hand_signed("RS256", claims, hashlib.sha256),
        "tampered payload": f"{header}.{b64({**claims, 'sub': 'mallory'})}.{signature}",
        "truncated signature": good[:-6],
        "signature dropped": f"{header}.{payload}",
        "garbage": "not-a-token",
        "three garbage segments": "a.b.c",
        "no sub": jwt.encode({"iat": now(), "exp": now() + 300}, SECRET, algorithm="HS256"),
        "no exp": jwt.encode({"sub": "alice", "iat": now()}, SECRET, algorithm="HS256"),
    }


@pytest.mark.parametrize("case", sorted(forged_tokens()))
def test_a_bad_token_is_denied(event, case):
    token = forged_tokens()[case]

    assert handler(request_with(event, f"wsapp.v1, {token}"), None) == deny()


@pytest.mark.parametrize("protocols", [None, "", "wsapp.v1", " wsapp.v1 , "])
def test_without_a_token_the_authorizer_fails_with_exactly_unauthorized(event, protocols):
    with pytest.raises(Unauthorized) as caught:
        handler(request_with(event, protocols), None)

    assert str(caught.value) == "Unauthorized"
    assert caught.value.args == ("Unauthorized",)


@pytest.mark.parametrize("secret", [None, "", "short"])
def test_a_missing_or_short_token_secret_raises_so_api_gateway_answers_500(event, monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("TOKEN_SECRET")
    else:
        monkeypatch.setenv("TOKEN_SECRET", secret)

    with pytest.raises(ConfigError):
        handler(request_with(event, f"wsapp.v1, {fresh_token()}"), None)


@pytest.mark.parametrize("case", ["valid", "expired", "wrong key", "garbage"])
def test_the_token_never_appears_in_the_logs(event, log_output, case):
    token = fresh_token() if case == "valid" else forged_tokens()[case]

    handler(request_with(event, f"wsapp.v1, {token}"), None)

    logs = log_output()
    assert logs.strip(), "the authorizer logs its decision"
    assert token not in logs
    for part in token.split("."):
        if len(part) > 8:
            assert part not in logs


def test_the_decision_is_logged_with_the_request_keys(event, log_output):
    handler(request_with(event, f"wsapp.v1, {forged_tokens()['expired']}"), None)

    [line] = [json.loads(line) for line in log_output().splitlines()]
    assert line["message"] == "token rejected"
    assert line["reason"] == "ExpiredSignatureError"
    assert line["request_id"] == "Ux7kQFb1IAMFa_g="
    assert line["connection_id"] == "Ux7kQd2RIAMCF3w="
