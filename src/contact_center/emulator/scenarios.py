"""Scripted customers: realistic Spanish calls and WhatsApp messages, from the demo content."""

from __future__ import annotations

import random
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contact_center.demo import content
from contact_center.demo.wording import fill, placeholder_values

AGENT_NAME = content.VIRTUAL_AGENT_NAME
# The emulator has no settings: its customers live where the demo bank is.
ZONE = ZoneInfo("America/Argentina/Buenos_Aires")


def _values(
    rng: random.Random, name: str | None, queue: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    """Every placeholder's value for one customer (first name from a full name)."""
    first = first_name(name) if name else rng.choice(content.MALE_FIRST_NAMES)
    return placeholder_values(
        rng,
        first_name=first,
        female=first in content.FEMALE_FIRST_NAMES,
        at=at or datetime.now(UTC),
        zone=ZONE,
        queue=queue,
    )


def first_name(name: str) -> str:
    """`María Laura Pérez` → `María Laura`: the demo's first names may have two words."""
    for first in sorted(content.FEMALE_FIRST_NAMES + content.MALE_FIRST_NAMES, key=len)[::-1]:
        if name == first or name.startswith(first + " "):
            return first
    return name.split(" ")[0]


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
    customer_name: str | None = None,
) -> dict[str, Any]:
    """A conversation in the shape of ElevenLabs' GET conversation response (and webhook data)."""
    intent = rng.choices(content.INTENTS, weights=[i.call_weight for i in content.INTENTS])[0]
    script = rng.choice([c for c in intent.calls if c.openings] or list(content.INTENTS[0].calls))
    conversation_id = conversation_id or "conv_" + secrets.token_hex(13)
    values = _values(rng, customer_name, intent.queue, started_at)
    turns: list[tuple[str, str]] = [("agent", fill(rng.choice(content.CALL_GREETINGS), values))]
    outcome = (
        "abandoned"
        if abandoned
        else rng.choices(
            ["resolved", "transferred", "escalated", "ticketed", "unknown"],
            weights=[60, 12, 10, 10, 8],
        )[0]
    )
    if outcome != "abandoned":
        turns.append(("user", fill(rng.choice(script.openings), values)))
        identity = rng.choice(content.CALL_IDENTITY_STEPS)
        turns += [("agent", fill(identity[0], values)), ("user", fill(identity[1], values))]
        for agent_line, user_line in script.steps:
            turns += [("agent", fill(agent_line, values)), ("user", fill(user_line, values))]
        if outcome == "resolved":
            turns += [
                ("agent", fill(rng.choice(script.resolutions), values)),
                ("user", rng.choice(content.CALL_THANKS)),
                ("agent", fill(rng.choice(content.CALL_FAREWELLS), values)),
            ]
        elif outcome == "transferred":
            turns += [
                ("user", rng.choice(content.CALL_TRANSFER_REQUESTS)),
                ("agent", fill(rng.choice(content.CALL_TRANSFER_LINES), values)),
            ]
        elif outcome == "escalated":
            turns.append(("agent", fill(rng.choice(content.CALL_ESCALATE_LINES), values)))
        elif outcome == "ticketed":
            turns.append(("agent", fill(rng.choice(content.CALL_TICKET_LINES), values)))
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
            "value": values["ticket"],
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
            # The agent's username: what assignments (and the agent scope) use.
            "value": rng.choice(
                [a.username for a in content.HUMAN_AGENTS if a.queue == intent.queue]
                or [content.HUMAN_AGENTS[0].username]
            ),
            "rationale": "",
        }
    if abandoned:
        summary = rng.choice(content.ABANDONED_SUMMARIES)
    else:
        who = "La clienta" if values["bienvenido"] == "Bienvenida" else "El cliente"
        result = (
            script.resolved
            if outcome == "resolved"
            else rng.choice(content.OUTCOME_SUMMARIES[outcome.upper()])
        )
        summary = fill(f"{who} {script.topic}. {result}", values)
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


def _chat_topic(rng: random.Random) -> tuple[content.IntentContent, content.ChatScript]:
    intent = rng.choices(content.INTENTS, weights=[i.whatsapp_weight for i in content.INTENTS])[0]
    return intent, rng.choice(intent.chats)


def whatsapp_exchange(rng: random.Random, name: str | None = None) -> tuple[str, str]:
    """A customer's first WhatsApp message and the bot's answer, on the same topic."""
    intent, chat = _chat_topic(rng)
    values = _values(rng, name, intent.queue)
    return fill(rng.choice(chat.openings), values), fill(rng.choice(chat.first_replies), values)


def whatsapp_opening(rng: random.Random, name: str | None = None) -> str:
    """A customer's first WhatsApp message, on a topic of the demo's chats."""
    intent, chat = _chat_topic(rng)
    return fill(rng.choice(chat.openings), _values(rng, name, intent.queue))


def _opens(template: str, text: str) -> bool:
    pattern = re.sub(r"\\\{\w+\\\}", ".+", re.escape(template))
    return re.fullmatch(pattern, text) is not None


def whatsapp_bot_reply(rng: random.Random, opening: str, name: str | None = None) -> str:
    """The bot's answer to a first message: on its topic when it is one of the demo's openings,
    else a greeting that asks what the customer needs."""
    for intent in content.INTENTS:
        for chat in intent.chats:
            if any(_opens(template, opening) for template in chat.openings):
                return fill(rng.choice(chat.first_replies), _values(rng, name, intent.queue))
    return fill(rng.choice(content.WHATSAPP_BOT_GENERIC_REPLIES), _values(rng, name))
