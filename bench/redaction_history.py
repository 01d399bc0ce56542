"""The history command on a seeded PostgreSQL database (docs/redaction.md, "Existing data").

Seeds MESSAGES inbound messages whose bodies are the redaction corpus's snippets in turn (three
in four carry a card, a code, a DNI…: a worse case than real history), a tenth as many calls
with a transcript of eight turns made of the same snippets, then runs the command's routine
(`redaction.history.redact_history`) twice: the first run redacts, the second finds nothing (it
still reads and scans every text). Prints rows/s per table for both.

The database is created on BENCH_POSTGRES_URL's server and dropped at the end (--keep keeps it).

    .venv/bin/python -m bench.redaction_history
    .venv/bin/python -m bench.redaction_history --messages 200000 --batch 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from rich.console import Console
from rich.table import Table

from bench.common import ADMIN, asyncpg_url, create_database, drop_database
from bench.generate import migrate
from bench.redaction_accuracy import load_corpus

# `mypy bench` sees contact_center as an installed package without py.typed, hence untyped
# here; `mypy src bench` checks these uses for real.
from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
    create_engine,
    create_session_factory,
)
from contact_center.redaction.history import (  # type: ignore[import-untyped, unused-ignore]
    redact_history,
)
from contact_center.redaction.service import (  # type: ignore[import-untyped, unused-ignore]
    RedactionKeys,
)
from contact_center.redaction.vault import (  # type: ignore[import-untyped, unused-ignore]
    Keyring,
    new_key,
)
from contact_center.settings import load_settings  # type: ignore[import-untyped, unused-ignore]

START = datetime(2026, 1, 1, tzinfo=UTC)


async def seed(url: str, messages: int) -> None:
    texts = [s.text for s in load_corpus()]
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        chats = max(1, messages // 10)
        calls = max(1, messages // 10)
        ids = [uuid.uuid4() for _ in range(chats + calls)]
        await connection.copy_records_to_table(
            "interaction",
            columns=[
                "id",
                "channel",
                "direction",
                "status",
                "started_at",
                "created_at",
                "updated_at",
                "provider",
                "ai_handled",
                "priority",
            ],
            records=[
                (
                    i,
                    "WHATSAPP" if n < chats else "CALL",
                    "INBOUND",
                    "COMPLETED",
                    START + timedelta(minutes=n),
                    START + timedelta(minutes=n),
                    START + timedelta(minutes=n),
                    "BUILDERBOT" if n < chats else "ELEVENLABS",
                    True,
                    "NORMAL",
                )
                for n, i in enumerate(ids)
            ],
        )
        await connection.copy_records_to_table(
            "message",
            columns=[
                "id",
                "interaction_id",
                "direction",
                "body",
                "media",
                "status",
                "kind",
                "created_at",
                "updated_at",
                "attempts",
            ],
            records=[
                (
                    uuid.uuid4(),
                    ids[n % chats],
                    "INBOUND",
                    texts[n % len(texts)],
                    "[]",
                    "RECEIVED",
                    "TEXT",
                    START + timedelta(seconds=n),
                    START + timedelta(seconds=n),
                    0,
                )
                for n in range(messages)
            ],
        )
        await connection.copy_records_to_table(
            "call_detail",
            columns=[
                "id",
                "interaction_id",
                "transcript",
                "summary",
                "has_audio",
                "sensitive_audio",
            ],
            records=[
                (
                    uuid.uuid4(),
                    ids[chats + n],
                    json.dumps(
                        [
                            {
                                "role": "user" if t % 2 else "agent",
                                "message": texts[(n * 8 + t) % len(texts)],
                                "time_in_call_secs": t * 5,
                            }
                            for t in range(8)
                        ]
                    ),
                    "El cliente llamó por su tarjeta.",
                    False,
                    False,
                )
                for n in range(calls)
            ],
        )
    finally:
        await connection.close()


async def main(messages: int, batch: int, keep: bool) -> None:
    console = Console()
    url = await create_database(ADMIN)
    try:
        await migrate(url)
        began = time.monotonic()
        await seed(url, messages)
        console.print(
            f"seeded {messages:,} messages and {messages // 10:,} calls "
            f"in {time.monotonic() - began:.1f} s"
        )
        engine = create_engine(load_settings(DATABASE_URL=url))
        sessions = create_session_factory(engine)
        keys = RedactionKeys(Keyring.parse(f"k1:{new_key()}"), Keyring.parse(f"p1:{new_key()}"))
        table = Table("run", "table", "rows", "changed", "findings", "seconds", "rows/s")
        try:
            for run in ("first", "second"):
                report = await redact_history(
                    sessions, keys, batch=batch, only=["message", "call_detail"]
                )
                for part in report.tables:
                    table.add_row(
                        run,
                        part.table,
                        f"{part.scanned:,}",
                        f"{part.changed:,}",
                        f"{sum(part.findings.values()):,}",
                        f"{part.seconds:.1f}",
                        f"{part.rows_per_second:,.0f}",
                    )
        finally:
            await engine.dispose()
        console.print(table)
    finally:
        if keep:
            console.print(f"kept {url}")
        else:
            await drop_database(url, ADMIN)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.batch, arguments.keep))
