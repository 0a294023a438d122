"""Applying planned record writes to Salesforce, by upsert on external ids only.

sObject Collections (up to 200 records a call) up to a threshold, Bulk API 2.0
above it. Every call goes through the retry policy of expansion_signals.errors; records
that fail on their own are reported with their error code and the others go
through. An expired session is renewed once per call when client
credentials are configured.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from simple_salesforce import format_soql
from simple_salesforce.bulk2 import Operation as BulkOperation
from simple_salesforce.exceptions import SalesforceOperationError

from expansion_signals.connections import SalesforceConnection
from expansion_signals.errors import (
    TRANSIENT_RECORD_CODES,
    Kind,
    RecordsLeftTransient,
    RetryPolicy,
    SyncAborted,
    classify,
    describe,
    with_retries,
)
from expansion_signals.mapping import Mapping, ObjectMapping
from expansion_signals.types import (
    OPPORTUNITY,
    SIGNAL,
    Owner,
    RecordKind,
    RecordResult,
    RecordWrite,
    Ref,
)

COLLECTION_SIZE = 200
BULK_WAIT_LIMIT = 3600.0  # seconds a Bulk job may take before the run gives up on it
BULK_MAX_POLL = 30.0  # the longest pause between two looks at a Bulk job
BULK_JOB_BYTES = 80 * 1024 * 1024  # CSV characters per job; an upload takes 100 MB at most
OWNER_QUERY_CHUNK = 100  # emails per SOQL IN (...): keeps the URL well under its limit
BULK_NULL = "#N/A"  # an empty Bulk cell leaves a field alone; this sets it to null


@dataclass(frozen=True)
class OutgoingRecord:
    write: RecordWrite
    body: dict[str, Any]  # in the org's names, external id included
    complete: bool  # False when a reference could not be resolved and was left out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _csv_value(value: Any) -> str:
    if value is None:
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_json_value(value))


class SalesforceWriter:
    def __init__(
        self,
        connection: SalesforceConnection,
        mapping: Mapping,
        policy: RetryPolicy | None = None,
        bulk_threshold: int = 2000,
        bulk_poll_seconds: float = 2.0,
        parallel_calls: int = 4,
    ) -> None:
        self.connection = connection
        self.mapping = mapping
        self.policy = policy or RetryPolicy()
        self.bulk_threshold = bulk_threshold
        self.bulk_poll_seconds = bulk_poll_seconds
        self.parallel_calls = max(1, parallel_calls)
        self._owners: dict[str, str | None] = {}  # lower-case email -> user id, for this run

    # --- calls ---------------------------------------------------------------------------

    def _call(self, action: Callable[[Any], Any]) -> Any:
        """One API call under the retry policy, renewing an expired session once."""
        return self.connection.call(action, self.policy)

    @staticmethod
    def abort_if_fatal(error: BaseException) -> None:
        """SyncAborted for an error that would fail every call the same way; else nothing."""
        if isinstance(error, SyncAborted):
            raise error
        if classify(error) in (Kind.FATAL, Kind.EXPIRED_SESSION):
            code, message = describe(error)
            raise SyncAborted(f"Salesforce: {code}: {message}") from error

    # --- owners --------------------------------------------------------------------------

    def owner_ids(self, emails: Iterable[str | None]) -> dict[str, str | None]:
        """Active users by email, one escaped SOQL query per 100 new emails, cached for the run."""
        wanted = sorted({e.strip().lower() for e in emails if e} - set(self._owners))
        user, email_field = self.mapping.user_object, self.mapping.user_email
        for chunk in _chunks(wanted, OWNER_QUERY_CHUNK):
            soql = format_soql(
                f"SELECT Id, {email_field} FROM {user} WHERE {email_field} IN {{}} "
                f"AND {self.mapping.user_active} = true",
                list(chunk),
            )
            try:
                found = self._call(lambda sf, q=soql: sf.query_all(q))
            except Exception as error:
                self.abort_if_fatal(error)
                raise
            for email in chunk:
                self._owners.setdefault(email, None)
            for record in sorted(found.get("records", []), key=lambda r: r["Id"]):
                email = str(record.get(email_field) or "").lower()
                if self._owners.get(email) is None:
                    self._owners[email] = record["Id"]
        return dict(self._owners)

    # --- preparing records ---------------------------------------------------------------

    def prepare(
        self, writes: Sequence[RecordWrite], known_ids: dict[tuple[str, str], str]
    ) -> tuple[list[OutgoingRecord], list[RecordWrite]]:
        """Resolve owners and references; a task whose parent is missing waits (deferred)."""
        owners = self.owner_ids(
            v.email for w in writes for v in w.fields.values() if isinstance(v, Owner)
        )
        outgoing: list[OutgoingRecord] = []
        deferred: list[RecordWrite] = []
        for write in writes:
            values: dict[str, Any] = {}
            complete = True
            for name, value in write.fields.items():
                if isinstance(value, Owner):
                    user_id = owners.get((value.email or "").lower())
                    if user_id:  # else leave it out: the integration user owns the record
                        values[name] = user_id
                elif isinstance(value, Ref):
                    resolved = known_ids.get((value.kind, value.signal_id))
                    if resolved is None:
                        complete = False
                    else:
                        values[name] = resolved
                else:
                    values[name] = value
            if not complete and write.kind != SIGNAL:
                deferred.append(write)
                continue
            body = self.mapping.object(write.kind).to_salesforce(write.signal_id, values)
            outgoing.append(OutgoingRecord(write, body, complete))
        return outgoing, deferred

    # --- upserts -------------------------------------------------------------------------

    def upsert(
        self,
        kind: RecordKind,
        records: Sequence[OutgoingRecord],
        on_batch: Callable[[list[RecordResult]], None],
    ) -> None:
        """Upsert every record; `on_batch` gets each acknowledged batch, in order.

        Collections calls are independent of each other (every record is keyed by its
        external id), so up to `parallel_calls` are in flight together; their results are
        handed to `on_batch` in the order the batches were cut, on this thread. A failure
        stops the calls not yet sent.
        """
        if not records:
            return
        if len(records) > self.bulk_threshold:
            self._bulk(kind, records, on_batch)
            return
        self._collections(kind, records, on_batch)

    def _collections(
        self,
        kind: RecordKind,
        records: Sequence[OutgoingRecord],
        on_batch: Callable[[list[RecordResult]], None],
    ) -> None:
        target = self.mapping.object(kind)
        chunks = list(_chunks(records, COLLECTION_SIZE))
        if self.parallel_calls == 1 or len(chunks) == 1:
            for chunk in chunks:
                on_batch(self._collection(target, chunk))
            return
        pool = ThreadPoolExecutor(self.parallel_calls, thread_name_prefix="collections")
        try:
            futures: list[Future[list[RecordResult]]] = [
                pool.submit(self._collection, target, chunk) for chunk in chunks]
            for future in futures:
                on_batch(future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _collection(
        self, target: ObjectMapping, records: Sequence[OutgoingRecord]
    ) -> list[RecordResult]:
        path = f"composite/sobjects/{target.object}/{target.external_id}"
        results: dict[int, RecordResult] = {}
        pending = list(range(len(records)))

        def send(sf: Any) -> Any:
            body = [
                {"attributes": {"type": target.object},
                 **{k: _json_value(v) for k, v in records[i].body.items()}}
                for i in pending
            ]
            return sf.restful(path, method="PATCH", json={"allOrNone": False, "records": body})

        def attempt() -> None:
            nonlocal pending
            answer = self.connection.once(send)
            still: list[int] = []
            for index, outcome in zip(pending, answer, strict=True):
                result = self._result(records[index], outcome)
                if result.error_code in TRANSIENT_RECORD_CODES:
                    still.append(index)
                results[index] = result
            pending = still
            if pending:  # only those records again, on the policy's backoff
                raise RecordsLeftTransient([results[i].error_code or "" for i in pending])

        try:
            with_retries(self.policy, attempt)
        except RecordsLeftTransient:
            pass  # what is left keeps its transient error and is sent again next run
        except Exception as error:
            self.abort_if_fatal(error)
            code, message = describe(error)
            for index in pending:
                results[index] = RecordResult(records[index].write, None, code, message, False)
        return [results[i] for i in range(len(records))]

    @staticmethod
    def _result(record: OutgoingRecord, outcome: dict[str, Any]) -> RecordResult:
        if outcome.get("success"):
            return RecordResult(record.write, outcome.get("id"), complete=record.complete)
        errors = outcome.get("errors") or [{}]
        first = errors[0]
        return RecordResult(
            record.write,
            outcome.get("id"),
            str(first.get("statusCode") or "UNKNOWN_ERROR"),
            str(first.get("message") or ""),
            False,
        )

    def _bulk(
        self,
        kind: RecordKind,
        records: Sequence[OutgoingRecord],
        on_batch: Callable[[list[RecordResult]], None],
    ) -> None:
        """Bulk API 2.0, one job for the object (one per BULK_JOB_BYTES of CSV); rows that
        failed transiently go by collection."""
        target = self.mapping.object(kind)
        for part, data in bulk_csv_parts(records):
            results = self._bulk_job(target, part, data)
            retry = [r for r, res in zip(part, results, strict=True)
                     if res.error_code in TRANSIENT_RECORD_CODES]
            done = [res for res in results if res.error_code not in TRANSIENT_RECORD_CODES]
            on_batch(done)
            if retry:
                self._collections(kind, retry, on_batch)

    def _bulk_job(
        self, target: ObjectMapping, records: Sequence[OutgoingRecord], data: str
    ) -> list[RecordResult]:
        key = target.external_id

        def run(sf: Any) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
            # simple-salesforce's own job calls, one by one: its upsert() reads the job once
            # more after the wait and has no backoff to speak of.
            client = getattr(sf.bulk2, target.object)._client
            job_id = client.create_job(BulkOperation.upsert, external_id_field=key)["id"]
            try:
                client.upload_job_data(job_id, data)
                client.close_job(job_id)
                job = self._wait_for_job(client, job_id)
            except BaseException:
                _abort_quietly(client, job_id)
                raise
            ids = {row[key].lower(): row["sf__Id"] for row in csv.DictReader(
                io.StringIO(client.get_ingest_results(job_id, "successfulResults")))}
            failures: dict[str, tuple[str, str]] = {}
            if int(job.get("numberRecordsFailed") or 0):
                text = client.get_ingest_results(job_id, "failedResults")
                for row in csv.DictReader(io.StringIO(text)):
                    code, _, message = row["sf__Error"].partition(":")
                    failures[row[key].lower()] = (code, message.rsplit(":", 1)[0])
            return ids, failures

        try:
            ids, failures = self._call(run)
        except Exception as error:
            self.abort_if_fatal(error)
            code, message = describe(error)
            return [RecordResult(r.write, None, code, message, False) for r in records]
        results = []
        for record in records:
            signal_id = record.write.signal_id.lower()
            if signal_id in ids:
                results.append(RecordResult(record.write, ids[signal_id], complete=record.complete))
            else:
                code, message = failures.get(signal_id, ("UNPROCESSED", "not processed by the job"))
                results.append(RecordResult(record.write, None, code, message, False))
        return results


    def _wait_for_job(self, client: Any, job_id: str) -> dict[str, Any]:
        """The job once it is done: the first look after `bulk_poll_seconds`, then pauses
        that double, up to BULK_MAX_POLL, for at most BULK_WAIT_LIMIT seconds."""
        pause, waited = self.bulk_poll_seconds, 0.0
        while True:
            time.sleep(pause)
            waited += pause
            job = client.get_job(job_id, False)
            state = job.get("state")
            if state == "JobComplete":
                return dict(job)
            if state in ("Failed", "Aborted"):
                raise SalesforceOperationError(
                    f"Bulk job {job_id} {state.lower()}: {job.get('errorMessage') or 'no reason'}")
            if waited >= BULK_WAIT_LIMIT:
                raise SalesforceOperationError(
                    f"Bulk job {job_id} still {state} after {waited:.0f} s")
            pause = min(max(pause * 2, 0.5), BULK_MAX_POLL)


def _abort_quietly(client: Any, job_id: str) -> None:
    """Abort a job this run gives up on, so Salesforce does not process it later."""
    try:
        if client.get_job(job_id, False).get("state") in ("Open", "UploadComplete", "InProgress"):
            client.abort_job(job_id, False)
    except Exception:  # the job's own error is what the run reports
        pass


def bulk_csv_parts(
    records: Sequence[OutgoingRecord], limit: int = BULK_JOB_BYTES
) -> Iterator[tuple[Sequence[OutgoingRecord], str]]:
    """The records as CSV in parts of at most about `limit` bytes of UTF-8 (a Bulk upload
    takes 100 MB at most), each with the records it holds.

    One header for records whose fields differ: a column a record lacks is an empty cell,
    which Bulk reads as "leave this field alone", as an absent field is in a Collections call.
    """
    columns = sorted({name for record in records for name in record.body})
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\n")

    def text(values: list[str]) -> str:
        line.seek(0)
        line.truncate()
        writer.writerow(values)
        return line.getvalue()

    header = text(columns)
    lines, size, first = [header], len(header.encode("utf-8")), 0
    for index, record in enumerate(records):
        body = record.body
        row = text([_csv_value(body[c]) if c in body else "" for c in columns])
        row_size = len(row.encode("utf-8"))
        if size + row_size > limit and index > first:
            yield records[first:index], "".join(lines)
            lines, size, first = [header], len(header.encode("utf-8")), index
        lines.append(row)
        size += row_size
    yield records[first:], "".join(lines)


def known_ids_from_states(states: Iterable[Any]) -> dict[tuple[str, str], str]:
    """(kind, signal_id) -> Salesforce id, for every record an earlier run committed."""
    known: dict[tuple[str, str], str] = {}
    for state in states:
        if state.sf_signal_id:
            known[(SIGNAL, state.signal_id)] = state.sf_signal_id
        if state.sf_opportunity_id:
            known[(OPPORTUNITY, state.signal_id)] = state.sf_opportunity_id
    return known
