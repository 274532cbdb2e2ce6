import pytest

from wsapp.auth import LOCAL_DEV_SECRET, verify_token
from wsapp.cli import main

SECRET = "c" * 32


def one_token(capsys):
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    return lines[0]


def test_token_prints_one_token_for_the_subject_and_ttl(capsys):
    assert main(["token", "--sub", "alice", "--ttl", "3600", "--secret", SECRET]) == 0

    claims = verify_token(one_token(capsys), secret=SECRET)
    assert claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 3600


def test_the_ttl_defaults_to_an_hour(capsys):
    main(["token", "--sub", "alice", "--secret", SECRET])

    claims = verify_token(one_token(capsys), secret=SECRET)
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize(
    ("argv_secret", "env", "expected"),
    [
        ("a" * 32, {"WSAPP_TOKEN_SECRET": "b" * 32, "TOKEN_SECRET": "c" * 32}, "a" * 32),
        (None, {"WSAPP_TOKEN_SECRET": "b" * 32, "TOKEN_SECRET": "c" * 32}, "b" * 32),
        (None, {"WSAPP_TOKEN_SECRET": "", "TOKEN_SECRET": "c" * 32}, "c" * 32),
        (None, {"TOKEN_SECRET": "c" * 32}, "c" * 32),
        (None, {}, LOCAL_DEV_SECRET),
    ],
    ids=["--secret", "WSAPP_TOKEN_SECRET", "empty-means-unset", "TOKEN_SECRET", "local-dev-default"],
)
def test_the_secret_comes_from_the_flag_then_the_environment_then_the_dev_default(
    capsys, monkeypatch, argv_secret, env, expected
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = ["token", "--sub", "alice"] + (["--secret", argv_secret] if argv_secret else [])

    assert main(argv) == 0

    assert verify_token(one_token(capsys), secret=expected)["sub"] == "alice"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sub", "alice", "--secret", "too-short"], "the secret from --secret is 9 bytes"),
        (["--sub", "", "--secret", SECRET], "--sub must name a subject"),
        (["--sub", "   ", "--secret", SECRET], "--sub must name a subject"),
        (["--sub", "alice", "--ttl", "0", "--secret", SECRET], "--ttl must be a positive number"),
        (["--sub", "alice", "--ttl", "-5", "--secret", SECRET], "--ttl must be a positive number"),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(capsys, args, message):
    assert main(["token", *args]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"wsapp token: {message}")


def test_a_short_secret_from_the_environment_names_the_variable_but_not_the_secret(capsys, monkeypatch):
    monkeypatch.setenv("TOKEN_SECRET", "hunter2")

    assert main(["token", "--sub", "alice"]) == 2

    err = capsys.readouterr().err
    assert "$TOKEN_SECRET" in err
    assert "hunter2" not in err


def test_the_secret_is_never_printed(capsys):
    main(["token", "--sub", "alice", "--secret", SECRET])

    out, err = capsys.readouterr()
    assert SECRET not in out + err


def test_a_missing_sub_is_an_argparse_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["token"])

    assert caught.value.code == 2
    assert "--sub" in capsys.readouterr().err
