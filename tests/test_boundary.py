"""The request boundary holds: one place commits, views read as parse, call, render.

These tests read the source (the AST of vouchers/) and the URL map, so a view added
later that commits, rolls back, queries the database or skips the boundary fails them.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "vouchers"
# The request boundary commits for web requests; the CLI commits for its commands.
COMMITTERS = {APP / "boundary.py", APP / "cli.py", APP / "cli_payments.py",
              APP / "cli_reminders.py", APP / "cli_rates.py", APP / "cli_privacy.py",
              # The mail sender commits each claim before it talks to the mail server (so
              # no write lock is held during network I/O and two senders never both win
              # a row), and each outcome after: no caller could commit in between.
              APP / "services" / "mail_sender.py",
              # A job runs outside any request and its page must see its progress while it
              # works: the runner commits its claim, each step and the outcome, and the
              # sweep each expired file's row before the file goes (vouchers/jobs/).
              APP / "jobs" / "runner.py", APP / "jobs" / "sweep.py",
              # The API's own boundary: one commit per change, like boundary.py, and
              # a token's last use (at most every ten minutes) as it identifies the caller.
              APP / "api" / "boundary.py"}
VIEW_PACKAGES = ("applicant", "evaluator", "manager", "auth", "files", "public")
# In view packages, these modules hold forms and set-up, not views.
NOT_VIEWS = {"forms.py", "forms_calls.py", "blueprint.py", "__init__.py"}
# What a view may not touch: the session, queries, pagination of queries.
QUERY_NAMES = {"select", "update", "insert", "delete", "func", "or_", "and_", "exists"}
MAX_MODULE_LINES = 400
MAX_VIEW_LINES = 15


def _python_files(*folders: Path):
    for folder in folders:
        yield from sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _calls_named(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            node.func.attr == name
        ):
            yield node


def _view_modules():
    for package in VIEW_PACKAGES:
        for path in _python_files(APP / package):
            if path.name not in NOT_VIEWS:
                yield path


def test_only_the_boundary_and_the_cli_commit():
    found = []
    for path in _python_files(APP):
        tree = ast.parse(path.read_text(), str(path))
        for node in _calls_named(tree, "commit"):
            if path not in COMMITTERS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_views_neither_roll_back_nor_query():
    found = []
    for path in _view_modules():
        tree = ast.parse(path.read_text(), str(path))
        for node in _calls_named(tree, "rollback"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} rollback()")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith("sqlalchemy")
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.Attribute) and node.attr in {"session", "paginate",
                                                                 "get_or_404"} and (
                isinstance(node.value, ast.Name) and node.value.id == "db"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} db.{node.attr}")
            if isinstance(node, ast.Name) and node.id in QUERY_NAMES and isinstance(
                node.ctx, ast.Load
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.id}")
    assert found == []


def test_every_route_goes_through_the_boundary(app):
    undeclared = [endpoint for endpoint, view in app.view_functions.items()
                  if endpoint != "static" and not hasattr(view, "permission")]
    assert undeclared == []


def _body_lines(function) -> int:
    """Lines of a function's body, its docstring left out."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def test_views_read_as_parse_call_render(app):
    long = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        lines = _body_lines(getattr(view, "__wrapped__", view))
        if lines > MAX_VIEW_LINES:
            long.append(f"{endpoint}: {lines} lines")
    assert long == []


@pytest.mark.parametrize("folder", ["vouchers", "workflows", "exports"])
def test_modules_are_of_a_readable_size(folder):
    big = []
    for path in _python_files(ROOT / folder):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert big == []


def test_a_refusal_met_while_drawing_a_page_is_its_message_not_a_server_error(
        app, client, monkeypatch, caplog):
    from vouchers.public import views
    from vouchers.services.errors import InvalidInput

    # The home page an earlier test drew for a visitor may still be kept
    # (vouchers/page_cache.py): this test is about drawing it.
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)

    def refused(_now):
        raise InvalidInput("The calls cannot be listed just now.")

    monkeypatch.setattr(views, "open_calls", refused)
    response = client.get("/")
    assert response.status_code == 422
    assert "The calls cannot be listed just now." in response.get_data(as_text=True)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
