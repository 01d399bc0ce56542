"""Which provider is live and which is emulated, with the credentials each side uses ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from contact_center.providers.base import (
    AudioSource,
    ConversationSource,
    InboundAdapter,
    InboundRoute,
    ProviderName,
    SmsSender,
    SmsStatusSource,
    WhatsAppBotControl,
    WhatsAppMediaSource,
    WhatsAppSender,
    WhatsAppTemplateSender,
    WhatsAppTemplateSource,
)
from contact_center.providers.builderbot import WEBHOOK_ROUTE as BUILDERBOT_ROUTE
from contact_center.providers.builderbot import BuilderBotClient, BuilderBotInbound
from contact_center.providers.elevenlabs import WEBHOOK_ROUTE as ELEVENLABS_ROUTE
from contact_center.providers.elevenlabs import ElevenLabsClient, ElevenLabsInbound
from contact_center.providers.twilio import WEBHOOK_ROUTE as TWILIO_ROUTE
from contact_center.providers.twilio import TwilioInbound, TwilioSmsClient
from contact_center.providers.whatsapp_cloud import WEBHOOK_ROUTE as WHATSAPP_CLOUD_ROUTE
from contact_center.providers.whatsapp_cloud import WhatsAppCloudClient, WhatsAppCloudInbound
from contact_center.settings import Settings

# Fixed credentials shared by the app and the emulator when a provider is emulated.
EMULATOR_TWILIO_ACCOUNT_SID = "AC" + "0" * 32
EMULATOR_TWILIO_AUTH_TOKEN = "emulator-twilio-token"  # noqa: S105 - the emulator's public test value
EMULATOR_TWILIO_FROM_NUMBER = "+15005550006"
EMULATOR_ELEVENLABS_SECRET = "emulator-elevenlabs-secret"  # noqa: S105
EMULATOR_ELEVENLABS_API_KEY = "emulator-elevenlabs-key"
EMULATOR_ELEVENLABS_AGENT_ID = "agent_emulator_banco_demo"
EMULATOR_BUILDERBOT_TOKEN = "emulator-builderbot-token"  # noqa: S105
EMULATOR_BUILDERBOT_API_KEY = "bb-emulator-builderbot-key"
EMULATOR_BUILDERBOT_BOT_ID = "7d4339ee-2a9b-424e-92f6-ad7790c1662f"
EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN = "emulator-whatsapp-cloud-token"  # noqa: S105
EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID = "100000000000001"
EMULATOR_WHATSAPP_CLOUD_WABA_ID = "200000000000001"
EMULATOR_WHATSAPP_CLOUD_APP_SECRET = "emulator-whatsapp-cloud-app-secret"  # noqa: S105
EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN = "emulator-whatsapp-cloud-verify-token"  # noqa: S105
# The business number the emulated account sends from (display_phone_number in its webhooks).
EMULATOR_WHATSAPP_CLOUD_DISPLAY_NUMBER = "5491100000099"


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str
    from_number: str
    webhook_token: str | None
    api_url: str


@dataclass(frozen=True)
class ElevenLabsCredentials:
    api_key: str
    agent_id: str | None
    webhook_secret: str | None
    webhook_token: str | None
    api_url: str


@dataclass(frozen=True)
class BuilderBotCredentials:
    api_key: str
    bot_id: str
    webhook_token: str | None
    api_url: str


@dataclass(frozen=True)
class WhatsAppCloudCredentials:
    access_token: str
    phone_number_id: str
    waba_id: str
    app_secret: str | None
    verify_token: str | None
    api_url: str
    api_version: str


def secret_value(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else None


def emulated_providers(settings: Settings) -> frozenset[ProviderName]:
    """A provider is emulated when its API credentials are absent (never in production)."""
    emulated = set()
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        emulated.add(ProviderName.TWILIO)
    if not settings.elevenlabs_api_key:
        emulated.add(ProviderName.ELEVENLABS)
    if not (settings.builderbot_api_key and settings.builderbot_bot_id):
        emulated.add(ProviderName.BUILDERBOT)
    if not secret_value(settings.whatsapp_cloud_access_token):
        emulated.add(ProviderName.WHATSAPP_CLOUD)
    return frozenset(emulated)


def emulator_base_url(settings: Settings) -> str:
    """Where the emulator answers: the app itself unless EMULATOR_URL points elsewhere."""
    if settings.emulator_url:
        return settings.emulator_url
    return f"http://127.0.0.1:{settings.app_port}/_emulator"


def twilio_credentials(settings: Settings) -> TwilioCredentials:
    if ProviderName.TWILIO in emulated_providers(settings):
        return TwilioCredentials(
            account_sid=EMULATOR_TWILIO_ACCOUNT_SID,
            auth_token=EMULATOR_TWILIO_AUTH_TOKEN,
            from_number=EMULATOR_TWILIO_FROM_NUMBER,
            webhook_token=secret_value(settings.twilio_webhook_token),
            api_url=f"{emulator_base_url(settings)}/twilio",
        )
    assert settings.twilio_account_sid is not None
    return TwilioCredentials(
        account_sid=settings.twilio_account_sid,
        auth_token=secret_value(settings.twilio_auth_token) or "",
        from_number=settings.twilio_from_number or "",
        webhook_token=secret_value(settings.twilio_webhook_token),
        api_url=settings.twilio_api_url,
    )


def elevenlabs_credentials(settings: Settings) -> ElevenLabsCredentials:
    if ProviderName.ELEVENLABS in emulated_providers(settings):
        return ElevenLabsCredentials(
            api_key=EMULATOR_ELEVENLABS_API_KEY,
            agent_id=EMULATOR_ELEVENLABS_AGENT_ID,
            webhook_secret=secret_value(settings.elevenlabs_webhook_secret)
            or EMULATOR_ELEVENLABS_SECRET,
            webhook_token=secret_value(settings.elevenlabs_webhook_token),
            api_url=f"{emulator_base_url(settings)}/elevenlabs",
        )
    return ElevenLabsCredentials(
        api_key=secret_value(settings.elevenlabs_api_key) or "",
        agent_id=settings.elevenlabs_agent_id,
        webhook_secret=secret_value(settings.elevenlabs_webhook_secret),
        webhook_token=secret_value(settings.elevenlabs_webhook_token),
        api_url=settings.elevenlabs_api_url,
    )


def builderbot_credentials(settings: Settings) -> BuilderBotCredentials:
    if ProviderName.BUILDERBOT in emulated_providers(settings):
        return BuilderBotCredentials(
            api_key=EMULATOR_BUILDERBOT_API_KEY,
            bot_id=EMULATOR_BUILDERBOT_BOT_ID,
            webhook_token=secret_value(settings.builderbot_webhook_token)
            or EMULATOR_BUILDERBOT_TOKEN,
            api_url=f"{emulator_base_url(settings)}/builderbot",
        )
    assert settings.builderbot_bot_id is not None
    return BuilderBotCredentials(
        api_key=secret_value(settings.builderbot_api_key) or "",
        bot_id=settings.builderbot_bot_id,
        webhook_token=secret_value(settings.builderbot_webhook_token),
        api_url=settings.builderbot_api_url,
    )


def whatsapp_cloud_credentials(settings: Settings) -> WhatsAppCloudCredentials:
    if ProviderName.WHATSAPP_CLOUD in emulated_providers(settings):
        return WhatsAppCloudCredentials(
            access_token=EMULATOR_WHATSAPP_CLOUD_ACCESS_TOKEN,
            phone_number_id=EMULATOR_WHATSAPP_CLOUD_PHONE_NUMBER_ID,
            waba_id=EMULATOR_WHATSAPP_CLOUD_WABA_ID,
            # The fixed test values are public: production (which never runs the emulator)
            # checks webhooks only with configured ones, refusing everything without them.
            app_secret=secret_value(settings.whatsapp_cloud_app_secret)
            or (None if settings.is_production else EMULATOR_WHATSAPP_CLOUD_APP_SECRET),
            verify_token=secret_value(settings.whatsapp_cloud_verify_token)
            or (None if settings.is_production else EMULATOR_WHATSAPP_CLOUD_VERIFY_TOKEN),
            api_url=f"{emulator_base_url(settings)}/whatsapp-cloud",
            api_version=settings.whatsapp_cloud_api_version,
        )
    return WhatsAppCloudCredentials(
        access_token=secret_value(settings.whatsapp_cloud_access_token) or "",
        phone_number_id=settings.whatsapp_cloud_phone_number_id or "",
        waba_id=settings.whatsapp_cloud_waba_id or "",
        app_secret=secret_value(settings.whatsapp_cloud_app_secret),
        verify_token=secret_value(settings.whatsapp_cloud_verify_token),
        api_url=settings.whatsapp_cloud_base_url,
        api_version=settings.whatsapp_cloud_api_version,
    )


@dataclass(frozen=True)
class Providers:
    """Every capability the app uses, built once at start-up (the composition root's job)."""

    sms: SmsSender
    sms_status: SmsStatusSource
    whatsapp: WhatsAppSender
    whatsapp_bot: WhatsAppBotControl
    conversations: ConversationSource
    audio: AudioSource
    emulated: frozenset[ProviderName]
    # Media the Cloud API's webhooks name (they arrive whoever sends): the Cloud client always.
    whatsapp_media: WhatsAppMediaSource
    # Who sends WhatsApp messages (WHATSAPP_PROVIDER); both providers receive.
    whatsapp_provider: ProviderName = ProviderName.BUILDERBOT
    # Approved templates and their registry: the Cloud API only (None with BuilderBot sending).
    whatsapp_templates: WhatsAppTemplateSender | None = None
    whatsapp_template_source: WhatsAppTemplateSource | None = None


def build_providers(settings: Settings, http: httpx.AsyncClient) -> Providers:
    twilio = twilio_credentials(settings)
    eleven = elevenlabs_credentials(settings)
    builder = builderbot_credentials(settings)
    builderbot = BuilderBotClient(
        http, base_url=builder.api_url, api_key=builder.api_key, bot_id=builder.bot_id
    )
    elevenlabs = ElevenLabsClient(
        http, base_url=eleven.api_url, api_key=eleven.api_key, agent_id=eleven.agent_id
    )
    sms = TwilioSmsClient(
        http,
        base_url=twilio.api_url,
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        from_number=twilio.from_number,
    )
    cloud_credentials = whatsapp_cloud_credentials(settings)
    cloud = WhatsAppCloudClient(
        http,
        base_url=cloud_credentials.api_url,
        version=cloud_credentials.api_version,
        token=cloud_credentials.access_token,
        phone_number_id=cloud_credentials.phone_number_id,
        waba_id=cloud_credentials.waba_id,
    )
    cloud_sends = settings.whatsapp_provider == "cloud"
    return Providers(
        sms=sms,
        sms_status=sms,
        whatsapp=cloud if cloud_sends else builderbot,
        whatsapp_bot=builderbot,
        conversations=elevenlabs,
        audio=elevenlabs,
        emulated=emulated_providers(settings),
        whatsapp_provider=ProviderName.WHATSAPP_CLOUD if cloud_sends else ProviderName.BUILDERBOT,
        whatsapp_templates=cloud if cloud_sends else None,
        whatsapp_template_source=cloud if cloud_sends else None,
        whatsapp_media=cloud,
    )


# Where each provider delivers its webhooks (the webhook module serves one route per entry).
INBOUND_ROUTES: dict[ProviderName, InboundRoute] = {
    ProviderName.ELEVENLABS: ELEVENLABS_ROUTE,
    ProviderName.BUILDERBOT: BUILDERBOT_ROUTE,
    ProviderName.TWILIO: TWILIO_ROUTE,
    ProviderName.WHATSAPP_CLOUD: WHATSAPP_CLOUD_ROUTE,
}


def build_inbound(settings: Settings) -> Mapping[ProviderName, InboundAdapter]:
    """Each provider's webhook adapter with the credentials it checks deliveries with."""
    eleven = elevenlabs_credentials(settings)
    twilio = twilio_credentials(settings)
    cloud = whatsapp_cloud_credentials(settings)
    adapters: list[InboundAdapter] = [
        ElevenLabsInbound(webhook_secret=eleven.webhook_secret, webhook_token=eleven.webhook_token),
        BuilderBotInbound(webhook_token=builderbot_credentials(settings).webhook_token),
        TwilioInbound(
            auth_token=twilio.auth_token,
            webhook_token=twilio.webhook_token,
            public_base_url=settings.public_base_url,
            require_credentials=ProviderName.TWILIO not in emulated_providers(settings),
        ),
        WhatsAppCloudInbound(app_secret=cloud.app_secret, verify_token=cloud.verify_token),
    ]
    return {adapter.provider: adapter for adapter in adapters}
