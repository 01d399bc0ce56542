"""Fill a PostgreSQL database with a realistic volume of interactions, messages, calls and events.

Everything is generated server-side (`INSERT … SELECT … FROM generate_series(…)`), in chunks, so
1,000,000 interactions and 5,000,000 messages load in a few minutes on 2 cores:

  * interactions: ~40% WHATSAPP / 35% CALL / 25% SMS, started over the last 90 days, from
    `interactions / 5` distinct customers (Argentine mobiles: +54911 and eight digits;
    a customer profile holds ~5 interactions), 30 agents (a quarter unassigned),
    mixed statuses and outcomes;
  * one call_detail per CALL interaction (transcript, summary, analysis, duration);
  * two interaction_event rows per interaction (created, then completed or status changed);
  * messages spread over the WHATSAPP and SMS interactions, between their start and last update.

On empty tables the secondary indexes, unique and foreign-key constraints are dropped for the load
and rebuilt after it (a duplicate or dangling row would make the rebuild fail), chunks are loaded
over two connections, and the tables are VACUUM ANALYZEd at the end.

The database must exist; it is migrated first (idempotent). Without --url a fresh
`cc_bench_<random>` database is created on BENCH_POSTGRES_URL's server and kept.

    .venv/bin/python -m bench.generate --interactions 20000 --messages 100000
    .venv/bin/python -m bench.generate --url postgresql://postgres@127.0.0.1:5432/cc_bench_x
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import asyncpg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench.common import ADMIN, asyncpg_url, create_database

CHUNK = 100_000
JOBS = 2  # connections loading chunks side by side (the benchmark machine has 2 cores)
CUSTOMERS_PER_INTERACTION = 0.2  # 1M interactions come from 200,000 customers
DAYS = 90

AGENTS = (
    "Lucía Fernández", "Nicolás Herrera", "Agustina Medina", "Martín Gómez", "Julieta Castro",
    "Sofía Romero", "Gonzalo Luna", "Camila Benítez", "Diego Acosta", "Florencia Ríos",
    "Valentina Sosa", "Matías Rojas", "Carolina Paz", "Federico Álvarez", "Micaela Torres",
    "Santiago Molina", "Rocío Giménez", "Tomás Ferreyra", "Milagros Quiroga", "Joaquín Ortiz",
    "Paula Domínguez", "Ezequiel Vega", "Antonella Ruiz", "Facundo Navarro", "Daniela Cabrera",
    "Bruno Figueroa", "Brenda Ledesma", "Lautaro Aguirre", "Celeste Morales", "Ignacio Peralta",
)  # fmt: skip
FIRST_NAMES = (
    "María", "Juan", "Ana", "Carlos", "Laura", "Jorge", "Silvia", "Roberto", "Marta", "Luis",
    "Patricia", "Alejandro", "Graciela", "Daniel", "Mónica", "Pablo", "Claudia", "Sergio",
    "Gabriela", "Ricardo", "Andrea", "Fernando", "Verónica", "Hernán", "Natalia", "Marcelo",
    "Lorena", "Gustavo", "Cecilia", "Oscar", "Romina", "Walter", "Vanesa", "Raúl", "Mariela",
    "Héctor", "Soledad", "Adrián", "Elena", "Leandro",
)  # fmt: skip
LAST_NAMES = (
    "González", "Rodríguez", "Gómez", "Fernández", "López", "Díaz", "Martínez", "Pérez",
    "García", "Sánchez", "Romero", "Sosa", "Torres", "Álvarez", "Ruiz", "Ramírez", "Flores",
    "Benítez", "Acosta", "Medina", "Herrera", "Suárez", "Aguirre", "Giménez", "Gutiérrez",
    "Pereyra", "Rojas", "Molina", "Castro", "Ortiz", "Silva", "Núñez", "Luna", "Juárez",
    "Cabrera", "Ríos", "Morales", "Godoy", "Moreno", "Ferreyra",
)  # fmt: skip
QUEUES = ("tarjetas", "prestamos", "cuentas", "fraude", "general")
INTENTS = (
    "consulta_saldo", "bloqueo_tarjeta", "reclamo_cargo", "prestamo_personal", "cambio_clave",
    "activacion_tarjeta", "consulta_inversiones", "denuncia_fraude", "consulta_transferencia",
)  # fmt: skip
CUSTOMER_SAYS = (
    "Hola, quiero saber el saldo de mi caja de ahorro.",
    "Perdí mi tarjeta de débito, necesito bloquearla urgente.",
    "Tengo un cargo en la tarjeta que no reconozco.",
    "Quería consultar por un préstamo personal.",
    "No puedo entrar al home banking, me pide cambiar la clave.",
    "Me llegó la tarjeta nueva, ¿cómo la activo?",
    "¿Qué tasa están pagando los plazos fijos?",
    "Me llamaron diciendo que eran del banco y me pidieron un código.",
    "Hice una transferencia ayer y todavía no le llegó.",
    "Buen día, ¿me pueden ayudar?",
    "Gracias!",
    "Perfecto 👍",
    "Ok, ya lo pude hacer.",
    "¿Cuánto tarda en acreditarse?",
    "Mi DNI termina en 482.",
)
BANK_SAYS = (
    "Hola {nombre}, soy el asistente virtual del Banco. ¿En qué te puedo ayudar?",
    "Para continuar necesito validar tu identidad. ¿Me confirmás tu DNI?",
    "Listo, tu tarjeta quedó bloqueada. Te enviamos una nueva en 5 días hábiles.",
    "Registramos tu reclamo con el número RC-483920.",
    "Tu saldo disponible es de $ 152.340,18.",
    "Te derivo con un representante de Tarjetas, aguardá un momento por favor.",
    "La transferencia se acredita dentro de las 24 horas hábiles.",
    "¿Hay algo más en lo que te pueda ayudar?",
    "Gracias por comunicarte con el Banco. ¡Que tengas un buen día!",
)
SMS_SAYS = (
    "Banco: tu código de verificación es ******. No lo compartas con nadie.",
    "Banco: ingresá a https://bco.ar/v/****** para verificar tu identidad.",
    "Banco: tu tarjeta terminada en 4821 está lista para activar. Respondé SI para activarla.",
    "Banco: registramos tu reclamo RC-483920. Te contactaremos en 48 h.",
    "Banco: se acreditó tu transferencia de $ 25.000,00.",
)


def sql_text_array(values: tuple[str, ...]) -> str:
    """A constant `ARRAY['…', …]::text[]` (the values are ours, quotes doubled anyway)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"ARRAY[{quoted}]::text[]"


def pick(values: tuple[str, ...], rand: str) -> str:
    """SQL picking one of `values` with the uniform random expression `rand` in [0, 1)."""
    return f"({sql_text_array(values)})[1 + floor({rand} * {len(values)})::int]"


# One chunk of interactions ($1..$2 of the series), with their call_detail and two events each.
# $3: distinct customers, $4: now, $5: days of history. Random draws are materialized once per
# row.
INTERACTIONS_SQL = f"""
WITH r AS MATERIALIZED (
    SELECT i,
           random() AS r_channel, random() AS r_dir, random() AS r_status, random() AS r_outcome,
           random() AS r_agent, random() AS r_queue, random() AS r_intent, random() AS r_ai,
           random() AS r_ref, random() AS r_dur, random() AS r_tail, random() AS r_open,
           floor(random() * $3::int)::int AS k,
           $4::timestamptz - random() * $5::int * interval '1 day' AS started_at
    FROM generate_series($1::bigint, $2::bigint) AS i
), s AS MATERIALIZED (
    SELECT r.*,
           CASE WHEN r_channel < 0.40 THEN 'WHATSAPP' WHEN r_channel < 0.75 THEN 'CALL'
                ELSE 'SMS' END AS channel,
           '+54911' || (30000000 + k * 41)::text AS phone
    FROM r
), t AS MATERIALIZED (
    SELECT s.*,
           CASE channel
               WHEN 'CALL' THEN CASE WHEN r_dir < 0.80 THEN 'INBOUND' ELSE 'OUTBOUND' END
               WHEN 'WHATSAPP' THEN CASE WHEN r_dir < 0.90 THEN 'INBOUND' ELSE 'OUTBOUND' END
               ELSE CASE WHEN r_dir < 0.15 THEN 'INBOUND' ELSE 'OUTBOUND' END
           END AS direction,
           CASE
               WHEN started_at > $4::timestamptz - interval '2 days' AND r_open < 0.30
                   THEN 'IN_PROGRESS'
               WHEN started_at > $4::timestamptz - interval '2 days' AND r_open < 0.45 THEN 'NEW'
               WHEN r_open < 0.02 THEN 'IN_PROGRESS'
               WHEN channel = 'CALL' THEN CASE WHEN r_status < 0.75 THEN 'COMPLETED'
                   WHEN r_status < 0.92 THEN 'ABANDONED' ELSE 'FAILED' END
               WHEN channel = 'WHATSAPP' THEN CASE WHEN r_status < 0.85 THEN 'COMPLETED'
                   WHEN r_status < 0.95 THEN 'ABANDONED' ELSE 'FAILED' END
               ELSE CASE WHEN r_status < 0.93 THEN 'COMPLETED' ELSE 'FAILED' END
           END AS status,
           make_interval(secs => CASE channel
               WHEN 'CALL' THEN 30 + r_dur * r_dur * 1500
               WHEN 'WHATSAPP' THEN 60 + r_dur * r_dur * 14400
               ELSE 2 + r_dur * 600 END) AS duration
    FROM s
), u AS MATERIALIZED (
    SELECT t.*,
           CASE WHEN status IN ('COMPLETED', 'ABANDONED', 'FAILED')
               THEN least(started_at + duration, $4::timestamptz) END AS ended_at,
           least(
               started_at + duration * CASE WHEN status IN ('NEW', 'IN_PROGRESS') THEN r_tail
                                            ELSE 1 END
                   + CASE WHEN status IN ('NEW', 'IN_PROGRESS') THEN interval '0'
                          ELSE r_tail * interval '10 minutes' END,
               $4::timestamptz
           ) AS updated_at,
           CASE
               WHEN status = 'COMPLETED' AND channel = 'SMS' THEN NULL
               WHEN status = 'COMPLETED' THEN CASE WHEN r_outcome < 0.55 THEN 'RESOLVED'
                   WHEN r_outcome < 0.67 THEN 'ESCALATED' WHEN r_outcome < 0.82 THEN 'TICKETED'
                   WHEN r_outcome < 0.92 AND channel = 'CALL' THEN 'TRANSFERRED'
                   WHEN r_outcome < 0.92 THEN 'RESOLVED' ELSE 'UNKNOWN' END
               WHEN status = 'ABANDONED' AND r_outcome < 0.5 THEN 'UNKNOWN'
           END AS outcome,
           CASE WHEN r_queue < 0.85 OR channel <> 'SMS' THEN {pick(QUEUES, "r_queue")} END
               AS queue
    FROM t
), ins AS (
    INSERT INTO interaction (
        id, channel, direction, status, started_at, ended_at, created_at, updated_at,
        from_number, to_number, customer_phone, customer_name, provider,
        provider_conversation_id, assigned_agent, customer_ref, queue, intent, outcome,
        ai_handled, last_message_at
    )
    SELECT gen_random_uuid(), channel, direction, status, started_at, ended_at, started_at,
           updated_at,
           CASE WHEN direction = 'INBOUND' THEN phone
                WHEN channel = 'CALL' THEN '+541152500000'
                WHEN channel = 'WHATSAPP' THEN '+5491152500001'
                ELSE '+15005550006' END,
           CASE WHEN direction = 'OUTBOUND' THEN phone
                WHEN channel = 'CALL' THEN '+541152500000'
                WHEN channel = 'WHATSAPP' THEN '+5491152500001'
                ELSE '+15005550006' END,
           phone,
           CASE WHEN r_ref < 0.95 THEN
               ({sql_text_array(FIRST_NAMES)})[1 + k % {len(FIRST_NAMES)}] || ' ' ||
               ({sql_text_array(LAST_NAMES)})[1 + (k / {len(FIRST_NAMES)}) % {len(LAST_NAMES)}]
           END,
           CASE channel WHEN 'CALL' THEN 'ELEVENLABS' WHEN 'WHATSAPP' THEN 'BUILDERBOT'
                        ELSE 'TWILIO' END,
           CASE WHEN channel = 'CALL' THEN 'conv_' || replace(gen_random_uuid()::text, '-', '')
           END,
           CASE WHEN r_agent >= 0.25 THEN
               {pick(AGENTS, "((r_agent - 0.25) / 0.75)")} END,
           CASE WHEN r_ref < 0.80 THEN 'CLI-' || lpad(k::text, 8, '0') END,
           queue,
           CASE WHEN queue IS NOT NULL AND r_intent < 0.9 THEN {pick(INTENTS, "r_intent / 0.9")}
           END,
           outcome,
           CASE channel WHEN 'CALL' THEN r_ai < 0.60 WHEN 'WHATSAPP' THEN r_ai < 0.45
                        ELSE false END,
           CASE WHEN channel <> 'CALL' THEN updated_at END
    FROM u
    RETURNING id, channel, direction, status, outcome, started_at, ended_at, updated_at,
              provider_conversation_id, queue, intent
), calls AS (
    INSERT INTO call_detail (
        id, interaction_id, transcript, summary, recording_url, duration_secs, hangup_reason,
        call_successful, analysis, has_audio, fetched_at
    )
    SELECT gen_random_uuid(), id,
           CASE WHEN status = 'FAILED' THEN '[]'::jsonb ELSE jsonb_build_array(
               jsonb_build_object('role', 'agent', 'time_in_call_secs', 0, 'message',
                   'Bienvenido al Banco. Soy su asistente virtual, ¿en qué puedo ayudarle?'),
               jsonb_build_object('role', 'user', 'time_in_call_secs', 7, 'message',
                   {pick(CUSTOMER_SAYS[:9], "random()")}),
               jsonb_build_object('role', 'agent', 'time_in_call_secs', 19, 'message',
                   {pick(BANK_SAYS[1:8], "random()")}),
               jsonb_build_object('role', 'user', 'time_in_call_secs', 34, 'message',
                   'Perfecto, muchas gracias.')
           ) END,
           CASE outcome
               WHEN 'RESOLVED' THEN 'El asistente validó la identidad del cliente y resolvió '
                   || 'la consulta (' || coalesce(intent, 'general') || ').'
               WHEN 'TRANSFERRED' THEN 'El asistente transfirió la llamada a un representante.'
               WHEN 'ESCALATED' THEN 'La consulta se escaló al equipo de ' || coalesce(queue,
                   'atención al cliente') || '.'
               WHEN 'TICKETED' THEN 'Se registró el reclamo RC-' || (100000 + abs(hashtext(
                   id::text)) % 900000)::text || '.'
               WHEN 'UNKNOWN' THEN 'El cliente cortó antes de finalizar; la consulta quedó '
                   || 'sin resolver.'
           END,
           CASE WHEN status = 'COMPLETED' THEN 'https://api.elevenlabs.io/v1/convai/'
               || 'conversations/' || provider_conversation_id || '/audio' END,
           CASE WHEN ended_at IS NOT NULL THEN extract(epoch FROM ended_at - started_at)::int
           END,
           CASE status WHEN 'COMPLETED' THEN 'end_call tool'
                       WHEN 'ABANDONED' THEN 'customer hung up'
                       WHEN 'FAILED' THEN 'call initiation failure: no-answer' END,
           successful,
           jsonb_build_object('call_successful', successful,
                              'data_collection_results', '{{}}'::jsonb),
           status = 'COMPLETED',
           ended_at + interval '1 minute'
    FROM (
        SELECT ins.*,
               CASE WHEN status = 'COMPLETED' AND outcome IN ('RESOLVED', 'TRANSFERRED')
                        THEN 'success'
                    WHEN status IN ('COMPLETED', 'ABANDONED') THEN 'failure'
                    ELSE 'unknown' END AS successful
        FROM ins
        WHERE channel = 'CALL'
    ) AS c
)
INSERT INTO interaction_event (
    id, interaction_id, type, occurred_at, payload, normalized, provider_event_id,
    idempotency_key
)
SELECT gen_random_uuid(), id,
       CASE WHEN e.n = 1 THEN 'interaction.created'
            WHEN status = 'COMPLETED' THEN 'interaction.completed'
            WHEN status = 'NEW' THEN 'message.received'
            ELSE 'status.changed' END,
       CASE WHEN e.n = 1 THEN started_at ELSE updated_at END,
       jsonb_build_object('source', 'bench'),
       CASE WHEN e.n = 1 OR status = 'NEW'
                THEN jsonb_build_object('channel', channel, 'direction', direction)
            ELSE jsonb_build_object('field', 'status', 'from', 'NEW', 'to', status) END,
       NULL,
       'bench:' || id::text || ':' || e.n
FROM ins CROSS JOIN (VALUES (1), (2)) AS e(n)
"""

# How long each open conversation's customer has waited (docs/inbox.md): their oldest message
# after our last one. Run once the indexes are back (it reads each open conversation's messages
# along ix_message_interaction_direction_created).
WAITING_SQL = """
UPDATE interaction SET waiting_since = (
    SELECT min(m.created_at) FROM message m
    WHERE m.interaction_id = interaction.id AND m.direction = 'INBOUND'
      AND m.created_at > coalesce((
          SELECT max(o.created_at) FROM message o
          WHERE o.interaction_id = interaction.id AND o.direction = 'OUTBOUND'),
          '-infinity'::timestamptz))
WHERE status IN ('NEW', 'IN_PROGRESS')
"""

# The interactions messages go to: every WHATSAPP and SMS interaction, numbered (a table, not a
# temporary one: every connection of the load reads it; dropped at the end).
TARGETS_SQL = """
DROP TABLE IF EXISTS bench_targets;
CREATE UNLOGGED TABLE bench_targets AS
SELECT row_number() OVER () AS rn, id, channel, direction, started_at, updated_at
FROM interaction
WHERE channel <> 'CALL';
CREATE UNIQUE INDEX ON bench_targets (rn);
ANALYZE bench_targets;
"""

# One chunk of messages ($1..$2 of the series) over $3 numbered target interactions.
MESSAGES_SQL = f"""
WITH m AS MATERIALIZED (
    SELECT j, gen_random_uuid() AS id, 1 + floor(random() * $3::bigint)::bigint AS rn,
           random() AS r_dir, random() AS r_status, random() AS r_body, random() AS r_time,
           random() AS r_kind, random() AS r_media
    FROM generate_series($1::bigint, $2::bigint) AS j
), v AS MATERIALIZED (
    SELECT m.*, t.id AS interaction_id, t.channel,
           t.started_at + r_time * (t.updated_at - t.started_at) AS created_at,
           CASE WHEN t.channel = 'WHATSAPP' AND r_dir < 0.5 THEN 'INBOUND'
                WHEN t.channel = 'SMS' AND r_dir < 0.08 THEN 'INBOUND'
                ELSE 'OUTBOUND' END AS direction
    FROM m JOIN bench_targets AS t USING (rn)
), w AS MATERIALIZED (
    SELECT v.*,
           CASE WHEN direction = 'INBOUND' THEN 'RECEIVED'
                WHEN channel = 'WHATSAPP' THEN CASE WHEN r_status < 0.55 THEN 'READ'
                    WHEN r_status < 0.85 THEN 'DELIVERED' WHEN r_status < 0.97 THEN 'SENT'
                    ELSE 'FAILED' END
                ELSE CASE WHEN r_status < 0.85 THEN 'DELIVERED' WHEN r_status < 0.92 THEN 'SENT'
                    WHEN r_status < 0.97 THEN 'UNDELIVERED' ELSE 'FAILED' END
           END AS status,
           CASE WHEN channel = 'SMS' AND direction = 'OUTBOUND' THEN
                    CASE WHEN r_kind < 0.40 THEN 'OTP' WHEN r_kind < 0.50 THEN 'VERIFICATION_LINK'
                         WHEN r_kind < 0.55 THEN 'CARD_ACTIVATION' ELSE 'TEXT' END
                WHEN channel = 'WHATSAPP' AND direction = 'OUTBOUND' AND r_kind < 0.02
                    THEN 'ONBOARDING_LINK'
                ELSE 'TEXT' END AS kind
    FROM v
)
INSERT INTO message (
    id, interaction_id, direction, body, media, status, provider_message_id, error_code,
    error_message, kind, created_at, updated_at, sent_at, delivered_at, attempts,
    provider_confirmed_at, next_attempt_at
)
SELECT id, interaction_id, direction,
       CASE WHEN direction = 'INBOUND' THEN {pick(CUSTOMER_SAYS, "r_body")}
            WHEN kind = 'OTP' THEN '{SMS_SAYS[0]}'
            WHEN kind = 'VERIFICATION_LINK' THEN '{SMS_SAYS[1]}'
            WHEN kind = 'CARD_ACTIVATION' THEN '{SMS_SAYS[2]}'
            WHEN kind = 'ONBOARDING_LINK'
                THEN 'Completá tu alta en https://bco.ar/o/****** (vence en 24 h).'
            WHEN channel = 'SMS' THEN {pick(SMS_SAYS[3:], "r_body")}
            ELSE replace({pick(BANK_SAYS, "r_body")}, '{{nombre}}',
                         {pick(FIRST_NAMES, "r_kind")}) END,
       CASE WHEN channel = 'WHATSAPP' AND direction = 'INBOUND' AND r_media < 0.03 THEN
           jsonb_build_array(jsonb_build_object(
               'url', 'https://media.example.com/whatsapp/' || md5(id::text) || '.jpg',
               'contentType', 'image/jpeg', 'filename', NULL))
       ELSE '[]'::jsonb END,
       status,
       CASE WHEN channel = 'SMS' THEN 'SM' ELSE 'wamid.' END || replace(id::text, '-', ''),
       CASE status WHEN 'FAILED' THEN CASE channel WHEN 'SMS' THEN '30008' ELSE '131047' END
                   WHEN 'UNDELIVERED' THEN '30003' END,
       CASE status WHEN 'FAILED' THEN CASE channel WHEN 'SMS' THEN 'Unknown error'
                                      ELSE 'Re-engagement message' END
                   WHEN 'UNDELIVERED' THEN 'Unreachable destination handset' END,
       kind,
       created_at,
       created_at + CASE WHEN direction = 'INBOUND' THEN interval '0'
                         ELSE r_status * interval '30 seconds' END,
       CASE WHEN direction = 'OUTBOUND' THEN created_at + interval '1 second' END,
       CASE WHEN status IN ('DELIVERED', 'READ') THEN created_at + interval '3 seconds' END,
       CASE WHEN direction = 'OUTBOUND' THEN 1 ELSE 0 END,
       NULL,
       NULL
FROM w
"""


async def migrate(url: str) -> None:
    """Apply the service's migrations to the database at `url` (idempotent)."""
    # `mypy bench` sees contact_center as an installed package without py.typed: untyped here,
    # checked for real by `mypy src bench`.
    from contact_center.db.migrate import (  # type: ignore[import-untyped, unused-ignore]
        upgrade_database,
    )
    from contact_center.db.session import (  # type: ignore[import-untyped, unused-ignore]
        create_engine,
    )
    from contact_center.settings import (  # type: ignore[import-untyped, unused-ignore]
        load_settings,
    )

    engine = create_engine(load_settings(database_url=url))
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


TABLES = ("interaction", "call_detail", "interaction_event", "message")

# Secondary indexes, unique and foreign-key constraints of the filled tables, with the statements
# that drop and rebuild them (foreign keys last: they are validated by one join when added back).
DEFERRABLE_SQL = """
SELECT 0 AS step, c.relname AS name, pg_get_indexdef(i.indexrelid) AS create_sql,
       format('DROP INDEX %I', c.relname) AS drop_sql
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
WHERE t.relname = ANY($1::text[])
  AND t.relnamespace = current_schema()::regnamespace
  AND NOT EXISTS (
      SELECT FROM pg_constraint AS con
      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
  )
UNION ALL
SELECT CASE con.contype WHEN 'u' THEN 0 ELSE 1 END, con.conname,
       format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, con.conname,
              pg_get_constraintdef(con.oid)),
       format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, con.conname)
FROM pg_constraint AS con
JOIN pg_class AS t ON t.oid = con.conrelid
WHERE t.relname = ANY($1::text[])
  AND t.relnamespace = current_schema()::regnamespace
  AND con.contype IN ('u', 'f')
ORDER BY step, name
"""


async def _chunks(
    connections: list[asyncpg.Connection],
    sql: str,
    total: int,
    extra: tuple[object, ...],
    advance: Callable[[int], None],
) -> None:
    """Run `sql` over 1..total in chunks of CHUNK, one chunk per connection at a time."""
    starts = list(range(1, total + 1, CHUNK))

    async def work(connection: asyncpg.Connection) -> None:
        while starts:
            start = starts.pop(0)
            end = min(total, start + CHUNK - 1)
            await connection.execute(sql, start, end, *extra)
            advance(end - start + 1)

    await asyncio.gather(*(work(connection) for connection in connections))


async def generate(url: str, interactions: int, messages: int, days: int = DAYS) -> None:
    """Add `interactions` interactions (with their calls and events), started over the last
    `days` days, and `messages` messages to the migrated PostgreSQL database at `url`, then
    VACUUM ANALYZE it.

    When the tables are empty, their secondary indexes, unique and foreign-key constraints are
    dropped for the load and built again afterwards (much faster than maintaining them row by
    row); a duplicate or dangling row would make that rebuild fail loudly."""
    connections = [await asyncpg.connect(asyncpg_url(url)) for _ in range(JOBS)]
    connection = connections[0]
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        for each in connections:
            # Bulk load: no need to wait for the WAL flush of each chunk; the chunks' CTEs are
            # materialized (random() makes them volatile), keep them in memory.
            await each.execute("SET synchronous_commit = off")
            await each.execute("SET work_mem = '64MB'")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        empty = not await connection.fetchval(
            "SELECT EXISTS (SELECT FROM interaction) OR EXISTS (SELECT FROM message)"
        )
        deferred = await connection.fetch(DEFERRABLE_SQL, list(TABLES)) if empty else []
        phases: dict[str, float] = {}
        with Progress(*columns, console=console) as progress:
            for index in deferred:
                await connection.execute(index["drop_sql"])
            try:
                await _load(connections, progress, interactions, messages, phases, days)
            finally:
                started = time.perf_counter()
                rebuild = progress.add_task("indexes and constraints", total=len(deferred))
                for index in deferred:
                    await connection.execute(index["create_sql"])
                    progress.advance(rebuild)
                phases["index rebuild"] = time.perf_counter() - started
            started = time.perf_counter()
            await connection.execute(WAITING_SQL)
            phases["waiting since"] = time.perf_counter() - started
            started = time.perf_counter()
            analyze = progress.add_task("vacuum analyze", total=len(TABLES))
            for table in TABLES:
                # VACUUM as autovacuum would soon after a bulk load: the visibility map makes
                # index-only scans possible and no first reader pays for setting hint bits.
                await connection.execute(f"VACUUM (ANALYZE) {table}")
                progress.advance(analyze)
            phases["vacuum analyze"] = time.perf_counter() - started
        console.print(
            "phases: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items())
        )
    finally:
        for each in connections:
            await each.close()


async def _load(
    connections: list[asyncpg.Connection],
    progress: Progress,
    interactions: int,
    messages: int,
    phases: dict[str, float],
    days: int = DAYS,
) -> None:
    connection = connections[0]
    started = time.perf_counter()
    rows = progress.add_task("interactions (+ calls, events)", total=interactions)
    now = await connection.fetchval("SELECT now()")
    customers = max(1, round(interactions * CUSTOMERS_PER_INTERACTION))
    await _chunks(
        connections,
        INTERACTIONS_SQL,
        interactions,
        (customers, now, days),
        lambda n: progress.advance(rows, n),
    )
    phases["interactions, calls, events"] = time.perf_counter() - started
    started = time.perf_counter()
    sent = progress.add_task("messages", total=messages)
    if not messages:
        return
    await connection.execute(TARGETS_SQL)
    targets = await connection.fetchval("SELECT count(*) FROM bench_targets")
    if not targets:
        raise SystemExit("no WHATSAPP or SMS interaction to add messages to")
    await _chunks(
        connections, MESSAGES_SQL, messages, (targets,), lambda n: progress.advance(sent, n)
    )
    await connection.execute("DROP TABLE bench_targets")
    phases["messages"] = time.perf_counter() - started


async def run(url: str | None, interactions: int, messages: int, admin: str) -> None:
    console = Console()
    if url is None:
        url = await create_database(admin)
        console.print(f"created {url}")
    await migrate(url)
    started = time.perf_counter()
    await generate(url, interactions, messages)
    seconds = time.perf_counter() - started
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        counts = {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES
        }
        size = await connection.fetchval(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        )
    finally:
        await connection.close()
    console.print(
        f"generated {interactions:,} interactions and {messages:,} messages in {seconds:.0f} s; "
        f"database now holds "
        + ", ".join(f"{n:,} {table}" for table, n in counts.items())
        + f" ({size})\n{url}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="the database to fill (default: a new cc_bench_* one)")
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument(
        "--admin-url",
        default=ADMIN,
        help="where to create the database when --url is not given (BENCH_POSTGRES_URL)",
    )
    args = parser.parse_args()
    asyncio.run(run(args.url, args.interactions, args.messages, args.admin_url))


if __name__ == "__main__":
    main()
