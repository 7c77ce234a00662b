"""Token configuration of the HTTP services, the bearer check, and the loopback rule."""

from __future__ import annotations

import pytest
from mesh_platform.access.tokens import (
    LINEAGE,
    SERVE,
    ApiAuth,
    TokenConfigError,
    exposure_problem,
    is_loopback,
    load_auth,
)
from mesh_platform.cli import app

from tests.support import invoke

TOKEN = "t0ken-0123456789abcdef"


def test_no_configuration_is_open():
    auth = load_auth(SERVE, {})
    assert auth.token is None and not auth.required(write=True) and not auth.required(False)


def test_the_service_token_wins_over_the_shared_one():
    env = {"MESH_SERVE_TOKEN": TOKEN, "MESH_API_TOKEN": "shared-0123456789abcdef"}
    assert load_auth(SERVE, env).token == TOKEN
    assert load_auth(SERVE, env).source == "MESH_SERVE_TOKEN"
    assert load_auth(LINEAGE, env).token == "shared-0123456789abcdef"
    assert load_auth(LINEAGE, env).source == "MESH_API_TOKEN"


def test_a_mounted_secret_file_is_read_without_its_newline(tmp_path):
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    auth = load_auth(LINEAGE, {"MESH_LINEAGE_TOKEN_FILE": str(secret)})
    assert auth.token == TOKEN and auth.source == "MESH_LINEAGE_TOKEN_FILE"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MESH_SERVE_TOKEN": TOKEN, "MESH_SERVE_TOKEN_FILE": "/x"}, "both set"),
        ({"MESH_SERVE_TOKEN_FILE": "/nonexistent/token"}, "cannot read it"),
        ({"MESH_SERVE_TOKEN": "short"}, "at least 16"),
        ({"MESH_SERVE_TOKEN": "with space 0123456789"}, "printable ASCII"),
        ({"MESH_SERVE_PROTECT_READS": "1"}, "no token is configured"),
        ({"MESH_SERVE_TOKEN": TOKEN, "MESH_SERVE_PROTECT_READS": "maybe"}, "use 1"),
    ],
)
def test_unusable_configuration_is_named(env, message):
    with pytest.raises(TokenConfigError, match=message) as caught:
        load_auth(SERVE, env)
    assert TOKEN not in str(caught.value)


def test_an_empty_secret_file_is_refused(tmp_path):
    (tmp_path / "token").write_text("\n")
    with pytest.raises(TokenConfigError, match="empty"):
        load_auth(SERVE, {"MESH_SERVE_TOKEN_FILE": str(tmp_path / "token")})


def test_protected_reads():
    auth = load_auth(SERVE, {"MESH_API_TOKEN": TOKEN, "MESH_API_PROTECT_READS": "true"})
    assert auth.required(write=True) and auth.required(write=False)
    auth = load_auth(SERVE, {"MESH_API_TOKEN": TOKEN, "MESH_SERVE_PROTECT_READS": "0",
                             "MESH_API_PROTECT_READS": "1"})  # fmt: skip
    assert auth.required(write=True) and not auth.required(write=False)


def test_the_check_names_what_is_missing_and_never_repeats_a_token():
    auth = ApiAuth(SERVE, TOKEN, source="MESH_SERVE_TOKEN")
    assert auth.problem(f"Bearer {TOKEN}") is None
    assert auth.problem(f"bearer {TOKEN}") is None  # the scheme is case-insensitive
    assert "missing" in (auth.problem(None) or "")
    assert "not a bearer token" in (auth.problem(f"Basic {TOKEN}") or "")
    sent = "Bearer guessed-0123456789abcdef"
    problem = auth.problem(sent) or ""
    assert "not the one configured in MESH_SERVE_TOKEN" in problem and "guessed" not in problem
    assert auth.problem(f"Bearer {TOKEN}x") is not None
    assert TOKEN not in repr(auth)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.0.2.10", False),
     ("", False), ("no-such-host.invalid", False)],
)  # fmt: skip
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_exposure_needs_a_token_beyond_loopback():
    assert exposure_problem("127.0.0.1", ApiAuth(SERVE)) is None
    assert exposure_problem("0.0.0.0", ApiAuth(SERVE, TOKEN)) is None
    problem = exposure_problem("0.0.0.0", ApiAuth(SERVE)) or ""
    assert "MESH_SERVE_TOKEN" in problem and "--insecure" in problem


@pytest.mark.parametrize(
    ("command", "variable"), [(["serve"], "MESH_SERVE_TOKEN"),
                              (["lineage", "serve"], "MESH_LINEAGE_TOKEN")]
)  # fmt: skip
def test_the_services_refuse_an_open_non_loopback_bind(command, variable, monkeypatch):
    for key in ("MESH_SERVE_TOKEN", "MESH_LINEAGE_TOKEN", "MESH_API_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    result = invoke(app, *command, "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert variable in result.output and "--insecure" in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an error raised


def test_a_bad_token_file_stops_the_service_with_exit_2(monkeypatch):
    monkeypatch.setenv("MESH_SERVE_TOKEN_FILE", "/nonexistent/token")
    result = invoke(app, "serve")
    assert result.exit_code == 2 and "MESH_SERVE_TOKEN_FILE" in result.output


def test_insecure_runs_open_beyond_loopback_with_a_warning(monkeypatch, tmp_path):
    from mesh_platform.lineage import server

    for key in ("MESH_LINEAGE_TOKEN", "MESH_API_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    calls = []
    monkeypatch.setattr(server, "serve", lambda paths, **kw: calls.append(kw))
    result = invoke(app, "lineage", "serve", "--host", "0.0.0.0", "--insecure",
                    MESH_HOME=str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "WARNING: --insecure" in result.output and "MESH_LINEAGE_TOKEN" in result.output
    assert calls[0]["host"] == "0.0.0.0" and calls[0]["auth"].token is None
