"""Wire models of the regulator's report on complaints (docs/complaints.md, "Regulator's
report")."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from contact_center.schemas import ApiModel, Timestamp


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class ComplaintFigures(ApiModel):
    """Complaints opened in the period, by where their answer stands at `asOf`: each one is in
    exactly one of the last four counts."""

    opened: int = Field(description="opened in the period (a claim number issued)")
    answered_in_time: int = Field(description="answered at or before the due time")
    answered_late: int = Field(description="answered after the due time")
    overdue: int = Field(description="not answered, and the due time has passed")
    open: int = Field(description="not answered, and the due time has not come")


class ProductFigures(ComplaintFigures):
    product: str


class ComplaintReport(ApiModel):
    from_: dt.date = Field(alias="from")
    to: dt.date
    timezone: str = Field(description="the bank's zone: where the period's days begin and end")
    as_of: Timestamp = Field(description="when the answers were looked at")
    totals: ComplaintFigures
    products: list[ProductFigures] = Field(description="by product, in the product's order")
