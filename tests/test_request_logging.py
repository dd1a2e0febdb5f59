"""Logs as JSON lines: each request's records carry its id, which the response echoes, and
one access line says what was asked, how it ended and for whom; no secret from the URL or
the form ends up in the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.factories import PASSWORD
from tests.logging_support import root_logging  # noqa: F401  (fixture)
from vouchers import create_app, logging_setup
from vouchers.extensions import db


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def access_lines(text: str) -> list[dict]:
    return [line for line in json_lines(text) if line["logger"] == logging_setup.ACCESS_LOGGER]


@pytest.fixture
def json_logs(root_logging, capsys):  # noqa: F811
    """The app's logs in JSON on stderr from here on; returns what has been written since."""
    logging_setup.configure_root("json", "INFO")
    capsys.readouterr()
    return lambda: capsys.readouterr().err


def test_a_request_logs_json_lines_with_its_id_echoed_in_the_response(client, make, json_logs):
    applicant = make.applicant()
    response = client.post("/account/login", data={"email": applicant.email,
                                                    "password": PASSWORD})
    assert response.status_code in (302, 303)
    refused = client.get("/manage/")  # not an applicant's page: refused, the refusal logged
    logged = json_lines(json_logs())

    refusal = next(line for line in logged if "permission refused" in line["message"])
    refused_request = next(line for line in logged if line["logger"] == logging_setup.ACCESS_LOGGER
                           and line["path"] == "/manage/")
    assert refused.headers["X-Request-ID"] == refusal["request_id"]
    assert refused_request["request_id"] == refusal["request_id"]
    assert refused_request["status"] == 404
    assert refused_request["user_id"] == applicant.id
    assert refused_request["method"] == "GET"
    assert isinstance(refused_request["duration_ms"], float)
    assert {"time", "level"} <= set(refused_request)
    assert PASSWORD not in json.dumps(logged)


def test_query_strings_and_tokens_in_the_url_stay_out_of_the_log(client, json_logs):
    client.get("/healthz?token=s3cret-query-token&password=hunter2hunter2")
    client.get("/account/reset/s3cret-path-token")
    logged = json_logs()
    assert "s3cret" not in logged and "hunter2" not in logged
    paths = [line["path"] for line in access_lines(logged)]
    assert paths == ["/healthz", "/account/reset/<reset_token>"]


def test_each_request_gets_its_own_id_and_a_clients_own_is_not_trusted(client, json_logs):
    first = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    second = client.get("/healthz")
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2 and "chosen-by-the-client" not in ids
    assert {line["request_id"] for line in access_lines(json_logs())} == ids


@pytest.fixture
def behind_a_proxy(database_url, tmp_path, root_logging):  # noqa: F811
    """An app told that one proxy stands in front and to log JSON, like `make serve`."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x" * 32,
                      "TRUSTED_PROXIES": 1, "LOG_FORMAT": "json",
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_trusted_proxys_request_id_is_kept_when_it_looks_like_one(behind_a_proxy, capsys):
    client = behind_a_proxy.test_client()
    proxied = client.get("/healthz", headers={"X-Request-ID": "9f86d081884c7d65-a.b:c"})
    forged = client.get("/healthz", headers={"X-Request-ID": 'x", "level": "forged'})
    assert proxied.headers["X-Request-ID"] == "9f86d081884c7d65-a.b:c"
    assert "forged" not in forged.headers["X-Request-ID"]
    ids = [line["request_id"] for line in access_lines(capsys.readouterr().err)]
    assert ids == ["9f86d081884c7d65-a.b:c", forged.headers["X-Request-ID"]]


def test_text_logs_for_development_carry_the_request_id(client, root_logging, capsys):  # noqa: F811
    logging_setup.configure_root("text", "INFO")
    response = client.get("/healthz")
    line = next(x for x in capsys.readouterr().err.splitlines() if "vouchers.access" in x)
    assert f"[{response.headers['X-Request-ID']}] GET /healthz 200" in line


@pytest.mark.parametrize(("environment", "expected"), [
    ({}, "text"), ({"APP_ENV": "production"}, "json"),
    ({"APP_ENV": "production", "LOG_FORMAT": "text"}, "text"), ({"LOG_FORMAT": "json"}, "json"),
])
def test_json_is_the_default_in_production_and_log_format_chooses(environment, expected,
                                                                 monkeypatch):
    for name in ("APP_ENV", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    app = SimpleNamespace(config={"APP_ENV": environment.get("APP_ENV", "development")})
    assert logging_setup.log_format_of(app) == expected


def test_gunicorn_config_of_make_serve_loads(tmp_path):
    """`make serve` runs gunicorn with vouchers/gunicorn_conf.py: it parses, its JSON
    logging config is accepted and the app it names loads."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items()
           if k not in ("APP_ENV", "DATABASE_URL", "SECRET_KEY")}
    env["INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "-c",
                             "vouchers/gunicorn_conf.py", "--check-config"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr



def test_an_error_on_a_page_with_a_token_logs_the_token_by_its_name(app, client, json_logs,
                                                                  monkeypatch):
    from vouchers.services import account_links

    def broken(_token, _purpose):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(account_links, "find", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    assert client.get("/account/reset/s3cret-path-token").status_code == 500
    logged = json_logs()
    assert "s3cret" not in logged
    error = next(line for line in json_lines(logged) if line["level"] == "ERROR")
    assert error["message"] == "Exception on /account/reset/<reset_token> [GET]"
    assert "the database went away" in error["exc_info"]
