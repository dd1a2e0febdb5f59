"""The one way a service writes: ``atomic()``.

Every service wraps its writes in ``atomic()``. On SQLite that is where a writer takes the
database's write lock (see database.begin_write): at the first write, not when the request
begins, so password hashing and file copying never hold it. The block runs in a SAVEPOINT:
a refusal raised inside it undoes the block and leaves the caller's transaction usable.
Services flush but never commit; the request boundary (or the CLI) commits once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..database import begin_write
from ..extensions import db
from .errors import ConcurrentChange, ConstraintClash
from .wording import N_

# Marked for the catalogues; the places that show it translate it: _(CONCURRENT_MESSAGE).
CONCURRENT_MESSAGE = N_("Someone else changed this at the same moment; reload the page and "
                        "try again.")


@contextmanager
def atomic(clashes: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run a block as one writer's SAVEPOINT; on any error undo the block and re-raise.

    ``clashes`` maps constraint names to the message a clash with that constraint means
    here (a unique registry number: "already registered"). A row changed under us by
    someone else (its version moved) is a ConcurrentChange; a constraint refusing the
    change is a ConstraintClash naming the constraint.
    """
    clashes = clashes or {}
    begin_write(db.session)
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except StaleDataError as exc:
        raise ConcurrentChange(_(CONCURRENT_MESSAGE)) from exc
    except IntegrityError as exc:
        name = constraint_name(exc)
        raise ConstraintClash(clashes.get(name or "") or default_clash_message(name),
                              name) from exc
    except ConstraintClash as exc:
        # An inner atomic() (a transition fired inside this block) flushed this block's
        # rows too: the clash then means here what this block says it means.
        if exc.constraint in clashes and exc.message == default_clash_message(exc.constraint):
            raise ConstraintClash(clashes[exc.constraint], exc.constraint) from exc
        raise


def default_clash_message(name: str | None) -> str:
    if name and name.startswith(("uq_", "ix_")):
        return _("This is already recorded (perhaps by a double click or a colleague at the "
                 "same moment); reload the page to see it.")
    return _("The database refused this change because it breaks one of the programme's "
             "rules (%(constraint)s); nothing was saved.", constraint=name or _("a constraint"))


_SQLITE_NAMED = re.compile(r"(?:CHECK|UNIQUE) constraint failed: index '([^']+)'|"
                           r"CHECK constraint failed: (\w+)")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ([\w., ]+)")


def constraint_name(exc: IntegrityError) -> str | None:
    """The name of the constraint that refused the change, on PostgreSQL and SQLite."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    text = str(exc.orig)
    named = _SQLITE_NAMED.search(text)
    if named:
        return named.group(1) or named.group(2)
    columns = _SQLITE_COLUMNS.search(text)
    if columns:
        key = frozenset(part.strip() for part in columns.group(1).split(","))
        return _unique_names().get(key)
    return None


@cache
def _unique_names() -> dict[frozenset[str], str]:
    """{"table.column", ...} -> constraint name, for SQLite's messages that list columns."""
    names: dict[frozenset[str], str] = {}
    for table in db.metadata.sorted_tables:
        uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        uniques += [i for i in table.indexes if isinstance(i, Index) and i.unique]
        for constraint in uniques:
            columns = frozenset(f"{table.name}.{c.name}" for c in constraint.columns)
            if columns and constraint.name:
                names[columns] = str(constraint.name)
        for column in table.columns:
            if column.unique:
                names[frozenset({f"{table.name}.{column.name}"})] = (
                    f"uq_{table.name}_{column.name}")
    return names
