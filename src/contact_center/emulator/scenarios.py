"""Scripted customers: realistic Spanish calls and WhatsApp messages, from the demo content."""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from datetime import datetime
from typing import Any

from contact_center.demo import content

AGENT_NAME = "Agente Virtual Banco"


def _fill(template: str, rng: random.Random, **values: str) -> str:
    defaults: defaultdict[str, str] = defaultdict(str)
    defaults.update(
        banco=content.BANK_NAME,
        saldo=f"$ {rng.randint(10_000, 2_000_000):,}".replace(",", "."),
        fecha=f"{rng.randint(1, 28)}/{rng.randint(1, 12)}",
        dni3=str(rng.randint(100, 999)),
        ticket=f"R-{rng.randint(100000, 999999)}",
        monto=f"$ {rng.randint(1_000, 500_000):,}".replace(",", "."),
        comercio=rng.choice(content.MERCHANTS) if content.MERCHANTS else "un comercio",
        nombre=values.get("nombre", ""),
    )
    defaults.update(values)
    try:
        return template.format_map(defaults)
    except (IndexError, ValueError):
        return template


def random_customer_number(rng: random.Random) -> str:
    prefixes = [(prefix, digits, first) for prefix, digits, first, _ in content.PHONE_AREAS]
    weights = [weight for *_, weight in content.PHONE_AREAS]
    prefix, digits, first = rng.choices(prefixes, weights=weights)[0]
    return prefix + rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(digits - 1))


def random_customer_name(rng: random.Random) -> str:
    first = rng.choice(content.FEMALE_FIRST_NAMES + content.MALE_FIRST_NAMES)
    return f"{first} {rng.choice(content.LAST_NAMES)}"


def conversation(
    rng: random.Random,
    *,
    agent_id: str,
    started_at: datetime,
    customer_number: str,
    conversation_id: str | None = None,
    abandoned: bool = False,
) -> dict[str, Any]:
    """A conversation in the shape of ElevenLabs' GET conversation response (and webhook data)."""
    intent = rng.choices(content.INTENTS, weights=[i.call_weight for i in content.INTENTS])[0]
    script = rng.choice([c for c in intent.calls if c.openings] or list(content.INTENTS[0].calls))
    conversation_id = conversation_id or "conv_" + secrets.token_hex(13)
    turns: list[tuple[str, str]] = [("agent", _fill(rng.choice(content.CALL_GREETINGS), rng))]
    outcome = (
        "abandoned"
        if abandoned
        else rng.choices(
            ["resolved", "transferred", "escalated", "ticketed", "unknown"],
            weights=[60, 12, 10, 10, 8],
        )[0]
    )
    if outcome != "abandoned":
        turns.append(("user", _fill(rng.choice(script.openings), rng)))
        identity = rng.choice(content.CALL_IDENTITY_STEPS)
        turns += [("agent", _fill(identity[0], rng)), ("user", _fill(identity[1], rng))]
        for agent_line, user_line in script.steps:
            turns += [("agent", _fill(agent_line, rng)), ("user", _fill(user_line, rng))]
        cola = content.QUEUE_LABELS.get(intent.queue, intent.queue)
        if outcome == "resolved":
            turns += [
                ("agent", _fill(rng.choice(script.resolutions), rng)),
                ("user", rng.choice(content.CALL_THANKS)),
                ("agent", _fill(rng.choice(content.CALL_FAREWELLS), rng)),
            ]
        elif outcome == "transferred":
            turns += [
                ("user", rng.choice(content.CALL_TRANSFER_REQUESTS)),
                ("agent", _fill(rng.choice(content.CALL_TRANSFER_LINES), rng, cola=cola)),
            ]
        elif outcome == "escalated":
            turns.append(("agent", _fill(rng.choice(content.CALL_ESCALATE_LINES), rng, cola=cola)))
        elif outcome == "ticketed":
            turns.append(("agent", _fill(rng.choice(content.CALL_TICKET_LINES), rng)))
        else:
            turns.append(("user", rng.choice(content.CALL_UNKNOWN_ENDINGS)))
    transcript: list[dict[str, Any]] = []
    offset = 0
    for role, message in turns:
        turn: dict[str, Any] = {
            "role": role,
            "message": message,
            "tool_calls": [],
            "tool_results": [],
            "feedback": None,
            "time_in_call_secs": offset,
            "conversation_turn_metrics": None,
            "interrupted": False,
        }
        transcript.append(turn)
        offset += max(2, len(message) // 14 + rng.randint(1, 4))
    if outcome == "transferred":
        transcript[-1]["tool_calls"] = [
            {
                "tool_name": "transfer_to_number",
                "params_as_json": "{}",
                "tool_has_been_called": True,
            }
        ]
    duration = 4 if abandoned else offset + rng.randint(2, 8)
    data_collection: dict[str, Any] = {
        "intent": {
            "data_collection_id": "intent",
            "value": intent.key,
            "rationale": "Motivo declarado.",
        },
        "needs_human": {
            "data_collection_id": "needs_human",
            "value": outcome == "escalated",
            "rationale": "",
        },
    }
    if outcome == "ticketed":
        data_collection["ticket_id"] = {
            "data_collection_id": "ticket_id",
            "value": f"R-{rng.randint(100000, 999999)}",
            "rationale": "",
        }
    if outcome == "transferred":
        data_collection["transferred"] = {
            "data_collection_id": "transferred",
            "value": True,
            "rationale": "",
        }
        data_collection["human_agent"] = {
            "data_collection_id": "human_agent",
            "value": rng.choice(
                [a.name for a in content.HUMAN_AGENTS if a.queue == intent.queue]
                or ["Valentina Sosa"]
            ),
            "rationale": "",
        }
    topic, resolved = script.topic, script.resolved
    summary = (
        rng.choice(content.ABANDONED_SUMMARIES) if abandoned else f"El cliente {topic}. {resolved}"
    )
    start = int(started_at.timestamp())
    return {
        "agent_id": agent_id,
        "agent_name": AGENT_NAME,
        "conversation_id": conversation_id,
        "status": "done",
        "user_id": None,
        "has_audio": True,
        "has_user_audio": True,
        "has_response_audio": True,
        "transcript": transcript,
        "metadata": {
            "start_time_unix_secs": start,
            "accepted_time_unix_secs": start,
            "call_duration_secs": duration,
            "cost": duration * 7,
            "termination_reason": "Call ended by remote party"
            if abandoned
            else "end_call tool was called.",
            "error": None,
            "main_language": "es",
            "text_only": False,
            "conversation_initiation_source": "twilio",
            "phone_call": {
                "type": "twilio",
                "direction": "inbound",
                "phone_number_id": "phnum_emulator_banco_demo",
                "agent_number": content.BANK_VOICE_LINE,
                "external_number": customer_number,
                "stream_sid": "MZ" + secrets.token_hex(16),
                "call_sid": "CA" + secrets.token_hex(16),
            },
        },
        "analysis": {
            "call_successful": "success"
            if outcome == "resolved"
            else ("failure" if abandoned else "unknown"),
            "transcript_summary": summary,
            "call_summary_title": intent.label,
            "evaluation_criteria_results": {
                "resolved_query": {
                    "criteria_id": "resolved_query",
                    "result": "success" if outcome == "resolved" else "failure",
                    "rationale": "",
                }
            },
            "data_collection_results": data_collection,
        },
        "conversation_initiation_client_data": {
            "dynamic_variables": {
                "system__agent_id": agent_id,
                "system__conversation_id": conversation_id,
                "system__caller_id": customer_number,
                "system__called_number": content.BANK_VOICE_LINE,
                "queue": intent.queue,
            }
        },
    }


def summary_of(conversation_json: dict[str, Any]) -> dict[str, Any]:
    """The list endpoint's `ConversationSummaryResponseModel` for a conversation."""
    metadata = conversation_json["metadata"]
    analysis = conversation_json.get("analysis") or {}
    return {
        "agent_id": conversation_json["agent_id"],
        "agent_name": conversation_json.get("agent_name"),
        "conversation_id": conversation_json["conversation_id"],
        "start_time_unix_secs": metadata["start_time_unix_secs"],
        "call_duration_secs": metadata["call_duration_secs"],
        "message_count": len(conversation_json.get("transcript") or []),
        "status": conversation_json["status"],
        "call_successful": analysis.get("call_successful", "unknown"),
        "termination_reason": metadata.get("termination_reason"),
        "call_summary_title": analysis.get("call_summary_title"),
        "main_language": "es",
        "conversation_initiation_source": "twilio",
        "direction": metadata.get("phone_call", {}).get("direction"),
    }


def whatsapp_opening(rng: random.Random) -> str:
    intent = rng.choices(content.INTENTS, weights=[i.whatsapp_weight for i in content.INTENTS])[0]
    return _fill(rng.choice(rng.choice(intent.chats).openings), rng)


def whatsapp_bot_reply(rng: random.Random) -> str:
    intent = rng.choice(content.INTENTS)
    return _fill(rng.choice(rng.choice(intent.chats).first_replies), rng)
