"""conversation workflow: teams, members, routing rules, availability and capacity, queue
fields on interactions, labels, private notes, notifications, canned replies

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Existing users start OFFLINE with capacities 1 call, 5 WhatsApp, 5 SMS; existing interactions
start at NORMAL priority, in no queue.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column(
            "routing_mode",
            sa.Enum(
                "ROUND_ROBIN",
                "LEAST_BUSY",
                name="routing_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
    )
    op.create_table(
        "canned_reply",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_canned_reply_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_reply")),
        sa.UniqueConstraint(
            "scope_key", "shortcut", name=op.f("uq_canned_reply_scope_key_shortcut")
        ),
    )
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
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
            nullable=True,
        ),
        sa.Column("intent", sa.String(length=128), nullable=True),
        sa.Column("queue", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_routing_rule_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
    )
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.create_index("ix_routing_rule_position", ["position"], unique=False)

    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_member_team_id_team"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_team_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_member")),
    )
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.create_index("ix_team_member_user", ["user_id"], unique=False)

    op.create_table(
        "interaction_label",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_interaction_label_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("interaction_id", "label", name=op.f("pk_interaction_label")),
    )
    with op.batch_alter_table("interaction_label", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_label_label", ["label"], unique=False)

    op.create_table(
        "interaction_note",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "mentions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_interaction_note_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_note")),
    )
    with op.batch_alter_table("interaction_note", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interaction_note_interaction", ["interaction_id", "created_at"], unique=False
        )

    op.create_table(
        "notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=True),
        sa.Column("note_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
            name=op.f("fk_notification_interaction_id_interaction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["interaction_note.id"],
            name=op.f("fk_notification_note_id_interaction_note"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_user", ["user_id", "read_at", "created_at"], unique=False
        )

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution_code", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "priority",
                sa.Enum(
                    "LOW",
                    "NORMAL",
                    "HIGH",
                    "URGENT",
                    name="priority",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="NORMAL",
                nullable=False,
            )
        )
        batch_op.create_index(
            "ix_interaction_agent_status", ["assigned_agent", "status", "channel"], unique=False
        )
        batch_op.create_index(
            "ix_interaction_snoozed",
            ["snoozed_until"],
            unique=False,
            postgresql_where=sa.text("snoozed_until IS NOT NULL"),
            sqlite_where=sa.text("snoozed_until IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_interaction_waiting",
            ["team_id", "queued_at"],
            unique=False,
            postgresql_where=sa.text("queued_at IS NOT NULL"),
            sqlite_where=sa.text("queued_at IS NOT NULL"),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_interaction_team_id_team"),
            "team",
            ["team_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "availability",
                sa.Enum(
                    "ONLINE",
                    "BUSY",
                    "AWAY",
                    "OFFLINE",
                    name="availability",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="OFFLINE",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("availability_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("capacity_call", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("capacity_whatsapp", sa.Integer(), server_default="5", nullable=False)
        )
        batch_op.add_column(
            sa.Column("capacity_sms", sa.Integer(), server_default="5", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("capacity_sms")
        batch_op.drop_column("capacity_whatsapp")
        batch_op.drop_column("capacity_call")
        batch_op.drop_column("availability_changed_at")
        batch_op.drop_column("availability")

    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_interaction_team_id_team"), type_="foreignkey")
        batch_op.drop_index(
            "ix_interaction_waiting",
            postgresql_where=sa.text("queued_at IS NOT NULL"),
            sqlite_where=sa.text("queued_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_interaction_snoozed",
            postgresql_where=sa.text("snoozed_until IS NOT NULL"),
            sqlite_where=sa.text("snoozed_until IS NOT NULL"),
        )
        batch_op.drop_index("ix_interaction_agent_status")
        batch_op.drop_column("priority")
        batch_op.drop_column("resolution_code")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("team_id")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_user")

    op.drop_table("notification")
    with op.batch_alter_table("interaction_note", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_note_interaction")

    op.drop_table("interaction_note")
    with op.batch_alter_table("interaction_label", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_label_label")

    op.drop_table("interaction_label")
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.drop_index("ix_team_member_user")

    op.drop_table("team_member")
    with op.batch_alter_table("routing_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_rule_position")

    op.drop_table("routing_rule")
    op.drop_table("canned_reply")
    op.drop_table("team")
