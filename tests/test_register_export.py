"""The de minimis register as CSV: its content, its escaping, and its download."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from exports import DeMinimisRow
from exports.de_minimis_csv import HEADER, csv_text, encode, register_csv
from tests.helpers import login
from tests.test_workbook_ledger import money_scenario
from vouchers.clock import local_date
from vouchers.extensions import db
from vouchers.models import DeMinimisGrant
from vouchers.models.base import utcnow

REGULATION = "Commission Regulation (EU) 2023/2831"


def row(**changes) -> DeMinimisRow:
    values = dict(undertaking="Eurasanté Diagnostics SAS", country="FR",
                  vat_number="FR40303265045", registry_number="303265045",
                  granting_authority="Région Hauts-de-France", award_date=date(2026, 3, 2),
                  aid_amount=Decimal("2960.50"), aid_after_close_out=Decimal("2890.40"),
                  regulation=REGULATION, voucher_reference="HLS1-TR-0001")
    return DeMinimisRow(**{**values, **changes})


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# ----------------------------------------------------------------------------- pure


def test_one_line_per_grant_with_the_register_fields():
    text = register_csv([row(), row(vat_number="", aid_after_close_out=Decimal("0"))])
    lines = text.split("\r\n")
    assert lines[0] == ",".join(HEADER)
    assert HEADER == ("Undertaking", "Country", "VAT number", "Registry number",
                      "Granting authority", "Date granted", "Amount granted",
                      "Aid after close-out", "Currency", "Regulation", "Voucher reference")
    assert lines[1] == ("Eurasanté Diagnostics SAS,FR,FR40303265045,303265045,"
                        "Région Hauts-de-France,2026-03-02,2960.50,2890.40,EUR,"
                        "Commission Regulation (EU) 2023/2831,HLS1-TR-0001")
    assert lines[2].split(",")[2] == "" and lines[2].split(",")[7] == "0.00"
    assert lines[3] == ""  # RFC 4180: every record ends with CRLF


def test_no_grant_gives_the_header_alone():
    assert register_csv([]) == ",".join(HEADER) + "\r\n"


def test_utf8_with_a_byte_order_mark_for_excel():
    data = encode(register_csv([row()]))
    assert data.startswith(b"\xef\xbb\xbf")
    assert parse(data)[1][0] == "Eurasanté Diagnostics SAS"


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)",
                                  "\tx", "=cmd|' /C calc'!A0"])
def test_text_that_a_spreadsheet_would_evaluate_gets_an_apostrophe(text):
    assert csv_text(text) == "'" + text
    fields = dict(zip(HEADER, parse(encode(register_csv([row(
        undertaking=text, vat_number=text, registry_number=text, granting_authority=text,
        voucher_reference=text, country=text)])))[1], strict=True))
    for name in ("Undertaking", "Country", "VAT number", "Registry number",
                 "Granting authority", "Voucher reference"):
        assert fields[name] == "'" + text, name
    # Amounts are the code's own numbers: never touched.
    assert fields["Amount granted"] == "2960.50"


def test_plain_text_commas_quotes_and_line_breaks_round_trip():
    tricky = 'Bio "Labs", Liège\nsecond line'
    assert parse(encode(register_csv([row(undertaking=tricky)])))[1][0] == tricky
    assert csv_text("Plain & simple") == "Plain & simple"
    assert csv_text(None) == ""
    assert csv_text("a\x00b") == "ab"  # what no cell can hold is cut, as in the workbook


# ------------------------------------------------------------------------- download


def test_manager_downloads_the_register_of_a_call(client, make):
    books = money_scenario(make)
    call = books.call
    login(client, books.manager)
    with client.get(f"/manage/calls/{call.id}/de-minimis-register.csv") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename={call.code}-de-minimis-register-"
            f"{utcnow():%Y%m%d}.csv")
        assert "no-store" in response.headers["Cache-Control"]
        data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    header, *lines = parse(data)
    assert tuple(header) == HEADER
    grants = list(db.session.scalars(select(DeMinimisGrant).order_by(DeMinimisGrant.id)))
    assert len(lines) == len(grants) == len(books.vouchers)
    by_voucher = {line[10]: dict(zip(HEADER, line, strict=True)) for line in lines}
    for a in books.vouchers.values():
        line = by_voucher[a.reference]
        assert line["Undertaking"] == a.organisation.legal_name
        assert line["Country"] == a.organisation.country
        assert line["Registry number"] == a.organisation.registry_number
        assert line["Granting authority"] == call.programme.funder
        assert line["Date granted"] == local_date(a.awarded_at).isoformat()
        assert line["Amount granted"] == f"{a.awarded_amount:.2f}"
        assert line["Aid after close-out"] == f"{a.awarded_amount - a.released_amount:.2f}"
        assert (line["Currency"], line["Regulation"]) == ("EUR", REGULATION)
    # The closed voucher keeps what it was paid; the cancelled one what is not back yet.
    assert by_voucher[books.vouchers["released"].reference]["Aid after close-out"] == (
        "2890.40")
    assert by_voucher[books.vouchers["cancelled"].reference]["Aid after close-out"] == (
        "5000.00")


def test_the_programme_register_covers_every_call_of_the_programme_only(client, make):
    books = money_scenario(make)
    programme = books.call.programme
    manager = books.manager
    # A second call of the same programme, and one of another programme.
    sibling = make.call()
    sibling.programme_id = programme.id
    db.session.commit()
    mine = make.application("awarded", sibling.voucher_type("travel"), manager=manager)
    other = make.application("awarded", make.call().voucher_type("travel"), manager=manager)
    login(client, manager)

    response = client.get(f"/manage/programmes/{programme.id}/de-minimis-register.csv")
    assert response.status_code == 200
    references = [line[10] for line in parse(response.data)[1:]]
    assert mine.reference in references and other.reference not in references
    assert set(references) == {a.reference for a in books.vouchers.values()} | {mine.reference}
    assert response.headers["Content-Disposition"].endswith(
        f"-de-minimis-register-{utcnow():%Y%m%d}.csv")


def test_text_typed_by_users_is_escaped_in_the_download(client, make):
    manager = make.manager()
    voucher = make.application("awarded", make.call().voucher_type("travel"), manager=manager)
    grant = db.session.scalar(select(DeMinimisGrant))
    grant.undertaking = '=HYPERLINK("http://example.com","x")'
    grant.registry_number = "+31 20"
    db.session.commit()
    login(client, manager)
    response = client.get(f"/manage/calls/{voucher.call_id}/de-minimis-register.csv")
    line = parse(response.data)[1]
    assert line[0] == "'" + grant.undertaking and line[3] == "'+31 20"


def test_the_dashboard_links_both_downloads(client, make):
    call = make.call()
    login(client, make.manager())
    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    for url in (f"/manage/calls/{call.id}/de-minimis-register.csv",
                f"/manage/programmes/{call.programme_id}/de-minimis-register.csv"):
        assert f'href="{url}"' in html
        # No dead link: each answers with the file.
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", ["applicant", "evaluator", "anonymous"])
def test_only_managers_download_the_register(client, make, role):
    call = make.call()
    if role != "anonymous":
        login(client, make.applicant() if role == "applicant" else make.evaluator())
    for url in (f"/manage/calls/{call.id}/de-minimis-register.csv",
                f"/manage/programmes/{call.programme_id}/de-minimis-register.csv"):
        response = client.get(url)
        assert response.mimetype != "text/csv"
        if role == "anonymous":
            assert response.status_code == 302 and "/account/login" in response.headers[
                "Location"]
        else:
            assert response.status_code == 404


def test_unknown_call_or_programme_is_not_found(client, make):
    login(client, make.manager())
    assert client.get("/manage/calls/999999/de-minimis-register.csv").status_code == 404
    assert client.get("/manage/programmes/999999/de-minimis-register.csv").status_code == 404
