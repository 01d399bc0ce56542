"""initial schema: interactions, messages, call details, events, OTP challenges, audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "actor_type",
            sa.Enum(
                "USER",
                "SYSTEM",
                "AGENT",
                name="actor_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("entity_id", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_action", ["action", "occurred_at"], unique=False)
        batch_op.create_index("ix_audit_log_actor", ["actor_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index("ix_audit_log_occurred", ["occurred_at", "id"], unique=False)

    op.create_table(
        "interaction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "CALL",
                "WHATSAPP",
                "SMS",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "direction",
            sa.Enum(
                "INBOUND",
                "OUTBOUND",
                name="direction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "NEW",
                "IN_PROGRESS",
                "COMPLETED",
                "ABANDONED",
                "FAILED",
                name="interaction_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("customer_phone", sa.String(length=32), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column(
            "provider",
            sa.Enum(
                "ELEVENLABS",
                "BUILDERBOT",
                "TWILIO",
                "GENERIC",
                name="provider",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_conversation_id", sa.String(length=128), nullable=True),
        sa.Column("assigned_agent", sa.String(length=128), nullable=True),
        sa.Column("customer_ref", sa.String(length=128), nullable=True),
        sa.Column("queue", sa.String(length=128), nullable=True),
        sa.Column("intent", sa.String(length=128), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "RESOLVED",
                "ESCALATED",
                "TICKETED",
                "TRANSFERRED",
                "UNKNOWN",
                name="outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("ai_handled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction")),
        sa.UniqueConstraint(
            "provider",
            "provider_conversation_id",
            name=op.f("uq_interaction_provider_provider_conversation_id"),
        ),
    )
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interaction_agent_updated", ["assigned_agent", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_interaction_channel_updated", ["channel", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_interaction_customer_phone", ["customer_phone", "started_at"], unique=False
        )
        batch_op.create_index("ix_interaction_customer_ref", ["customer_ref"], unique=False)
        batch_op.create_index("ix_interaction_outcome", ["outcome"], unique=False)
        batch_op.create_index("ix_interaction_provider", ["provider", "updated_at"], unique=False)
        batch_op.create_index("ix_interaction_queue", ["queue"], unique=False)
        batch_op.create_index("ix_interaction_started", ["started_at"], unique=False)
        batch_op.create_index(
            "ix_interaction_status_updated", ["status", "updated_at", "id"], unique=False
        )
        batch_op.create_index("ix_interaction_updated", ["updated_at", "id"], unique=False)

    op.create_table(
        "call_detail",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column(
            "transcript",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("recording_url", sa.String(length=512), nullable=True),
        sa.Column("duration_secs", sa.Integer(), nullable=True),
        sa.Column("hangup_reason", sa.String(length=256), nullable=True),
        sa.Column("call_successful", sa.String(length=32), nullable=True),
        sa.Column(
            "analysis",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_call_detail_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_detail")),
        sa.UniqueConstraint("interaction_id", name=op.f("uq_call_detail_interaction_id")),
    )
    op.create_table(
        "interaction_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "normalized",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("provider_event_id", sa.String(length=256), nullable=True),
        sa.Column("idempotency_key", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_interaction_event_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_event")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_interaction_event_idempotency_key")),
    )
    with op.batch_alter_table("interaction_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interaction_event_interaction_occurred",
            ["interaction_id", "occurred_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_interaction_event_type_occurred", ["type", "occurred_at"], unique=False
        )

    op.create_table(
        "message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "INBOUND",
                "OUTBOUND",
                name="direction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "media",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "SENDING",
                "SENT",
                "DELIVERED",
                "READ",
                "FAILED",
                "RECEIVED",
                "UNDELIVERED",
                name="message_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_message_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_interaction_created", ["interaction_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_provider_message_id", ["provider_message_id"], unique=True
        )
        batch_op.create_index("ix_message_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "otp_challenge",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "PASSWORD_RESET",
                "TX_CONFIRMATION",
                "IDENTITY_VERIFICATION",
                "LOGIN_2FA",
                name="otp_purpose",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(length=256), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "SENT",
                "VERIFIED",
                "EXPIRED",
                "LOCKED",
                "FAILED",
                "CANCELED",
                name="otp_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("interaction_id", sa.Uuid(), nullable=True),
        sa.Column("requested_from_interaction_id", sa.Uuid(), nullable=True),
        sa.Column("customer_ref", sa.String(length=128), nullable=True),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_otp_challenge_interaction_id_interaction"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_from_interaction_id"],
            ["interaction.id"],
            name=op.f("fk_otp_challenge_requested_from_interaction_id_interaction"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_challenge")),
        sa.UniqueConstraint("correlation_id", name=op.f("uq_otp_challenge_correlation_id")),
    )
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.create_index("ix_otp_challenge_interaction", ["interaction_id"], unique=False)
        batch_op.create_index(
            "ix_otp_challenge_phone_purpose_created",
            ["phone", "purpose", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_otp_challenge_requested_from", ["requested_from_interaction_id"], unique=False
        )
        batch_op.create_index(
            "ix_otp_challenge_status_expires", ["status", "expires_at"], unique=False
        )

    # The audit log is append-only: the database itself refuses UPDATE and DELETE.
    _create_audit_guards()


def downgrade() -> None:
    _drop_audit_guards()

    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.drop_index("ix_otp_challenge_status_expires")
        batch_op.drop_index("ix_otp_challenge_requested_from")
        batch_op.drop_index("ix_otp_challenge_phone_purpose_created")
        batch_op.drop_index("ix_otp_challenge_interaction")

    op.drop_table("otp_challenge")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_status_created")
        batch_op.drop_index("ix_message_provider_message_id")
        batch_op.drop_index("ix_message_interaction_created")

    op.drop_table("message")
    with op.batch_alter_table("interaction_event", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_event_type_occurred")
        batch_op.drop_index("ix_interaction_event_interaction_occurred")

    op.drop_table("interaction_event")
    op.drop_table("call_detail")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_updated")
        batch_op.drop_index("ix_interaction_status_updated")
        batch_op.drop_index("ix_interaction_started")
        batch_op.drop_index("ix_interaction_queue")
        batch_op.drop_index("ix_interaction_provider")
        batch_op.drop_index("ix_interaction_outcome")
        batch_op.drop_index("ix_interaction_customer_ref")
        batch_op.drop_index("ix_interaction_customer_phone")
        batch_op.drop_index("ix_interaction_channel_updated")
        batch_op.drop_index("ix_interaction_agent_updated")

    op.drop_table("interaction")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_occurred")
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index("ix_audit_log_actor")
        batch_op.drop_index("ix_audit_log_action")

    op.drop_table("audit_log")


def _create_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
