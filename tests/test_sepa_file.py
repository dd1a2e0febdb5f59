"""The SEPA credit-transfer file: valid pain.001.001.03, its sums equal to its payments.

Built from plain data (exports/sepa_file.py, no database) and from a real batch. Besides
sepaxml's own validation, each file is parsed with xmlschema against the XSD shipped in
the installed sepaxml package, so a file that passes here passes the schema, not only the
library's word for it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
from flask_babel import force_locale

from exports import sepa_file
from exports.sepa_file import Account, SepaFileError, Transfer, TransferFile
from tests.test_payment_batches import due_voucher, give_debtor
from vouchers.clock import today
from vouchers.i18n import said
from vouchers.services import batch_files
from vouchers.services import payment_batches as pb

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DEBTOR = Account(name="Biocat · Health Vouchers", iban="ES91 2100 0418 4502 0005 1332",
                 bic="CAIXESBBXXX")


def _file(*amounts: str, **changes) -> TransferFile:
    creditors = [Account(name="Ørsted Diagnostics ApS", iban="DK5000400440116243"),
                 Account(name="Müller & Söhne Medizintechnik GmbH",
                         iban="DE89370400440532013000", bic="COBADEFFXXX"),
                 Account(name="Bio'Sante S.A.S.", iban="FR1420041010050500013M02606")]
    transfers = [Transfer(end_to_end_id=f"VCH-B7-I{n}", amount=Decimal(amount),
                          creditor=creditors[n % 3],
                          remittance=f"Voucher C1-MV-{n:05d} final payment — Santé/€")
                 for n, amount in enumerate(amounts)]
    return TransferFile(**{"message_id": "VCH-C1-7",
                           "created_at": datetime(2027, 3, 1, 9, 30, tzinfo=UTC),
                           "execution_date": date(2027, 3, 3), "debtor": DEBTOR,
                           "transfers": transfers, **changes})


def _schema_valid(xml: bytes) -> ET.Element:
    import xmlschema  # imported here, as sepaxml does: it patches ElementTree on import

    xmlschema.XMLSchema(str(XSD)).validate(xml.decode())
    return ET.fromstring(xml)


def _sums(root: ET.Element) -> tuple[Decimal, Decimal, list[Decimal], str, str]:
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    amounts = [Decimal(e.text) for e in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    return (Decimal(header.find("p:CtrlSum", NS).text), Decimal(info.find("p:CtrlSum", NS).text),
            amounts, header.find("p:NbOfTxs", NS).text, info.find("p:NbOfTxs", NS).text)


def test_the_file_validates_and_its_control_sums_equal_the_payments():
    xml = sepa_file.build(_file("2890.40", "1000.00", "0.01", "59999.99"))
    root = _schema_valid(xml)
    header_sum, info_sum, amounts, header_count, info_count = _sums(root)
    assert amounts == [Decimal("2890.40"), Decimal("1000.00"), Decimal("0.01"),
                       Decimal("59999.99")]
    assert header_sum == info_sum == sum(amounts) == Decimal("63890.40")
    assert header_count == info_count == "4"
    assert root.find(".//p:GrpHdr/p:MsgId", NS).text == "VCH-C1-7"
    assert root.find(".//p:PmtInf/p:ReqdExctnDt", NS).text == "2027-03-03"
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == "ES9121000418450200051332"


def test_text_is_written_in_the_sepa_character_set():
    root = _schema_valid(sepa_file.build(_file("10.00", "20.00")))
    names = [e.text for e in root.iterfind(".//p:Cdtr/p:Nm", NS)]
    assert names == ["Orsted Diagnostics ApS", "Muller + Sohne Medizintechnik GmbH"]
    remittances = [e.text for e in root.iterfind(".//p:RmtInf/p:Ustrd", NS)]
    assert remittances[0] == "Voucher C1-MV-00000 final payment -- Sante/EUR"
    assert root.find(".//p:Dbtr/p:Nm", NS).text == "Biocat Health Vouchers"
    for text in names + remittances:
        assert sepa_file.sepa_text(text, 140) == text


def test_the_same_data_give_the_same_file():
    assert sepa_file.build(_file("1.00", "2.00")) == sepa_file.build(_file("1.00", "2.00"))


@pytest.mark.parametrize(("value", "message"), [
    ("DE89370400440532013001", "its check digits do not match"),
    ("DE8937040044053201300", "the wrong number of characters for its country"),
    ("XX89370400440532013000", "does not begin with a known country code"),
    ("DE89 3704 0044 0532 0130 0!", "holds characters an IBAN cannot hold"),
    ("SA0380000000608010167519", "outside the SEPA zone"),
    ("", "is missing"),
])
def test_a_bad_iban_gets_a_clear_message(value, message):
    with pytest.raises(SepaFileError, match=message):
        sepa_file.clean_iban(value, "The company's IBAN")


@pytest.mark.parametrize("value", ["COBADEFFXX", "COBAXXFF", "COBA DE"])
def test_a_bad_bic_gets_a_clear_message(value):
    with pytest.raises(SepaFileError, match="is not a valid BIC: a BIC has 8 or 11 letters"):
        sepa_file.clean_bic(value)


def test_ibans_and_bics_are_kept_compact():
    assert sepa_file.clean_iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert sepa_file.clean_bic(" cobadeff ") == "COBADEFF"
    assert sepa_file.clean_bic("") == ""


@pytest.mark.parametrize(("changes", "message"), [
    ({"transfers": []}, "at least one transfer"),
    ({"message_id": "VCH C1 7"}, "cannot be a SEPA message id"),
    ({"created_at": datetime(2027, 3, 1, 9, 30)}, "time zone"),
    ({"debtor": Account(name="Lead partner", iban="DE00370400440532013000")},
     "The programme's IBAN .* check digits"),
    ({"transfers": [Transfer(end_to_end_id="E1", amount=Decimal("1.00"), remittance="V",
                             creditor=Account(name="Fábrica Øst", iban="DE00370400440532013000"))]},
     "The IBAN of Fábrica Øst DE00370400440532013000 is not a valid IBAN"),
])
def test_a_file_that_cannot_be_made_says_why(changes, message):
    with pytest.raises(SepaFileError, match=message):
        sepa_file.build(_file("1.00", **changes))


def test_a_refusal_is_said_in_the_readers_language(app):
    """exports knows no Flask: its refusal carries its words, which the app translates
    (the template and the field it names), whoever reads it."""
    with pytest.raises(SepaFileError) as refused:
        sepa_file.build(_file("1.00", debtor=Account(name="Lead partner",
                                                     iban="DE00370400440532013000")))
    with app.test_request_context(), force_locale("ca"):
        assert said(refused.value) == ("L'IBAN del programa DE00370400440532013000 no és un "
                                       "IBAN vàlid: els seus dígits de control no coincideixen "
                                       "(un error en escriure'l?).")
    with app.test_request_context(), force_locale("de"):
        assert said(refused.value).startswith("Die IBAN des Programms DE00370400440532013000 "
                                              "ist keine gültige IBAN")
    with app.test_request_context():
        assert said(refused.value) == str(refused.value)


def test_amounts_are_whole_cents():
    assert sepa_file.cents(Decimal("2890.40")) == 289040
    with pytest.raises(SepaFileError):
        sepa_file.cents(Decimal("1.005"))


def test_a_batchs_file_validates_and_adds_up(make):
    call = make.call()
    give_debtor(call.programme)
    manager = make.manager()
    vouchers = [due_voucher(make, call.voucher_type(t), manager, n)
                for n, t in enumerate(("travel", "market_validation", "impact"))]
    batch = pb.prepare_batch(call, manager, [v.id for v in vouchers], today())
    xml = batch_files.sepa_xml(batch)
    header_sum, info_sum, amounts, header_count, _ = _sums(_schema_valid(xml))
    assert sorted(amounts) == sorted(item.amount for item in batch.items)
    assert header_sum == info_sum == sum(item.amount for item in batch.items)
    assert header_count == "3"
    root = ET.fromstring(xml)
    assert [e.text for e in root.iterfind(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", NS)] == [
        f"VCH-B{batch.id}-I{item.id}" for item in batch.items]
