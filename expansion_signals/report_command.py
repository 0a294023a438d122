"""`expansion report`: read the marts, render the page, write one HTML file."""

from __future__ import annotations

from pathlib import Path

from expansion_signals.project import work_dir
from expansion_signals.report_data import read_report
from expansion_signals.report_page import render
from expansion_signals.warehouse import connect_warehouse

REPORT_FILE = "report.html"


class ReportNotWritten(ValueError):
    """The page could not be written where --output points."""


def default_output() -> Path:
    return work_dir() / REPORT_FILE


def write_report(output: Path | None = None, target: str | None = None) -> Path:
    """Write the report; returns its path. Raises WarehouseError (no warehouse, a mart missing,
    WarehouseBusy when another process holds the DuckDB file) and ReportNotWritten."""
    path = (output or default_output()).expanduser().resolve()
    if not path.parent.is_dir():
        raise ReportNotWritten(f"--output {output}: there is no folder {path.parent}")
    if path.is_dir():
        raise ReportNotWritten(f"--output {output}: {path} is a folder; name the file, e.g. "
                               f"{path / REPORT_FILE}")
    db = connect_warehouse(target)
    try:
        page = render(read_report(db))
    finally:
        db.close()
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ReportNotWritten(f"cannot write {path}: {error.strerror or error}") from None
    return path
