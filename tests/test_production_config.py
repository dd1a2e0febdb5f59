"""In production (APP_ENV=production, which `make serve` sets) the app refuses the
development secret and SQLite unless told explicitly, in one line and without a
traceback, and its cookies are Secure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.logging_support import root_logging  # noqa: F401  (fixture)
from vouchers import create_app
from vouchers.config import UnsafeProductionSettings

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = "postgresql://vouchers@db.internal:5432/vouchers"  # never connected to here
SETTINGS = ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "ALLOW_SQLITE_IN_PRODUCTION",
            "ALLOW_GENERATED_SECRET_KEY", "SESSION_COOKIE_SECURE", "TRUSTED_PROXIES",
            "LOG_FORMAT")


@pytest.fixture
def environment(monkeypatch, tmp_path, root_logging):  # noqa: F811
    """A clean environment for create_app(); returns a setter for its variables."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))

    def set_(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_


def test_production_refuses_the_development_secret_and_sqlite(environment):
    environment(APP_ENV="production")
    with pytest.raises(UnsafeProductionSettings) as refused:
        create_app()
    message = str(refused.value)
    assert "\n" not in message
    assert "SECRET_KEY is not set" in message and "DATABASE_URL is SQLite" in message
    assert refused.value.code == message  # SystemExit: printed as is, exit status 1


def test_production_with_its_own_secret_and_postgresql_starts(environment):
    environment(APP_ENV="production", SECRET_KEY="s" * 48, DATABASE_URL=POSTGRES)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize(("variables", "refused_for"), [
    ({"SECRET_KEY": "s" * 48}, "DATABASE_URL is SQLite"),
    ({"DATABASE_URL": POSTGRES}, "SECRET_KEY is not set"),
])
def test_each_unsafe_setting_is_refused_alone(environment, variables, refused_for):
    environment(APP_ENV="production", **variables)
    with pytest.raises(UnsafeProductionSettings, match=refused_for):
        create_app()


@pytest.mark.parametrize("variables", [
    {"SECRET_KEY": "s" * 48, "ALLOW_SQLITE_IN_PRODUCTION": "1"},
    {"DATABASE_URL": POSTGRES, "ALLOW_GENERATED_SECRET_KEY": "1"},
    {"ALLOW_SQLITE_IN_PRODUCTION": "1", "ALLOW_GENERATED_SECRET_KEY": "1"},
])
def test_an_explicit_flag_allows_what_it_names(environment, variables):
    environment(APP_ENV="production", **variables)
    assert create_app().config["APP_ENV"] == "production"


def test_development_needs_none_of_it_and_keeps_plain_http_cookies(environment):
    app = create_app()
    assert app.config["APP_ENV"] == "development"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_secure_cookies_can_be_turned_off_for_a_plain_http_deployment(environment):
    environment(APP_ENV="production", SECRET_KEY="s" * 48, DATABASE_URL=POSTGRES,
                SESSION_COOKIE_SECURE="0")
    assert create_app().config["SESSION_COOKIE_SECURE"] is False


def test_behind_a_trusted_proxy_its_https_counts(environment):
    environment(APP_ENV="production", SECRET_KEY="s" * 48, DATABASE_URL=POSTGRES,
                TRUSTED_PROXIES="1")
    client = create_app().test_client()
    response = client.get("/favicon.ico", headers={"X-Forwarded-Proto": "https"})
    response.close()
    assert "Strict-Transport-Security" in response.headers


def test_the_flask_command_refuses_in_one_line_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(APP_ENV="production", FLASK_APP="vouchers", INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("Refusing")]
