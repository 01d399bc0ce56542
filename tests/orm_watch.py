"""Watching the ORM: which statements and flushes a block runs (the hot paths run none)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session


@contextlib.contextmanager
def orm_statements() -> Iterator[list[str]]:
    """The ORM statements and flushes run inside the block, in order."""
    seen: list[str] = []

    def executed(state: ORMExecuteState) -> None:
        seen.append(str(state.statement)[:60])

    def flushed(session: Session, *args: Any) -> None:
        seen.append("flush")

    event.listen(Session, "do_orm_execute", executed)
    event.listen(Session, "before_flush", flushed)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", executed)
        event.remove(Session, "before_flush", flushed)
