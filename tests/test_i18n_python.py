"""The app's Python says nothing to a person in English only.

tests/test_i18n.py holds the templates to their marking; this holds the Python: a text in
a place a reader sees it (a flash, a form's label, description or validator message, a
service's refusal, a form's error, a list of problems a page shows, an error page's text)
must be marked for translation: ``_()``/``gettext()``/``lazy_gettext()``, or ``N_()`` where
it is defined and translated where it is shown. A plain string, an f-string or a
concatenation there that reads like words fails, naming the file and line.

Left out, with their reasons:
- a permission refusal (``policy.ensure``, ``NotAllowed``): it answers 404 and its reason
  goes only to the log;
- the operators' console: the CLI's modules, the settings' start-up checks and the
  InforEuro import that only the CLI reaches (``flask import-rates``) talk English, as the
  log does (README "Languages").
"""

from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OPERATORS_ONLY = {"config.py", os.path.join("services", "rate_import.py")}

# Two words, or a capitalised word: what a person reads (not a key, a code or a format).
_WORDS = re.compile(r"[A-Za-z]{2,}[,.:;]?\s+[A-Za-z]{2,}|^[A-Z][a-z]+")
_REFUSAL = re.compile(r"(Refused|Exceeded|InvalidInput|Clash|ConcurrentChange|Gone|Disabled|"
                      r"Throttled|Threshold|IneligibleApplication|WrongPassword|WrongCode|"
                      r"MissingRate|Reached|TransitionNotAllowed|ValidationError)$")
_VALIDATORS = {"Length", "InputRequired", "DataRequired", "NumberRange", "AnyOf", "NoneOf",
               "Email", "Regexp", "Optional", "EqualTo", "URL"}
_SHOWN_LISTS = {"problems", "errors"}


def _text(node: ast.AST) -> str | None:
    """The literal words of ``node`` when it is a string built in place, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        parts = [_text(node.left), _text(node.right)]
        return "".join(p for p in parts if p) if any(parts) else None
    return None


def _programmers(node: ast.AST) -> bool:
    """A ValueError for the programmer, not a reader: its text starts in lower case
    ("naive datetime given") in this code base; a reader's starts a sentence."""
    text = _text(node)
    return text is None or text[:1].islower()


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _shown_arguments(call: ast.Call) -> list[ast.AST]:
    """The arguments of ``call`` that a reader sees."""
    name = _name(call.func)
    keywords = {k.arg: k.value for k in call.keywords}
    if name == "flash" or _REFUSAL.search(name):
        return call.args[:1] + [keywords[k] for k in ("message",) if k in keywords]
    if name == "ValueError" and call.args and not _programmers(call.args[0]):
        return call.args[:1]  # a parser's message, which a form shows (fields.py)
    if name.endswith("Field"):
        return call.args[:1] + [keywords[k] for k in ("label", "description") if k in keywords]
    if name in _VALIDATORS:
        return [keywords["message"]] if "message" in keywords else []
    if name == "abort":
        return call.args[1:2] + [keywords[k] for k in ("description",) if k in keywords]
    if name == "append" and isinstance(call.func, ast.Attribute):
        owner = call.func.value
        if _name(owner) in _SHOWN_LISTS or (isinstance(owner, ast.Name)
                                             and owner.id in _SHOWN_LISTS):
            return call.args[:1]
    return []


def unmarked_python(source: str) -> list[tuple[int, str]]:
    """(line, text) of each text a reader sees that is not marked for translation."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for argument in _shown_arguments(node):
                text = _text(argument)
                if text and _WORDS.search(text):
                    found.append((argument.lineno, text))
    return found


def _app_modules() -> list[str]:
    found = []
    base = os.path.join(ROOT, "vouchers")
    for directory, _dirs, names in os.walk(base):
        for name in names:
            path = os.path.relpath(os.path.join(directory, name), base)
            if (name.endswith(".py") and path not in OPERATORS_ONLY
                    and not os.path.basename(path).startswith("cli")):
                found.append(path)
    return sorted(found)


def test_every_text_the_python_shows_is_marked():
    modules = _app_modules()
    assert len(modules) > 100
    unmarked = []
    for path in modules:
        with open(os.path.join(ROOT, "vouchers", path), encoding="utf-8") as module:
            unmarked += [f"vouchers/{path}:{line}: {text[:70]!r}"
                         for line, text in unmarked_python(module.read())]
    assert not unmarked, "not marked for translation:\n" + "\n".join(unmarked)


@pytest.mark.parametrize("source", [
    'flash("Saved.")',
    'flash(f"Saved {n} lines.")',
    'raise InvalidInput("The title is missing.")',
    'raise PaymentRefused("Nothing " + "is due.")',
    'name = StringField("Company name")',
    'name = StringField(_l("Name"), description="Optional: the trade name")',
    'x = IntegerField(_l("Jobs"), validators=[NumberRange(min=0, message="Not negative")])',
    'problems.append(f"{ref}: no bank details")',
    'self.errors.append("Give an end date.")',
    'abort(400, "Bad file")',
    'raise ValueError(f"{text!r} is not an amount.")',
    'raise ValueError("Write it with a dot.")',
])
def test_an_unmarked_text_is_found(source):
    assert unmarked_python(source), source


@pytest.mark.parametrize("source", [
    'flash(_("Saved."))',
    'flash(gettext("Saved %(n)s lines.", n=n))',
    'raise InvalidInput(_(TITLE_MISSING))',
    'name = StringField(lazy_gettext("Company name"), description=lazy_gettext("Optional"))',
    'problems.append(f"{row.reference}: {due.problem}")',
    'out.append(f"{label}: committed is {counter}")',  # a command's output
    'policy.ensure(allowed, "Only managers.")',  # logged, never shown
    'field = StringField("iban")',  # a key, not words
    'raise ValueError(f"unknown fields for a {kind} application")',  # the programmer's
])
def test_a_marked_text_or_one_nobody_reads_passes(source):
    assert not unmarked_python(source), source
