"""The applications table's text search through its index: the same answers on SQLite and
PostgreSQL (the suite runs on both), whatever the accents, case, wildcards or length."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import event, insert, select, text

from tests.conftest import POSTGRES_DEFAULT, migrated_app, postgres_database, postgres_reachable
from tests.factories import Factories
from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import Application, Call, Organisation, User
from vouchers.models.base import utcnow
from vouchers.search import TRIGRAM_INDEXES, matching_ids, search_key
from vouchers.services.listing import TableQuery, applications_page

# reference: (company's legal name, title). Every expected answer below is spelled out (in
# the order of the references), so each database has to give exactly this list.
ROWS = {
    "HLS1-TR-00017": ("Müller Diagnostik GmbH", "Yellow fever rapid test"),
    "HLS1-TR-00170": ("Ørsted Biotech ApS", "Wearable ECG patch"),
    "HLS1-MV-00001": ("Société Générale Biotech SAS", "Trade mission to BIO-Europe"),
    "HLS1-MV-00002": ("Càtalà Genòmica S.L.", 'A 100% "natural_probiotic" formula'),
    "HLS1-PV-00003": ("Nordic Sensors B.V.", "A 1000 natural probiotic formula's trial"),
}
A, B, C, D, E = ROWS
PG_REASON = postgres_reachable()
SKIP_PG = bool(PG_REASON) and os.environ.get("REQUIRE_POSTGRES") != "1"


def _add(call, name: str, reference: str, title: str) -> Application:
    cvt = call.voucher_type("market_validation")
    organisation = Organisation(legal_name=name, registry_number=f"XX{reference[-8:]}",
                                country="NL", region="North Brabant")
    db.session.add(organisation)
    db.session.flush()
    applicant = User(email=f"{reference.lower()}@test.example", name="SME", role="applicant",
                     organisation_id=organisation.id)
    db.session.add(applicant)
    db.session.flush()
    application = Application(
        reference=reference, call_id=call.id, call_voucher_type_id=cvt.id,
        voucher_type=cvt.voucher_type, organisation_id=organisation.id,
        applicant_id=applicant.id, title=title, requested_amount=Decimal("1000.00"),
        state="submitted", submitted_at=utcnow())
    db.session.add(application)
    db.session.commit()
    return application


@pytest.fixture
def call(make):
    call = make.call(code="HLS1")
    for reference, (name, title) in ROWS.items():
        _add(call, name, reference, title)
    return call


def found(call, query: str) -> list[str]:
    page = applications_page(TableQuery(call_id=call.id, text=query, per_page=100))
    return sorted(a.reference for a in page.items)


@pytest.mark.parametrize(("query", "expected"), [
    # Accents and case, either way round.
    ("Müller", [A]), ("muller", [A]), ("MÜLLER", [A]), ("mueller", []),
    ("Ørsted", [B]), ("orsted", [B]), ("ØRSTED", [B]),
    ("Société Générale", [C]), ("societe generale", [C]), ("SOCIETE GENERALE BIOTECH", [C]),
    ("  société \t générale  ", [C]),
    ("Càtalà", [D]), ("catala", [D]), ("GENOMICA", [D]),
    ("biotech", [C, B]),
    # Part of a word, part of a reference, a whole reference.
    ("ello", [A]), ("earab", [B]), ("HLS1-TR-00017", [A]), ("TR-0001", [A]), ("tr-0017", [B]),
    ("hls1-", [C, D, E, A, B]), ("00017 yellow", []),
    # %, _ and quotes are what they are, not wildcards or syntax.
    ("100%", [D]), ("natural_probiotic", [D]), ('"natural', [D]), ('""', []),
    ("formula's", [E]), ("' OR 1=1 --", []), ("NEAR(a b)", []), ("gmbh*", []),
    # One and two characters (too short for a trigram: read from the column).
    ("%", [D]), ("_", [D]), ('"', [D]), ("'", [E]), ("7", [A, B]), ("V.", [E]),
    ("ø", [C, D, E, A, B]), ("zq", []),
    # Control characters (which PostgreSQL refuses in text) count as spaces.
    ("nordic\x00sensors", [E]), ("\x00", [C, D, E, A, B]),
])
def test_search_gives_these_results(call, query, expected):
    assert found(call, query) == expected


def test_the_rule_folds_accents_case_letters_and_space():
    assert search_key("Müller") == "muller"
    assert search_key("Ørsted Æbeltoft Œuvre") == "orsted aebeltoft oeuvre"
    assert search_key("Straße Łódź Đakovo Iğdır") == "strasse lodz dakovo igdir"
    assert search_key("ＡＢＣ  ﬁne\t\u00a0co") == "abc fine co"
    assert search_key("d’Or", "HLS1-TR-00017") == "d'or\nhls1-tr-00017"
    assert search_key("Bio\u00adtech\u200b", "a\x00b\nc") == "biotech\na b c"


def test_the_page_searches_through_the_same_rule(call, client, make):
    login(client, make.manager())
    html = client.get(f"/manage/applications?call={call.id}&q={quote('ØRSTED')}").text
    assert re.findall(r"HLS1-[A-Z]{2}-\d{5}(?=</a>)", html) == [B]


def test_renaming_a_company_and_editing_a_title_reach_the_index(call):
    muller = db.session.scalar(select(Application).where(Application.reference == A))
    muller.organisation.legal_name = "Schäfer Diagnostik GmbH"
    wearable = db.session.scalar(select(Application).where(Application.reference == B))
    wearable.title = "Smart inhaler"
    db.session.commit()

    assert found(call, "müller") == []
    assert found(call, "schafer") == [A]
    assert found(call, "wearable") == []
    assert found(call, "INHALER") == [B]
    assert found(call, "ørsted") == [B]  # the company's name is unchanged
    # A change to another field leaves the key as it was.
    wearable.summary = "Changed"
    db.session.commit()
    assert found(call, "inhaler") == [B]


def test_a_deleted_application_leaves_the_index(call):
    last = db.session.scalar(select(Application).where(Application.reference == E))
    last_id = last.id
    db.session.delete(last)
    db.session.commit()
    assert found(call, "nordic") == []
    assert found(call, "probiotic formula's") == []
    # SQLite gives the next row the highest id again: the old text must not come with it.
    newcomer = _add(call, "Atlantic Imaging Ltd", "HLS1-PV-00004", "Pilot with hospitals")
    assert newcomer.id >= last_id
    assert found(call, "formula's") == []
    assert found(call, "hospitals") == ["HLS1-PV-00004"]
    assert found(call, "atlantic") == ["HLS1-PV-00004"]


def test_rows_inserted_in_bulk_get_their_key(call):
    organisation = db.session.scalar(select(Organisation).where(
        Organisation.legal_name == "Nordic Sensors B.V."))
    applicant = db.session.scalar(select(User).where(User.organisation_id == organisation.id))
    cvt = call.voucher_type("travel")
    db.session.execute(insert(Application), [
        {"reference": f"HLS1-TR-{90 + i:05d}", "call_id": call.id,
         "call_voucher_type_id": cvt.id, "voucher_type": "travel",
         "organisation_id": organisation.id, "applicant_id": applicant.id,
         "title": f"Bulk Fähre {i}", "requested_amount": Decimal("10.00"),
         "state": "submitted", "submitted_at": utcnow()} for i in range(2)
    ])
    db.session.commit()
    assert found(call, "fahre") == ["HLS1-TR-00090", "HLS1-TR-00091"]


def test_every_page_of_a_frequent_match_comes_in_date_order(call):
    # 60 matches: page 1 of one row is found walking the date index (the matches are
    # dense), the others from the matches themselves; together they list each once.
    organisation = db.session.scalar(select(Organisation).where(
        Organisation.legal_name == "Nordic Sensors B.V."))
    applicant = db.session.scalar(select(User).where(User.organisation_id == organisation.id))
    cvt = call.voucher_type("travel")
    now = utcnow()
    db.session.execute(insert(Application), [
        {"reference": f"HLS1-TR-{500 + i:05d}", "call_id": call.id,
         "call_voucher_type_id": cvt.id, "voucher_type": "travel",
         "organisation_id": organisation.id, "applicant_id": applicant.id,
         "title": f"Ferry trial {i}", "requested_amount": Decimal("10.00"),
         "state": "submitted", "submitted_at": now - timedelta(hours=i)} for i in range(60)
    ])
    db.session.commit()
    pages = [applications_page(TableQuery(call_id=call.id, text="ferry", page=n, per_page=1))
             for n in range(1, 61)]
    assert {p.total for p in pages} == {60}
    assert [p.items[0].reference for p in pages] == [f"HLS1-TR-{500 + i:05d}" for i in range(60)]


def test_sqlite_fts_stays_consistent_with_its_table(call, is_postgres):
    if is_postgres:
        pytest.skip("FTS5 is SQLite's")
    muller = db.session.scalar(select(Application).where(Application.reference == A))
    muller.title = "Renamed"
    muller.organisation.legal_name = "Renamed GmbH"
    db.session.delete(db.session.scalar(select(Application).where(Application.reference == E)))
    db.session.commit()
    for fts in ("applications_fts", "organisations_fts"):
        # Raises if the index holds anything but the table's current keys.
        db.session.execute(text(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"))


def _migrate_down_and_up_with_rows(url: str, instance: str) -> None:
    from flask_migrate import downgrade, upgrade

    app = migrated_app(url, instance)
    with app.app_context():
        call = Factories().call(code="HLS1")
        for reference in (B, C):
            name, title = ROWS[reference]
            _add(call, name, reference, title)
        call_id = call.id
        db.session.remove()
        downgrade(revision="0010")  # the rows lose their keys and the index its tables
        upgrade()
        call = db.session.get(Call, call_id)
        assert found(call, "ørsted") == [B]
        assert found(call, "GENERALE") == [C]
        assert found(call, "ecg pat") == [B]
        assert found(call, "hls1-") == [C, B]
        db.session.remove()
        db.engine.dispose()


def test_the_migration_fills_the_index_for_rows_already_there_sqlite(tmp_path):
    _migrate_down_and_up_with_rows("sqlite:///" + str(tmp_path / "m.db"), str(tmp_path / "i"))


@pytest.mark.skipif(SKIP_PG, reason=PG_REASON or "")
def test_the_migration_fills_the_index_for_rows_already_there_postgresql(tmp_path):
    with postgres_database(POSTGRES_DEFAULT, "search") as url:
        _migrate_down_and_up_with_rows(url, str(tmp_path / "i"))


def _statements(call, query: str) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        found(call, query)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    return seen


def test_sqlite_search_reads_the_fts_tables_and_scans_no_table(call, is_postgres):
    if is_postgres:
        pytest.skip("the SQLite plan")
    connection = db.session.connection()
    plans = []
    for statement, parameters in _statements(call, "biotech"):
        plans.append([row[3] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)])
    searched = [p for p in plans if any("VIRTUAL TABLE" in step for step in p)]
    assert len(searched) == 2  # the count and the page's ids
    for plan in searched:
        assert any(step.startswith("SCAN applications_fts VIRTUAL TABLE") for step in plan)
        assert any(step.startswith("SCAN organisations_fts VIRTUAL TABLE") for step in plan)
    every_step = [step for plan in plans for step in plan]
    assert not [s for s in every_step if re.match(r"SCAN (applications|organisations)\b(?!_)", s)]


def test_postgresql_search_can_use_its_trigram_indexes(call, is_postgres):
    if not is_postgres:
        pytest.skip("the PostgreSQL indexes")
    definitions = dict(db.session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"),
        {"names": list(TRIGRAM_INDEXES)}).all())
    assert sorted(definitions) == sorted(TRIGRAM_INDEXES)
    assert all("USING gin" in d and "gin_trgm_ops" in d for d in definitions.values())
    # Five rows are cheaper to scan: forbid that to see that the indexes answer the query.
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    connection = db.session.connection()
    plan = "\n".join(row[0] for statement, parameters in _statements(call, "biotech")
                     if "LIKE" in statement
                     for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "ix_applications_search_text_trgm" in plan
    companies = matching_ids(Organisation.search_name, "organisations_fts", "biotech",
                             "postgresql")
    plan = "\n".join(db.session.execute(text("EXPLAIN " + str(companies.compile(
        db.engine, compile_kwargs={"literal_binds": True})))).scalars())
    assert "ix_organisations_search_name_trgm" in plan
