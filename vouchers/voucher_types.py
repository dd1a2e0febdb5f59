"""The voucher types, defined once: what each is called, what it asks, what it needs.

Forms, completeness checks, references, the call set-up, the templates and the workbook
all read this registry; no other module lists voucher types or their fields.

The names, questions and attachment kinds are English here (the API, the workbook rows
and the references read them as they are); ``N_`` marks them for the catalogues, and the
pages translate them where they show them (the ``type_label`` and ``attachment_kind``
filters of vouchers/formatting.py, ``_(f.label)`` in the templates).
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_

TEXT = "text"  # one line
LONG_TEXT = "long_text"  # a text area
DATE = "date"


@dataclass(frozen=True)
class DetailField:
    """One of a voucher type's own questions, kept in Application.details."""

    key: str
    label: str
    kind: str = TEXT
    description: str = ""

    @property
    def is_date(self) -> bool:
        return self.kind == DATE


@dataclass(frozen=True)
class VoucherType:
    code: str
    label: str
    # Two letters in the application's reference: HLS1-TR-00001.
    reference_code: str
    details: tuple[DetailField, ...]
    # Validation vouchers buy a service from a provider in the catalogue.
    needs_provider: bool = False
    # A pair of date fields (first, last) that must be in that order.
    period: tuple[str, str] | None = None
    # A new call's defaults (the seed programme's rules; the manager may change them):
    # the attachment kinds an application must carry, and whether the provider must be
    # based in another region than the SME.
    required_attachments: tuple[str, ...] = ()
    provider_other_region: bool = False

    @property
    def detail_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.details)

    @property
    def date_keys(self) -> frozenset[str]:
        return frozenset(f.key for f in self.details if f.is_date)


_SERVICE = DetailField("service", N_("Service bought"), LONG_TEXT,
                       N_("What the provider will do: the study, test or advice."))
# The activity's dates must fall inside the call's implementation period.
_DELIVERY = DetailField("delivery_date", N_("Service delivered by"), DATE,
                        N_("The day the provider will have delivered the service."))

# What an attachment is; a call may require some kinds per voucher type.
ATTACHMENT_KINDS: dict[str, str] = {
    "quote": N_("The provider's quote"),
    "registration": N_("Event registration or invitation"),
    "cv": N_("CV of the person who will travel or lead the work"),
    "other": N_("Other document"),
}

REGISTRY: dict[str, VoucherType] = {t.code: t for t in (
    VoucherType(
        "travel", N_("Travel"), "TR",
        (DetailField("event", N_("Event or mission"),
                     description=N_("For example the BIO-Europe partnering event.")),
         DetailField("destination", N_("Destination"), description=N_("City and country.")),
         DetailField("start_date", N_("First day"), DATE),
         DetailField("end_date", N_("Last day"), DATE)),
        period=("start_date", "end_date"), required_attachments=("registration",),
    ),
    VoucherType("market_validation", N_("Market validation"), "MV", (_SERVICE, _DELIVERY),
                needs_provider=True, required_attachments=("quote",),
                provider_other_region=True),
    VoucherType("product_validation", N_("Product validation"), "PV", (_SERVICE, _DELIVERY),
                needs_provider=True, required_attachments=("quote",),
                provider_other_region=True),
    VoucherType(
        "impact", N_("Impact"), "IM",
        (DetailField("outcome", N_("Expected outcome"), LONG_TEXT,
                     N_("What will be different once the project is done.")),
         DetailField("indicators", N_("Indicators"), LONG_TEXT,
                     N_("How the outcome will be measured."))),
    ),
)}

CODES: tuple[str, ...] = tuple(REGISTRY)
LABELS: dict[str, str] = {code: t.label for code, t in REGISTRY.items()}
PROVIDER_TYPES: frozenset[str] = frozenset(c for c, t in REGISTRY.items() if t.needs_provider)
# "A voucher of this type" as a sentence says it: the article and the type's name agree
# in each language ("an impact voucher", "un val d'impacte"), which a label put in a
# phrase cannot do.
A_VOUCHER: dict[str, str] = {
    "travel": N_("a travel voucher"),
    "market_validation": N_("a market validation voucher"),
    "product_validation": N_("a product validation voucher"),
    "impact": N_("an impact voucher"),
}

PERIOD_MESSAGE = N_("The trip cannot end before it starts.")


def get(code: str) -> VoucherType:
    return REGISTRY[code]


def label(code: str) -> str:
    return LABELS.get(code, code)


def period_problem(voucher_type: str, values: dict) -> str | None:
    """The one check of date order: the trip's last day is not before its first."""
    period = REGISTRY[voucher_type].period
    if period is None:
        return None
    first, last = (values.get(key) for key in period)
    if first and last and str(last) < str(first):
        return PERIOD_MESSAGE
    return None
