"""The production app plus one trivial route, for the ingest benchmark's ceiling.

`POST /webhooks/bench-insert` does one INSERT in the request's transaction, through the same
middlewares, session dependency and pooled connection as every route (the `/webhooks/` prefix is
public, as webhooks authenticate themselves). Run as `python -m bench.ingest_app PORT`, with the
environment of `contact-center serve`.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import uvicorn
from sqlalchemy import text

from contact_center.app import create_app
from contact_center.db.migrate import upgrade_database
from contact_center.db.session import create_engine
from contact_center.dependencies import SessionDep
from contact_center.logging import configure_logging
from contact_center.settings import load_settings


def main(port: int) -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_file, settings.log_format)

    async def migrate() -> None:
        engine = create_engine(settings)
        await upgrade_database(engine)
        await engine.dispose()

    asyncio.run(migrate())
    app = create_app(settings, migrate=False, with_worker=False)

    @app.post("/webhooks/bench-insert", include_in_schema=False)
    async def bench_insert(session: SessionDep) -> dict[str, str]:
        row = uuid.uuid4()
        await session.execute(
            text("INSERT INTO bench_insert (id, at) VALUES (:id, now())"), {"id": row}
        )
        return {"id": str(row)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, proxy_headers=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
