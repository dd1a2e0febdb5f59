"""search: the applications table's text search and country filter through indexes

Adds the stored search keys (applications.search_text, organisations.search_name; see
vouchers/search.py), fills them for existing rows with the same rule the app uses, and
indexes them for substring search: on SQLite FTS5 external-content tables with the
trigram tokenizer, kept in step by triggers; on PostgreSQL pg_trgm GIN indexes. The
narrow (call_id, reference, title, organisation_id) index that the search used to scan
goes; organisations(country, id) and applications(organisation_id, call_id, submitted_at,
id), which replaces the plain organisation_id index, answer the country filter and the
search by company name from indexes alone, and (call_id, voucher_type, state) grows by
(submitted_at, id, organisation_id) so a type, state and country page reads that index
alone, in date order; (call_id, submitted_at, id) carries the score as well, so a search
sorted by score counts its scored matches from that index on PostgreSQL.

A later migration that rebuilds applications or organisations on SQLite (a batch
operation with recreate) drops these triggers with the old table: it must create them
again (tests/test_search_index.py fails if a rename no longer reaches the index).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from vouchers.search import search_key

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_BATCH = 5000
# (table, its key column, the columns the key is made of, the FTS table on SQLite)
_KEYED = (
    ('applications', 'search_text', ('reference', 'title'), 'applications_fts'),
    ('organisations', 'search_name', ('legal_name',), 'organisations_fts'),
)


def _backfill(bind, name, key, sources):
    """Every row's key, computed in Python by the app's rule, in batches by id."""
    rows = sa.table(name, sa.column('id'), sa.column(key), *(sa.column(s) for s in sources))
    update = sa.update(rows).where(rows.c.id == sa.bindparam('row_id')).values(
        {key: sa.bindparam('row_key')})
    last = 0
    while True:
        batch = bind.execute(
            sa.select(rows.c.id, *(rows.c[s] for s in sources))
            .where(rows.c.id > last).order_by(rows.c.id).limit(_BATCH)
        ).all()
        if not batch:
            return
        bind.execute(update, [{'row_id': r[0], 'row_key': search_key(*r[1:])} for r in batch])
        last = batch[-1][0]


def _sqlite_index(name, key, fts):
    # The external-content pattern of https://sqlite.org/fts5.html#external_content_tables:
    # the FTS table holds only the trigram index; 'delete' needs the old value as indexed.
    # The update trigger fires only when the key is written, not on every state change.
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({key}, content='{name}', "
               "content_rowid='id', tokenize='trigram case_sensitive 1')")
    op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {name} BEGIN "
               f"INSERT INTO {fts}(rowid, {key}) VALUES (new.id, new.{key}); END")
    op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {name} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {key}) VALUES ('delete', old.id, old.{key}); "
               "END")
    op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {key} ON {name} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {key}) VALUES ('delete', old.id, old.{key}); "
               f"INSERT INTO {fts}(rowid, {key}) VALUES (new.id, new.{key}); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    for name, key, _sources, _fts in _KEYED:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column(key, sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_call_search')
        batch_op.drop_index('ix_applications_organisation')
        batch_op.create_index('ix_applications_organisation_call',
                              ['organisation_id', 'call_id', 'submitted_at', 'id'], unique=False)
        batch_op.drop_index('ix_applications_call_type_state')
        batch_op.create_index('ix_applications_call_type_state',
                              ['call_id', 'voucher_type', 'state', 'submitted_at', 'id',
                               'organisation_id'], unique=False)
        batch_op.drop_index('ix_applications_call_submitted')
        batch_op.create_index('ix_applications_call_submitted',
                              ['call_id', 'submitted_at', 'id', 'weighted_score'], unique=False)
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_country', ['country', 'id'], unique=False)
    for name, key, sources, _fts in _KEYED:
        _backfill(bind, name, key, sources)
    if sqlite:
        for name, key, _sources, fts in _KEYED:
            _sqlite_index(name, key, fts)
    else:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, key, _sources, _fts in _KEYED:
            op.create_index(f'ix_{name}_{key}_trgm', name, [key], unique=False,
                            postgresql_using='gin', postgresql_ops={key: 'gin_trgm_ops'})


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for name, key, _sources, fts in _KEYED:
        if sqlite:
            for suffix in ('ai', 'ad', 'au'):
                op.execute(f'DROP TRIGGER IF EXISTS {fts}_{suffix}')
            op.execute(f'DROP TABLE IF EXISTS {fts}')
        else:
            op.drop_index(f'ix_{name}_{key}_trgm', table_name=name)
    # pg_trgm stays: it may have been there before 0011 (IF NOT EXISTS above).
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_country')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_organisation_call')
        batch_op.create_index('ix_applications_organisation', ['organisation_id'], unique=False)
        batch_op.drop_index('ix_applications_call_type_state')
        batch_op.create_index('ix_applications_call_type_state',
                              ['call_id', 'voucher_type', 'state'], unique=False)
        batch_op.drop_index('ix_applications_call_submitted')
        batch_op.create_index('ix_applications_call_submitted',
                              ['call_id', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_applications_call_search',
                              ['call_id', 'reference', 'title', 'organisation_id'], unique=False)
    for name, key, _sources, _fts in _KEYED:
        # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not a batch copy: the copy
        # would rewrite the inline partner_id reference that 0009's downgrade drops with
        # its column as a table constraint, which SQLite then refuses to drop.
        op.drop_column(name, key)
