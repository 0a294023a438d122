"""Bulk API 2.0 ingest jobs: the state machine and the result CSVs.

Open -> (PUT batches) -> UploadComplete -> InProgress for `polls_in_progress`
polls -> JobComplete, or Failed / Aborted. Rows are applied when the job
completes, so an aborted or stuck job leaves its rows unprocessed, as on a real
org. Columns are mapped by header name because simple-salesforce builds its
header from a set.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from expansion_dev.emulators import sf_ids
from expansion_dev.emulators.schema import ObjectSpec
from expansion_dev.emulators.sf_errors import DmlError
from expansion_dev.emulators.sf_store import MultipleMatches, Org, coerce_csv_value, timestamp

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
OPERATIONS = ("insert", "upsert", "update", "delete", "hardDelete")
TERMINAL = ("JobComplete", "Failed", "Aborted")
RECORDS_PER_BATCH = 10_000  # how Salesforce counts Bulk 2.0 data against the daily batch budget


@dataclass
class BulkJob:
    id: str
    sobject: ObjectSpec
    operation: str
    external_id_field: str | None
    column_delimiter: str
    line_ending: str
    api_version: str
    created_by: str | None
    created_date: str
    polls_in_progress: int
    state: str = "Open"
    modstamp: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    row_errors: dict[int, DmlError] = field(default_factory=dict)  # injected per-row faults
    fail_message: str | None = None  # injected job failure
    error_message: str | None = None
    successful: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    failed: list[tuple[str, str, list[str]]] = field(default_factory=list)
    processed: bool = False

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    def info(self, full: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject.name,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.modstamp or self.created_date,
            "state": self.state,
            "externalIdFieldName": self.external_id_field,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "contentUrl": f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if full:
            data.update(
                jobType="V2Ingest",
                numberRecordsProcessed=len(self.successful) + len(self.failed),
                numberRecordsFailed=len(self.failed),
                retries=0,
                totalProcessingTime=0,
                apiActiveProcessingTime=0,
                apexProcessingTime=0,
            )
            if self.error_message:
                data["errorMessage"] = self.error_message
        return data

    # --- uploads -------------------------------------------------------------------------

    def add_csv(self, text: str) -> int:
        """Append one upload; returns the number of data rows in it."""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        lines = [row for row in reader if row]
        if not lines:
            return 0
        header, data = lines[0], lines[1:]
        if not self.header:
            self.header = header
        elif header != self.header:
            # Later uploads are remapped onto the first header by name.
            data = [
                [dict(zip(header, row, strict=False)).get(h, "") for h in self.header]
                for row in data
            ]
        self.rows.extend(data)
        return len(data)

    def batches(self) -> int:
        return max(1, math.ceil(len(self.rows) / RECORDS_PER_BATCH))

    # --- processing ----------------------------------------------------------------------

    def process(self, org: Org) -> None:
        """Apply every row; each row succeeds or fails on its own (no allOrNone in Bulk)."""
        self.processed = True
        if self.fail_message:
            self._fail(self.fail_message)
            return
        columns = []
        for name in self.header:
            fspec = self.sobject.field(name)
            if fspec is None:
                self._fail(f"InvalidBatch : Field name not found : {name}")
                return
            columns.append(fspec)
        key = self._key_field()
        if key and key not in [c.name for c in columns]:
            self._fail(f"InvalidBatch : Field name not found : {key}")
            return
        seen = (
            _duplicate_keys(self.rows, [c.name for c in columns].index(key), self.operation)
            if key
            else set()
        )
        with org.lock:
            for index, row in enumerate(self.rows):
                try:
                    record_id, created = self._apply(org, index, row, columns, key, seen)
                    self.successful.append((record_id, created, row))
                except DmlError as err:
                    self.failed.append(("", err.as_bulk(), row))
            org.commit()
        self.state = "JobComplete"

    def _key_field(self) -> str | None:
        if self.operation == "upsert":
            return self.external_id_field  # already checked and canonical (bulk_create)
        if self.operation in ("update", "delete", "hardDelete"):
            return "Id"
        return None

    def _apply(
        self,
        org: Org,
        index: int,
        row: list[str],
        columns: list[Any],
        key: str | None,
        seen: set[str],
    ) -> tuple[str, bool]:
        if index in self.row_errors:
            raise self.row_errors[index]
        values: dict[str, Any] = {}
        for position, (fspec, raw) in enumerate(zip(columns, row, strict=False), start=1):
            if raw != "":  # an empty cell leaves the field unchanged
                values[fspec.name] = coerce_csv_value(fspec, raw, position)
        key_value = str(values.pop(key, "") or "") if key else ""
        if key and not key_value:
            raise DmlError("MISSING_ARGUMENT", f"{key} not specified", [])
        if key_value.lower() in seen:
            raise DmlError(
                "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {key_value}", [key]
            )
        if self.operation == "insert":
            return org.create(self.sobject, values), True
        if self.operation == "upsert" and key:
            try:
                return org.upsert(self.sobject, key, key_value, values)
            except MultipleMatches:
                raise DmlError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{key}: more than one record found for external id field: {key_value}",
                    [key],
                ) from None
        record_id = _existing_id(org, self.sobject, key_value)
        if self.operation == "update":
            org.update(self.sobject, record_id, values)
        else:
            org.delete(self.sobject, record_id)
        return record_id, False

    def _fail(self, message: str) -> None:
        self.state = "Failed"
        self.error_message = message

    def finish(self, org: Org) -> None:
        self.modstamp = timestamp(org.clock())

    # --- result CSVs ---------------------------------------------------------------------

    def successful_csv(self) -> str:
        rows = [
            [rid, "true" if created else "false", *row] for rid, created, row in self.successful
        ]
        return self._csv(["sf__Id", "sf__Created", *self.header], rows)

    def failed_csv(self) -> str:
        rows = [[rid, error, *row] for rid, error, row in self.failed]
        return self._csv(["sf__Id", "sf__Error", *self.header], rows)

    def unprocessed_csv(self) -> str:
        done = len(self.successful) + len(self.failed)
        rows = [] if self.processed and self.state == "JobComplete" else self.rows[done:]
        return self._csv(self.header, rows)

    def _csv(self, header: list[str], rows: list[list[str]]) -> str:
        # Result files are comma separated whatever the upload used; simple-salesforce
        # parses them with delimiter ',' (get_all_ingest_records).
        buffer = io.StringIO()
        writer = csv.writer(
            buffer, quoting=csv.QUOTE_ALL, lineterminator=LINE_ENDINGS[self.line_ending]
        )
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()


def _duplicate_keys(rows: list[list[str]], position: int, operation: str) -> set[str]:
    """External ids that appear more than once in the job: all their rows fail."""
    if operation != "upsert":
        return set()
    counts: dict[str, int] = {}
    for row in rows:
        if position < len(row) and row[position]:
            value = row[position].lower()
            counts[value] = counts.get(value, 0) + 1
    return {value for value, n in counts.items() if n > 1}


def _existing_id(org: Org, spec: ObjectSpec, value: str) -> str:
    record_id = sf_ids.normalize(value)
    if record_id is None:
        raise DmlError("MALFORMED_ID", f"Id: id value of incorrect type: {value}", ["Id"])
    if org.get(spec.name, record_id) is None:
        raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
    return record_id
