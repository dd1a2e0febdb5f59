"""Authorization-matrix cases of the versions routes (see tests/matrix_cases.py)."""

from __future__ import annotations

from tests.matrix_cases import Post, assigned, case, count, url
from vouchers.models import Assignment, AuditRecord
from vouchers.services import reviews


@case("evaluator.confirm_no_conflict")
def _(make):
    a, evaluator = assigned(make)
    return Post("evaluator", evaluator, url("evaluator.confirm_no_conflict", application_id=a.id),
                done=lambda: reviews.assignment_of(a, evaluator).no_conflict_confirmed_at
                is not None)


@case("manager.unassign")
def _(make):
    a, evaluator = assigned(make)
    assignment_id = reviews.assignment_of(a, evaluator).id
    return Post("manager", make.manager(), url("manager.unassign", assignment_id=assignment_id),
                data={"reason": "Too many assignments this month."},
                done=lambda: count(Assignment, Assignment.id == assignment_id) == 0
                and count(AuditRecord, AuditRecord.application_id == a.id,
                          AuditRecord.trigger == "unassign") == 1)
