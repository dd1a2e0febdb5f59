"""The demo consortium's cast (consortium.py): the partner agencies of the real programme
with their regions, NUTS codes, currencies and managers, and the two vouchers told in GBP
and DKK, with what their people write."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import _REPORT
from .story import _AWARDED


@dataclass(frozen=True)
class Member:
    """A partner agency: its regions as (country, region as the demo names it, NUTS code),
    its currency, and its manager (e-mail, name)."""

    name: str
    currency: str
    regions: tuple[tuple[str, str, str], ...]
    email: str
    manager: str


# NUTS 2021 codes; the UK's are those of NUTS 2016, the last that held it. A region is
# coded at the level that matches it: Baden-Wuerttemberg, Hauts-de-France, Wallonia and
# North Rhine-Westphalia are NUTS 1 regions, the others NUTS 2. The East Netherlands
# agency's one region of the demo spans Overijssel (NL21) and Gelderland (NL22): their
# NUTS 1 parent Oost-Nederland (NL2) is the one code holding both (and Flevoland).
MEMBERS = [
    Member("Biocat", "EUR", (("ES", "Catalonia", "ES51"),),
           "manager@demo.example", "Marta Puig (Biocat)"),
    Member("Brabant Development Agency", "EUR", (("NL", "North Brabant", "NL41"),),
           "manager2@demo.example", "Jeroen de Vries (BOM)"),
    Member("East Netherlands Development Agency", "EUR",
           (("NL", "Gelderland and Overijssel", "NL2"),),
           "manager.eastnl@demo.example", "Femke Kuipers (Oost NL)"),
    Member("Biopeople", "DKK", (("DK", "Capital Region of Denmark", "DK01"),),
           "manager.biopeople@demo.example", "Mette Lund (Biopeople)"),
    Member("BioRegio STERN Management", "EUR", (("DE", "Baden-Wuerttemberg", "DE1"),),
           "manager.biostern@demo.example", "Katrin Vogel (BioRegio STERN)"),
    Member("GM Business Support", "GBP", (("UK", "Greater Manchester", "UKD3"),),
           "manager.gm@demo.example", "Rachel Whitworth (GM Business Support)"),
    Member("Kent County Council", "GBP", (("UK", "Kent", "UKJ4"),),
           "manager.kent@demo.example", "David Ashdown (Kent County Council)"),
    Member("Eurasante", "EUR", (("FR", "Hauts-de-France", "FRE"),),
           "manager.eurasante@demo.example", "Sophie Delattre (Eurasanté)"),
    Member("ID2Sante", "EUR", (("FR", "Brittany", "FRH0"),),
           "manager.id2sante@demo.example", "Yann Le Bihan (ID2Santé)"),
    Member("University of Liege", "EUR", (("BE", "Wallonia", "BE3"),),
           "manager.liege@demo.example", "Nathalie Lejeune (ULiège)"),
    # The later phase's two regions.
    Member("BIO.NRW", "EUR", (("DE", "North Rhine-Westphalia", "DEA"),),
           "manager.nrw@demo.example", "Markus Brenner (BIO.NRW)"),
    Member("Enterprise Ireland", "EUR", (("IE", "Southern Region", "IE05"),),
           "manager.ireland@demo.example", "Ciara Walsh (Enterprise Ireland)"),
]


@dataclass(frozen=True)
class CurrencyScene:
    """A voucher of an SME of ``partner``: planned and awarded in EUR, as the call's
    envelopes are, its final report's costs and its payments in the partner's currency.
    Its own words: the writer's stock phrases are spent by the story."""

    partner: str
    voucher_type: str
    path: list[str]
    ends_within: tuple[int, int]
    spent: Decimal  # the report's costs, as a share of the plan
    summary: str
    reviews: tuple[str, str]
    report: str
    approval: str
    # Why the bank sent the advance back (the path's "reverse"; "repay" pays it again).
    returned: str = ""


SCENES = [
    CurrencyScene(
        "GM Business Support", "travel",
        _AWARDED + ["advance", "reverse", "repay", *_REPORT, "pay"], (3, 12), Decimal("0.92"),
        "{company} takes {product} to {event}: a table in the partnering area, and meeting "
        "requests sent to {buyers} there. GM Business Support pays the voucher in pounds, "
        "so the flights and the hotel are quoted in sterling.",
        ("{event} is where {buyers} meet, and {company} already has requests for meetings "
         "with them. Recommended.",
         "The sterling quotes for the trip are modest and itemised; the plan for {product} "
         "is concrete. I support the award."),
        "We met eleven {buyers} at {event}; two asked for samples of {product} and one for "
        "a quote. One of us flew back a day early, so the hotel cost less than quoted: the "
        "receipts in pounds are attached.",
        "Receipts in sterling checked against the plan; the balance after the advance is "
        "paid in pounds.",
        "Returned by the bank: the account name did not match the payee's (Confirmation of "
        "Payee). The company confirmed its details by phone; the advance is sent again."),
    CurrencyScene(
        "Biopeople", "travel",
        _AWARDED + ["advance", *_REPORT, "pay"], (2, 10), Decimal("0.96"),
        "Three of us from {company} go to {event} to meet {buyers}; Biopeople pays the "
        "voucher in kroner, so the stand share and the travel agency's offer are in DKK.",
        ("A shared stand keeps the cost of {event} down, and {company} names the buyers "
         "it wants to see. Recommended.",
         "The offer in kroner is itemised and {product} is ready to be shown. I support "
         "funding the trip as planned."),
        "At {event} we held fourteen meetings with {buyers}; a distributor wants to test "
        "{product} in two hospitals. The train to the venue was cheaper than the flights "
        "in the offer, so we claim a little less.",
        "Invoices in kroner checked against the offer; the balance after the advance is "
        "paid in kroner."),
]
