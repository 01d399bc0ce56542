"""Alembic environment: runs on the connection handed over by contact_center.db.migrate."""

from __future__ import annotations

from alembic import context

import contact_center.models  # noqa: F401  (registers every table)
from contact_center.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations always run through db.migrate
    raise RuntimeError("run migrations with `contact-center migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
