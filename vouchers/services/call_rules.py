"""A call's rules in plain words, as applicants read them before they apply.

The public call list, the applicant's home and the manager's call page all show this
text, so what the manager set and what applicants read cannot drift apart. The checks
themselves are services/eligibility's; this only says what they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext

from .. import voucher_types
from ..clock import programme_zone
from ..formatting import local_time
from ..i18n import reader_locale
from ..models import Call, CallVoucherType
from ..models.programmes import SME_SIZES
from ..text import listing
from . import budget
from .wording import N_, both, either, eur, full_day

SIZE_WORDS = {"micro": N_("micro"), "small": N_("small"), "medium": N_("medium-sized"),
              "large": N_("large")}


@dataclass(frozen=True)
class RuleSection:
    heading: str
    sentences: tuple[str, ...]


def day(value: date) -> str:
    return full_day(value)


def _in_sentence(label: str) -> str:
    """"The provider's quote" inside a sentence; "CV of ..." stays as it is."""
    label = _(label)
    locale = reader_locale()
    if locale is not None and locale.language == "de":
        return label  # German keeps its nouns' capitals
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def who_may_apply(call: Call) -> RuleSection:
    regions = call.regions
    if regions:
        where = _("Companies based in one of these regions: %(regions)s.",
                  regions=both([f"{r} ({c})" for c, r in regions]))
    else:
        where = _("Companies of every region may apply.")
    sizes = [s for s in SIZE_WORDS if s in set(call.allowed_sizes or ())]
    if set(sizes) == set(SME_SIZES):
        size = _("Micro, small and medium-sized enterprises (SMEs) only; large enterprises "
                 "may not apply.")
    elif set(sizes) == set(SIZE_WORDS):
        size = _("Enterprises of every size may apply, large ones included.")
    else:
        words = [_(SIZE_WORDS[s]) for s in sizes]
        size = _("Only %(sizes)s enterprises may apply.",
                 sizes=listing(words, "or") if reader_locale() is None
                 else either(words))
    return RuleSection(_("Who may apply"), (where, size))


def dates(call: Call) -> RuleSection:
    return RuleSection(_("Dates"), (
        _("Applications are accepted from %(opens)s until %(closes)s (times in %(zone)s).",
          opens=local_time(call.opens_at), closes=local_time(call.closes_at),
          zone=programme_zone().key),
        _("The activities (a trip, a service delivered) take place between the day the "
          "application is submitted and %(day)s.", day=day(call.last_activity_day)),
        _("The final report on a voucher is due %(days)s days after its activity ends (the "
          "trip's last day, the service's delivery date).", days=call.report_due_days),
    ))


def limits(call: Call) -> RuleSection:
    per_type = call.max_applications_per_type
    sentences = [
        ngettext("At most %(num)s application per company for each voucher type of this "
                 "call.", "At most %(num)s applications per company for each voucher type "
                 "of this call.", per_type) if per_type is not None
        else _("No limit on the applications of one company per voucher type."),
    ]
    if call.max_vouchers_per_sme is not None:
        sentences.append(ngettext(
            "At most %(num)s voucher per company over the whole programme (%(programme)s).",
            "At most %(num)s vouchers per company over the whole programme (%(programme)s).",
            call.max_vouchers_per_sme, programme=call.programme.name))
    if call.support_cap is not None:
        sentences.append(_("The support one company receives over the programme may not "
                           "exceed %(cap)s in total.", cap=eur(call.support_cap)))
    sentences.append(_(
        "De minimis: the small aid one undertaking receives from all public sources over "
        "any three years may not exceed %(cap)s (Regulation (EU) 2023/2831). Declare each "
        "aid already received, with its date, in the company profile; a voucher that would "
        "pass the ceiling cannot be awarded.", cap=eur(budget.de_minimis_cap())))
    return RuleSection(_("Limits per company"), tuple(sentences))


def percent(share: Decimal) -> str:
    """0.5 as "50%", 0.3333 as "33.33%"."""
    return f"{(share * 100).normalize():f}%"


def payment(call: Call) -> RuleSection:
    if not call.advance_share:
        return RuleSection(_("Payment"), (_(
            "The voucher is paid after the final report is approved: the actual eligible "
            "costs times the voucher type's funding rate, at most the amount awarded."),))
    return RuleSection(_("Payment"), (
        _("%(share)s of the award is paid in advance, once the voucher is awarded.",
          share=percent(call.advance_share)),
        _("The rest is paid after the final report is approved: the actual eligible costs "
          "times the voucher type's funding rate, at most the amount awarded, less the "
          "advance. Where the advance is more than that, the company pays the difference "
          "back."),
    ))


def voucher_type(cvt: CallVoucherType) -> RuleSection:
    registered = voucher_types.get(cvt.voucher_type)
    sentences = []
    if registered.needs_provider:
        sentences.append(
            _("The service provider must be based in another region than the company.")
            if cvt.provider_other_region else
            _("The service provider may be based in any region, the company's own "
              "included."))
    kinds = [voucher_types.ATTACHMENT_KINDS.get(k, k) for k in cvt.required_attachments or ()]
    sentences.append(_("Attach: %(documents)s.",
                       documents=both([_in_sentence(k) for k in kinds]))
                     if kinds else _("No particular document is required."))
    if cvt.threshold is not None:
        least = format(cvt.threshold.normalize(), "f")
        sentences.append(_("A voucher needs a weighted score of at least %(least)s out of "
                           "%(scale)s.", least=least, scale=cvt.score_scale))
    minimums = [f"{c.name}: {c.minimum}" for c in cvt.criteria if c.minimum is not None]
    if minimums:
        sentences.append(_("Least score per criterion (out of %(scale)s): %(minimums)s.",
                           scale=cvt.score_scale, minimums=both(minimums)))
    return RuleSection(_("%(type)s vouchers", type=_(cvt.label)), tuple(sentences))


def describe(call: Call) -> list[RuleSection]:
    """The rules of ``call``: who may apply, dates, limits, payment, then each voucher
    type's."""
    return [who_may_apply(call), dates(call), limits(call), payment(call),
            *(voucher_type(cvt) for cvt in call.voucher_types)]
