"""Languages: the seven the app speaks, which one a request gets, and the catalogues.

A signed-in user's own choice (``users.language``) wins; a visitor's choice from the
footer is kept in the session; otherwise the browser's Accept-Language picks the best
match, and English is the fallback. Mail goes out in its recipient's language, not the
request's (services/outbox.py renders it under ``force_locale``).

The catalogues live in ``vouchers/translations/<code>/LC_MESSAGES/messages.po`` (committed);
the compiled ``.mo`` files are not: ``make install`` compiles them, and the app compiles
any that is missing or older than its ``.po`` when it starts, so a clean clone installed
with ``pip install -e .`` alone serves every language.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask_babel import Babel, force_locale, get_locale, gettext
from flask_login import current_user

from exports.words import Words

# Code -> the language's own name, as the picker shows it (a Catalan reader looks for
# "Català", not "Catalan").
LANGUAGES = {
    "en": "English",
    "es": "Español",
    "ca": "Català",
    "fr": "Français",
    "de": "Deutsch",
    "nl": "Nederlands",
    "da": "Dansk",
}
DEFAULT = "en"
SESSION_KEY = "language"
TRANSLATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def N_(text: str) -> str:
    """Mark ``text`` for the catalogues where it is defined (a label kept in English in the
    code, the API and the records) and translated where it is shown: ``gettext(label)``."""
    return text


def reader_locale() -> Locale | None:
    """The reader's locale when it is not English (a request's, or one forced for a mail's
    recipient); None keeps the English wording and formats."""
    locale = get_locale() if has_app_context() else None
    return locale if locale is not None and locale.language != "en" else None


def local_decimal(value: Decimal | int | None) -> str:
    """A decimal number (a score, an amount refused) written the reader's way, every digit
    it has kept ("4,00" in Catalan); English keeps Python's "4.00"."""
    if value is None:
        return "—"
    locale = reader_locale()
    if locale is None or isinstance(value, bool) or not isinstance(value, Decimal | int):
        return str(value)
    value = Decimal(value)
    places = max(0, -value.as_tuple().exponent) if value.is_finite() else 0
    return format_decimal(value, format="#,##0" + ("." + "0" * places if places else ""),
                          locale=locale, decimal_quantization=False)


def said(value: object) -> str:
    """``value`` in the reader's language: exports' ``Words`` (and an error carrying them)
    translated, each of their values too; anything else as ``str()``."""
    found = getattr(value, "words", value)
    if isinstance(found, Decimal):  # an amount refused: "1,005" in Catalan
        return local_decimal(found)
    if not isinstance(found, Words):
        return str(value)
    return gettext(found.template, **{name: said(part) for name, part in found.values.items()})


def translated(messages: Mapping[str, str]) -> dict[str, str]:
    """``messages`` (values marked ``N_``) with each value in the reader's language."""
    return {key: gettext(text) for key, text in messages.items()}


def _files(folder: str, endings: tuple[str, ...]) -> tuple[str, ...]:
    found = []
    for directory, _dirs, names in os.walk(os.path.join(ROOT, folder)):
        found += [os.path.relpath(os.path.join(directory, n), os.path.join(ROOT, folder))
                  for n in names if n.endswith(endings)]
    return tuple(sorted(found))


# What the catalogues must cover (tests/test_i18n.py holds every file to it): every
# template, every gettext/lazy_gettext/N_ call in the Python of vouchers/, workflows/ and
# exports/, every mail subject, the workbook's texts and the labels the code keeps in
# English and translates where it shows them (states, actions, review statuses).
TEMPLATES_IN_SCOPE = _files("templates", (".html", ".txt"))
PYTHON_IN_SCOPE = tuple(os.path.join(folder, name)
                        for folder in ("vouchers", "workflows", "exports")
                        for name in _files(folder, (".py",)))
KEYWORDS = {"lazy_gettext": None, "N_": None, "lazy_pgettext": ((1, "c"), 2)}
# A message with a context (pgettext: "Change" as a column heading, not the button) is
# keyed "context\x04message" in messages_in_scope, as gettext keys it in a catalogue.
CONTEXT_SEPARATOR = "\x04"

babel = Babel()


def choose(code: str | None) -> str:
    """``code`` when the app speaks it, else English."""
    return code if code in LANGUAGES else DEFAULT


def select_locale() -> str:
    # Outside a request (a job, a command, mail queued by one): English, unless the
    # caller forced a locale (the recipient's, the requester's).
    if not has_request_context():
        return DEFAULT
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def current_language() -> str:
    """The request's language code; English in an app without Flask-Babel (a test's)."""
    if "babel" not in current_app.extensions:
        return DEFAULT
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def set_language(user, code: str) -> None:
    """Remember ``code`` for this browser and, when signed in, on the account."""
    code = choose(code)
    session[SESSION_KEY] = code
    if user is not None and user.is_authenticated:
        user.language = code  # committed by the request boundary


def compile_catalogues(directory: str = TRANSLATIONS) -> list[str]:
    """Compile each ``messages.po`` whose ``.mo`` is missing or older; the codes compiled."""
    compiled = []
    for code in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
        po = os.path.join(directory, code, "LC_MESSAGES", "messages.po")
        mo = po[:-2] + "mo"
        if not os.path.exists(po):
            continue
        if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        with open(po, "rb") as source:
            catalogue = read_po(source, locale=code)
        # Written aside and renamed: a second process starting at the same moment never
        # reads half a file.
        partial = f"{mo}.{os.getpid()}"
        with open(partial, "wb") as target:
            write_mo(target, catalogue)
        os.replace(partial, mo)
        compiled.append(code)
    return compiled


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS)
    compile_catalogues()
    babel.init_app(app, locale_selector=select_locale)
    app.add_template_global(LANGUAGES, "languages")

    @app.context_processor
    def _language():
        return {"language": current_language()}

    @app.after_request
    def _vary_on_language(response):
        # A visitor's page is written in the browser's language: a shared cache must not
        # hand the Catalan page to a German browser.
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
        return response


def workbook_columns() -> list[str]:
    """Every text of the funder's workbook that is written in its requester's language:
    exports/budget_workbook.HEADINGS (columns, totals, the About sheet) and the names of
    the filters the About sheet lists (services/workbook.py)."""
    from exports.budget_workbook import HEADINGS

    return [*HEADINGS, "Voucher types", "Awarded from", "Awarded to", "Award dates"]


def shown_labels() -> dict[str, str]:
    """Labels the code keeps in English and translates where a page shows them, with where
    they come from: the lifecycle's states and actions, the evaluator's review statuses."""
    from workflows.lifecycle import STATE_LABELS, TRANSITIONS

    from .services.review_pages import REVIEW_STATUS_LABELS

    labels = {label: "workflows/lifecycle.py" for label in STATE_LABELS.values()}
    labels |= {t.label: "workflows/lifecycle.py" for t in TRANSITIONS}
    labels |= {label: "vouchers/services/review_pages.py"
               for label in REVIEW_STATUS_LABELS.values()}
    return labels


def workbook_headings(language: str | None) -> dict[str, str]:
    """English heading -> the same in ``language``, for exports/ (which knows no Flask)."""
    with force_locale(choose(language)):
        return {heading: gettext(heading) for heading in workbook_columns()}


def messages_in_scope(root: str) -> dict[str, tuple[str, ...]]:
    """Every message the scope marks, with the files it comes from (tests/test_i18n.py,
    and the catalogues' upkeep: README "Languages")."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file

    from . import mail_kinds

    found: dict[str, list[str]] = {}

    def add(message, where, context=None):
        if not isinstance(message, str):
            message = message[0]  # a plural: its singular is its key
        key = f"{context}{CONTEXT_SEPARATOR}{message}" if context else message
        found.setdefault(key, []).append(where)

    keywords = {**DEFAULT_KEYWORDS, **KEYWORDS}
    for name in TEMPLATES_IN_SCOPE:
        path = os.path.join(root, "templates", name)
        for _line, message, _comments, context in extract_from_file(
                "jinja2", path, keywords=keywords,
                options={"extensions": "jinja2.ext.do"}):
            add(message, name, context)
    for name in PYTHON_IN_SCOPE:
        for _line, message, _comments, context in extract_from_file(
                "python", os.path.join(root, name), keywords=keywords):
            add(message, name, context)
    for kind in mail_kinds.KINDS.values():
        add(kind.subject, f"vouchers/mail_kinds.py:{kind.key}")
    for heading in workbook_columns():
        add(heading, "exports/budget_workbook.py")
    for label, where in shown_labels().items():
        add(label, where)
    return {message: tuple(where) for message, where in found.items()}
