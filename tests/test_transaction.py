"""atomic() tells a constraint clash from a concurrent change, on SQLite and PostgreSQL.

A clash names the constraint that refused the change (services map names to messages
with ``atomic(clashes=...)``); a row whose version moved under us is a ConcurrentChange
(409). Either way only the block is undone: the caller's transaction stays usable.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from tests.conftest import POSTGRES_DEFAULT, _empty_all_tables, migrated_app, postgres_database
from tests.factories import Factories
from tests.test_concurrency import backends
from vouchers.extensions import db
from vouchers.models import Application, CallVoucherType, Organisation
from vouchers.services.errors import ConcurrentChange, ConstraintClash
from vouchers.services.transaction import atomic


@pytest.fixture(scope="module", params=list(backends()))
def backend_app(request, tmp_path_factory):
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = "sqlite:///" + str(tmp_path_factory.mktemp("atomic") / "atomic.db")
        else:
            url = stack.enter_context(postgres_database(POSTGRES_DEFAULT, "atomic"))
        app = migrated_app(url, str(tmp_path_factory.mktemp("atomic_instance")))
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def make(backend_app):
    with backend_app.app_context():
        _empty_all_tables()
        yield Factories()
        db.session.rollback()
        db.session.remove()

REGISTERED = {"uq_organisations_registry_number": "Already registered."}


def _duplicate_of(organisation: Organisation) -> Organisation:
    return Organisation(legal_name="Copy B.V.", registry_number=organisation.registry_number,
                        country="NL", region="Utrecht")


def test_a_check_clash_names_its_constraint(make):
    cvt = make.call().voucher_type("travel")
    with pytest.raises(ConstraintClash) as exc, atomic():
        cvt.committed = cvt.envelope + 1
    assert exc.value.constraint == "ck_call_voucher_types_committed_in_envelope"
    assert exc.value.status == 422
    assert exc.value.message == (
        "The database refused this change because it breaks one of the programme's rules "
        "(ck_call_voucher_types_committed_in_envelope); nothing was saved.")
    db.session.rollback()
    assert db.session.get(CallVoucherType, cvt.id).committed == 0


def test_a_unique_clash_names_its_constraint_and_takes_the_services_message(make):
    first = make.organisation()
    with pytest.raises(ConstraintClash) as exc, atomic(clashes=REGISTERED):
        db.session.add(_duplicate_of(first))
    assert exc.value.constraint == "uq_organisations_registry_number"
    assert exc.value.message == "Already registered."


def test_a_unique_clash_without_a_message_says_it_is_already_recorded(make):
    first = make.organisation()
    with pytest.raises(ConstraintClash) as exc, atomic():
        db.session.add(_duplicate_of(first))
    assert exc.value.constraint == "uq_organisations_registry_number"
    assert exc.value.message.startswith("This is already recorded")


def test_a_clash_flushed_by_an_inner_block_means_what_the_outer_block_says(make):
    """A transition fired inside a service's block flushes the service's rows too."""
    first = make.organisation()
    with pytest.raises(ConstraintClash) as exc, atomic(clashes=REGISTERED):
        db.session.add(_duplicate_of(first))
        with atomic():
            first.region = "Utrecht"
    assert exc.value.constraint == "uq_organisations_registry_number"
    assert exc.value.message == "Already registered."


def test_a_moved_version_is_a_concurrent_change_not_a_clash(make):
    application = make.application("submitted")
    # Another writer changes the row and commits.
    with db.engine.begin() as conn:
        t = Application.__table__
        conn.execute(update(t).where(t.c.id == application.id)
                     .values(title="Theirs", version=t.c.version + 1))
    with pytest.raises(ConcurrentChange) as exc, atomic():
        mine = db.session.get(Application, application.id)
        # As if this session had read the row before their commit (on SQLite atomic()
        # re-reads once it holds the write lock, so only a version kept from earlier
        # can be stale there).
        set_committed_value(mine, "version", mine.version - 1)
        mine.title = "Mine"
    assert not isinstance(exc.value, ConstraintClash)
    assert exc.value.status == 409
    assert exc.value.message.startswith("Someone else changed this at the same moment")
    db.session.rollback()
    assert db.session.get(Application, application.id).title == "Theirs"


def test_a_refused_block_leaves_the_callers_transaction_usable(make):
    first = make.organisation()
    second = make.organisation()
    with atomic():
        first.legal_name = "Kept B.V."
    with pytest.raises(ConstraintClash), atomic():
        second.legal_name = "Lost B.V."
        db.session.add(_duplicate_of(first))
    db.session.commit()
    assert db.session.get(Organisation, first.id).legal_name == "Kept B.V."
    assert db.session.get(Organisation, second.id).legal_name != "Lost B.V."
