"""whatsapp cloud api: the provider, template registry, message replies and reads, OTP channel

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

`interaction.provider` admits WHATSAPP_CLOUD; messages keep the template they were sent with,
the message they reply to and when they were read; `whatsapp_template` holds the account's
templates; a one-time code says the channel it goes by.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PROVIDERS = ("ELEVENLABS", "BUILDERBOT", "TWILIO", "GENERIC")
NEW_PROVIDERS = (*OLD_PROVIDERS, "WHATSAPP_CLOUD")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_interaction_provider"), type_="check")
        batch_op.create_check_constraint("provider", _in("provider", NEW_PROVIDERS))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template", _json(), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.Enum(
                    "SMS",
                    "WHATSAPP",
                    name="otp_channel",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="SMS",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("fallback_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "whatsapp_template",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("components", _json(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_variables", sa.Integer(), nullable=False),
        sa.Column("provider_template_id", sa.String(length=64), nullable=True),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_template")),
        sa.UniqueConstraint("name", "language", name=op.f("uq_whatsapp_template_name_language")),
    )
    with op.batch_alter_table("whatsapp_template", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_template_status", ["status", "name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_template", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_template_status")
    op.drop_table("whatsapp_template")
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.drop_column("fallback_at")
        batch_op.drop_column("channel")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("read_at")
        batch_op.drop_column("reply_to")
        batch_op.drop_column("template")
    op.execute("UPDATE interaction SET provider = 'GENERIC' WHERE provider = 'WHATSAPP_CLOUD'")
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_interaction_provider"), type_="check")
        batch_op.create_check_constraint("provider", _in("provider", OLD_PROVIDERS))
