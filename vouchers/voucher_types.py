"""The voucher types, defined once: what each is called, what it asks, what it needs.

Forms, completeness checks, references, the call set-up, the templates and the workbook
all read this registry; no other module lists voucher types or their fields.
"""

from __future__ import annotations

from dataclasses import dataclass

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


_SERVICE = DetailField("service", "Service bought", LONG_TEXT,
                       "What the provider will do: the study, test or advice.")
# The activity's dates must fall inside the call's implementation period.
_DELIVERY = DetailField("delivery_date", "Service delivered by", DATE,
                        "The day the provider will have delivered the service.")

# What an attachment is; a call may require some kinds per voucher type.
ATTACHMENT_KINDS: dict[str, str] = {
    "quote": "The provider's quote",
    "registration": "Event registration or invitation",
    "cv": "CV of the person who will travel or lead the work",
    "other": "Other document",
}

REGISTRY: dict[str, VoucherType] = {t.code: t for t in (
    VoucherType(
        "travel", "Travel", "TR",
        (DetailField("event", "Event or mission",
                     description="For example the BIO-Europe partnering event."),
         DetailField("destination", "Destination", description="City and country."),
         DetailField("start_date", "First day", DATE),
         DetailField("end_date", "Last day", DATE)),
        period=("start_date", "end_date"), required_attachments=("registration",),
    ),
    VoucherType("market_validation", "Market validation", "MV", (_SERVICE, _DELIVERY),
                needs_provider=True, required_attachments=("quote",),
                provider_other_region=True),
    VoucherType("product_validation", "Product validation", "PV", (_SERVICE, _DELIVERY),
                needs_provider=True, required_attachments=("quote",),
                provider_other_region=True),
    VoucherType(
        "impact", "Impact", "IM",
        (DetailField("outcome", "Expected outcome", LONG_TEXT,
                     "What will be different once the project is done."),
         DetailField("indicators", "Indicators", LONG_TEXT,
                     "How the outcome will be measured.")),
    ),
)}

CODES: tuple[str, ...] = tuple(REGISTRY)
LABELS: dict[str, str] = {code: t.label for code, t in REGISTRY.items()}
PROVIDER_TYPES: frozenset[str] = frozenset(c for c, t in REGISTRY.items() if t.needs_provider)

PERIOD_MESSAGE = "The trip cannot end before it starts."


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
