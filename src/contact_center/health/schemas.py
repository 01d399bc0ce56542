from __future__ import annotations

from typing import Literal

from pydantic import Field

from contact_center.schemas import ApiModel

CheckState = Literal["ok", "down", "embedded"]


class HealthChecks(ApiModel):
    database: CheckState
    redis: CheckState


class Health(ApiModel):
    status: Literal["ok", "degraded", "down"]
    checks: HealthChecks


class Tables(ApiModel):
    tables: list[str]


class WhoAmI(ApiModel):
    service: str
    version: str
    port: int
    environment: str
    database: str
    queue: str
    platform: dict[str, str]


class ReadinessChecks(ApiModel):
    database: str = Field(description="ok | down")
    migrations: str = Field(description="ok | pending | unknown")
    queue: str = Field(description="ok | down | embedded")


class Readiness(ApiModel):
    status: str = Field(description="ready | not_ready")
    checks: ReadinessChecks
