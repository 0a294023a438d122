"""Bulk API 2.0 ingest through simple-salesforce's sf.bulk2."""

from __future__ import annotations

import csv
import io
import re

import pytest
from expansion_dev.emulators import clients, faults
from expansion_dev.emulators.salesforce import SalesforceEmulator
from simple_salesforce import SalesforceMalformedRequest
from simple_salesforce.bulk2 import ColumnDelimiter, LineEnding
from simple_salesforce.exceptions import SalesforceOperationError

SIGNAL = "Expansion_Signal__c"


def rows(n: int, start: int = 0, **extra: str) -> list[dict[str, str]]:
    return [
        {"Signal_Id__c": f"s{i}", "Motion__c": "seat", **extra} for i in range(start, start + n)
    ]


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def raw(salesforce_emulator: SalesforceEmulator):
    session = clients.salesforce_session(salesforce_emulator.ca_path)
    session.headers["Authorization"] = f"Bearer {salesforce_emulator.session_id}"
    base = f"{salesforce_emulator.instance_url}/services/data/v59.0/jobs/ingest"
    return session, base


def test_upsert_runs_the_whole_job_lifecycle(salesforce_emulator, sf_client):
    result = sf_client.bulk2.Expansion_Signal__c.upsert(
        records=rows(5), external_id_field="Signal_Id__c", wait=0
    )
    [summary] = result
    assert summary["numberRecordsFailed"] == 0
    assert summary["numberRecordsProcessed"] == 5 and summary["numberRecordsTotal"] == 5
    assert summary["job_id"].startswith("750") and len(summary["job_id"]) == 18
    assert sorted(r["Signal_Id__c"] for r in salesforce_emulator.records(SIGNAL)) == [
        f"s{i}" for i in range(5)
    ]
    assert [c.kind for c in salesforce_emulator.calls()] == [
        "bulk2.create",
        "bulk2.upload",
        "bulk2.close",
        "bulk2.get",  # complete on the first poll by default
        "bulk2.get",
    ]
    assert salesforce_emulator.bulk_batches_used == 1


def test_job_creation_upload_and_close_answer_as_documented(salesforce_emulator, raw):
    session, base = raw
    created = session.post(
        base,
        json={
            "object": SIGNAL,
            "operation": "upsert",
            "externalIdFieldName": "Signal_Id__c",
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        },
    )
    assert created.status_code == 200
    job = created.json()
    assert job["state"] == "Open" and job["object"] == SIGNAL
    assert job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"
    assert job["concurrencyMode"] == "Parallel" and job["contentType"] == "CSV"
    # Columns are mapped by header name; the order simple-salesforce sends varies.
    upload = session.put(
        f"{base}/{job['id']}/batches",
        data="Motion__c,Signal_Id__c\nseat,a\ntier,b\n",
        headers={"Content-Type": "text/csv"},
    )
    assert (upload.status_code, upload.content) == (201, b"")
    closed = session.patch(f"{base}/{job['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    info = session.get(f"{base}/{job['id']}").json()
    assert info["state"] == "JobComplete" and info["jobType"] == "V2Ingest"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 0)
    motions = {r["Signal_Id__c"]: r["Motion__c"] for r in salesforce_emulator.records(SIGNAL)}
    assert motions == {"a": "seat", "b": "tier"}
    again = session.put(f"{base}/{job['id']}/batches", data="Signal_Id__c\nc\n")
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"


def test_result_csvs_carry_sf_columns_and_echo_the_input(salesforce_emulator, sf_client):
    sf_client.Expansion_Signal__c.create({"Signal_Id__c": "s0"})
    bulk = sf_client.bulk2.Expansion_Signal__c
    data = rows(2) + [{"Signal_Id__c": "bad", "Motion__c": "nope"}]
    [summary] = bulk.upsert(records=data, external_id_field="Signal_Id__c", wait=0)
    assert (summary["numberRecordsProcessed"], summary["numberRecordsFailed"]) == (3, 1)
    job_id = summary["job_id"]
    ok_text = bulk.get_successful_records(job_id)
    assert ok_text.splitlines()[0].startswith('"sf__Id","sf__Created",')
    successful = parse(ok_text)
    assert {(r["Signal_Id__c"], r["sf__Created"]) for r in successful} == {
        ("s0", "false"),
        ("s1", "true"),
    }
    [failed] = parse(bulk.get_failed_records(job_id))
    assert failed["sf__Id"] == "" and failed["Signal_Id__c"] == "bad"
    assert failed["sf__Error"] == (
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Motion: bad value for restricted picklist "
        "field: nope:Motion__c --"
    )
    assert parse(bulk.get_unprocessed_records(job_id)) == []
    everything = bulk.get_all_ingest_records(job_id)
    assert len(everything["successfulRecords"]) == 2 and len(everything["failedRecords"]) == 1


def test_unprocessed_records_path_is_case_insensitive(salesforce_emulator, raw, sf_client):
    [summary] = sf_client.bulk2.Expansion_Signal__c.upsert(
        records=rows(1), external_id_field="Signal_Id__c", wait=0
    )
    session, base = raw
    for path in ("unprocessedrecords", "unprocessedRecords"):
        response = session.get(f"{base}/{summary['job_id']}/{path}")
        assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv"


def test_tab_delimiter_and_crlf_line_endings(salesforce_emulator, sf_client):
    [summary] = sf_client.bulk2.Expansion_Signal__c.upsert(
        records=rows(3, Play__c="Seat, expansion"),
        external_id_field="Signal_Id__c",
        column_delimiter=ColumnDelimiter.TAB,
        line_ending=LineEnding.CRLF,
        wait=0,
    )
    assert summary["numberRecordsFailed"] == 0
    assert {r["Play__c"] for r in salesforce_emulator.records(SIGNAL)} == {"Seat, expansion"}
    text = sf_client.bulk2.Expansion_Signal__c.get_successful_records(summary["job_id"])
    assert text.endswith("\r\n")


def test_upsert_job_without_external_id_field_is_rejected(salesforce_emulator, raw):
    session, base = raw
    response = session.post(
        base, json={"object": SIGNAL, "operation": "upsert", "contentType": "CSV"}
    )
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "InvalidJob : External ID was blank for Expansion_Signal__c. An External ID "
            "must be specified for upsert.",
            "errorCode": "INVALIDJOB",
        }
    ]


def test_unknown_column_fails_the_job(salesforce_emulator, sf_client):
    with pytest.raises(SalesforceOperationError, match="Field name not found : Nope__c"):
        sf_client.bulk2.Expansion_Signal__c.upsert(
            records=rows(1, Nope__c="x"), external_id_field="Signal_Id__c", wait=0
        )
    assert salesforce_emulator.records(SIGNAL) == []


def test_insert_update_and_cell_conversion(salesforce_emulator, sf_client):
    bulk = sf_client.bulk2.Expansion_Signal__c
    [inserted] = bulk.insert(
        records=[
            {
                "Signal_Id__c": "a",
                "Signal_Count__c": "2",
                "Compound__c": "true",
                "SLA_Due__c": "2025-02-01",
            }
        ],
        wait=0,
    )
    assert inserted["numberRecordsFailed"] == 0
    [record] = salesforce_emulator.records(SIGNAL)
    assert (record["Signal_Count__c"], record["Compound__c"], record["SLA_Due__c"]) == (
        2.0,
        True,
        "2025-02-01",
    )
    [updated] = bulk.update(records=[{"Id": record["Id"], "Signal_Count__c": "abc"}], wait=0)
    assert updated["numberRecordsFailed"] == 1
    [failed] = parse(bulk.get_failed_records(updated["job_id"]))
    # Column order follows simple-salesforce's set() of keys, so the column number varies.
    assert re.match(
        r"^INVALID_FIELD:Failed to deserialize field at col [12]\. Due to, 'abc' is not a valid "
        r"value for the type xsd:double:Signal_Count__c --$",
        failed["sf__Error"],
    )


def test_row_lock_fault_lands_in_failed_results(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.record_lock([1]), kind="bulk2.upload")
    bulk = sf_client.bulk2.Expansion_Signal__c
    [summary] = bulk.upsert(records=rows(3), external_id_field="Signal_Id__c", wait=0)
    assert summary["numberRecordsFailed"] == 1
    [failed] = parse(bulk.get_failed_records(summary["job_id"]))
    assert failed["Signal_Id__c"] == "s1"
    assert (
        failed["sf__Error"]
        == "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--"
    )
    [retry] = bulk.upsert(
        records=[{"Signal_Id__c": "s1", "Motion__c": "seat"}],
        external_id_field="Signal_Id__c",
        wait=0,
    )
    assert retry["numberRecordsFailed"] == 0
    assert len(salesforce_emulator.records(SIGNAL)) == 3


def test_job_failure_raises_operation_error(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.bulk_job_fails("InternalServerError : boom"))
    with pytest.raises(SalesforceOperationError, match="InternalServerError : boom"):
        sf_client.bulk2.Expansion_Signal__c.upsert(
            records=rows(2), external_id_field="Signal_Id__c", wait=0
        )
    [job] = salesforce_emulator.jobs()
    assert job.state == "Failed"
    assert salesforce_emulator.records(SIGNAL) == []


def test_slow_job_reports_in_progress_before_completing(salesforce_emulator, sf_client):
    salesforce_emulator.settings.bulk_polls_in_progress = 2
    [summary] = sf_client.bulk2.Expansion_Signal__c.upsert(
        records=rows(2), external_id_field="Signal_Id__c", wait=0
    )
    assert summary["numberRecordsProcessed"] == 2
    polls = salesforce_emulator.calls("bulk2.get")
    assert len(polls) == 4  # InProgress, InProgress, JobComplete, final read


def test_aborted_stuck_job_leaves_rows_unprocessed(salesforce_emulator, raw, sf_client):
    salesforce_emulator.settings.bulk_polls_in_progress = 10_000
    session, base = raw
    job = session.post(
        base, json={"object": SIGNAL, "operation": "insert", "contentType": "CSV"}
    ).json()
    session.put(f"{base}/{job['id']}/batches", data="Signal_Id__c\na\nb\n")
    session.patch(f"{base}/{job['id']}", json={"state": "UploadComplete"})
    assert session.get(f"{base}/{job['id']}").json()["state"] == "InProgress"
    aborted = session.patch(f"{base}/{job['id']}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    assert [
        r["Signal_Id__c"] for r in parse(session.get(f"{base}/{job['id']}/unprocessedrecords").text)
    ] == ["a", "b"]
    assert salesforce_emulator.records(SIGNAL) == []
    assert salesforce_emulator.calls()[-1].kind == "bulk2.results"


def test_rejected_upload_makes_the_client_abort_the_job(salesforce_emulator, sf_client):
    salesforce_emulator.inject(
        faults.sf_error(400, "INVALIDJOBSTATE", "InvalidJobState : upload rejected"),
        kind="bulk2.upload",
    )
    with pytest.raises(SalesforceMalformedRequest):
        sf_client.bulk2.Expansion_Signal__c.upsert(
            records=rows(1), external_id_field="Signal_Id__c", wait=0
        )
    assert [c.kind for c in salesforce_emulator.calls()][-2:] == ["bulk2.get", "bulk2.abort"]
    assert salesforce_emulator.jobs()[0].state == "Aborted"


def test_daily_batch_budget_fails_jobs_once_spent(salesforce_emulator, sf_client):
    salesforce_emulator.settings.bulk_batch_limit = 1
    sf_client.bulk2.Expansion_Signal__c.upsert(
        records=rows(1), external_id_field="Signal_Id__c", wait=0
    )
    with pytest.raises(SalesforceOperationError, match="ExceededQuota"):
        sf_client.bulk2.Expansion_Signal__c.upsert(
            records=rows(1, 1), external_id_field="Signal_Id__c", wait=0
        )
