"""Country codes: the ISO list, the programme's spelling of the United Kingdom, and the
countries the forms offer. One place, for companies, providers and a call's regions."""

from .i18n import reader_locale

# ISO 3166-1 alpha-2.
_ISO_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW
"""
ISO_COUNTRIES = frozenset(_ISO_CODES.split())
# The programme (like EU programmes generally, and the demo data) writes the United
# Kingdom as UK, the code ISO reserves for it; GB is taken as the same country so the
# managers' country filter and the funder's workbook see one code.
COUNTRY_ALIASES = {"GB": "UK"}
VALID_COUNTRIES = ISO_COUNTRIES | {"UK"}

# The countries offered in the profile form: the programme is European.
EUROPEAN_COUNTRIES: dict[str, str] = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CH": "Switzerland", "CY": "Cyprus",
    "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "ES": "Spain",
    "FI": "Finland", "FR": "France", "GR": "Greece", "HR": "Croatia", "HU": "Hungary",
    "IE": "Ireland", "IS": "Iceland", "IT": "Italy", "LI": "Liechtenstein", "LT": "Lithuania",
    "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta", "NL": "Netherlands", "NO": "Norway",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SE": "Sweden", "SI": "Slovenia",
    "SK": "Slovakia", "UK": "United Kingdom",
}


def name_for_reader(code: str) -> str:
    """``code``'s name in the reader's language (Babel's names of the territories; in
    English this module's own)."""
    english = EUROPEAN_COUNTRIES.get(code, code)
    locale = reader_locale()
    # The programme writes the United Kingdom "UK" (as VAT numbers do); ISO 3166 says GB.
    return english if locale is None else locale.territories.get(
        "GB" if code == "UK" else code, english)
