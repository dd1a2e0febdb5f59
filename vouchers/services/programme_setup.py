"""Setting up programmes: the funded scheme, its budget, dates and partner regions, its
own bank account (the debtor of its SEPA payment files) and the granting authority the
de minimis register names.

The partner regions are the default eligible regions of every call that does not name
its own (Call.regions), so changing them re-checks the eligibility of those calls'
applications. Like every service, these functions check who asks, flush, never commit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from exports import sepa_file

from .. import identifiers, policy
from ..clock import local_date
from ..extensions import db
from ..i18n import N_, said
from ..models import RATE_RULES, Call, CallVoucherType, Programme, User
from ..money import MAX_MONEY
from . import eligibility
from .call_specs import clean_regions
from .errors import InvalidInput
from .setup_checks import SetupRefused, checked_line, clean_name, refuse_if
from .transaction import atomic
from .wording import eur, long_day

NOT_ALLOWED = N_("Only a programme manager sets up programmes and calls.")
# The columns' sizes; the SEPA file's names hold 70 characters.
DEBTOR_NAME_MAX, AUTHORITY_MAX = 70, 200
ACCOUNT_FIELDS = ("debtor_name", "debtor_iban", "debtor_bic", "granting_authority")


def _account(fields: dict[str, str | None], programme: Programme | None,
             problems: list[str]) -> dict[str, str]:
    """The programme's bank account and granting authority (the fields not None), cleaned;
    each problem noted. The IBAN and BIC are checked with schwifty (exports/sepa_file.py)
    and kept in their compact form. The account may stay empty (no SEPA file can be made
    until it is given); a name or an IBAN alone is not an account."""
    checks = {
        "debtor_name": lambda v: clean_name(v, _("the account's name"), DEBTOR_NAME_MAX),
        "debtor_iban": lambda v: sepa_file.clean_iban(v, _("The programme's IBAN"))
        if v.strip() else "",
        "debtor_bic": lambda v: sepa_file.clean_bic(v, _("The programme's BIC")),
        "granting_authority": lambda v: clean_name(v, _("the granting authority"),
                                                   AUTHORITY_MAX),
    }
    cleaned: dict[str, str] = {}
    for name, check in checks.items():
        if fields.get(name) is None:
            continue
        try:
            cleaned[name] = check(fields[name])
        except InvalidInput as exc:
            problems.append(exc.message)
        except sepa_file.SepaFileError as exc:
            problems.append(said(exc))
    # What the account will hold (a field refused above counts as given).
    name, iban, bic = (cleaned.get(f, fields.get(f) if fields.get(f) is not None
                                   else getattr(programme, f, ""))
                       for f in ("debtor_name", "debtor_iban", "debtor_bic"))
    if bool((name or "").strip()) != bool((iban or "").strip()) or (bic and not iban):
        problems.append(_("The programme's bank account needs both the account's name and "
                          "its IBAN (the BIC is optional); or leave all three empty."))
    elif bic and iban and not problems:
        try:  # the bank's BIC must be of the account's country, as for a company's account
            identifiers.bic(bic, iban)
        except identifiers.IdentifierError as exc:
            problems.append(_("The programme's BIC: %(problem)s", problem=exc))
    return cleaned


def _problems(name: str, funder: str, total_budget: Decimal | None, starts_on: date | None,
              ends_on: date | None, regions: list[list[str]]) -> tuple[list[str], list]:
    problems: list[str] = []
    checked_line(name, _("the programme's name"), problems, _("Give the programme a name."))
    checked_line(funder, _("the funder's name"), problems, _("Name the programme's funder."))
    if total_budget is None or total_budget < 0:
        problems.append(_("The total budget cannot be negative."))
    elif total_budget > MAX_MONEY:
        problems.append(_("The total budget is too large."))
    if starts_on is None or ends_on is None:
        problems.append(_("Say when the programme starts and ends."))
    elif ends_on <= starts_on:
        problems.append(_("The programme must end after it starts."))
    return problems, clean_regions(regions or [], problems)


def _check_rate_rule(rate_rule: str, problems: list[str]) -> None:
    if rate_rule not in RATE_RULES:
        problems.append(_("Choose which month's InforEuro rate converts the partners' "
                          "amounts: the month of the partner report's submission or of the "
                          "payment."))


def create_programme(by: User, *, name: str, funder: str, total_budget: Decimal,
                     starts_on: date, ends_on: date,
                     regions: list[list[str]] | None = None, debtor_name: str = "",
                     debtor_iban: str = "", debtor_bic: str = "",
                     granting_authority: str = "", rate_rule: str = "submission") -> Programme:
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    problems, regions = _problems(name, funder, total_budget, starts_on, ends_on, regions)
    _check_rate_rule(rate_rule, problems)
    account = _account({"debtor_name": debtor_name, "debtor_iban": debtor_iban,
                        "debtor_bic": debtor_bic, "granting_authority": granting_authority},
                       None, problems)
    refuse_if(problems)
    with atomic():
        programme = Programme(name=name.strip(), funder=funder.strip(), currency="EUR",
                              total_budget=total_budget, starts_on=starts_on, ends_on=ends_on,
                              regions=regions, rate_rule=rate_rule, **account)
        db.session.add(programme)
    return programme


def update_programme(programme: Programme, by: User, *, name: str, funder: str,
                     total_budget: Decimal, starts_on: date, ends_on: date,
                     regions: list[list[str]] | None = None, debtor_name: str | None = None,
                     debtor_iban: str | None = None, debtor_bic: str | None = None,
                     granting_authority: str | None = None,
                     rate_rule: str | None = None) -> Programme:
    """Change a programme. Refused, changing nothing: a budget below the calls'
    envelopes, an end before a call closes or before a call's implementation period ends.
    The account fields, the granting authority and the rate rule left None stay as they
    are."""
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    problems, regions = _problems(name, funder, total_budget, starts_on, ends_on, regions)
    if rate_rule is not None:
        _check_rate_rule(rate_rule, problems)
    account = _account({"debtor_name": debtor_name, "debtor_iban": debtor_iban,
                        "debtor_bic": debtor_bic, "granting_authority": granting_authority},
                       programme, problems)
    refuse_if(problems)
    with atomic():
        # Locked first, then the calls read as committed: a call being created or edited
        # at this moment waits for this change (or this one for it) and checks against it.
        lock_programme(programme)
        calls = list(db.session.scalars(
            select(Call).where(Call.programme_id == programme.id)
            .execution_options(populate_existing=True)))
        for call in calls:
            if ends_on < local_date(call.closes_at):
                problems.append(_("Call %(code)s closes on %(day)s; the programme cannot end "
                                  "before that.", code=call.code,
                                  day=long_day(local_date(call.closes_at))))
            elif call.implementation_ends_on and ends_on < call.implementation_ends_on:
                problems.append(_("The activities of call %(code)s may run until %(day)s; the "
                                  "programme cannot end before that.", code=call.code,
                                  day=long_day(call.implementation_ends_on)))
        refuse_if(problems)
        # Only the calls that read them: a call naming its own regions is not affected.
        regions_changed = [list(r) for r in programme.regions or []] != regions
        ends_changed = programme.ends_on != ends_on
        programme.name, programme.funder = name.strip(), funder.strip()
        programme.total_budget = total_budget
        programme.starts_on, programme.ends_on = starts_on, ends_on
        programme.regions = regions
        for field, value in account.items():
            setattr(programme, field, value)
        if rate_rule is not None:
            # Only what is converted from now on: submitted partner reports and recorded
            # payments keep the rates they were converted at.
            programme.rate_rule = rate_rule
        db.session.flush()
        check_programme_budget(programme)
        for call in calls:
            if ((regions_changed and call.eligible_regions is None)
                    or (ends_changed and call.implementation_ends_on is None)):
                refresh_eligibility(call)
    return programme


def lock_programme(programme: Programme) -> None:
    """Take the programme's row lock (PostgreSQL; SQLite serialises writers anyway)."""
    db.session.execute(update(Programme).where(Programme.id == programme.id)
                       .values(total_budget=Programme.total_budget))


def last_day(programme: Programme) -> date:
    """The programme's last day as committed (read after lock_programme)."""
    return db.session.scalar(select(Programme.ends_on).where(Programme.id == programme.id))


def check_programme_budget(programme: Programme) -> None:
    """Refuse envelopes that together promise more than the programme's budget.

    Runs inside the change's savepoint, after its writes: the update takes the
    programme's row lock on PostgreSQL (SQLite serialises writers anyway), so two
    managers editing calls of one programme at once cannot both squeeze in.
    """
    lock_programme(programme)
    promised = db.session.scalar(
        select(func.coalesce(func.sum(CallVoucherType.envelope), 0))
        .join(Call, Call.id == CallVoucherType.call_id)
        .where(Call.programme_id == programme.id)
    )
    if promised > programme.total_budget:
        raise SetupRefused([
            _("The envelopes of the calls of %(programme)s would add up to %(promised)s, more "
              "than its budget of %(budget)s.", programme=programme.name,
              promised=eur(promised), budget=eur(programme.total_budget))
        ])


def refresh_eligibility(call: Call) -> None:
    """Re-check the applications of ``call`` against its rules as they now stand."""
    eligibility.refresh_call(call)
