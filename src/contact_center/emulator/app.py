"""The emulator as one ASGI app: `/twilio`, `/builderbot`, `/elevenlabs`, `/whatsapp-cloud`, plus
inspection routes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI

from contact_center.emulator import builderbot, elevenlabs, twilio, whatsapp_cloud
from contact_center.emulator.state import EmulatorState, Fault, FaultSpec

ProviderPath = Literal["twilio", "builderbot", "elevenlabs", "whatsapp-cloud"]


def create_emulator_app(state: EmulatorState) -> FastAPI:
    """Mounted at `/_emulator` by the app, or served alone by `contact-center emulator`."""
    app = FastAPI(title="Provider emulator", docs_url="/docs", openapi_url="/openapi.json")
    app.state.emulator = state
    app.include_router(twilio.router(state))
    app.include_router(builderbot.router(state))
    app.include_router(elevenlabs.router(state))
    app.include_router(whatsapp_cloud.router(state))

    @app.get("/{provider}/outbox")
    async def outbox(provider: ProviderPath, number: str | None = None) -> dict[str, Any]:
        """Everything the provider received; numbers unmasked (a provider stand-in)."""
        items = state.provider(provider).outbox
        if number:
            digits = "".join(ch for ch in number if ch.isdigit())
            items = [
                item
                for item in items
                if digits
                and digits
                == "".join(
                    ch for ch in str(item.get("to") or item.get("number") or "") if ch.isdigit()
                )
            ]
        return {"items": items, "count": len(items)}

    @app.delete("/{provider}/outbox", status_code=204)
    async def clear_outbox(provider: ProviderPath) -> None:
        state.provider(provider).outbox.clear()
        state.provider(provider).resources.clear()

    @app.post("/{provider}/faults", status_code=201)
    async def add_fault(provider: ProviderPath, spec: FaultSpec) -> dict[str, Any]:
        """Fail the next `count` requests (for one `number` if given) with `status`/`code`."""
        state.provider(provider).faults.append(Fault(spec=spec, remaining=max(0, spec.count)))
        return {"armed": spec.model_dump(by_alias=True)}

    @app.delete("/{provider}/faults", status_code=204)
    async def clear_faults(provider: ProviderPath) -> None:
        state.provider(provider).faults.clear()

    @app.get("/deliveries")
    async def deliveries() -> dict[str, Any]:
        """The webhooks the emulator delivered to the app, with the status each got."""
        return {"items": state.deliveries[-500:], "count": len(state.deliveries)}

    return app
