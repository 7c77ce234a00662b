"""`mesh automation start` names the webserver it could not reach, and reads the profile's URL."""

from __future__ import annotations

from mesh_platform.cli import app
from mesh_platform.cli.automation import WEBSERVER_ENV
from mesh_platform.orchestration.profile import WEBSERVER_ENV as PROFILE_WEBSERVER_ENV
from typer.testing import CliRunner

from tests.support import free_port


def test_the_cli_reads_the_variable_the_profile_sets():
    assert WEBSERVER_ENV == PROFILE_WEBSERVER_ENV


def test_an_unreachable_webserver_is_named_in_one_line(monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(WEBSERVER_ENV, url)
    result = CliRunner().invoke(app, ["automation", "start"])
    assert result.exit_code == 1
    assert f"the Dagster webserver at {url} did not answer" in result.output
    assert "Traceback" not in result.output
