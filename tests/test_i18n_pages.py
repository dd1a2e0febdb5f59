"""Every page of every role, read in Catalan, shows none of the catalogue's English.

tests/test_i18n.py checks that every text is marked and translated; this checks what the
pages show: a label kept in English in the code (a voucher type, a state, a status) and
printed without its translation slips through marking, and shows here. The pages are the
walk of the browser tests (tests/browser/every_page.py: the URL map's GET pages, in the
page authorization matrix's world), fetched with the test client as each role, every
user reading Catalan. A piece of a page's text (or a visible attribute) that is exactly
an English message the Catalan catalogue translates otherwise, or that holds one of three
words or more, fails, naming the role, the page and the text.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import event

from tests.browser.every_page import ROLES, build_world, page_urls
from tests.helpers import login
from vouchers import i18n
from vouchers.extensions import db
from vouchers.models import User

# Inline elements do not end a piece of text: "Rank 3 of <a>the ranking</a>" is one.
_INLINE = {"a", "b", "strong", "em", "i", "span", "code", "abbr", "small", "time", "kbd",
           "mark", "sup", "sub", "bdi", "data", "q", "s", "u", "label"}
_HIDDEN = {"script", "style", "template"}
_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


class _Pieces(HTMLParser):
    """The visible text of a page, in pieces (one per block element or attribute)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces, self._current, self._hidden = [], [], 0

    def _end_piece(self):
        text = " ".join(" ".join(self._current).split())
        if text:
            self.pieces.append(text)
        self._current = []

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in _HIDDEN
        if tag not in _INLINE:
            self._end_piece()
        found = dict(attrs)
        self.pieces += [" ".join(found[a].split()) for a in _ATTRIBUTES if found.get(a)]
        if tag == "input" and found.get("type") == "submit" and found.get("value"):
            self.pieces.append(found["value"])

    def handle_endtag(self, tag):
        self._hidden -= tag in _HIDDEN and self._hidden > 0
        if tag not in _INLINE:
            self._end_piece()

    def handle_data(self, data):
        if not self._hidden:
            self._current.append(data)


def pieces_of(html: str) -> list[str]:
    parser = _Pieces()
    parser.feed(html)
    parser._end_piece()
    return parser.pieces


def english_of(code: str) -> tuple[set[str], list[str]]:
    """The catalogue's English that ``code`` writes otherwise: (every such message, the
    ones of three words or more, looked for inside a piece too)."""
    path = os.path.join(i18n.TRANSLATIONS, code, "LC_MESSAGES", "messages.po")
    with open(path, "rb") as f:
        catalogue = read_po(f, locale=code)
    whole = set()
    for message in catalogue:
        english = message.id
        if not english or not isinstance(english, str) or message.context:
            continue
        if "%(" in english or "{{" in english or not re.search(r"[A-Za-z]{3}", english):
            continue
        if message.string and message.string.strip() != english.strip():
            whole.add(" ".join(english.split()))
    inside = sorted(m for m in whole if len(m.split()) >= 3)
    return whole, inside


def english_in(pieces: list[str], whole: set[str], inside: list[str]) -> list[str]:
    found = []
    for piece in pieces:
        bare = piece.strip(" :·.()")
        if piece in whole or bare in whole:
            found.append(piece)
        else:
            found += [f"{m!r} in {piece!r}" for m in inside if m in piece]
    return found


@pytest.fixture
def catalan_world(app):
    """The matrix's world with every user reading Catalan from the start (so the mail
    queued for them, which the mailbox lists, was written in Catalan too)."""
    def catalan(_mapper, _connection, user):
        user.language = "ca"

    event.listen(User, "before_insert", catalan)
    try:
        return build_world(app)
    finally:
        event.remove(User, "before_insert", catalan)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_reads_catalan(app, catalan_world, role):
    user_ids, args = catalan_world
    client = app.test_client()
    if role != "anonymous":
        with app.app_context():
            login(client, db.session.get(User, user_ids[role]))
    headers = {"Accept-Language": "ca"}  # the anonymous visitor's browser
    whole, inside = english_of("ca")
    findings, read = [], 0
    for path in page_urls(app, role, args):
        response = client.get(path, headers=headers)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()  # a file's download, the favicon
            continue
        read += 1
        html = response.get_data(as_text=True)
        assert '<html lang="ca">' in html, path
        findings += [f"{role} {path}: {text}" for text in english_in(pieces_of(html), whole,
                                                                     inside)]
    assert read
    assert not findings, "English on a Catalan page:\n" + "\n".join(sorted(set(findings)))


def test_the_check_finds_a_label_left_in_english():
    whole, inside = english_of("ca")
    page = ('<h1>Rànquing</h1><table><tr><th>Market validation</th></tr></table>'
            '<p title="Under review">x</p><p>Llegiu: Before you submit, check.</p>')
    found = english_in(pieces_of(page), whole, inside)
    assert "Market validation" in found and "Under review" in found
    assert any(f.startswith("'Before you submit'") for f in found)
    assert not english_in(pieces_of("<p>Validació de mercat</p><p>C1-MV-00001</p>"),
                          whole, inside)
