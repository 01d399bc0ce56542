"""search: full-text search over message texts, call transcripts and call summaries

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

PostgreSQL: the `unaccent` extension (trusted: the database's owner may create it), a text search
configuration `cc_spanish` (Spanish with its accents removed before stemming: "credito" finds
"crédito", "tarjeta" finds "tarjetas"), and generated (stored) tsvector columns with GIN indexes:
`message.search_vector` (the body), `call_detail.transcript_vector` (the turns' messages: the
strings at `$[*].message` of the JSON list, roles left out) and `call_detail.summary_vector`.
Adding a stored generated column rewrites the table: that is the backfill.

SQLite: FTS5 tables with the `unicode61 remove_diacritics 2` tokenizer: `message_fts` reads its
text from `message` (external content, by rowid), `call_detail_fts` keeps its own text (the
interaction, the transcript's messages joined, the summary). Triggers keep both on insert, update
and delete, and they are filled here from the existing rows. A later migration that rebuilds
`message` or `call_detail` on SQLite (a batch "move and copy") drops these triggers and may
renumber rowids: it must create them again and rebuild the FTS tables.

`message.created_at` gets its own index: search results are newest first. On PostgreSQL,
`interaction.customer_phone` gets a trigram index (digits anywhere in the customer's number), and
`ix_interaction_started` also holds `team_id` (an agent's scope, read from the index alone).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The transcript's text on SQLite: its turns' messages, in order, one space apart. (The f-strings
# below put this constant into the statements: no value from outside.)
SQLITE_TRANSCRIPT_TEXT = (
    "(SELECT group_concat(json_extract(turn.value, '$.message'), ' ') "
    "FROM json_each(CASE WHEN json_valid({row}.transcript) "
    "AND json_type({row}.transcript) = 'array' THEN {row}.transcript ELSE '[]' END) AS turn)"
)

SQLITE_UP = [
    """CREATE VIRTUAL TABLE message_fts USING fts5(
        body, content='message', content_rowid='rowid',
        tokenize="unicode61 remove_diacritics 2")""",
    """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
        INSERT INTO message_fts(rowid, body) VALUES (new.rowid, new.body);
    END""",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
        INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF body ON message BEGIN
        INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
        INSERT INTO message_fts(rowid, body) VALUES (new.rowid, new.body);
    END""",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
    """CREATE VIRTUAL TABLE call_detail_fts USING fts5(
        interaction_id UNINDEXED, transcript, summary,
        tokenize="unicode61 remove_diacritics 2")""",
    f"""CREATE TRIGGER call_detail_fts_insert AFTER INSERT ON call_detail BEGIN
        INSERT INTO call_detail_fts(rowid, interaction_id, transcript, summary)
        VALUES (new.rowid, new.interaction_id, {SQLITE_TRANSCRIPT_TEXT.format(row="new")},
                new.summary);
    END""",  # noqa: S608
    """CREATE TRIGGER call_detail_fts_delete AFTER DELETE ON call_detail BEGIN
        DELETE FROM call_detail_fts WHERE rowid = old.rowid;
    END""",
    f"""CREATE TRIGGER call_detail_fts_update
        AFTER UPDATE OF interaction_id, transcript, summary ON call_detail BEGIN
        DELETE FROM call_detail_fts WHERE rowid = old.rowid;
        INSERT INTO call_detail_fts(rowid, interaction_id, transcript, summary)
        VALUES (new.rowid, new.interaction_id, {SQLITE_TRANSCRIPT_TEXT.format(row="new")},
                new.summary);
    END""",  # noqa: S608
    f"""INSERT INTO call_detail_fts(rowid, interaction_id, transcript, summary)
        SELECT call_detail.rowid, call_detail.interaction_id,
               {SQLITE_TRANSCRIPT_TEXT.format(row="call_detail")}, call_detail.summary
        FROM call_detail""",  # noqa: S608
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS call_detail_fts_update",
    "DROP TRIGGER IF EXISTS call_detail_fts_delete",
    "DROP TRIGGER IF EXISTS call_detail_fts_insert",
    "DROP TABLE IF EXISTS call_detail_fts",
    "DROP TRIGGER IF EXISTS message_fts_update",
    "DROP TRIGGER IF EXISTS message_fts_delete",
    "DROP TRIGGER IF EXISTS message_fts_insert",
    "DROP TABLE IF EXISTS message_fts",
]

# What ix_interaction_started held since 0006.
COVERED = ["updated_at", "id", "channel", "status", "direction", "assigned_agent", "ai_handled"]

POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION cc_spanish (COPY = spanish)",
    "ALTER TEXT SEARCH CONFIGURATION cc_spanish "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem",
    "ALTER TABLE message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('cc_spanish'::regconfig, coalesce(body, ''))) STORED",
    "CREATE INDEX ix_message_search ON message USING gin (search_vector)",
    "ALTER TABLE call_detail "
    "ADD COLUMN transcript_vector tsvector GENERATED ALWAYS AS (jsonb_to_tsvector("
    "'cc_spanish'::regconfig, jsonb_path_query_array(transcript, '$[*].message'), "
    "'[\"string\"]')) STORED, "
    "ADD COLUMN summary_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('cc_spanish'::regconfig, coalesce(summary, ''))) STORED",
    "CREATE INDEX ix_call_detail_transcript_search ON call_detail USING gin (transcript_vector)",
    "CREATE INDEX ix_call_detail_summary_search ON call_detail USING gin (summary_vector)",
    "CREATE INDEX ix_interaction_customer_phone_trgm ON interaction "
    "USING gin (customer_phone gin_trgm_ops)",
    # An agent's search walks the newest interactions and keeps those they may see: the team
    # joins the columns this index holds, so the walk reads no table row to decide.
    "DROP INDEX ix_interaction_started",
    f"CREATE INDEX ix_interaction_started ON interaction (started_at) "
    f"INCLUDE ({', '.join([*COVERED, 'team_id'])})",
]

POSTGRES_DOWN = [
    "DROP INDEX ix_interaction_started",
    f"CREATE INDEX ix_interaction_started ON interaction (started_at) INCLUDE ({', '.join(COVERED)})",
    "DROP INDEX IF EXISTS ix_interaction_customer_phone_trgm",
    "DROP INDEX IF EXISTS ix_call_detail_summary_search",
    "DROP INDEX IF EXISTS ix_call_detail_transcript_search",
    "ALTER TABLE call_detail DROP COLUMN IF EXISTS summary_vector, "
    "DROP COLUMN IF EXISTS transcript_vector",
    "DROP INDEX IF EXISTS ix_message_search",
    "ALTER TABLE message DROP COLUMN IF EXISTS search_vector",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS cc_spanish",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_UP if dialect == "postgresql" else SQLITE_UP:
        op.execute(sa.text(statement))
    with op.batch_alter_table("message", schema=None, recreate="never") as batch_op:
        batch_op.create_index("ix_message_created", ["created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_message_created")
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_DOWN if dialect == "postgresql" else SQLITE_DOWN:
        op.execute(sa.text(statement))
