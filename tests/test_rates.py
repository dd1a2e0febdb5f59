"""Importing the Commission's monthly InforEuro rates: the shipped files, a bad file
refused whole (naming its row), a re-import that changes only what changed, the CLI."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import snapshot
from vouchers.extensions import db
from vouchers.models import ExchangeRate
from vouchers.services import rate_import, rates
from vouchers.services.errors import InvalidInput

DATA = Path(__file__).resolve().parent.parent / "vouchers" / "data" / "inforeuro"
NEEDED = {"GBP", "DKK", "SEK", "PLN", "CHF", "CZK", "HUF"}


def stored(year: int, month: int) -> dict[str, Decimal]:
    return {r.currency: r.units_per_eur for r in db.session.scalars(
        select(ExchangeRate).where(ExchangeRate.year == year, ExchangeRate.month == month))}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import-rates", *map(str, args)])


@pytest.mark.parametrize("path", sorted(DATA.glob("2026-*.json")), ids=lambda p: p.stem)
def test_the_shipped_files_are_the_commissions_format_with_plausible_rates(app, path):
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert {"country", "currency", "isoA3Code", "isoA2Code", "value", "comment"} <= set(rows[0])
    parsed = {r.currency: r.units_per_eur for r in rate_import.read_file(path.read_text())}
    assert set(parsed) >= NEEDED
    assert Decimal("0.84") <= parsed["GBP"] <= Decimal("0.87")
    assert Decimal("7.40") <= parsed["DKK"] <= Decimal("7.50")
    assert Decimal("10") <= parsed["SEK"] <= Decimal("12")
    assert Decimal("4.1") <= parsed["PLN"] <= Decimal("4.5")


def test_a_month_is_imported_as_decimals_and_read_by_the_rates_service(app):
    text = (DATA / "2026-03.json").read_text()
    result = rate_import.import_rates(rate_import.read_file(text), 2026, 3)
    db.session.commit()
    assert (result.added, result.changed, result.unchanged) == (15, 0, 0)
    assert result.summary == "2026-03: 15 added, 0 changed, 0 unchanged"
    # The JSON number 0.8576 arrives exact: no float arithmetic between file and table.
    assert rates.rate_of("GBP", 2026, 3).units_per_eur == Decimal("0.8576")
    row = db.session.scalar(select(ExchangeRate).where(ExchangeRate.currency == "GBP"))
    assert (row.currency_name, row.country) == ("Pound sterling", "United Kingdom")


def test_a_value_given_as_a_string_is_read_too(app):
    rows = [{"isoA3Code": "HUF", "currency": "Forint", "country": "Hungary", "value": "402.5"}]
    rate_import.import_rates(rate_import.parse_rates(rows), 2026, 12)
    assert stored(2026, 12) == {"HUF": Decimal("402.5")}


def test_re_importing_a_month_changes_only_the_rates_that_changed(app):
    rows = json.loads((DATA / "2026-04.json").read_text())
    rate_import.import_rates(rate_import.parse_rates(rows), 2026, 4)
    again = rate_import.import_rates(rate_import.parse_rates(rows), 2026, 4)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 15)

    for row in rows:
        if row["isoA3Code"] == "GBP":
            row["value"] = 0.8601
    rows.append({"isoA3Code": "XOF", "currency": "CFA franc", "country": "Senegal",
                 "value": 655.957})
    corrected = rate_import.import_rates(rate_import.parse_rates(rows), 2026, 4)
    db.session.commit()
    assert corrected.summary == "2026-04: 1 added, 1 changed, 14 unchanged"
    assert stored(2026, 4)["GBP"] == Decimal("0.8601")
    assert stored(2026, 4)["XOF"] == Decimal("655.957")


@pytest.mark.parametrize(("data", "message"), [
    ({"isoA3Code": "GBP", "value": 0.85}, "must be a JSON list"),
    ([], "holds no rates"),
    (["GBP"], "row 1 is not an object"),
    ([{"isoA3Code": "gbp", "value": 0.85}], 'row 1 (gbp) has no currency code of three capital'),
    ([{"isoA3Code": "GBP", "value": 0.85}, {"value": 7.46}], "row 2 has no currency code"),
    ([{"isoA3Code": "GBP", "value": 0}], "row 1 (GBP) has a rate that is not positive"),
    ([{"isoA3Code": "DKK", "value": -7.46}], "row 1 (DKK) has a rate that is not positive"),
    ([{"isoA3Code": "DKK", "value": "7,46"}], "row 1 (DKK) has a rate that is not a number"),
    ([{"isoA3Code": "DKK", "value": "NaN"}], "row 1 (DKK) has a rate that is not positive"),
    ([{"isoA3Code": "DKK", "value": None}], "row 1 (DKK) has no rate (value)"),
    ([{"isoA3Code": "DKK", "value": True}], "row 1 (DKK) has no rate (value)"),
    ([{"isoA3Code": "DKK", "value": 7.1234567}], "beyond twelve digits and six decimals"),
    ([{"isoA3Code": "DKK", "value": 7.46}, {"isoA3Code": "DKK", "value": 7.47}],
     "row 2 (DKK) repeats the currency DKK"),
])
def test_a_bad_entry_refuses_the_whole_file_naming_its_row(app, data, message):
    rate_import.import_rates(rate_import.parse_rates([{"isoA3Code": "SEK", "value": 11}]),
                             2026, 5)
    db.session.commit()
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        rate_import.import_rates(rate_import.parse_rates(data), 2026, 5)
    assert message in refused.value.message
    assert snapshot() == before


@pytest.mark.parametrize(("year", "month", "message"), [
    (2026, 0, "The month must be 1 to 12, not 0."),
    (2026, 13, "The month must be 1 to 12, not 13."),
    (1890, 5, "The year must be between 1994 and"),
    (3026, 5, "The year must be between 1994 and"),
])
def test_the_month_must_be_a_real_one(app, year, month, message):
    with pytest.raises(InvalidInput, match=message):
        rate_import.import_rates(rate_import.parse_rates([{"isoA3Code": "SEK", "value": 11}]),
                                 year, month)


def test_the_cli_imports_a_file_and_says_what_it_did(app):
    path = DATA / "2026-06.json"
    result = run(app, path, "--year", 2026, "--month", 6)
    assert result.exit_code == 0, result.output
    assert result.output == "2026-06: 15 added, 0 changed, 0 unchanged\n"
    again = run(app, path, "--year", 2026, "--month", 6)
    assert again.output == "2026-06: 0 added, 0 changed, 15 unchanged\n"
    db.session.expire_all()
    assert stored(2026, 6)["DKK"] == Decimal("7.4629")


def test_the_cli_says_what_is_wrong_without_a_traceback(app, tmp_path):
    missing = run(app, tmp_path / "nope.json", "--year", 2026, "--month", 6)
    assert missing.exit_code == 1
    assert "Error: No file" in missing.output and "Traceback" not in missing.output

    broken = tmp_path / "broken.json"
    broken.write_text("<html>Service unavailable</html>")
    result = run(app, broken, "--year", 2026, "--month", 6)
    assert result.exit_code == 1
    assert "Error: The InforEuro file is not JSON" in result.output

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"isoA3Code": "GBP", "value": 0.86},
                               {"isoA3Code": "SEK", "value": "eleven"}]))
    result = run(app, bad, "--year", 2026, "--month", 6)
    assert result.exit_code == 1
    assert "row 2 (SEK) has a rate that is not a number" in result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert stored(2026, 6) == {}  # the good first row was not kept either

    result = run(app, DATA / "2026-06.json", "--year", 2026, "--month", 14)
    assert result.exit_code == 1 and "The month must be 1 to 12, not 14." in result.output


def test_the_rates_page_lists_the_imported_months(app, client, make):
    from tests.helpers import login

    rate_import.import_rates(rate_import.read_file((DATA / "2026-11.json").read_text()), 2026, 11)
    rate_import.import_rates(rate_import.parse_rates([{"isoA3Code": "GBP", "value": 0.8662}]),
                             2026, 12)
    db.session.commit()
    login(client, make.manager())
    page = client.get("/manage/rates").get_data(as_text=True)
    assert page.index("2026-12") < page.index("2026-11")  # the newest first
    assert "<td>GBP</td><td></td><td></td>\n        <td class=\"num\">0.8662</td>" in page
    assert "Pound sterling" in page and "402.5" not in page and "400.75" in page
