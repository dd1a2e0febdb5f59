"""Numbered versions of an application, one per submission, and what changed between two.

Each submission freezes what the applicant sent (an ApplicationVersion with a JSON
snapshot). A resubmission is judged afresh: the figures of the earlier version's reviews
stop counting (its reviews stay, "on version N"), and when evaluators stand assigned the
application goes straight back to them under review, fired by the system.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import voucher_types as types
from ..extensions import db
from ..models import Application, ApplicationVersion, Assignment, User
from . import notifications, transitions
from .transaction import atomic
from .wording import N_, eur

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
SAME = "same"
NOTHING = "—"


def snapshot(application: Application) -> dict[str, Any]:
    """What the applicant submits, in plain JSON (amounts as strings, never floats)."""
    provider = application.provider
    return {
        "title": application.title,
        "summary": application.summary or "",
        "requested_amount": str(application.requested_amount),
        "provider": None if provider is None else {
            "id": provider.id, "name": provider.name, "region": provider.region},
        "details": dict(application.details or {}),
        "cost_lines": [{"description": line.description, "amount": str(line.amount)}
                       for line in application.cost_lines],
        # The application's own files; a final report's evidence comes after the decision.
        "attachments": [{"name": a.original_name, "kind": a.kind}
                        for a in application.attachments if a.purpose == "application"],
    }


def record_submission(application: Application, actor: User | None, now: datetime) -> None:
    """Number this submission and freeze it; on a resubmission start the review afresh."""
    with atomic():
        number = (application.submission_number or 0) + 1
        application.submission_number = number
        db.session.add(ApplicationVersion(
            application_id=application.id, number=number, submitted_at=now,
            submitted_by_id=actor.id if actor is not None else None,
            snapshot=snapshot(application),
        ))
        if number == 1:
            return
        # The earlier version's figures judged what is no longer there.
        application.review_count = 0
        application.weighted_score = None
        application.consensus_score = None
        application.divergent = False
        if _standing_assignments(application):
            transitions.fire(application, "start_review", None, now=now,
                             comment=f"Version {number} submitted: the evaluators assigned "
                                     "are asked to review it.")
            notifications.review_again(application, number)


def _standing_assignments(application: Application) -> int:
    return db.session.scalar(
        select(func.count(Assignment.id))
        .where(Assignment.application_id == application.id,
               Assignment.conflict_declared_at.is_(None))
    )


@dataclass(frozen=True)
class VersionRow:
    number: int
    submitted_at: datetime
    submitted_by: str


def versions_of(application: Application) -> list[VersionRow]:
    """The application's versions, oldest first (for its page)."""
    rows = db.session.execute(
        select(ApplicationVersion.number, ApplicationVersion.submitted_at, User.name)
        .outerjoin(User, User.id == ApplicationVersion.submitted_by_id)
        .where(ApplicationVersion.application_id == application.id)
        .order_by(ApplicationVersion.number)
    )
    return [VersionRow(number, at, name or _("System")) for number, at, name in rows]


def version_of(application: Application, number: int) -> ApplicationVersion | None:
    return db.session.scalar(
        select(ApplicationVersion).where(ApplicationVersion.application_id == application.id,
                                         ApplicationVersion.number == number)
    )


# --- what changed -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class LineChange:
    """One cost line side by side: ``kind`` is added, removed, changed or same."""

    kind: str
    description: str
    old_amount: Decimal | None
    new_amount: Decimal | None


@dataclass(frozen=True)
class AttachmentChange:
    kind: str  # added or removed
    name: str
    document: str  # the attachment kind's label


@dataclass(frozen=True)
class VersionDiff:
    old: ApplicationVersion
    new: ApplicationVersion
    fields: list[FieldChange]
    # Every cost line of both versions, in order, so the page can show them side by side.
    lines: list[LineChange]
    attachments: list[AttachmentChange]

    @property
    def changed_lines(self) -> list[LineChange]:
        return [line for line in self.lines if line.kind != SAME]

    @property
    def unchanged(self) -> bool:
        return not (self.fields or self.changed_lines or self.attachments)


def diff(application: Application, old_number: int, new_number: int) -> VersionDiff | None:
    """What changed from version ``old_number`` to ``new_number``; None if one is missing."""
    old, new = version_of(application, old_number), version_of(application, new_number)
    if old is None or new is None:
        return None
    a, b = old.snapshot or {}, new.snapshot or {}
    return VersionDiff(old=old, new=new,
                       fields=_field_changes(application.voucher_type, a, b),
                       lines=_line_changes(a.get("cost_lines") or [],
                                           b.get("cost_lines") or []),
                       attachments=_attachment_changes(a.get("attachments") or [],
                                                       b.get("attachments") or []))


def _text(value: Any) -> str:
    return NOTHING if value in (None, "") else str(value)


def _amount(value: Any) -> str:
    """The reader's way ("€1,250.00", "1.250,00 €"): the comparison is drawn for a page."""
    return NOTHING if value in (None, "") else eur(Decimal(value))


def _provider(value: dict | None) -> str:
    return NOTHING if not value else f"{value.get('name')} ({value.get('region')})"


def _field_changes(voucher_type: str, a: dict, b: dict) -> list[FieldChange]:
    # The labels stay English here; the page translates them (templates/_version_diff.html).
    pairs = [
        (N_("Title"), _text(a.get("title")), _text(b.get("title"))),
        (N_("Summary"), _text(a.get("summary")), _text(b.get("summary"))),
        (N_("Requested"), _amount(a.get("requested_amount")),
         _amount(b.get("requested_amount"))),
        (N_("Service provider"), _provider(a.get("provider")), _provider(b.get("provider"))),
    ]
    old_details, new_details = a.get("details") or {}, b.get("details") or {}
    labels = {f.key: f.label for f in types.get(voucher_type).details}
    # The type's questions in their order, then any answer the registry no longer asks.
    keys = list(labels) + sorted((set(old_details) | set(new_details)) - set(labels))
    pairs += [(labels.get(k, k), _text(old_details.get(k)), _text(new_details.get(k)))
              for k in keys]
    return [FieldChange(label, old, new) for label, old, new in pairs if old != new]


def _line_changes(old: list[dict], new: list[dict]) -> list[LineChange]:
    """Lines matched by description in order (difflib); a line kept with another amount is
    "changed", one whose description changed reads as removed and added."""
    names_a = [line["description"] for line in old]
    names_b = [line["description"] for line in new]
    out: list[LineChange] = []
    matcher = difflib.SequenceMatcher(a=names_a, b=names_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for x, y in zip(old[i1:i2], new[j1:j2], strict=True):
                before, after = Decimal(x["amount"]), Decimal(y["amount"])
                out.append(LineChange(SAME if before == after else CHANGED,
                                      y["description"], before, after))
            continue
        out += [LineChange(REMOVED, x["description"], Decimal(x["amount"]), None)
                for x in old[i1:i2]]
        out += [LineChange(ADDED, y["description"], None, Decimal(y["amount"]))
                for y in new[j1:j2]]
    return out


def _attachment_changes(old: list[dict], new: list[dict]) -> list[AttachmentChange]:
    def files(items: list[dict]) -> Counter:
        return Counter((f.get("name") or "", f.get("kind") or "other") for f in items)

    def change(kind: str, name: str, document: str) -> AttachmentChange:
        return AttachmentChange(kind, name, types.ATTACHMENT_KINDS.get(document, document))

    before, after = files(old), files(new)
    return ([change(REMOVED, *f) for f in (before - after).elements()]
            + [change(ADDED, *f) for f in (after - before).elements()])
