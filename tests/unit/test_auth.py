import base64
import hashlib
import hmac
import json

import jwt
import pytest

from wsapp.auth import (
    LOCAL_DEV_SECRET,
    app_protocols,
    issue_token,
    secret_from_env,
    split_offer,
    verify_token,
)
from wsapp.errors import ConfigError, InvalidToken

SECRET = "s" * 32
NOW = 1_720_517_520
FAR = 4_102_444_800  # 2100-01-01


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_signed(header, payload, secret=SECRET, digest=hashlib.sha256):
    """A token built by hand, HMAC-signed with ``digest`` whatever ``header`` claims."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def test_an_issued_token_verifies_with_its_claims():
    token = issue_token("alice", secret=SECRET, ttl=60, now=NOW)

    assert verify_token(token, secret=SECRET, now=NOW) == {"sub": "alice", "iat": NOW, "exp": NOW + 60}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_extra_claims_are_carried_but_cannot_replace_the_standard_ones():
    token = issue_token("alice", secret=SECRET, ttl=60, now=NOW, claims={"tenant": "t-42", "sub": "root"})

    claims = verify_token(token, secret=SECRET, now=NOW)
    assert claims == {"tenant": "t-42", "sub": "alice", "iat": NOW, "exp": NOW + 60}


def test_a_token_is_valid_until_the_second_it_expires():
    token = issue_token("alice", secret=SECRET, ttl=60, now=NOW)

    assert verify_token(token, secret=SECRET, now=NOW + 59)["sub"] == "alice"
    with pytest.raises(InvalidToken, match="ExpiredSignatureError"):
        verify_token(token, secret=SECRET, now=NOW + 60)


def test_a_fixed_now_in_the_future_is_honoured_rather_than_the_wall_clock():
    later = 4_000_000_000  # year 2096
    token = issue_token("alice", secret=SECRET, ttl=60, now=later)

    assert verify_token(token, secret=SECRET, now=later + 1)["sub"] == "alice"
    with pytest.raises(InvalidToken, match="ImmatureSignatureError"):
        verify_token(token, secret=SECRET, now=later - 1)


def test_a_token_before_its_not_before_time_is_rejected():
    token = issue_token("alice", secret=SECRET, ttl=600, now=NOW, claims={"nbf": NOW + 30})

    with pytest.raises(InvalidToken, match="ImmatureSignatureError"):
        verify_token(token, secret=SECRET, now=NOW + 29)
    assert verify_token(token, secret=SECRET, now=NOW + 30)["sub"] == "alice"


def test_without_now_the_wall_clock_decides():
    fresh = issue_token("alice", secret=SECRET, ttl=60)
    stale = issue_token("alice", secret=SECRET, ttl=60, now=NOW)

    assert verify_token(fresh, secret=SECRET)["sub"] == "alice"
    with pytest.raises(InvalidToken, match="ExpiredSignatureError"):
        verify_token(stale, secret=SECRET)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"sub": "alice", "iat": NOW}, "MissingRequiredClaimError"),
        ({"iat": NOW, "exp": FAR}, "MissingRequiredClaimError"),
        ({"sub": 42, "iat": NOW, "exp": FAR}, "InvalidSubjectError"),
        ({"sub": "alice", "iat": NOW, "exp": "soon"}, "DecodeError"),
        ({"sub": "alice", "iat": NOW, "exp": FAR, "nbf": [1]}, "DecodeError"),
        ({"sub": "alice", "iat": "today", "exp": FAR}, "InvalidIssuedAtError"),
    ],
)
@pytest.mark.parametrize("now", [NOW, None], ids=["fixed-now", "wall-clock"])
def test_malformed_claims_are_an_invalid_token(payload, reason, now):
    token = jwt.encode(payload, SECRET, algorithm="HS256")

    with pytest.raises(InvalidToken, match=reason):
        verify_token(token, secret=SECRET, now=now)


def test_a_token_signed_with_another_secret_is_rejected():
    token = issue_token("alice", secret="t" * 32, ttl=60, now=NOW)

    with pytest.raises(InvalidToken, match="InvalidSignatureError"):
        verify_token(token, secret=SECRET, now=NOW)


@pytest.mark.parametrize("alg", ["none", "HS512", "RS256", "ES256"])
def test_only_hs256_is_accepted(alg):
    payload = {"sub": "alice", "iat": NOW, "exp": NOW + 60}
    if alg == "none":
        token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    elif alg == "HS512":
        token = hand_signed({"alg": alg, "typ": "JWT"}, payload, digest=hashlib.sha512)
    else:
        token = hand_signed({"alg": alg, "typ": "JWT"}, payload)

    with pytest.raises(InvalidToken, match="InvalidAlgorithmError"):
        verify_token(token, secret=SECRET, now=NOW)


def test_issuing_needs_a_subject_and_a_long_enough_secret():
    with pytest.raises(ValueError, match="subject"):
        issue_token("", secret=SECRET)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        issue_token("alice", secret="s" * 31)


def test_the_local_development_secret_is_long_enough_to_sign_with():
    token = issue_token("alice", secret=LOCAL_DEV_SECRET, ttl=60, now=NOW)
    assert verify_token(token, secret=LOCAL_DEV_SECRET, now=NOW)["sub"] == "alice"


def test_the_secret_comes_from_token_secret():
    assert secret_from_env({"TOKEN_SECRET": SECRET}) == SECRET


@pytest.mark.parametrize("env", [{}, {"TOKEN_SECRET": ""}, {"TOKEN_SECRET": "s" * 31}])
def test_a_missing_or_short_secret_is_a_config_error(env):
    with pytest.raises(ConfigError, match="TOKEN_SECRET must be set to a secret of at least 32 bytes"):
        secret_from_env(env)


def test_the_secret_length_is_counted_in_bytes():
    assert secret_from_env({"TOKEN_SECRET": "é" * 16}) == "é" * 16


@pytest.mark.parametrize(
    ("header", "apps", "token"),
    [
        ("wsapp.v1, abc.def.ghi", ["wsapp.v1"], "abc.def.ghi"),
        ("abc.def.ghi,wsapp.v1", ["wsapp.v1"], "abc.def.ghi"),
        ("wsapp.v1", ["wsapp.v1"], None),
        ("", [], None),
        (None, [], None),
        (" , ,", [], None),
        ("first, second", [], "first"),
    ],
)
def test_split_offer_separates_application_protocols_from_the_token(header, apps, token):
    assert split_offer(header, ["wsapp.v1"]) == (apps, token)


def test_application_protocols_default_to_wsapp_v1_and_can_be_configured():
    assert app_protocols({}) == ("wsapp.v1",)
    assert app_protocols({"WSAPP_SUBPROTOCOLS": ""}) == ("wsapp.v1",)
    assert app_protocols({"WSAPP_SUBPROTOCOLS": " chat.v2 , ,wsapp.v1"}) == ("chat.v2", "wsapp.v1")
