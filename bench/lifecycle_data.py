"""A database for the data-lifecycle benchmarks: 1,000,000 interactions and 5,000,000 messages
over 24 months, with what the rest of the service writes beside them.

On a fresh `bench_lifecycle_<random>` database migrated to head:

  * `bench.generate`'s interactions, calls (with transcripts), two events each and messages,
    started over the last 730 days (its server-side load: indexes dropped, chunks on two
    connections, rebuilt after);
  * heavy customers: HEAVY customers (phone and reference) own 100, 110, … 290 interactions
    taken at random over the two years, so an access export has real work (the rest keep
    `bench.generate`'s ~5 interactions per customer);
  * the webhook ledger: one delivery per inbound message (BuilderBot or Twilio, the raw body with
    the phone and the text) and one ElevenLabs post-call delivery per call, each with the event
    it left on its conversation (idempotency key `webhook:<delivery id>:1`, as the ingest keys
    them: how the erasure finds a conversation's ledger rows);
  * one OTP challenge per OTP SMS (the customer's phone and reference, the interaction);
  * audit rows: one `interaction.update` for half the assigned interactions (unsealed);
  * one active legal hold on the first heavy customer (the purge must leave them).

The extra tables are loaded like `bench.generate`'s: their secondary indexes, unique and foreign
keys dropped for the load and rebuilt after, then VACUUM ANALYZE.

    .venv/bin/python -m bench.lifecycle_data --keep          # prints the database's URL
    .venv/bin/python -m bench.lifecycle_data --interactions 100000 --messages 500000 --keep

Without --keep the database is dropped at the end (a dry run of the load). The benchmarks that
use it (bench.purge_ingest, bench.access_export) call `fill` themselves or take `--url`.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg
from rich.console import Console

from bench.common import ADMIN, asyncpg_url, create_database, drop_database
from bench.generate import DEFERRABLE_SQL, generate, migrate

DAYS = 730
HEAVY = 20  # customers owning 100 + 10 k interactions, k = 0 … HEAVY - 1
PREFIX = "bench_lifecycle"
EXTRA_TABLES = ("webhook_delivery", "otp_challenge", "audit_log", "legal_hold")
# Tables whose indexes and constraints are dropped while the extra rows load.
DEFERRED_TABLES = (*EXTRA_TABLES, "interaction_event")


def heavy_phone(k: int) -> str:
    """The phone of heavy customer k (an Argentine mobile like the generated ones)."""
    return f"+549119900{k:04d}"


def heavy_ref(k: int) -> str:
    return f"CLI-H{k:07d}"


# Heavy customer k takes rows cum(k-1)+1 … cum(k) of a random order, cum(k) = Σ (100 + 10 j).
HEAVY_SQL = """
WITH picked AS (
    SELECT id, row_number() OVER (ORDER BY random()) AS rn
    FROM interaction TABLESAMPLE SYSTEM (5)
), owner AS (
    SELECT id, (SELECT min(k) FROM generate_series(0, $1::int - 1) AS k
                WHERE 100 * (k + 1) + 5 * k * (k + 1) >= rn) AS k
    FROM picked
    WHERE rn <= 100 * $1::int + 5 * ($1::int - 1) * $1::int
)
UPDATE interaction AS i
SET customer_phone = '+549119900' || lpad(o.k::text, 4, '0'),
    customer_ref = 'CLI-H' || lpad(o.k::text, 7, '0'),
    from_number = CASE WHEN i.direction = 'INBOUND' THEN '+549119900' || lpad(o.k::text, 4, '0')
                       ELSE i.from_number END,
    to_number = CASE WHEN i.direction = 'OUTBOUND' THEN '+549119900' || lpad(o.k::text, 4, '0')
                     ELSE i.to_number END
FROM owner AS o
WHERE i.id = o.id
"""

# One ledger row per inbound message, as the provider sent it (phone and text in the body).
WEBHOOK_MESSAGES_SQL = """
INSERT INTO webhook_delivery (
    id, provider, event_key, event_type, received_at, content_type, raw_body,
    raw_body_encoding, headers, status, error, attempts, processed_at, waiting_for, event_family
)
SELECT gen_random_uuid(), i.provider, m.provider_message_id,
       CASE i.channel WHEN 'SMS' THEN 'sms.inbound' ELSE 'message.incoming' END,
       m.created_at, 'application/json',
       CASE i.channel
           WHEN 'SMS' THEN jsonb_build_object('MessageSid', m.provider_message_id,
               'From', i.customer_phone, 'Body', m.body)::text
           ELSE jsonb_build_object('eventName', 'message.incoming', 'data', jsonb_build_object(
               'body', m.body, 'from', ltrim(i.customer_phone, '+'),
               'name', i.customer_name, 'attachment', m.media))::text
       END,
       NULL, jsonb_build_object('content-type', 'application/json'), 'PROCESSED', NULL, 1,
       m.created_at + interval '40 milliseconds', NULL, NULL
FROM message AS m
JOIN interaction AS i ON i.id = m.interaction_id
WHERE m.direction = 'INBOUND'
"""

# One ElevenLabs post-call delivery per call (the transcript in the body).
WEBHOOK_CALLS_SQL = """
INSERT INTO webhook_delivery (
    id, provider, event_key, event_type, received_at, content_type, raw_body,
    raw_body_encoding, headers, status, error, attempts, processed_at, waiting_for, event_family
)
SELECT gen_random_uuid(), 'ELEVENLABS', i.provider_conversation_id, 'post_call_transcription',
       coalesce(i.ended_at, i.updated_at), 'application/json',
       jsonb_build_object('type', 'post_call_transcription', 'data', jsonb_build_object(
           'conversation_id', i.provider_conversation_id, 'transcript', c.transcript,
           'metadata', jsonb_build_object('phone_call', jsonb_build_object(
               'external_number', i.customer_phone))))::text,
       NULL, jsonb_build_object('content-type', 'application/json'), 'PROCESSED', NULL, 1,
       coalesce(i.ended_at, i.updated_at) + interval '1 second', NULL, NULL
FROM interaction AS i
JOIN call_detail AS c ON c.interaction_id = i.id
WHERE i.channel = 'CALL'
"""

# The event each delivery left, keyed as the ingest keys it (`webhook:<delivery id>:…`): how
# the erasure finds a conversation's ledger rows.
LEDGER_EVENTS_SQL = """
INSERT INTO interaction_event (
    id, interaction_id, type, occurred_at, payload, normalized, provider_event_id,
    idempotency_key
)
SELECT gen_random_uuid(), coalesce(m.interaction_id, i.id),
       CASE WHEN w.provider = 'ELEVENLABS' THEN 'call.transcript' ELSE 'message.received' END,
       w.received_at, jsonb_build_object('source', 'bench'),
       jsonb_build_object('messageId', m.id), w.event_key,
       'webhook:' || w.id::text || ':1'
FROM webhook_delivery AS w
LEFT JOIN message AS m ON w.provider <> 'ELEVENLABS' AND m.provider_message_id = w.event_key
LEFT JOIN interaction AS i
    ON w.provider = 'ELEVENLABS' AND i.provider = 'ELEVENLABS'
   AND i.provider_conversation_id = w.event_key
WHERE coalesce(m.interaction_id, i.id) IS NOT NULL
"""

OTP_SQL = """
INSERT INTO otp_challenge (
    id, correlation_id, phone, purpose, code_hash, status, attempts, max_attempts, expires_at,
    verified_at, interaction_id, requested_from_interaction_id, customer_ref, context, channel,
    fallback_at, created_at, updated_at
)
SELECT gen_random_uuid(), 'otp-' || m.id, i.customer_phone,
       (ARRAY['LOGIN_2FA', 'TX_CONFIRMATION', 'IDENTITY_VERIFICATION', 'PASSWORD_RESET'])
           [1 + floor(r * 4)::int],
       '$argon2id$v=19$m=65536,t=3,p=4$YmVuY2g$YmVuY2hoYXNo',
       CASE WHEN r < 0.78 THEN 'VERIFIED' WHEN r < 0.95 THEN 'EXPIRED' ELSE 'LOCKED' END,
       CASE WHEN r < 0.78 THEN 1 WHEN r < 0.95 THEN 0 ELSE 5 END, 5,
       m.created_at + interval '5 minutes',
       CASE WHEN r < 0.78 THEN m.created_at + interval '40 seconds' END,
       i.id, NULL, i.customer_ref, jsonb_build_object('channel', 'app'), 'SMS', NULL,
       m.created_at, m.created_at + interval '1 minute'
FROM (SELECT *, random() AS r FROM message WHERE kind = 'OTP') AS m
JOIN interaction AS i ON i.id = m.interaction_id
"""

AUDIT_SQL = """
INSERT INTO audit_log (
    id, occurred_at, actor_type, actor_id, action, entity_type, entity_id, ip, user_agent,
    metadata, mac
)
SELECT gen_random_uuid(), updated_at, 'USER', assigned_agent, 'interaction.update',
       'interaction', id::text, '10.1.2.3', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
       jsonb_build_object('field', 'status', 'from', 'NEW', 'to', status), NULL
FROM interaction
WHERE assigned_agent IS NOT NULL AND random() < 0.5
"""

HOLD_SQL = """
INSERT INTO legal_hold (id, scope, customer_phone, customer_ref, reason, created_by, created_at)
VALUES (gen_random_uuid(), 'CUSTOMER', $1, $2, 'Causa judicial 4821/2026 (bench)', 'compliance',
        now())
"""


async def add_lifecycle_rows(url: str, console: Console) -> dict[str, float]:
    """The heavy customers, the ledger, the OTP challenges, the audit rows and a hold."""
    connection = await asyncpg.connect(asyncpg_url(url))
    phases: dict[str, float] = {}
    try:
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET work_mem = '64MB'")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        status = await connection.execute(HEAVY_SQL, HEAVY)
        phases["heavy customers"] = time.perf_counter() - started
        console.print(f"heavy customers: {status}")
        deferred = await connection.fetch(DEFERRABLE_SQL, list(DEFERRED_TABLES))
        for index in deferred:
            await connection.execute(index["drop_sql"])
        try:
            for label, sql in (
                ("ledger: inbound messages", WEBHOOK_MESSAGES_SQL),
                ("ledger: calls", WEBHOOK_CALLS_SQL),
                ("events of the ledger", LEDGER_EVENTS_SQL),
                ("OTP challenges", OTP_SQL),
                ("audit rows", AUDIT_SQL),
            ):
                started = time.perf_counter()
                status = await connection.execute(sql)
                phases[label] = time.perf_counter() - started
                console.print(f"{label}: {status} in {phases[label]:.0f} s")
            await connection.execute(HOLD_SQL, heavy_phone(0), heavy_ref(0))
        finally:
            started = time.perf_counter()
            for index in deferred:
                await connection.execute(index["create_sql"])
            phases["extra indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        for table in ("interaction", *DEFERRED_TABLES):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        phases["extra vacuum analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return phases


async def fill(url: str, interactions: int, messages: int, console: Console) -> None:
    """Migrate the database at `url` and load it (see the module's docstring)."""
    await migrate(url)
    started = time.perf_counter()
    await generate(url, interactions, messages, days=DAYS)
    console.print(f"bench.generate: {time.perf_counter() - started:.0f} s")
    phases = await add_lifecycle_rows(url, console)
    console.print("phases: " + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()))
    console.print(f"loaded in {time.perf_counter() - started:.0f} s")


async def counts(url: str) -> dict[str, int]:
    """Rows per table of interest (estimates after ANALYZE: exact counts take minutes)."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        rows = await connection.fetch(
            "SELECT relname, reltuples::bigint AS n FROM pg_class WHERE relname = ANY($1::text[])",
            ["interaction", "message", "call_detail", "interaction_event", *EXTRA_TABLES],
        )
    finally:
        await connection.close()
    return {row["relname"]: row["n"] for row in rows}


async def database(
    url: str | None, interactions: int, messages: int, admin: str, console: Console
) -> tuple[str, bool]:
    """(the database's URL, whether this run made it): `url` as given, else a new one filled."""
    if url is not None:
        return url, False
    made = await create_database(admin, prefix=PREFIX)
    console.print(f"created {made}")
    try:
        await fill(made, interactions, messages, console)
    except BaseException:
        await drop_database(made, admin)
        raise
    return made, True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every lifecycle benchmark shares."""
    parser.add_argument("--url", help="use this database (already filled; kept)")
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database made")
    parser.add_argument("--admin-url", default=ADMIN)


async def run(args: argparse.Namespace) -> None:
    console = Console()
    url, made = await database(args.url, args.interactions, args.messages, args.admin_url, console)
    try:
        console.print(await counts(url))
    finally:
        if made and not args.keep:
            await drop_database(url, args.admin_url)
            console.print("database dropped")
        else:
            console.print(f"kept: {url}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
