"""A call's rules in plain words, as applicants read them before they apply.

The public call list, the applicant's home and the manager's call page all show this
text, so what the manager set and what applicants read cannot drift apart. The checks
themselves are services/eligibility's; this only says what they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .. import voucher_types
from ..clock import programme_zone
from ..formatting import local_time
from ..models import Call, CallVoucherType
from ..models.programmes import SME_SIZES
from ..money import format_eur
from ..text import listing
from . import budget

SIZE_WORDS = {"micro": "micro", "small": "small", "medium": "medium-sized", "large": "large"}


@dataclass(frozen=True)
class RuleSection:
    heading: str
    sentences: tuple[str, ...]


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _in_sentence(label: str) -> str:
    """"The provider's quote" inside a sentence; "CV of ..." stays as it is."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def _number(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def who_may_apply(call: Call) -> RuleSection:
    regions = call.regions
    if regions:
        where = (f"Companies based in one of these regions: "
                 f"{listing([f'{r} ({c})' for c, r in regions])}.")
    else:
        where = "Companies of every region may apply."
    sizes = [s for s in SIZE_WORDS if s in set(call.allowed_sizes or ())]
    if set(sizes) == set(SME_SIZES):
        size = ("Micro, small and medium-sized enterprises (SMEs) only; large enterprises "
                "may not apply.")
    elif set(sizes) == set(SIZE_WORDS):
        size = "Enterprises of every size may apply, large ones included."
    else:
        size = f"Only {listing([SIZE_WORDS[s] for s in sizes], 'or')} enterprises may apply."
    return RuleSection("Who may apply", (where, size))


def dates(call: Call) -> RuleSection:
    return RuleSection("Dates", (
        f"Applications are accepted from {local_time(call.opens_at)} until "
        f"{local_time(call.closes_at)} (times in {programme_zone().key}).",
        f"The activities (a trip, a service delivered) take place between the day the "
        f"application is submitted and {day(call.last_activity_day)}.",
        f"The final report on a voucher is due {call.report_due_days} days after its "
        "activity ends (the trip's last day, the service's delivery date).",
    ))


def limits(call: Call) -> RuleSection:
    per_type = call.max_applications_per_type
    sentences = [
        f"At most {_number(per_type, 'application', 'applications')} per company for each "
        "voucher type of this call." if per_type is not None
        else "No limit on the applications of one company per voucher type.",
    ]
    if call.max_vouchers_per_sme is not None:
        sentences.append(f"At most {_number(call.max_vouchers_per_sme, 'voucher', 'vouchers')} "
                         f"per company over the whole programme ({call.programme.name}).")
    if call.support_cap is not None:
        sentences.append(f"The support one company receives over the programme may not exceed "
                         f"{format_eur(call.support_cap)} in total.")
    sentences.append(
        f"De minimis: the small aid one undertaking receives from all public sources over "
        f"any three years may not exceed {format_eur(budget.de_minimis_cap())} "
        f"(Regulation (EU) 2023/2831). Declare each aid already received, with its date, in "
        "the company profile; a voucher that would pass the ceiling cannot be awarded.")
    return RuleSection("Limits per company", tuple(sentences))


def percent(share: Decimal) -> str:
    """0.5 as "50%", 0.3333 as "33.33%"."""
    return f"{(share * 100).normalize():f}%"


def payment(call: Call) -> RuleSection:
    final = ("after the final report is approved: the actual eligible costs times the "
             "voucher type's funding rate, at most the amount awarded")
    if not call.advance_share:
        return RuleSection("Payment", (f"The voucher is paid {final}.",))
    return RuleSection("Payment", (
        f"{percent(call.advance_share)} of the award is paid in advance, once the voucher "
        "is awarded.",
        f"The rest is paid {final}, less the advance. Where the advance is more than that, "
        "the company pays the difference back.",
    ))


def voucher_type(cvt: CallVoucherType) -> RuleSection:
    registered = voucher_types.get(cvt.voucher_type)
    sentences = []
    if registered.needs_provider:
        sentences.append(
            "The service provider must be based in another region than the company."
            if cvt.provider_other_region else
            "The service provider may be based in any region, the company's own included.")
    kinds = [voucher_types.ATTACHMENT_KINDS.get(k, k) for k in cvt.required_attachments or ()]
    sentences.append(f"Attach: {listing([_in_sentence(k) for k in kinds])}."
                     if kinds else "No particular document is required.")
    if cvt.threshold is not None:
        least = f"{cvt.threshold.normalize():f}"
        sentences.append(f"A voucher needs a weighted score of at least {least} out of "
                         f"{cvt.score_scale}.")
    minimums = [f"{c.name}: {c.minimum}" for c in cvt.criteria if c.minimum is not None]
    if minimums:
        sentences.append(f"Least score per criterion (out of {cvt.score_scale}): "
                         f"{listing(minimums)}.")
    return RuleSection(f"{cvt.label} vouchers", tuple(sentences))


def describe(call: Call) -> list[RuleSection]:
    """The rules of ``call``: who may apply, dates, limits, payment, then each voucher
    type's."""
    return [who_may_apply(call), dates(call), limits(call), payment(call),
            *(voucher_type(cvt) for cvt in call.voucher_types)]
