"""Setting up calls and the provider catalogue: the rules, and that a refusal changes nothing."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.helpers import snapshot
from vouchers.extensions import db
from vouchers.models import Call, CallVoucherType, Criterion, ServiceProvider
from vouchers.services import call_setup as cs
from vouchers.services import providers
from vouchers.services.call_specs import CallSpec, CriterionSpec, VoucherTypeSpec
from vouchers.services.errors import ConstraintClash, InvalidInput, NotAllowed
from vouchers.services.providers import ProviderSpec

OPENS = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
# The call-wide rules (tests/test_call_rules_form.py tries each).
RULES = ("eligible_regions", "allowed_sizes", "max_applications_per_type",
         "max_vouchers_per_sme", "support_cap", "implementation_ends_on", "divergence_share",
         "extra_evaluator_on_divergence", "lead_evaluator_id")


def refused(action, message_part: str, error=InvalidInput) -> str:
    before = snapshot()
    with pytest.raises(error) as exc:
        action()
    db.session.commit()
    assert snapshot() == before
    assert message_part in str(exc.value)
    return str(exc.value)


def travel(**changes) -> VoucherTypeSpec:
    spec = VoucherTypeSpec(
        voucher_type="travel", quota=12, max_amount=Decimal("5000.00"),
        funding_rate=Decimal("1"), envelope=Decimal("60000.00"), score_scale=5,
        criteria=[CriterionSpec("Relevance of the event", Decimal("2")),
                  CriterionSpec("Partnering plan", Decimal("1"))],
    )
    return replace(spec, **changes)


def call_spec(**changes) -> CallSpec:
    spec = CallSpec(code="hls2", title="Cross-border vouchers, call 2", opens_at=OPENS,
                    closes_at=OPENS + timedelta(days=90), types=[travel()])
    return replace(spec, **changes)


def spec_of(call: Call) -> CallSpec:
    """The spec that leaves ``call`` exactly as it is; tests change one thing in it."""
    return CallSpec(
        code=call.code, title=call.title, description=call.description,
        opens_at=call.opens_at, closes_at=call.closes_at,
        types=[VoucherTypeSpec(
            voucher_type=t.voucher_type, quota=t.quota, max_amount=t.max_amount,
            funding_rate=t.funding_rate, envelope=t.envelope, score_scale=t.score_scale,
            criteria=[CriterionSpec(c.name, c.weight, c.description, c.id, c.minimum)
                      for c in t.criteria],
            provider_other_region=t.provider_other_region,
            required_attachments=list(t.required_attachments), threshold=t.threshold,
        ) for t in call.voucher_types],
        **{name: getattr(call, name) for name in RULES},
    )


def one_type(spec: CallSpec, voucher_type: str, **changes) -> CallSpec:
    return replace(spec, types=[replace(t, **changes) if t.voucher_type == voucher_type else t
                                for t in spec.types])


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def programme(make):
    # Room in the budget for another call beside the factory's one.
    programme = make.call().programme
    programme.total_budget = Decimal("5000000")
    db.session.commit()
    return programme


def test_a_manager_creates_a_call_with_its_voucher_types_and_criteria(manager, programme):
    spec = call_spec(types=[travel(funding_rate=Decimal("0.333333")),
                            replace(travel(), voucher_type="impact", quota=0)])
    call = cs.create_call(programme, spec, manager)
    db.session.commit()
    db.session.expire_all()

    call = db.session.get(Call, call.id)
    assert call.code == "HLS2"  # codes are kept in capitals
    assert call.programme_id == programme.id
    assert [t.voucher_type for t in call.voucher_types] == ["travel", "impact"]
    travel_type = call.voucher_type("travel")
    assert travel_type.funding_rate == Decimal("0.3333")
    assert travel_type.committed == 0 and travel_type.awarded_count == 0
    assert [(c.name, c.weight, c.position) for c in travel_type.criteria] == [
        ("Relevance of the event", Decimal("2.00"), 0), ("Partnering plan", Decimal("1.00"), 1)]


@pytest.mark.parametrize(("change", "message"), [
    ({"closes_at": OPENS}, "The call must close after it opens."),
    ({"closes_at": OPENS - timedelta(hours=1)}, "The call must close after it opens."),
    ({"types": []}, "Offer at least one voucher type."),
    ({"code": "HLS 2"}, "letters, digits, dashes and underscores"),
    ({"code": "X" * 21}, "up to 20"),
    ({"title": " "}, "Give the call a title."),
    ({"types": [travel(quota=-1)]}, "Travel: the quota cannot be negative."),
    ({"types": [travel(max_amount=Decimal("0"))]}, "maximum amount must be more than zero"),
    ({"types": [travel(funding_rate=Decimal("0"))]}, "more than 0% and at most 100%"),
    ({"types": [travel(funding_rate=Decimal("1.01"))]}, "more than 0% and at most 100%"),
    ({"types": [travel(envelope=Decimal("-0.01"))]}, "the envelope cannot be negative"),
    ({"types": [travel(score_scale=0)]}, "scores run from 0 to a maximum"),
    ({"types": [travel(criteria=[])]}, "give at least one scoring criterion"),
    ({"types": [travel(criteria=[CriterionSpec("Fit", Decimal("0"))])]},
     "the weight of 'Fit' must be more than zero"),
    ({"types": [travel(criteria=[CriterionSpec("Fit", Decimal("0.001"))])]},
     "the weight of 'Fit' must be more than zero"),
    ({"types": [travel(criteria=[CriterionSpec("Fit", Decimal("1")),
                                 CriterionSpec("fit", Decimal("1"))])]}, "appears twice"),
    ({"types": [travel(), travel()]}, "Travel vouchers appear twice."),
])
def test_a_call_breaking_a_rule_is_refused_and_nothing_is_written(manager, programme, change,
                                                                  message):
    refused(lambda: cs.create_call(programme, call_spec(**change), manager), message)


def test_call_codes_are_unique_whatever_their_case(make, manager, programme):
    make.call(code="HLS2")
    refused(lambda: cs.create_call(programme, call_spec(code="hls2"), manager),
            "Another call already uses the code HLS2.")


def test_only_a_manager_sets_up_calls(make, programme):
    evaluator = make.evaluator()
    refused(lambda: cs.create_call(programme, call_spec(), evaluator), "Only a programme manager",
            NotAllowed)


def test_editing_changes_window_budgets_and_criteria(make, manager):
    call = make.call()
    spec = spec_of(call)
    travel_spec = next(t for t in spec.types if t.voucher_type == "travel")
    kept, dropped = travel_spec.criteria
    spec = one_type(spec, "travel", quota=20, envelope=Decimal("80000"),
                    funding_rate=Decimal("0.9"), score_scale=10,
                    criteria=[replace(kept, name="Renamed", weight=Decimal("3")),
                              CriterionSpec("New one", Decimal("1.5"))])
    spec = replace(spec, closes_at=call.closes_at + timedelta(days=7),
                   types=[t for t in spec.types if t.voucher_type != "impact"])

    cs.update_call(call, spec, manager)
    db.session.commit()
    db.session.expire_all()

    t = db.session.get(Call, call.id).voucher_type("travel")
    assert (t.quota, t.envelope, t.funding_rate, t.score_scale) == (
        20, Decimal("80000.00"), Decimal("0.9000"), 10)
    assert [(c.id == kept.id, c.name, c.weight) for c in t.criteria] == [
        (True, "Renamed", Decimal("3.00")), (False, "New one", Decimal("1.50"))]
    assert db.session.get(Criterion, dropped.id) is None
    assert db.session.get(Call, call.id).voucher_type("impact") is None


def test_an_edit_cannot_take_the_envelope_below_what_is_committed(make, manager):
    call = make.call()
    make.application("awarded", call.voucher_type("market_validation"), amount="40000",
                     manager=manager)
    spec = one_type(spec_of(call), "market_validation", envelope=Decimal("39999.99"))

    message = refused(lambda: cs.update_call(call, spec, manager), "€40,000.00 is already "
                      "committed")
    assert message.startswith("Market validation:")

    cs.update_call(call, one_type(spec_of(call), "market_validation",
                                  envelope=Decimal("40000")), manager)
    db.session.commit()
    assert call.voucher_type("market_validation").envelope == Decimal("40000.00")


def test_an_edit_cannot_take_the_quota_below_the_vouchers_awarded(make, manager):
    call = make.call()
    cvt = call.voucher_type("travel")
    make.application("awarded", cvt, manager=manager)
    make.application("awarded", cvt, manager=manager)

    refused(lambda: cs.update_call(call, one_type(spec_of(call), "travel", quota=1), manager),
            "Travel: 2 vouchers are already awarded; the quota cannot be lower than 2.")


def test_an_award_landing_after_the_call_was_read_still_stops_the_envelope_cut(
        make, manager, monkeypatch, is_postgres):
    # The call was read before the edit took the write lock, and an award lands in
    # between. On SQLite the edit's checks run under the lock on the data read afresh, so
    # the first check already sees the money; on PostgreSQL the check may read what the
    # session holds, and the conditional UPDATE must stop the cut.
    call = make.call()
    cvt = call.voucher_type("travel")
    spec = one_type(spec_of(call), "travel", envelope=Decimal("1000"))
    assert cvt.committed == 0  # what the edit's first check sees
    checked = []
    first_check = cs._budget_problems

    def spy(*args):
        # Only the check before the write; the refusal explains with a second call.
        problems = first_check(*args)
        if not checked:
            checked.append(problems)
        return problems

    monkeypatch.setattr(cs, "_budget_problems", spy)
    # Another worker commits money to the envelope in between.
    # (Through the table, so the money column's type stores the amount as it does.)
    table = CallVoucherType.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == cvt.id)
                     .values(committed=Decimal("4000"), awarded_count=1))

    with pytest.raises(InvalidInput, match="€4,000.00 is already committed"):
        cs.update_call(call, spec, manager)
    if is_postgres:
        assert checked == [[]]  # the first check saw no money committed
    else:
        assert "€4,000.00 is already committed" in " ".join(checked[0])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(CallVoucherType, cvt.id).envelope == Decimal("60000.00")


def test_a_voucher_type_with_applications_stays_in_the_call(make, manager):
    call = make.call()
    make.application("draft", call.voucher_type("impact"))
    spec = replace(spec_of(call), types=[t for t in spec_of(call).types
                                         if t.voucher_type != "impact"])
    refused(lambda: cs.update_call(call, spec, manager),
            "Impact vouchers already have applications; they cannot be taken out of the call.")


def test_scored_criteria_keep_their_weights_but_may_be_renamed(make, manager):
    call = make.call()
    make.application("under_review", call.voucher_type("market_validation"), manager=manager)
    spec = spec_of(call)
    mv = next(t for t in spec.types if t.voucher_type == "market_validation")
    first, second = mv.criteria

    for change in ({"criteria": [replace(first, weight=Decimal("5")), second]},
                   {"criteria": [first]},
                   {"criteria": [first, second, CriterionSpec("Extra", Decimal("1"))]},
                   {"score_scale": 10}):
        refused(lambda c=change: cs.update_call(call, one_type(spec, "market_validation", **c),
                                                manager),
                "reviews were scored against these criteria")

    cs.update_call(call, one_type(spec, "market_validation",
                                  criteria=[replace(first, name="Market fit"), second]), manager)
    db.session.commit()
    assert call.voucher_type("market_validation").criteria[0].name == "Market fit"


def test_a_criterion_of_another_call_cannot_be_smuggled_in(make, manager):
    call, other = make.call(), make.call()
    foreign = other.voucher_type("travel").criteria[0]
    spec = one_type(spec_of(call), "travel",
                    criteria=[CriterionSpec("Taken", Decimal("1"), id=foreign.id)])
    refused(lambda: cs.update_call(call, spec, manager), "a criterion was not found")


def test_the_code_may_change_until_references_are_issued(make, manager):
    call = make.call(code="OLD1")
    cs.update_call(call, replace(spec_of(call), code="new1"), manager)
    db.session.commit()
    assert call.code == "NEW1"

    make.application("draft", call.voucher_type("travel"))
    refused(lambda: cs.update_call(call, replace(spec_of(call), code="NEW2"), manager),
            "references starting with NEW1")


def test_a_programme_ends_after_it_starts(manager):
    refused(lambda: cs.create_programme(manager, name="P", funder="Interreg",
                                        total_budget=Decimal("1000"), starts_on=date(2027, 1, 1),
                                        ends_on=date(2027, 1, 1)),
            "The programme must end after it starts.")
    programme = cs.create_programme(manager, name=" Health vouchers ", funder="Interreg NWE",
                                    total_budget=Decimal("1240000"), starts_on=date(2027, 1, 1),
                                    ends_on=date(2029, 12, 31))
    db.session.commit()
    assert programme.name == "Health vouchers" and programme.currency == "EUR"


def provider_spec(**changes) -> ProviderSpec:
    spec = ProviderSpec(name="Rhein Biotest GmbH", country="de", region="Baden-Wuerttemberg",
                        services="Bench testing, ISO 10993 biocompatibility",
                        website="https://www.rheinbiotest.example",
                        email="vouchers@rheinbiotest.example")
    return replace(spec, **changes)


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ""}, "Give the provider's name."),
    ({"country": "Germany"}, "two-letter code"),
    ({"region": " "}, "Give the provider's region."),
    ({"website": "javascript:alert(1)"}, "starting with https://"),
    ({"email": "nobody"}, "is not an e-mail address"),
])
def test_a_provider_breaking_a_rule_is_refused(manager, change, message):
    refused(lambda: providers.add_provider(provider_spec(**change), manager), message)


def test_a_provider_is_not_listed_twice(manager):
    providers.add_provider(provider_spec(), manager)
    db.session.commit()
    refused(lambda: providers.add_provider(provider_spec(name="RHEIN BIOTEST GMBH"), manager),
            "Rhein Biotest GmbH (DE) is already in the catalogue.")


def test_deactivated_providers_leave_the_choices_but_not_the_drafts_naming_them(make, manager):
    from vouchers.services.applications import active_providers
    from vouchers.services.transitions import completeness_problems

    application = make.application("draft", make.call().voucher_type("market_validation"))
    named = application.provider
    other = providers.add_provider(provider_spec(), manager)
    providers.set_provider_active(named, False, manager)
    db.session.commit()

    assert named not in active_providers()
    assert other in active_providers()
    assert completeness_problems(application) == [
        "the chosen service provider has left the catalogue; choose another"]
    assert db.session.get(ServiceProvider, named.id).active is False
    assert application.provider_id == named.id
    assert db.session.scalar(select(ServiceProvider.country).where(
        ServiceProvider.id == other.id)) == "DE"


def test_the_funding_rate_is_fixed_once_vouchers_are_awarded(make, manager):
    call = make.call()
    cvt = call.voucher_type("market_validation")
    spec = one_type(spec_of(call), "market_validation", funding_rate=Decimal("0.5"))
    make.application("under_review", cvt, manager=manager)
    cs.update_call(call, spec, manager)  # nothing awarded yet: the rate may change
    db.session.commit()
    assert cvt.funding_rate == Decimal("0.5000")

    make.application("awarded", cvt, manager=manager)
    refused(lambda: cs.update_call(call, one_type(spec_of(call), "market_validation",
                                                   funding_rate=Decimal("0.1")), manager),
            "Market validation: vouchers were already awarded at 50%; the funding rate "
            "cannot change.")


def test_envelopes_of_a_programme_cannot_exceed_its_budget(make, manager):
    call = make.call()  # envelopes 1,220,000 of a 1,240,000 programme
    spec = one_type(spec_of(call), "travel", envelope=Decimal("80000.01"))
    refused(lambda: cs.update_call(call, spec, manager),
            "would add up to €1,240,000.01, more than its budget of €1,240,000.00")
    cs.update_call(call, one_type(spec_of(call), "travel", envelope=Decimal("80000")), manager)
    db.session.commit()

    second = call_spec(types=[travel(envelope=Decimal("0.01"))])
    refused(lambda: cs.create_call(call.programme, second, manager), "more than its budget")


def test_a_funding_rate_that_rounds_to_zero_is_not_a_taken_code(manager, programme):
    message = refused(lambda: cs.create_call(
        programme, call_spec(types=[travel(funding_rate=Decimal("0.00004"))]), manager),
        "Travel: a funding rate of 0.004% rounds to 0%; the smallest rate is 0.01%.")
    assert "code" not in message
    # Half a hundredth of a percent is kept as a hundredth: it does not round to zero.
    call = cs.create_call(programme, call_spec(types=[travel(funding_rate=Decimal("0.00005"))]),
                          manager)
    db.session.commit()
    assert call.voucher_type("travel").funding_rate == Decimal("0.0001")


def test_a_code_taken_at_the_same_moment_is_named_by_the_unique_index(make, manager, programme,
                                                                      monkeypatch):
    make.call(code="HLS2")
    # As if the other manager's call were committed after this one's check.
    monkeypatch.setattr(cs, "_code_taken", lambda *args, **kwargs: False)
    refused(lambda: cs.create_call(programme, call_spec(code="hls2"), manager),
            "Another call already uses the code HLS2.", ConstraintClash)


def test_the_budget_message_names_a_programme_ending_in_s(make, manager):
    call = make.call()
    call.programme.name = "Health Vouchers"
    db.session.commit()
    spec = one_type(spec_of(call), "travel", envelope=Decimal("80000.01"))
    message = refused(lambda: cs.update_call(call, spec, manager), "The envelopes of the calls "
                      "of Health Vouchers would add up to €1,240,000.01")
    assert "'s" not in message


@pytest.mark.parametrize(("action", "message"), [
    (lambda m, p: cs.create_programme(m, name="Health\u200b vouchers", funder="Interreg",
                                      total_budget=Decimal("1"), starts_on=date(2027, 1, 1),
                                      ends_on=date(2028, 1, 1)),
     "The programme's name contains an invisible or direction-changing character"),
    (lambda m, p: cs.create_call(p, call_spec(title="Call \u202e2"), m),
     "The call's title contains an invisible or direction-changing character"),
    (lambda m, p: cs.create_call(p, call_spec(types=[travel(criteria=[
        CriterionSpec("Fit\u2066", Decimal("1"))])]), m),
     "Travel: the name of a criterion contains an invisible"),
    (lambda m, p: providers.add_provider(provider_spec(name="Rhein\ufeff Biotest"), m),
     "The provider's name contains an invisible or direction-changing character "
     "(a byte-order mark, U+FEFF)"),
    (lambda m, p: providers.add_provider(provider_spec(region="Bavaria\u200f"), m),
     "The provider's region contains an invisible"),
])
def test_invisible_and_bidi_characters_in_names_are_refused(manager, programme, action,
                                                            message):
    refused(lambda: action(manager, programme), message)


def test_only_a_manager_keeps_the_catalogue(make):
    provider = make.provider()
    evaluator = make.evaluator()
    refused(lambda: providers.add_provider(provider_spec(), evaluator),
            "Only a programme manager keeps the provider catalogue.", NotAllowed)
    refused(lambda: providers.set_provider_active(provider, False, evaluator),
            "Only a programme manager", NotAllowed)


# --- the call's money settings -------------------------------------------------------------


def money_spec(base: CallSpec | None = None, **money) -> cs.CallSpec:
    """``base`` (a new call by default) with the money settings ``money``."""
    return cs.CallSpec(**{**vars(base or call_spec()), **money})


def test_a_call_sets_its_advance_share_and_whether_a_zero_report_returns_its_place(
        manager, programme):
    call = cs.create_call(programme, money_spec(advance_share=Decimal("0.5"),
                                                zero_report_returns_quota=False), manager)
    db.session.commit()
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert (call.advance_share, call.zero_report_returns_quota) == (Decimal("0.5000"), False)

    cs.update_call(call, money_spec(spec_of(call), advance_share=Decimal("0.3333")), manager)
    db.session.commit()
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert (call.advance_share, call.zero_report_returns_quota) == (Decimal("0.3333"), True)

    cs.update_call(call, money_spec(spec_of(call), advance_share=None), manager)
    db.session.commit()
    assert db.session.get(Call, call.id).advance_share is None


def test_a_spec_without_the_money_settings_keeps_them(make, manager, programme):
    """A caller of the set-up that predates them (call_specs.CallSpec) changes neither."""
    call = cs.create_call(programme, call_spec(), manager)
    db.session.commit()
    assert (call.advance_share, call.zero_report_returns_quota) == (None, True)
    call.advance_share, call.zero_report_returns_quota = Decimal("0.4"), False
    db.session.commit()
    cs.update_call(call, replace(spec_of(call), title="Renamed"), manager)
    db.session.commit()
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.title == "Renamed"
    assert (call.advance_share, call.zero_report_returns_quota) == (Decimal("0.4000"), False)


@pytest.mark.parametrize(("money", "message"), [
    ({"advance_share": Decimal("0")}, "The advance must be from 1% to 99% of the award"),
    ({"advance_share": Decimal("1")}, "The advance must be from 1% to 99% of the award"),
    ({"advance_share": Decimal("0.995")}, "The advance must be from 1% to 99% of the award"),
    ({"advance_share": Decimal("0.005")}, "The advance must be from 1% to 99% of the award"),
    ({"advance_share": Decimal("0.12345")}, "at most two decimals of a percent"),
    ({"advance_share": Decimal("NaN")}, "or left empty for no advance"),
    ({"advance_share": 0.5}, "The advance must be from 1% to 99% of the award"),
    ({"advance_share": True}, "The advance must be from 1% to 99% of the award"),
    ({"zero_report_returns_quota": "no"}, "gives its quota place back (yes or no)"),
])
def test_bad_money_settings_are_refused_and_nothing_is_written(make, manager, programme,
                                                               money, message):
    refused(lambda: cs.create_call(programme, money_spec(**money), manager), message)
    existing = make.call()
    refused(lambda: cs.update_call(existing, money_spec(spec_of(existing), **money), manager),
            message)


def test_the_advance_share_stays_once_an_advance_is_paid(make, manager):
    """A file at the old share may be with the bank: its advances must stay recordable."""
    from vouchers.clock import today
    from vouchers.services import payments, settlement

    voucher = make.application("awarded", manager=manager)
    call = voucher.call
    call.advance_share = Decimal("0.50")
    db.session.commit()
    payments.record_payment(voucher, manager, settlement.advance_due(voucher), paid_on=today(),
                            reference="ADV-1", kind="advance")
    db.session.commit()
    refused(lambda: cs.update_call(call, money_spec(spec_of(call), advance_share=Decimal("0.3")),
                                   manager), "advance share can no longer change")
    assert db.session.get(Call, call.id).advance_share == Decimal("0.5000")
