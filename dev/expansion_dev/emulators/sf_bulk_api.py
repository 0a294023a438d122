"""Bulk API 2.0 ingest endpoints over sf_bulk's jobs."""

from __future__ import annotations

from expansion_dev.emulators.faults import BulkJobFails, RecordErrors
from expansion_dev.emulators.httpbase import Request, Response
from expansion_dev.emulators.schema import (
    BULK_JOB_PREFIX,
    lookup_object,
)
from expansion_dev.emulators.sf_base import SalesforceBase
from expansion_dev.emulators.sf_bulk import DELIMITERS, LINE_ENDINGS, OPERATIONS, TERMINAL, BulkJob
from expansion_dev.emulators.sf_errors import ApiError, DmlError, not_found
from expansion_dev.emulators.sf_store import timestamp


class BulkEndpoints(SalesforceBase):
    # --- Bulk API 2.0 ingest -------------------------------------------------------------

    def _job(self, job_id: str) -> BulkJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise not_found()
        return job

    @staticmethod
    def _invalid_job(message: str) -> ApiError:
        return ApiError(400, "INVALIDJOB", f"InvalidJob : {message}")

    @staticmethod
    def _invalid_state(job: BulkJob) -> ApiError:
        return ApiError(
            400, "INVALIDJOBSTATE", f"InvalidJobState : Job {job.id} is in state {job.state}"
        )

    def bulk_create(self, req: Request, version: str) -> Response:
        body = self.body_object(req)
        spec = lookup_object(str(body.get("object") or ""))
        if spec is None:
            raise self._invalid_job(f"Invalid object: {body.get('object')}")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise self._invalid_job(f"Invalid operation: {operation}")
        if body.get("contentType", "CSV") != "CSV":
            raise self._invalid_job("Only CSV content is supported")
        delimiter = body.get("columnDelimiter", "COMMA")
        line_ending = body.get("lineEnding", "LF")
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise self._invalid_job("Invalid columnDelimiter or lineEnding")
        ext_name = body.get("externalIdFieldName")
        if operation == "upsert":
            if not ext_name:
                raise self._invalid_job(
                    f"External ID was blank for {spec.name}. "
                    "An External ID must be specified for upsert."
                )
            fspec = spec.field(ext_name)
            if fspec is None or not fspec.external_id:
                raise self._invalid_job(
                    f"Field name provided, {ext_name} is not an External ID or indexed field "
                    f"for {spec.name}"
                )
            ext_name = fspec.name
        job = BulkJob(
            id=self.org.ids.next(BULK_JOB_PREFIX),
            sobject=spec,
            operation=operation,
            external_id_field=ext_name,
            column_delimiter=delimiter,
            line_ending=line_ending,
            api_version=version,
            created_by=self.org.current_user_id,
            created_date=timestamp(self.org.clock()),
            polls_in_progress=self.settings.bulk_polls_in_progress,
        )
        self._jobs[job.id] = job
        return self.ok(200, job.info(full=False))

    def bulk_list(self, req: Request, version: str) -> Response:
        return self.ok(
            200,
            {
                "done": True,
                "records": [j.info(False) for j in self._jobs.values()],
                "nextRecordsUrl": None,
            },
        )

    def bulk_upload(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        if job.state != "Open":
            raise self._invalid_state(job)
        offset = len(job.rows)
        try:
            added = job.add_csv(req.text())
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "INVALIDBATCH", f"InvalidBatch : {exc}") from None
        self._take_bulk_faults(req, job, offset, added)
        return Response(201)

    def _take_bulk_faults(self, req: Request, job: BulkJob, offset: int, count: int) -> None:
        kind = self.classify(req)
        fault = self.faults.take(
            req.method, req.target, kind, req.body, (RecordErrors, BulkJobFails)
        )
        if isinstance(fault, BulkJobFails):
            job.fail_message = fault.message
        elif isinstance(fault, RecordErrors):
            chosen = range(count) if fault.indexes is None else fault.indexes
            for index in chosen:
                if 0 <= index < count:
                    job.row_errors[offset + index] = DmlError(fault.status_code, fault.message, [])

    def bulk_set_state(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        state = self.body_object(req).get("state")
        if state == "UploadComplete":
            if job.state != "Open":
                raise self._invalid_state(job)
            self._take_bulk_faults(req, job, 0, 0)
            if self.bulk_batches_used + job.batches() > self.settings.bulk_batch_limit:
                job.fail_message = (
                    "ExceededQuota : Maximum number of batches per rolling 24 hour period exceeded"
                )
            else:
                self.bulk_batches_used += job.batches()
            job.state = "UploadComplete"
        elif state == "Aborted":
            if job.state in TERMINAL:
                raise self._invalid_state(job)
            job.state = "Aborted"
        else:
            raise self._invalid_job(f"Invalid state: {state}")
        job.finish(self.org)
        return self.ok(200, job.info(full=False))

    def bulk_get(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        if job.state in ("UploadComplete", "InProgress"):
            if job.polls_in_progress > 0:
                job.polls_in_progress -= 1
                job.state = "InProgress"
            else:
                job.process(self.org)
                job.finish(self.org)
        return self.ok(200, job.info(full=True))

    def bulk_delete(self, req: Request, version: str, job_id: str) -> Response:
        job = self._job(job_id)
        if job.state not in TERMINAL:
            raise self._invalid_state(job)
        del self._jobs[job_id]
        return Response(204)

    def bulk_results(self, req: Request, version: str, job_id: str, which: str) -> Response:
        job = self._job(job_id)
        text = {
            "successfulresults": job.successful_csv,
            "failedresults": job.failed_csv,
            "unprocessedrecords": job.unprocessed_csv,
        }[which]()
        return Response(200, text.encode("utf-8"), "text/csv")

    def jobs(self) -> list[BulkJob]:
        return list(self._jobs.values())
