"""The demo programme and the command line."""

from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from vouchers.demo import PARTNERS, load_demo
from vouchers.extensions import db
from vouchers.models import Application, CallVoucherType, Organisation, Programme, ServiceProvider
from workflows import lifecycle as lc

README = Path(__file__).resolve().parent.parent / "README.md"


def test_demo_programme_is_shaped_like_the_real_one_and_loads_once(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "manager@demo.example / demo-manager-pass" in result.output
    programme = db.session.scalar(select(Programme))
    assert programme.total_budget == Decimal("1240000.00")
    (call,) = programme.calls
    quotas = {t.voucher_type: t.quota for t in call.voucher_types}
    assert quotas == {"travel": 12, "market_validation": 6, "product_validation": 5, "impact": 3}
    assert sum(t.envelope for t in call.voucher_types) == programme.total_budget
    for t in call.voucher_types:
        assert t.quota * t.max_amount >= t.envelope or t.voucher_type == "travel"
        assert t.committed <= t.envelope and t.awarded_count <= t.quota
    states = set(db.session.scalars(select(Application.state)))
    assert states == set(lc.STATES)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 40
    assert db.session.scalar(select(func.count()).select_from(ServiceProvider)) == 20
    regions = set(db.session.scalars(select(Organisation.region)))
    assert {region for _, _, region in PARTNERS} <= regions

    again = runner.invoke(args=["demo"])
    assert "already exists" in again.output
    assert db.session.scalar(select(func.count()).select_from(Programme)) == 1


def test_demo_committed_matches_its_vouchers(app):
    load_demo()
    db.session.commit()
    for cvt in db.session.scalars(select(CallVoucherType)):
        total = db.session.scalar(
            select(func.coalesce(func.sum(Application.awarded_amount), 0))
            .where(Application.call_voucher_type_id == cvt.id,
                   Application.state.in_(lc.VOUCHER_STATES)))
        assert cvt.committed == total


def test_lifecycle_command_prints_the_diagram_the_readme_embeds(runner):
    result = runner.invoke(args=["lifecycle"])
    assert result.exit_code == 0
    assert result.output == lc.mermaid()
    assert result.output.strip() in README.read_text()


def test_create_user_command_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-user", "--role", "evaluator", "--email", "e@x.example",
                                 "--name", "Eva"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
