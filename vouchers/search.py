"""Text search through an index, with the same answers on SQLite and PostgreSQL.

One rule (search_key) turns what is searched into a key once, in Python, when a row is
written, and turns the query into a key the same way; both databases then only look for
the query's key as an exact substring of a stored key. Neither database's own idea of
case or accents takes part, which is why they agree: SQLite's LIKE folds ASCII only and
PostgreSQL's ILIKE follows the server's locale.

The stored keys (applications.search_text, organisations.search_name) are indexed for
substring search: on SQLite by FTS5 tables with the trigram tokenizer (applications_fts,
organisations_fts, external-content tables kept in step by triggers), on PostgreSQL by
pg_trgm GIN indexes that serve LIKE '%...%'. Migration 0011 creates both.

A column's key is filled by its column default on every INSERT, ORM or Core (a
context-sensitive default sees the row's values, even in a bulk executemany), and kept in
step by a before_update mapper event when the ORM changes a source field. A Core UPDATE
of a source field must set the key itself with search_key. Changing the rule needs a
migration that computes every stored key again, as 0011 does (the FTS triggers follow).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from sqlalchemy import column, event, func, inspect, literal_column, select, table

# Letters our partners' languages use that NFKD leaves whole (no combining mark to drop).
# ß needs no entry: casefold() makes it "ss". Typographic apostrophes and hyphens become
# the ones a keyboard types, so "d’Or" is found by "d'or".
_UNDECOMPOSED = str.maketrans({
    "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "ı": "i", "ħ": "h",
    "ŧ": "t", "þ": "th", "ŋ": "n", "ĸ": "k",
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-",
})

# What migration 0011 builds beside the models (the models cannot declare either): the
# FTS5 tables on SQLite (each with its shadow tables, named after it) and the pg_trgm
# indexes on PostgreSQL.
APPLICATIONS_FTS = "applications_fts"
ORGANISATIONS_FTS = "organisations_fts"
TRIGRAM_INDEXES = ("ix_applications_search_text_trgm", "ix_organisations_search_name_trgm")


def outside_the_models(name: str, type_: str) -> bool:
    """Whether a schema object is one of the search indexes the models do not describe."""
    if type_ == "table":
        return name.startswith((APPLICATIONS_FTS, ORGANISATIONS_FTS))
    return type_ == "index" and name in TRIGRAM_INDEXES


# A query this long or longer is answered by the trigram index; SQLite's trigram
# tokenizer cannot look up anything shorter, so such a query reads the column.
TRIGRAM = 3


# Combining marks (the accents NFKD split off) and invisible format characters (soft
# hyphen, zero-width space) go; control characters (NUL included, which PostgreSQL refuses
# in text) count as white space.
_DROPPED = {"Mn": "", "Cf": "", "Cc": " "}


def _fold(text: str) -> str:
    # casefold can compose again what NFKD split (and NFKD is idempotent), hence twice.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = "".join(_DROPPED.get(unicodedata.category(ch), ch) for ch in decomposed)
    return " ".join(bare.translate(_UNDECOMPOSED).split())


def search_key(*parts: str | None) -> str:
    """The searchable form of ``parts``: accents dropped, case folded, runs of white space
    made one space; the parts joined by a newline, which no folded query holds, so a
    query never matches across two fields."""
    return "\n".join(_fold(part or "") for part in parts)


def key_default(*sources: str) -> Callable[[Any], str]:
    """A column default: the key of the inserted row's ``sources`` columns."""
    def default(context) -> str:
        row = context.get_current_parameters()
        return search_key(*(row.get(name) for name in sources))
    return default


def keep_in_step(model: type, key: str, *sources: str) -> None:
    """Recompute ``model.key`` whenever the ORM writes a change to one of ``sources``."""
    @event.listens_for(model, "before_update")
    def refresh(_mapper, _connection, target) -> None:
        attrs = inspect(target).attrs
        if any(attrs[name].history.has_changes() for name in sources):
            setattr(target, key, search_key(*(getattr(target, name) for name in sources)))


def _like_pattern(key: str) -> str:
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_phrase(key: str) -> str:
    # One FTS5 phrase: inside double quotes every character is literal but the quote.
    return '"' + key.replace('"', '""') + '"'


def matches(key_column, key: str):
    """PostgreSQL: ``key_column`` contains ``key``, a condition its pg_trgm index serves."""
    # LIKE is exact and case-sensitive there, as the keys need.
    return key_column.like(_like_pattern(key), escape="\\")


def matching_ids(key_column, fts_name: str, key: str, dialect: str):
    """SELECT of the ids of ``key_column``'s table whose stored key contains ``key``
    (a search_key already), through the index where one can answer."""
    model_table = key_column.table
    row_id = model_table.c.id
    if dialect == "sqlite":
        if len(key) >= TRIGRAM:
            fts = table(fts_name, column("rowid"))
            return select(fts.c.rowid).where(literal_column(fts_name).op("MATCH")(
                _fts_phrase(key)))
        # instr is exact and case-sensitive, the trigram table's own semantics.
        return select(row_id).where(func.instr(key_column, key) > 0)
    return select(row_id).where(matches(key_column, key))
