"""Fault injection on the Salesforce emulator, seen through simple-salesforce."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from expansion_dev.emulators import clients, faults
from expansion_dev.emulators.salesforce import SalesforceEmulator
from simple_salesforce import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

SIGNAL = "Expansion_Signal__c"
UPSERT_SIGNALS = f"composite/sobjects/{SIGNAL}/Signal_Id__c"


def signal(key: str) -> dict:
    return {"attributes": {"type": SIGNAL}, "Signal_Id__c": key}


def test_expired_session_fault_then_normal(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.expired_session(), times=2)
    for _ in range(2):
        with pytest.raises(SalesforceExpiredSession) as caught:
            sf_client.query("SELECT Id FROM User")
        assert caught.value.content == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
    assert sf_client.query("SELECT Id FROM User")["totalSize"] == 1
    assert [c.fault for c in salesforce_emulator.calls()] == ["expired_session"] * 2 + [None]


def test_daily_limit_fault_reports_a_spent_allocation(salesforce_emulator, raw_session):
    salesforce_emulator.inject(faults.daily_limit())
    response = raw_session.get(f"{salesforce_emulator.instance_url}/services/data/v59.0/limits/")
    assert response.status_code == 403
    assert response.headers["Sforce-Limit-Info"] == "api-usage=100000/100000"
    assert response.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_concurrent_limit_is_a_different_message(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.concurrent_limit())
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf_client.Account.create({"Name": "A"})
    assert caught.value.content[0]["message"] == "ConcurrentPerOrgLongTxn Limit exceeded."


def test_503_json_and_html_bodies(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.unavailable())
    salesforce_emulator.inject(faults.html_error(503))
    with pytest.raises(SalesforceGeneralError) as as_json:
        sf_client.query("SELECT Id FROM User")
    assert as_json.value.status == 503
    assert as_json.value.content == [{"message": "maintenance", "errorCode": "SERVER_UNAVAILABLE"}]
    with pytest.raises(SalesforceGeneralError) as as_html:
        sf_client.query("SELECT Id FROM User")
    assert isinstance(as_html.value.content, str) and as_html.value.content.startswith("<html>")


def test_500_unknown_exception(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.unknown_error())
    with pytest.raises(SalesforceGeneralError) as caught:
        sf_client.Account.create({"Name": "A"})
    assert caught.value.status == 500
    assert caught.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_single_record_row_lock_is_a_400_and_writes_nothing(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.row_lock(), kind="sobject.upsert")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf_client.Expansion_Signal__c.upsert("Signal_Id__c/s1", {})
    assert caught.value.content == [
        {
            "message": "unable to obtain exclusive access to this record",
            "errorCode": "UNABLE_TO_LOCK_ROW",
        }
    ]
    assert salesforce_emulator.records(SIGNAL) == []
    assert sf_client.Expansion_Signal__c.upsert("Signal_Id__c/s1", {}) == 201


def test_per_record_row_lock_in_a_collection(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.record_lock([1, 2]), kind="composite.upsert")
    records = [signal("a"), signal("b"), signal("c")]
    first = sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": records})
    assert [r["success"] for r in first] == [True, False, False]
    assert first[1]["errors"] == [
        {
            "statusCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
            "fields": [],
        }
    ]
    retry = sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": records[1:]})
    assert [r["created"] for r in retry] == [True, True]
    assert len(salesforce_emulator.records(SIGNAL)) == 3


def test_per_record_fault_is_not_consumed_by_other_endpoints(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.record_lock([0]))
    sf_client.query("SELECT Id FROM User")
    sf_client.Account.create({"Name": "A"})
    result = sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": [signal("a")]})
    assert result[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"


def test_row_lock_with_all_or_none_rolls_back_the_rest(salesforce_emulator, sf_client):
    salesforce_emulator.inject(faults.record_lock([0]))
    result = sf_client.restful(
        UPSERT_SIGNALS,
        method="PATCH",
        json={"allOrNone": True, "records": [signal("a"), signal("b")]},
    )
    assert [r["errors"][0]["statusCode"] for r in result] == [
        "UNABLE_TO_LOCK_ROW",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    ]
    assert salesforce_emulator.records(SIGNAL) == []


def test_delay_after_commit_times_out_but_the_upsert_landed(salesforce_emulator):
    sf = clients.salesforce_client(salesforce_emulator, timeout=0.3)
    salesforce_emulator.inject(faults.delay(1.0, commit=True), kind="composite.upsert")
    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.restful(UPSERT_SIGNALS, method="PATCH", json={"records": [signal("a")]})
    assert [r["Signal_Id__c"] for r in salesforce_emulator.records(SIGNAL)] == ["a"]
    # Retrying an upsert by external id is idempotent...
    retry = sf.restful(UPSERT_SIGNALS, method="PATCH", json={"records": [signal("a")]})
    assert retry[0]["created"] is False
    assert len(salesforce_emulator.records(SIGNAL)) == 1


def test_delay_after_commit_makes_a_retried_create_duplicate(salesforce_emulator):
    sf = clients.salesforce_client(salesforce_emulator, timeout=0.3)
    salesforce_emulator.inject(faults.delay(1.0, commit=True), kind="sobject.create")
    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.Account.create({"Name": "Acme"})
    sf.Account.create({"Name": "Acme"})
    assert [r["Name"] for r in salesforce_emulator.records("Account")] == ["Acme", "Acme"]


def test_delay_without_commit_writes_nothing(salesforce_emulator):
    sf = clients.salesforce_client(salesforce_emulator, timeout=0.3)
    salesforce_emulator.inject(faults.delay(0.6))
    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.Expansion_Signal__c.upsert("Signal_Id__c/a", {})
    time.sleep(0.5)
    assert salesforce_emulator.records(SIGNAL) == []


@pytest.mark.parametrize("commit", [False, True])
def test_dropped_connection(salesforce_emulator, sf_client, commit):
    salesforce_emulator.inject(faults.drop(commit=commit), kind="sobject.upsert")
    with pytest.raises(requests.exceptions.ConnectionError):
        sf_client.Expansion_Signal__c.upsert("Signal_Id__c/a", {})
    assert len(salesforce_emulator.records(SIGNAL)) == (1 if commit else 0)
    assert salesforce_emulator.calls()[0].status == 0
    assert sf_client.Expansion_Signal__c.upsert("Signal_Id__c/a", {}) == (200 if commit else 201)


def test_faults_match_by_method_path_and_body(salesforce_emulator, sf_client):
    salesforce_emulator.inject(
        faults.unavailable(), method="PATCH", path=r"/sobjects/Account/", times=5
    )
    salesforce_emulator.inject(faults.unknown_error(), body_contains='"poison"')
    account = sf_client.Account.create({"Name": "fine"})["id"]
    with pytest.raises(SalesforceGeneralError):
        sf_client.Account.update(account, {"Name": "x"})
    with pytest.raises(SalesforceGeneralError) as caught:
        sf_client.Account.create({"Name": "poison"})
    assert caught.value.status == 500
    assert len(salesforce_emulator.faults.pending()) == 1
    salesforce_emulator.clear_faults()
    assert sf_client.Account.update(account, {"Name": "x"}) == 204


def test_control_endpoint_queues_faults(salesforce_emulator, sf_client):
    control = clients.salesforce_session(salesforce_emulator.ca_path)
    endpoint = f"{salesforce_emulator.instance_url}/__emulator/faults"
    queued = control.post(
        endpoint, json={"kind": "html_error", "status": 502, "times": 2, "path": "query"}
    )
    assert queued.status_code == 201
    control.post(
        endpoint, json={"kind": "record_lock", "indexes": [0], "match_kind": "composite.upsert"}
    )
    assert len(control.get(endpoint).json()) == 2
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as caught:
            sf_client.query("SELECT Id FROM User")
        assert caught.value.status == 502
    result = sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": [signal("a")]})
    assert result[0]["success"] is False
    assert control.post(endpoint, json={"kind": "nope"}).status_code == 400
    control.post(endpoint, json={"kind": "expired_session"})
    assert control.delete(endpoint).status_code == 200
    assert salesforce_emulator.faults.pending() == []


def test_latency_is_added_to_every_call(salesforce_emulator, sf_client):
    salesforce_emulator.latency = 0.05
    started = time.perf_counter()
    sf_client.query("SELECT Id FROM User")
    sf_client.limits()
    assert time.perf_counter() - started >= 0.1


def test_server_answers_concurrently(salesforce_emulator):
    salesforce_emulator.latency = 0.3
    errors: list[BaseException] = []

    def one() -> None:
        try:
            clients.salesforce_client(salesforce_emulator).query("SELECT Id FROM User")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert time.perf_counter() - started < 1.5  # 8 x 0.3 s serially would be 2.4 s


def test_ten_thousand_upserts_in_collections_are_fast(salesforce_emulator, sf_client):
    started = time.perf_counter()
    for batch in range(50):
        records = [
            {
                **signal(f"s{batch * 200 + i}"),
                "Motion__c": "seat",
                "Urgency__c": "high",
                "Evidence__c": "46 of 50 seats assigned (92%) for 14 days",
            }
            for i in range(200)
        ]
        results = sf_client.restful(
            UPSERT_SIGNALS, method="PATCH", json={"allOrNone": False, "records": records}
        )
        assert all(r["success"] for r in results)
    elapsed = time.perf_counter() - started
    assert len(salesforce_emulator.records(SIGNAL)) == 10_000
    assert salesforce_emulator.write_count() == 50
    assert elapsed < 10, elapsed


@pytest.fixture
def raw_session(salesforce_emulator: SalesforceEmulator) -> requests.Session:
    session = clients.salesforce_session(salesforce_emulator.ca_path)
    session.headers["Authorization"] = f"Bearer {salesforce_emulator.session_id}"
    return session
