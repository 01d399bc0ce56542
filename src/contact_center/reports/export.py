"""A report as a file: CSV (one table) or XLSX (a sheet each for the groups, the days and the
heatmap). Every cell a person could have typed (a team's name, an agent, an intent) is text,
never a formula: CSV cells starting with = + - @ (or a tab, a carriage return) get a leading
apostrophe, as spreadsheet programs expect; XLSX cells are written as strings."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import xlsxwriter

from contact_center.reports.schemas import Figures, Report

COLUMNS = (
    "section",
    "key",
    "name",
    "day",
    "volume",
    "calls",
    "first_response_met",
    "first_response_total",
    "first_response_met_rate",
    "next_response_met",
    "next_response_total",
    "next_response_met_rate",
    "resolution_met",
    "resolution_total",
    "resolution_met_rate",
    "first_response_n",
    "first_response_p50_secs",
    "first_response_p90_secs",
    "next_response_n",
    "next_response_p50_secs",
    "next_response_p90_secs",
    "resolution_n",
    "resolution_p50_secs",
    "resolution_p90_secs",
    "handle_time_n",
    "handle_time_p50_secs",
    "handle_time_p90_secs",
    "aht_n",
    "aht_mean_secs",
    "csat_answers",
    "csat_mean",
    "csat_satisfied",
    "csat_rate",
    "fcr_resolved",
    "fcr_first_time",
    "fcr_rate",
    "containment_ai_handled",
    "containment_contained",
    "containment_rate",
)
# The columns that hold free text (everything else is a number, a date or our own word).
TEXT_COLUMNS = frozenset({"key", "name"})
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def figure_cells(f: Figures) -> list[Any]:
    sla = f.sla
    return [
        f.volume,
        f.calls,
        sla.first_response.met,
        sla.first_response.total,
        sla.first_response.rate,
        sla.next_response.met,
        sla.next_response.total,
        sla.next_response.rate,
        sla.resolution.met,
        sla.resolution.total,
        sla.resolution.rate,
        f.first_response.n,
        f.first_response.p50,
        f.first_response.p90,
        f.next_response.n,
        f.next_response.p50,
        f.next_response.p90,
        f.resolution.n,
        f.resolution.p50,
        f.resolution.p90,
        f.handle_time.n,
        f.handle_time.p50,
        f.handle_time.p90,
        f.aht.n,
        f.aht.mean_secs,
        f.csat.answers,
        f.csat.mean,
        f.csat.satisfied,
        f.csat.rate,
        f.fcr.resolved,
        f.fcr.first_time,
        f.fcr.rate,
        f.containment.ai_handled,
        f.containment.contained,
        f.containment.rate,
    ]


def rows(report: Report) -> Iterator[list[Any]]:
    """The report's rows in COLUMNS order: the totals, each group, each day."""
    yield ["total", None, None, None, *figure_cells(report.totals)]
    for group in report.groups:
        yield ["group", group.key, group.name, None, *figure_cells(group)]
    for day in report.daily:
        yield ["day", None, None, day.day.isoformat(), *figure_cells(day)]


def safe_text(value: str) -> str:
    """A cell a spreadsheet will not run: a leading apostrophe before a formula's first sign."""
    return "'" + value if value.startswith(_RISKY) else value


def to_csv(report: Report) -> bytes:
    return csv_table(COLUMNS, rows(report), TEXT_COLUMNS)


def csv_table(
    columns: Sequence[str], table: Iterable[Sequence[Any]], text_columns: Collection[str]
) -> bytes:
    """A CSV file of `table` under the header `columns`: the cells of `text_columns` (free
    text) are made formula-safe, empty values are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow(
            [
                safe_text(v) if isinstance(v, str) and columns[i] in text_columns else _plain(v)
                for i, v in enumerate(row)
            ]
        )
    # A byte-order mark: spreadsheet programs read the file as UTF-8 (names with accents).
    return ("\ufeff" + out.getvalue()).encode()


def _plain(value: Any) -> Any:
    return "" if value is None else value


def to_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    # Strings are never turned into formulas, numbers or links.
    workbook = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet("Report")
    sheet.write_row(0, 0, COLUMNS, bold)
    for r, row in enumerate(rows(report), start=1):
        for col, value in enumerate(row):
            _cell(sheet, r, col, value)
    heat = workbook.add_worksheet("Heatmap")
    heat.write_row(0, 0, ("weekday", "hour", "volume"), bold)
    for r, cell in enumerate(report.heatmap, start=1):
        heat.write_row(r, 0, (cell.weekday, cell.hour, cell.volume))
    info = workbook.add_worksheet("About")
    for r, (label, value) in enumerate(
        (
            ("from", report.from_.isoformat()),
            ("to", report.to.isoformat()),
            ("timezone", report.timezone),
            ("groupBy", report.group_by.value),
            ("buckets", ", ".join("" if b is None else str(b) for b in report.buckets)),
        )
    ):
        info.write_string(r, 0, label, bold)
        info.write_string(r, 1, value)
    workbook.close()
    return out.getvalue()


def _cell(sheet: Any, row: int, col: int, value: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, str(value))
