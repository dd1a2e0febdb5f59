"""Languages (vouchers/i18n.py): the language a page, an e-mail and the workbook speak, and
the catalogues' completeness for what is translated so far (``i18n.TEMPLATES_IN_SCOPE``).
"""

from __future__ import annotations

import io
import os
import re
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale
from jinja2 import Environment
from openpyxl import load_workbook

from tests.event_mail_support import act, html_of, queued_after, settle, text_of
from tests.helpers import login
from vouchers import i18n
from vouchers.extensions import db
from vouchers.models import Invitation
from vouchers.money import parse_amount
from vouchers.services import accounts
from vouchers.services.errors import InvalidInput
from vouchers.services.workbook import budget_export

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OTHER_LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]


# --- which language a request gets -------------------------------------------------------


def test_an_applicant_who_chose_catalan_sees_home_and_application_in_catalan(client, make):
    application = make.application("draft")
    applicant = application.applicant
    applicant.language = "ca"
    db.session.commit()
    login(client, applicant)
    home = client.get("/apply/").get_data(as_text=True)
    for catalan in ("Les meves sol·licituds", "Convocatòries obertes", "Tanca la sessió",
                    "Llista d'operacions", '<html lang="ca">'):
        assert catalan in home, catalan
    assert "<h1>Les meves sol·licituds</h1>" in home
    page = client.get(f"/apply/applications/{application.id}").get_data(as_text=True)
    for catalan in ("Abans d'enviar", "Editar la sol·licitud", "Accions"):
        assert catalan in page, catalan
    assert "Before you submit" not in page


def test_the_account_setting_is_saved_and_wins_over_the_browser(client, make):
    applicant = make.applicant()
    login(client, applicant)
    page = client.get("/account/language", headers={"Accept-Language": "de"})
    assert "Sprache speichern" in page.get_data(as_text=True)  # the browser's, until chosen
    response = client.post("/account/language", data={"language": "ca", "next": "/apply/"},
                           headers={"Accept-Language": "de"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply/")
    db.session.refresh(applicant)
    assert applicant.language == "ca"
    home = client.get("/apply/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Les meves sol·licituds" in home and "Meine Anträge" not in home


def test_a_visitor_gets_the_browsers_language_then_the_footers_choice(client):
    page = client.get("/account/language",
                      headers={"Accept-Language": "ca-ES,ca;q=0.9,en;q=0.5"})
    text = page.get_data(as_text=True)
    assert "Inicia la sessió" in text and "Registreu-vos" in text
    assert client.get("/account/language", headers={"Accept-Language": "pt-BR"}) \
        .get_data(as_text=True).count("Log in") >= 1  # a language the app lacks: English
    # The footer's picker opens the language page with the choice made (a GET: no CSRF
    # token in a visitor's pages, which stay cacheable); its button saves it.
    picked = client.get("/account/language?language=da&next=/account/language")
    assert '<option lang="da" selected value="da">' in picked.get_data(as_text=True)
    assert 'id="next" name="next" type="hidden" value="/account/language"' in picked.get_data(
        as_text=True)
    client.post("/account/language", data={"language": "da", "next": "/account/language"})
    text = client.get("/account/language", headers={"Accept-Language": "ca"}).get_data(
        as_text=True)
    assert "Log ind" in text and '<option value="da" lang="da" selected>' in text


def test_a_cached_visitor_page_is_kept_per_language(app):
    app.config["PAGE_CACHE_SECONDS"] = 60
    catalan = app.test_client().get("/", headers={"Accept-Language": "ca"})
    german = app.test_client().get("/", headers={"Accept-Language": "de"})
    again = app.test_client().get("/", headers={"Accept-Language": "ca"})
    assert "Inicia la sessió" in catalan.get_data(as_text=True)
    assert "Anmelden" in german.get_data(as_text=True)
    assert again.get_data() == catalan.get_data()
    assert "Accept-Language" in catalan.headers["Vary"]


def test_an_unknown_language_is_refused_and_a_foreign_next_ignored(client, make):
    applicant = make.applicant()
    login(client, applicant)
    assert client.post("/account/language", data={"language": "xx"}).status_code == 400
    db.session.refresh(applicant)
    assert applicant.language is None
    response = client.post("/account/language",
                           data={"language": "fr", "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/account/language")


def test_the_picker_needs_the_csrf_token(app, make):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = app.test_client().post("/account/language", data={"language": "ca"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code in (400, 403)


# --- mail and the workbook ----------------------------------------------------------------


def test_an_award_mail_to_a_catalan_applicant_is_in_catalan(app, client, make, deliver):
    application = make.application("under_review")
    application.applicant.language = "ca"
    db.session.commit()
    mark = settle(deliver)
    # The manager's own request is in English; the mail follows its recipient.
    assert act(client, make.manager(), application, "award",
               amount="50000.00").status_code == 303
    [row] = queued_after(mark)
    assert row.subject == f"Concedit: {application.reference}"
    [message] = deliver()
    text, html = text_of(message), html_of(message)
    for catalan in (f"Benvolgut/uda {application.applicant.name},", "Import concedit:",
                    "50.000,00\xa0€", "Condicions", "Rebeu aquest correu"):
        assert catalan in text, catalan
    assert "Val concedit" in html and "Obriu el vostre val" in html
    assert "validació de mercat" in text and "validació de mercat" in html  # its type
    assert "Amount awarded" not in text and "Dear" not in text and "market" not in text


def test_a_manager_reading_catalan_sees_the_types_states_and_statuses_in_catalan(client,
                                                                                 make):
    """The voucher types, states and statuses are English in the code and the records;
    every page shows them in its reader's language (the type's name, the call's status,
    the filters' choices, the final report's status)."""
    application = make.application("reporting")
    manager = make.manager()
    manager.language = "ca"
    db.session.commit()
    login(client, manager)
    call = application.call
    dashboard = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    assert "Validació de mercat" in dashboard and "Market validation" not in dashboard
    calls = client.get("/manage/calls").get_data(as_text=True)
    assert "Validació de mercat (" in calls and "Market validation" not in calls
    table = client.get("/manage/applications").get_data(as_text=True)
    for catalan in ("Validació de mercat</option>", "En avaluació</option>"):
        assert catalan in table, catalan
    assert "Under review</option>" not in table and "Travel</option>" not in table
    home = client.get("/manage/").get_data(as_text=True)
    assert '<span class="badge">Oberta</span>' in home
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "Dotació de Validació de mercat" in page or "Validació de mercat" in page
    assert "Market validation" not in page


def test_an_award_mail_to_an_applicant_without_a_choice_stays_english(app, client, make,
                                                                       deliver):
    application = make.application("under_review")
    mark = settle(deliver)
    login(client, application.applicant)
    client.post("/account/language", data={"language": "ca"})  # the applicant's browser
    application.applicant.language = None
    db.session.commit()
    act(client, make.manager(), application, "award", amount="50000.00")
    [row] = queued_after(mark)
    assert row.subject == f"Awarded: {application.reference}"


def test_an_invitation_is_written_in_the_language_the_manager_chose(app, client, make,
                                                                     deliver):
    """The invited person has no account, so no language: the manager chooses the
    invitation's (their own by default); its mail is in it and the new account starts in
    it."""
    manager = make.manager()
    manager.language = "de"
    db.session.commit()
    mark = settle(deliver)
    login(client, manager)
    form = client.get("/manage/users/invite").get_data(as_text=True)
    assert '<option lang="de" selected value="de">Deutsch</option>' in form
    response = client.post("/manage/users/invite", data={
        "name": "Eulàlia Avaluadora", "email": "eulalia@x.example", "role": "evaluator",
        "language": "ca"})
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert row.subject == "Invitació a Programa de vals", row.subject
    [message] = deliver()
    assert "Hello" not in text_of(message) and "Dear" not in text_of(message)
    invitation = db.session.scalars(db.select(Invitation)).one()
    assert invitation.language == "ca"
    user = accounts.accept_invitation(invitation, "a long and unusual passphrase 42")
    assert user.language == "ca"
    # A language the programme does not speak changes nothing.
    refused = client.post("/manage/users/invite", data={
        "name": "Other", "email": "other@x.example", "role": "evaluator", "language": "xx"})
    assert refused.status_code == 400 and "eulalia" not in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Invitation)) == 1


def test_an_invitation_from_a_service_caller_takes_the_inviters_language(app, make):
    manager = make.manager()
    manager.language = "nl"
    db.session.commit()
    invitation, _token = accounts.create_invitation(by=manager, email="n@x.example",
                                                    name="N", role="evaluator")
    assert invitation.language == "nl"
    with pytest.raises(InvalidInput, match="languages the programme speaks"):
        accounts.create_invitation(by=manager, email="m@x.example", name="M",
                                   role="evaluator", language="xx")


def _headings(call, language):
    target = io.BytesIO()
    with budget_export(call) as export:
        export.write(target, generated_by="test", language=language)
    target.seek(0)
    book = load_workbook(target, read_only=True)
    try:
        return {name: [c.value for c in next(book[name].iter_rows(max_row=1))]
                for name in ("Applications", "Vouchers", "Payments")}
    finally:
        book.close()


def test_the_workbook_headings_follow_the_requesters_language(app, make):
    call = make.application("awarded").call
    catalan = _headings(call, "ca")
    assert catalan["Applications"][:3] == ["Referència", "Pime", "País"]
    assert "Puntuació ponderada" in catalan["Applications"]
    assert "Referència del pagament" in catalan["Payments"]
    english = _headings(call, None)
    assert english["Applications"][:3] == ["Reference", "SME", "Country"]


def test_a_word_with_two_meanings_gets_each_its_own_translation(app):
    """A column heading "Change" is a noun, the button a verb; an application "Submitted"
    is feminine in Catalan, a report masculine: pgettext's context keeps them apart."""
    page = ('{{ pgettext("column heading", "Change") }}|{{ _("Change") }}|'
            '{{ pgettext("report", "Submitted") }}|{{ _("Submitted") }}')
    with app.test_request_context(), force_locale("ca"):
        assert render_template_string(page) == "Canvi|Canviar|Enviat|Enviada"
    with app.test_request_context():
        assert render_template_string(page) == "Change|Change|Submitted|Submitted"


def test_a_mistyped_amount_and_a_score_are_written_in_the_readers_language(app):
    """What money.parse_amount refuses is shown by every money field (fields.MoneyField),
    and a score by the rankings, the reviews and the rejection mail."""
    with app.test_request_context(), force_locale("ca"):
        with pytest.raises(ValueError) as refused:
            parse_amount("1,5")
        assert str(refused.value) == ("Escriviu '1,5' amb un punt per als cèntims i sense "
                                      "separador de milers.")
        with pytest.raises(ValueError, match="supera l'import més gran"):
            parse_amount("99999999999999")
        assert render_template_string("{{ s|decimal }}", s=Decimal("4.50")) == "4,50"
    with app.test_request_context():
        with pytest.raises(ValueError, match="with a dot for cents"):
            parse_amount("1,5")
        assert render_template_string("{{ s|decimal }}", s=Decimal("4.50")) == "4.50"


# --- the catalogues and the marking ---------------------------------------------------------


def _catalogue(code):
    path = os.path.join(i18n.TRANSLATIONS, code, "LC_MESSAGES", "messages.po")
    with open(path, "rb") as f:
        return read_po(f, locale=code)


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_message_in_scope_has_a_translation(code):
    catalogue = _catalogue(code)
    messages = i18n.messages_in_scope(ROOT)
    assert len(messages) > 100
    def translated(key):
        context, _sep, message = key.rpartition(i18n.CONTEXT_SEPARATOR)
        found = catalogue.get(message, context=context or None)
        return found is not None and found.string

    missing = [m for m in messages if not translated(m)]
    assert not missing, f"{code} lacks {missing[:5]} (README 'Languages': update the .po)"
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not fuzzy


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_translations_keep_their_placeholders(code):
    def placeholders(text):
        return sorted(set(re.findall(r"%\(\w+\)s|\{\{[^}]*\}\}", text)))

    for message in _catalogue(code):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            # A plural: each form may leave out the count ("un dia" for 1), never add one.
            wanted = placeholders(message.id[1])
            for form in message.string:
                assert set(placeholders(form)) <= set(wanted), message.id
            assert placeholders(message.string[-1]) == wanted, message.id
            continue
        assert placeholders(message.string) == placeholders(message.id), message.id


_VISIBLE_ATTRIBUTE = re.compile(r"""\b(?:aria-label|title|alt|placeholder)="([^"]*)\"""")
_TAG = re.compile(r"<!--.*?-->|<[^<>]*>", re.S)
_TRANSLATORS = {"_", "gettext", "ngettext", "lazy_gettext", "pgettext"}


def unmarked_texts(source: str) -> list[str]:
    """The visible texts of a template that are not marked for translation: text between
    the tags outside {% trans %}, the visible attributes (aria-label, title, alt,
    placeholder), and string literals in expressions that read like words (a space, or a
    capitalised word) other than the first argument of _()/gettext()."""
    found = []
    kept = []  # the template's text, each Jinja construct and trans block as \x00
    in_trans = in_tag = False
    previous: list[tuple[str, str]] = []
    for _line, kind, value in Environment().lex(source):
        if kind in ("block_begin", "variable_begin"):
            in_tag = True
            previous = []
        elif kind in ("block_end", "variable_end"):
            in_tag = False
            kept.append("\x00")
        elif in_tag and kind == "name" and value in ("trans", "endtrans") and \
                not [k for k, _v in previous if k != "whitespace"]:
            in_trans = value == "trans"
        elif kind == "data":
            kept.append("\x00" if in_trans else value)
        elif in_tag and kind == "string" and not in_trans:
            text = value[1:-1]
            called = [v for k, v in previous if k != "whitespace"]
            # _("text"), or pgettext("context", "text"): the context is not shown
            marked = (called[-2:-1] and called[-2] in _TRANSLATORS and called[-1] == "(") or (
                called[-4:-3] == ["pgettext"] and called[-3] == "(" and called[-1] == ",")
            if not marked and re.search(r"[A-Za-z]{2}", text) and (
                    " " in text.strip() or re.match(r"[A-Z][a-z]+$", text)):
                found.append(text)
        if in_tag and kind not in ("block_begin", "variable_begin"):
            previous.append((kind, value))
    text = "".join(kept)
    for value in _VISIBLE_ATTRIBUTE.findall(text):
        if re.search(r"[A-Za-z]", value.replace("\x00", "")):
            found.append(value)
    for piece in re.split(r"\x00", _TAG.sub("\x00", text)):
        if re.search(r"[A-Za-z]", piece):
            found.append(piece.strip())
    return found


@pytest.mark.parametrize("name", i18n.TEMPLATES_IN_SCOPE)
def test_no_visible_text_in_scope_is_left_unmarked(name):
    with open(os.path.join(ROOT, "templates", name), encoding="utf-8") as f:
        assert unmarked_texts(f.read()) == []


@pytest.mark.parametrize("source, unmarked", [
    ("<p>Hello {{ name }}</p>", ["Hello"]),
    ('<nav aria-label="Main"><a href="{{ url }}">x</a></nav>', ["Main", "x"]),
    ('{{ m.heading("Voucher awarded") }}', ["Voucher awarded"]),
    ('{% with heading="Files" %}{% endwith %}', ["Files"]),
    ("<p>{{ _('Hello') }} · {% trans n=name %}Hi {{ n }}{% endtrans %}</p>", []),
    ('<th>{{ pgettext("column heading", "Change") }}</th>', []),
    ('<th>{{ pgettext("column heading", "Change") ~ " and more" }}</th>', [" and more"]),
    ('<a class="button secondary" href="{{ url_for(\'a.b\') }}">{{ _("Go") }}</a>', []),
    ('{% if state == "reporting" %}{{ x or "—" }}{% endif %}<!-- a note -->', []),
])
def test_the_unmarked_text_check_catches_what_it_should(source, unmarked):
    assert unmarked_texts(source) == unmarked


def test_the_catalogues_compile_when_missing_or_older(tmp_path):
    po_dir = tmp_path / "ca" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    po = po_dir / "messages.po"
    po.write_bytes(b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                   b'msgid "Log in"\nmsgstr "Inicia la sessi\xc3\xb3"\n')
    assert i18n.compile_catalogues(str(tmp_path)) == ["ca"]
    assert (po_dir / "messages.mo").exists()
    assert i18n.compile_catalogues(str(tmp_path)) == []  # up to date
    os.utime(po, (os.path.getmtime(po) + 10,) * 2)
    assert i18n.compile_catalogues(str(tmp_path)) == ["ca"]


@pytest.mark.parametrize("code, expected", [
    ("en", ("€1,250.50", "03 Dec 2026")), ("ca", ("1.250,50\xa0€", "3 de des. del 2026")),
    ("de", ("1.250,50\xa0€", "3. Dez. 2026")),
])
def test_money_and_dates_follow_the_locale(app, code, expected):
    from datetime import date
    from decimal import Decimal

    from flask_babel import force_locale

    from vouchers import formatting

    with app.test_request_context(), force_locale(code):
        assert (formatting.eur(Decimal("1250.50")), formatting.day(date(2026, 12, 3))) \
            == expected
