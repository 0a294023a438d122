"""Contract of the Salesforce emulator, through simple-salesforce (and raw requests where the
client cannot say it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from expansion_dev.emulators import clients
from expansion_dev.emulators.salesforce import SalesforceEmulator
from expansion_dev.emulators.sf_ids import checksum, normalize
from simple_salesforce import (
    Salesforce,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
    format_external_id,
    format_soql,
)

SIGNAL = "Expansion_Signal__c"
UPSERT_SIGNALS = f"composite/sobjects/{SIGNAL}/Signal_Id__c"


@pytest.fixture
def raw(salesforce_emulator: SalesforceEmulator) -> requests.Session:
    """A bare session with the emulator's token, for what simple-salesforce cannot express."""
    session = clients.salesforce_session(salesforce_emulator.ca_path)
    session.headers["Authorization"] = f"Bearer {salesforce_emulator.session_id}"
    return session


def url(emu: SalesforceEmulator, path: str, version: str = "59.0") -> str:
    return f"{emu.instance_url}/services/data/v{version}/{path}"


def signal(key: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": SIGNAL}, "Signal_Id__c": key, "Motion__c": "seat", **fields}


# --- TLS with a test CA ------------------------------------------


def test_client_speaks_https_even_for_an_http_instance_url(salesforce_emulator):
    http_url = salesforce_emulator.instance_url.replace("https://", "http://")
    sf = Salesforce(
        instance_url=http_url,
        session_id=salesforce_emulator.session_id,
        session=clients.salesforce_session(salesforce_emulator.ca_path),
    )
    assert sf.base_url == f"{salesforce_emulator.instance_url}/services/data/v59.0/"
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_a_session_without_the_test_ca_is_refused(salesforce_emulator):
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        session.get(url(salesforce_emulator, "limits/"))


def test_client_session_ignores_ca_bundle_environment(salesforce_emulator, monkeypatch, tmp_path):
    bogus = tmp_path / "other-ca.pem"
    bogus.write_text("not a certificate")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bogus))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bogus))
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    sf = clients.salesforce_client(salesforce_emulator)
    assert sf.session.trust_env is False
    assert sf.query("SELECT Id FROM User")["done"] is True


# --- auth ---------------------------------------------------------------


def test_unknown_token_is_401_invalid_session_id(salesforce_emulator):
    sf = clients.salesforce_client(salesforce_emulator, session_id="00Dxx!not-a-session")
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.status == 401
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_missing_token_is_401(salesforce_emulator):
    response = clients.salesforce_session(salesforce_emulator.ca_path).get(
        url(salesforce_emulator, "limits/")
    )
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_expired_session_stays_expired_until_a_new_token(salesforce_emulator, sf_client):
    salesforce_emulator.expire_session()
    with pytest.raises(SalesforceExpiredSession):
        sf_client.Account.create({"Name": "A"})
    with pytest.raises(SalesforceExpiredSession):
        sf_client.Account.create({"Name": "A"})
    fresh = clients.salesforce_client(
        salesforce_emulator, session_id=salesforce_emulator.issue_session()
    )
    assert fresh.Account.create({"Name": "A"})["success"] is True


def test_oauth_client_credentials_issue_a_working_token(salesforce_emulator):
    session = clients.salesforce_session(salesforce_emulator.ca_path)
    denied = session.post(
        f"{salesforce_emulator.instance_url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert denied.status_code == 400
    assert denied.json()["error"] == "invalid_client"
    granted = session.post(
        f"{salesforce_emulator.instance_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": salesforce_emulator.settings.client_id,
            "client_secret": salesforce_emulator.settings.client_secret,
        },
    ).json()
    assert granted["instance_url"] == salesforce_emulator.instance_url
    assert granted["token_type"] == "Bearer"
    sf = clients.salesforce_client(salesforce_emulator, session_id=granted["access_token"])
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


# --- headers, metering, daily limit -------------------------------


def test_every_response_carries_limit_info_and_json_content_type(salesforce_emulator, raw):
    created = raw.post(url(salesforce_emulator, "sobjects/Account/"), json={"Name": "Acme"})
    assert created.status_code == 201
    assert created.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert created.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    failed = raw.post(url(salesforce_emulator, "sobjects/Account/"), json={})
    assert failed.status_code == 400
    assert failed.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    assert (
        "Sforce-Limit-Info"
        not in raw.get(f"{salesforce_emulator.instance_url}/services/data/").headers
    )


def test_api_usage_is_parsed_by_the_client(salesforce_emulator, sf_client):
    salesforce_emulator.api_used = 95_000
    accounts = sf_client.Account
    accounts.create({"Name": "Acme"})
    assert accounts.api_usage["api-usage"].used == 95_001
    assert accounts.api_usage["api-usage"].total == 100_000
    sf_client.query("SELECT Id FROM Account")
    assert sf_client.api_usage["api-usage"].used == 95_002


def test_each_call_counts_once_and_the_daily_limit_refuses_with_403(salesforce_emulator, sf_client):
    salesforce_emulator.settings.api_limit = 3
    sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": [signal("a"), signal("b")]})
    sf_client.query("SELECT Id FROM User")
    sf_client.limits()
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf_client.query("SELECT Id FROM User")
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert salesforce_emulator.api_used == 3


def test_limits_resource_reports_the_allocation(salesforce_emulator, sf_client):
    salesforce_emulator.settings.api_limit = 15_000
    limits = sf_client.limits()
    assert limits["DailyApiRequests"] == {"Max": 15_000, "Remaining": 14_999}
    assert limits["DailyBulkApiBatches"]["Max"] == 15_000


# --- sObject create / get / update / upsert ------------------------------


def test_create_returns_201_with_id_success_errors(salesforce_emulator, raw):
    response = raw.post(
        url(salesforce_emulator, f"sobjects/{SIGNAL}/"), json={"Signal_Id__c": "s1"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert body["id"].startswith("a0B") and len(body["id"]) == 18


def test_update_by_id_returns_204_and_no_body(salesforce_emulator, sf_client, raw):
    record_id = sf_client.Account.create({"Name": "Acme"})["id"]
    assert sf_client.Account.update(record_id, {"Name": "Acme 2"}) == 204
    response = raw.patch(
        url(salesforce_emulator, f"sobjects/Account/{record_id}"), json={"Name": "B"}
    )
    assert response.status_code == 204 and response.content == b""
    assert salesforce_emulator.record("Account", record_id)["Name"] == "B"


def test_get_returns_the_record_with_attributes(salesforce_emulator, sf_client):
    record_id = sf_client.Account.create({"Name": "Acme"})["id"]
    record = sf_client.Account.get(record_id)
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{record_id}",
    }
    assert record["Id"] == record_id and record["Name"] == "Acme"
    assert sf_client.Account.get(record_id[:15])["Id"] == record_id


def test_get_unknown_id_is_404(sf_client):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf_client.Account.get("001000000000000AAA")
    assert caught.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_upsert_creates_201_then_updates_200_with_created_flag(salesforce_emulator, sf_client, raw):
    signals = sf_client.Expansion_Signal__c
    assert signals.upsert("Signal_Id__c/s1", {"Urgency__c": "high"}) == 201
    assert signals.upsert("Signal_Id__c/s1", {"Urgency__c": "low"}) == 200
    response = raw.patch(url(salesforce_emulator, f"sobjects/{SIGNAL}/Signal_Id__c/s2"), json={})
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    again = raw.patch(url(salesforce_emulator, f"sobjects/{SIGNAL}/Signal_Id__c/s2"), json={})
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["id"] == response.json()["id"]
    assert [r["Urgency__c"] for r in salesforce_emulator.records(SIGNAL)] == ["low", None]


def test_upsert_before_v46_updates_with_204_and_no_created_key(salesforce_emulator, raw):
    first = raw.patch(
        url(salesforce_emulator, f"sobjects/{SIGNAL}/Signal_Id__c/s1", "45.0"), json={}
    )
    assert first.status_code == 201 and "created" not in first.json()
    second = raw.patch(
        url(salesforce_emulator, f"sobjects/{SIGNAL}/Signal_Id__c/s1", "45.0"), json={}
    )
    assert second.status_code == 204 and second.content == b""


def test_upsert_decodes_path_segments_with_unquote_not_unquote_plus(salesforce_emulator, sf_client):
    signals = sf_client.Expansion_Signal__c
    assert signals.upsert(format_external_id("Signal_Id__c", "acct/1 seat+x"), {}) == 201
    assert [r["Signal_Id__c"] for r in salesforce_emulator.records(SIGNAL)] == ["acct/1 seat+x"]
    # Without format_external_id the "/" becomes an extra path segment: 404 on a real org too.
    with pytest.raises(SalesforceResourceNotFound):
        signals.upsert("Signal_Id__c/acct/2", {})


def test_external_ids_match_case_insensitively(salesforce_emulator, sf_client):
    signals = sf_client.Expansion_Signal__c
    assert signals.upsert("Signal_Id__c/ABC", {}) == 201
    assert signals.upsert("Signal_Id__c/abc", {"Urgency__c": "high"}) == 200
    assert len(salesforce_emulator.records(SIGNAL)) == 1
    assert signals.get_by_custom_id("Signal_Id__c", "aBc")["Urgency__c"] == "high"


def test_upsert_with_several_matches_is_300(salesforce_emulator, sf_client):
    for _ in range(2):
        salesforce_emulator.seed_record("Task", {"Expansion_Signal_Id__c": "dup"}, validate=False)
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf_client.Task.upsert("Expansion_Signal_Id__c/dup", {"Subject": "x"})
    assert caught.value.status == 300
    assert all(
        re.match(r"^/services/data/v59.0/sobjects/Task/00T\w{15}$", u) for u in caught.value.content
    )
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf_client.Task.get_by_custom_id("Expansion_Signal_Id__c", "dup")


def test_upsert_on_an_unknown_external_id_field_is_404(sf_client):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf_client.Expansion_Signal__c.upsert("Nope__c/s1", {})
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf_client.Expansion_Signal__c.upsert("Play__c/s1", {})  # a field, but not an external id


def test_update_only_upsert_does_not_create(sf_client, raw, salesforce_emulator):
    response = raw.patch(
        url(salesforce_emulator, f"sobjects/{SIGNAL}/Signal_Id__c/s1") + "?updateOnly=true", json={}
    )
    assert response.status_code == 404
    assert salesforce_emulator.records(SIGNAL) == []


def test_unknown_sobject_is_404(sf_client):
    with pytest.raises(SalesforceResourceNotFound):
        sf_client.Nope__c.create({"Name": "x"})


# --- validation and error bodies --------------------------------------


def assert_400(call, error_code: str, fields: list[str] | None = None) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        call()
    assert caught.value.status == 400
    [error] = caught.value.content
    assert error["errorCode"] == error_code
    if fields is not None:
        assert error["fields"] == fields
    return error


def test_opportunity_requires_name_stage_and_close_date(sf_client):
    error = assert_400(
        lambda: sf_client.Opportunity.upsert("Expansion_Signal_Id__c/s1", {"Name": "Upsell"}),
        "REQUIRED_FIELD_MISSING",
        ["StageName", "CloseDate"],
    )
    assert error["message"] == "Required fields are missing: [StageName, CloseDate]"


def test_unknown_field_is_invalid_field(sf_client):
    error = assert_400(
        lambda: sf_client.Account.create({"Name": "A", "Foo__c": 1}), "INVALID_FIELD"
    )
    assert error["message"] == "No such column 'Foo__c' on sobject of type Account"


def test_string_longer_than_the_field_is_string_too_long(sf_client):
    assert_400(
        lambda: sf_client.Opportunity.create(
            {"Name": "x" * 121, "StageName": "Prospecting", "CloseDate": "2025-01-01"}
        ),
        "STRING_TOO_LONG",
        ["Name"],
    )


def test_value_outside_a_restricted_picklist_is_rejected(sf_client):
    error = assert_400(
        lambda: sf_client.Expansion_Signal__c.create({"Signal_Id__c": "s", "Urgency__c": "urgent"}),
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ["Urgency__c"],
    )
    assert "bad value for restricted picklist field: urgent" in error["message"]


def test_lookup_ids_must_be_well_formed_existing_and_of_the_right_object(
    salesforce_emulator, sf_client
):
    account = salesforce_emulator.seed_account("Acme")
    user = salesforce_emulator.seed_user("ana@example.com")
    create_task = sf_client.Task.create
    assert_400(lambda: create_task({"WhatId": "not-an-id"}), "MALFORMED_ID", ["WhatId"])
    assert_400(
        lambda: create_task({"OwnerId": account}), "INVALID_CROSS_REFERENCE_KEY", ["OwnerId"]
    )
    missing_user = "005" + "5E" + "0000000999"
    assert_400(
        lambda: create_task({"OwnerId": missing_user + checksum(missing_user)}),
        "INVALID_CROSS_REFERENCE_KEY",
    )
    task = create_task({"OwnerId": user[:15], "WhatId": account, "Subject": "Call"})
    assert salesforce_emulator.record("Task", task["id"])["OwnerId"] == user


def test_inactive_owner_is_rejected(salesforce_emulator, sf_client):
    gone = salesforce_emulator.seed_user("gone@example.com", is_active=False)
    assert_400(lambda: sf_client.Task.create({"OwnerId": gone}), "INACTIVE_OWNER_OR_USER")


def test_unique_external_id_rejects_a_duplicate_create(salesforce_emulator, sf_client):
    first = sf_client.Expansion_Signal__c.create({"Signal_Id__c": "s1"})["id"]
    error = assert_400(
        lambda: sf_client.Expansion_Signal__c.create({"Signal_Id__c": "S1"}), "DUPLICATE_VALUE"
    )
    assert error["message"] == (
        f"duplicate value found: Signal_Id__c duplicates value on record with id: {first}"
    )


def test_wrong_json_type_is_json_parser_error(sf_client):
    assert_400(
        lambda: sf_client.Expansion_Signal__c.create(
            {"Signal_Id__c": "s", "Signal_Count__c": "many"}
        ),
        "JSON_PARSER_ERROR",
    )


def test_read_only_fields_cannot_be_written(sf_client):
    assert_400(
        lambda: sf_client.Account.create(
            {"Name": "A", "CreatedDate": "2020-01-01T00:00:00.000+0000"}
        ),
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        ["CreatedDate"],
    )


def test_task_defaults_and_owner_default_to_the_integration_user(salesforce_emulator, sf_client):
    task_id = sf_client.Task.create({"Subject": "Call"})["id"]
    task = salesforce_emulator.record("Task", task_id)
    assert (task["Status"], task["Priority"]) == ("Not Started", "Normal")
    assert task["OwnerId"] == salesforce_emulator.integration_user_id


# --- ids -------------------------------------------------------------------------


def test_ids_are_18_characters_with_key_prefixes_and_a_valid_checksum(
    salesforce_emulator, sf_client
):
    account = salesforce_emulator.seed_account()
    opportunity = sf_client.Opportunity.create(
        {"Name": "O", "StageName": "Prospecting", "CloseDate": "2025-03-01", "AccountId": account}
    )["id"]
    task = sf_client.Task.create({"WhatId": opportunity})["id"]
    signal_id = sf_client.Expansion_Signal__c.create({"Signal_Id__c": "s"})["id"]
    for record_id, prefix in [
        (account, "001"),
        (opportunity, "006"),
        (task, "00T"),
        (signal_id, "a0B"),
        (salesforce_emulator.integration_user_id, "005"),
    ]:
        assert len(record_id) == 18 and record_id.startswith(prefix)
        assert normalize(record_id[:15]) == record_id


def test_ids_are_deterministic_after_a_reset(salesforce_emulator):
    first = salesforce_emulator.seed_account()
    salesforce_emulator.reset()
    assert salesforce_emulator.seed_account() == first


# --- SOQL -------------------------------------------------------------------


def test_user_lookup_by_escaped_email(salesforce_emulator, sf_client):
    user = salesforce_emulator.seed_user("o'brien@example.com")
    salesforce_emulator.seed_user("old@example.com", is_active=False)
    soql = "SELECT Id, Email FROM User WHERE Email = {} AND IsActive = true LIMIT 1"
    result = sf_client.query(format_soql(soql, "O'Brien@Example.com"))
    assert result == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{user}"},
                "Id": user,
                "Email": "o'brien@example.com",
            }
        ],
    }
    assert sf_client.query(format_soql(soql, "old@example.com"))["totalSize"] == 0


def test_records_by_external_id_in_a_list(sf_client, salesforce_emulator):
    for key in ("a", "b", "c"):
        sf_client.Expansion_Signal__c.create({"Signal_Id__c": key, "Status__c": "Open"})
    soql = format_soql(
        "SELECT Signal_Id__c, Status__c FROM Expansion_Signal__c WHERE Signal_Id__c IN {} "
        "ORDER BY Signal_Id__c DESC",
        ["a", "C", "zz"],
    )
    records = sf_client.query(soql)["records"]
    assert [(r["Signal_Id__c"], r["Status__c"]) for r in records] == [("c", "Open"), ("a", "Open")]
    assert list(records[0]) == ["attributes", "Signal_Id__c", "Status__c"]


def test_query_pages_with_next_records_url_and_query_all_follows(salesforce_emulator, sf_client):
    salesforce_emulator.settings.query_page_size = 3
    for n in range(7):
        salesforce_emulator.seed_account(f"Account {n}")
    first = sf_client.query("SELECT Id, Name FROM Account")
    assert (first["totalSize"], first["done"], len(first["records"])) == (7, False, 3)
    assert re.match(r"^/services/data/v59\.0/query/01g\w{15}-3$", first["nextRecordsUrl"])
    second = sf_client.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["nextRecordsUrl"].endswith("-6")
    everything = sf_client.query_all("SELECT Id, Name FROM Account")
    assert [r["Name"] for r in everything["records"]] == [f"Account {n}" for n in range(7)]
    assert everything["done"] is True and everything["totalSize"] == 7


def test_count_query(salesforce_emulator, sf_client):
    salesforce_emulator.seed_account()
    assert sf_client.query("SELECT COUNT() FROM Account") == {
        "totalSize": 1,
        "done": True,
        "records": [],
    }


class Clock:
    """The org's clock, set by hand: records get the timestamps a test names."""

    def __init__(self, emulator: SalesforceEmulator, start: datetime) -> None:
        self.now = start
        emulator.org.clock = lambda: self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


OPPORTUNITY = {"Name": "Upsell", "StageName": "Prospecting", "CloseDate": "2026-03-31"}


def test_opportunity_is_closed_and_is_won_follow_the_stage(salesforce_emulator, sf_client):
    clock = Clock(salesforce_emulator, at("2026-01-05T09:00:00"))
    opportunity = sf_client.Opportunity.create(OPPORTUNITY)["id"]
    fields = ("StageName", "IsClosed", "IsWon", "CreatedDate", "LastModifiedDate")

    def read() -> tuple[Any, ...]:
        record = sf_client.Opportunity.get(opportunity)
        return tuple(record[f] for f in fields)

    created = "2026-01-05T09:00:00.000+0000"
    assert read() == ("Prospecting", False, False, created, created)
    clock.set(at("2026-02-01T10:30:00.250"))
    assert sf_client.Opportunity.update(opportunity, {"StageName": "Closed Won",
                                                      "Amount": 1200.5}) == 204
    assert read() == ("Closed Won", True, True, created, "2026-02-01T10:30:00.250+0000")
    assert sf_client.Opportunity.get(opportunity)["Amount"] == 1200.5
    clock.set(at("2026-02-02T08:00:00"))
    sf_client.Opportunity.update(opportunity, {"StageName": "Closed Lost"})
    assert read() == ("Closed Lost", True, False, created, "2026-02-02T08:00:00.000+0000")
    described = {f["name"]: f for f in sf_client.Opportunity.describe()["fields"]}
    assert described["IsWon"]["type"] == "boolean" and not described["IsWon"]["updateable"]
    assert_400(lambda: sf_client.Opportunity.update(opportunity, {"IsWon": True}),
               "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsWon"])


def test_collections_and_bulk_derive_is_won_too(salesforce_emulator, sf_client):
    sf_client.restful(
        "composite/sobjects/Opportunity/Expansion_Signal_Id__c", method="PATCH",
        json={"allOrNone": False, "records": [
            {"attributes": {"type": "Opportunity"}, "Expansion_Signal_Id__c": "s1",
             **OPPORTUNITY, "StageName": "Closed Won"}]})
    sf_client.bulk2.Opportunity.upsert(
        records=[{"Expansion_Signal_Id__c": "s2", **OPPORTUNITY, "StageName": "Closed Lost"}],
        external_id_field="Expansion_Signal_Id__c", wait=0)
    won = {r["Expansion_Signal_Id__c"]: (r["IsClosed"], r["IsWon"])
           for r in salesforce_emulator.records("Opportunity")}
    assert won == {"s1": (True, True), "s2": (True, False)}


def test_datetime_literals_compare_as_points_in_time(salesforce_emulator, sf_client):
    clock = Clock(salesforce_emulator, at("2026-01-01T00:00:00"))
    for name, moment in (("midnight", "2026-01-01T00:00:00"),
                         ("half past nine", "2026-01-01T09:30:00.500"),
                         ("next day", "2026-01-02T00:00:00")):
        clock.set(at(moment))
        salesforce_emulator.seed_account(name)

    def names(where: str) -> list[str]:
        soql = f"SELECT Name FROM Account WHERE {where} ORDER BY CreatedDate"
        return [r["Name"] for r in sf_client.query_all(soql)["records"]]

    assert names("CreatedDate > 2026-01-01T00:00:00Z") == ["half past nine", "next day"]
    assert names("CreatedDate >= 2026-01-01T00:00:00Z") == [
        "midnight", "half past nine", "next day"]
    # Offsets: 10:30 at +01:00 is 09:30 UTC; as text "2026-01-01T10:30" sorts after 09:30.
    assert names("CreatedDate >= 2026-01-01T10:30:00+01:00") == ["half past nine", "next day"]
    assert names("CreatedDate < 2026-01-01T01:00:00+0100") == []
    assert names("CreatedDate <= 2026-01-01T01:00:00+0100") == ["midnight"]
    # Milliseconds, as the API writes them back.
    assert names("CreatedDate > 2026-01-01T09:30:00.499+0000") == ["half past nine", "next day"]
    assert names("CreatedDate > 2026-01-01T09:30:00.500Z") == ["next day"]
    assert names("CreatedDate = 2026-01-01T09:30:00.5Z") == ["half past nine"]
    assert names("CreatedDate IN (2026-01-02T00:00:00Z, 2026-01-01T00:00:00-00:00)") == [
        "midnight", "next day"]


def test_date_literals_compare_as_dates(sf_client):
    for close in ("2026-03-01", "2026-03-31", "2026-04-01"):
        sf_client.Opportunity.create({**OPPORTUNITY, "Name": close, "CloseDate": close})
    soql = ("SELECT Name FROM Opportunity WHERE CloseDate >= 2026-03-02 AND "
            "CloseDate <= 2026-03-31")
    assert [r["Name"] for r in sf_client.query(soql)["records"]] == ["2026-03-31"]


def test_null_and_not_null_filters(salesforce_emulator, sf_client):
    sf_client.Opportunity.create({**OPPORTUNITY, "Name": "ours",
                                  "Expansion_Signal_Id__c": "sig-1"})
    sf_client.Opportunity.create({**OPPORTUNITY, "Name": "theirs"})

    def names(where: str) -> list[str]:
        return [r["Name"] for r in
                sf_client.query(f"SELECT Name FROM Opportunity WHERE {where}")["records"]]

    assert names("Expansion_Signal_Id__c != null") == ["ours"]
    assert names("Expansion_Signal_Id__c <> null") == ["ours"]
    assert names("Expansion_Signal_Id__c = null") == ["theirs"]
    assert names("Amount = null AND NOT Expansion_Signal_Id__c = null") == ["ours"]


def test_read_back_query_pages_through_query_all(salesforce_emulator, sf_client):
    """The sync's read-back query: its Opportunities changed since a watermark, all pages."""
    salesforce_emulator.settings.query_page_size = 2
    clock = Clock(salesforce_emulator, at("2026-01-01T08:00:00"))
    for n in range(5):
        sf_client.Opportunity.upsert(f"Expansion_Signal_Id__c/sig-{n}", dict(OPPORTUNITY))
    sf_client.Opportunity.create({**OPPORTUNITY, "Name": "not ours"})
    clock.set(at("2026-01-03T12:00:00.120"))
    for n in (1, 3, 4):
        sf_client.Opportunity.update(f"Expansion_Signal_Id__c/sig-{n}",
                                     {"StageName": "Closed Won", "Amount": 100.0 * n})
    soql = ("SELECT Id, Expansion_Signal_Id__c, StageName, IsClosed, IsWon, Amount, CloseDate, "
            "CreatedDate, LastModifiedDate FROM Opportunity WHERE Expansion_Signal_Id__c != null "
            "AND LastModifiedDate >= 2026-01-03T12:00:00Z")
    found = sf_client.query_all(soql)
    assert found["totalSize"] == 3 and len(salesforce_emulator.calls("query.more")) == 1
    record = found["records"][0]
    assert list(record)[1:] == ["Id", "Expansion_Signal_Id__c", "StageName", "IsClosed", "IsWon",
                                "Amount", "CloseDate", "CreatedDate", "LastModifiedDate"]
    assert [(r["Expansion_Signal_Id__c"], r["IsWon"], r["Amount"]) for r in found["records"]] == [
        ("sig-1", True, 100.0), ("sig-3", True, 300.0), ("sig-4", True, 400.0)]
    assert record["CreatedDate"] == "2026-01-01T08:00:00.000+0000"
    assert record["LastModifiedDate"] == "2026-01-03T12:00:00.120+0000"
    assert record["CloseDate"] == "2026-03-31"


@pytest.mark.parametrize(
    ("where", "error_code"),
    [
        ("CreatedDate > 2026-01-01", "INVALID_FIELD"),  # a date for a dateTime field
        ("CloseDate > 2026-01-01T00:00:00Z", "INVALID_FIELD"),  # and the other way round
        ("CreatedDate > '2026-01-01T00:00:00Z'", "INVALID_FIELD"),  # quoted
        ("Name > 2026-01-01", "INVALID_FIELD"),
        ("CreatedDate > 2026-01-01T00:00:00", "MALFORMED_QUERY"),  # no zone
        ("CreatedDate > 2026-13-01T00:00:00Z", "MALFORMED_QUERY"),
        ("CloseDate > 2026-02-30", "MALFORMED_QUERY"),
    ],
)
def test_dates_filter_only_fields_of_their_type(sf_client, where, error_code):
    error = assert_400(lambda: sf_client.query(f"SELECT Id FROM Opportunity WHERE {where}"),
                       error_code)
    if error_code == "INVALID_FIELD" and "Name" not in where:
        assert "must be of type date" in error["message"]


def test_a_reset_puts_the_wall_clock_back(salesforce_emulator, sf_client):
    Clock(salesforce_emulator, at("2001-01-01T00:00:00"))
    salesforce_emulator.reset()
    account = sf_client.Account.create({"Name": "A"})["id"]
    assert not sf_client.Account.get(account)["CreatedDate"].startswith("2001-")


@pytest.mark.parametrize(
    ("soql", "error_code"),
    [
        ("SELECT FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Owner.Email FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY"),
        ("SELECT Nope__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
    ],
)
def test_unsupported_or_invalid_soql_is_a_400(sf_client, soql, error_code):
    assert_400(lambda: sf_client.query(soql), error_code)


# --- sObject Collections ----------------------------------------------------


def test_collection_upsert_returns_results_in_request_order(salesforce_emulator, sf_client):
    sf_client.Expansion_Signal__c.create({"Signal_Id__c": "b"})
    results = sf_client.restful(
        UPSERT_SIGNALS,
        method="PATCH",
        json={"allOrNone": False, "records": [signal("a"), signal("b")]},
    )
    ids = {r["Signal_Id__c"]: r["Id"] for r in salesforce_emulator.records(SIGNAL)}
    assert results == [
        {"id": ids["a"], "success": True, "errors": [], "created": True},
        {"id": ids["b"], "success": True, "errors": [], "created": False},
    ]


def test_collection_partial_failure_is_200_with_per_record_status_codes(
    salesforce_emulator, sf_client
):
    records = [signal("ok1"), signal("bad", Urgency__c="urgent"), signal("ok2", Play__c="x" * 81)]
    results = sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": records})
    assert results[0]["success"] is True
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "message": "Urgency: bad value for restricted picklist field: urgent",
                "fields": ["Urgency__c"],
            }
        ],
    }
    assert results[2]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert [r["Signal_Id__c"] for r in salesforce_emulator.records(SIGNAL)] == ["ok1"]


def test_all_or_none_rolls_everything_back(salesforce_emulator, sf_client):
    sf_client.Expansion_Signal__c.create({"Signal_Id__c": "existing", "Urgency__c": "low"})
    records = [
        signal("existing", Urgency__c="high"),
        signal("new"),
        signal("bad", Motion__c="nope"),
    ]
    results = sf_client.restful(
        UPSERT_SIGNALS, method="PATCH", json={"allOrNone": True, "records": records}
    )
    rolled_back = {
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was "
        "using AllOrNone header",
        "fields": [],
    }
    assert results[0] == {"success": False, "errors": [rolled_back]}
    assert results[1] == {"success": False, "errors": [rolled_back]}
    assert results[2]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    [kept] = salesforce_emulator.records(SIGNAL)
    assert (kept["Signal_Id__c"], kept["Urgency__c"]) == ("existing", "low")


def test_collection_create_and_update(salesforce_emulator, sf_client):
    created = sf_client.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [{"attributes": {"type": "Account"}, "Name": "A"}, {"Name": "no type"}]},
    )
    assert created[0]["success"] is True
    assert created[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_TYPE",
                "message": "Must send a concrete entity type.",
                "fields": [],
            }
        ],
    }
    updated = sf_client.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "id": created[0]["id"], "Name": "B"},
                {"attributes": {"type": "Account"}, "Name": "no id"},
            ]
        },
    )
    assert updated[0] == {"id": created[0]["id"], "success": True, "errors": []}
    assert updated[1]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert salesforce_emulator.record("Account", created[0]["id"])["Name"] == "B"


def test_more_than_200_records_is_a_400(sf_client, salesforce_emulator):
    records = [signal(f"s{n}") for n in range(201)]
    error = assert_400(
        lambda: sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": records}),
        "EXCEEDED_ID_LIMIT",
    )
    assert "200" in error["message"]
    assert salesforce_emulator.records(SIGNAL) == []


def test_duplicate_external_ids_inside_one_collection_both_fail(sf_client, salesforce_emulator):
    results = sf_client.restful(
        UPSERT_SIGNALS, method="PATCH", json={"records": [signal("x"), signal("X"), signal("y")]}
    )
    assert [r["success"] for r in results] == [False, False, True]
    assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"


def test_collection_upsert_needs_api_46(salesforce_emulator, raw):
    response = raw.patch(url(salesforce_emulator, UPSERT_SIGNALS, "45.0"), json={"records": []})
    assert response.status_code == 404


def test_unknown_field_in_a_collection_fails_the_request(sf_client, salesforce_emulator):
    assert_400(
        lambda: sf_client.restful(
            UPSERT_SIGNALS, method="PATCH", json={"records": [signal("a"), signal("b", Foo__c=1)]}
        ),
        "INVALID_FIELD",
    )
    assert salesforce_emulator.records(SIGNAL) == []


# --- recording, counting, reset ---------------------------------------------------


def test_every_request_is_recorded_with_kind_and_decoded_body(salesforce_emulator, sf_client):
    sf_client.Expansion_Signal__c.upsert("Signal_Id__c/s1", {"Urgency__c": "high"})
    sf_client.query("SELECT Id FROM User")
    sf_client.restful(UPSERT_SIGNALS, method="PATCH", json={"records": [signal("s2")]})
    upsert, query, collection = salesforce_emulator.calls()
    assert (upsert.method, upsert.path, upsert.kind, upsert.status) == (
        "PATCH",
        f"/services/data/v59.0/sobjects/{SIGNAL}/Signal_Id__c/s1",
        "sobject.upsert",
        201,
    )
    assert upsert.body == {"Urgency__c": "high"}
    assert "Authorization" not in upsert.headers
    assert query.kind == "query" and "q=SELECT" in query.query
    assert collection.body["records"][0]["Signal_Id__c"] == "s2"
    assert salesforce_emulator.counts() == {"sobject.upsert": 1, "query": 1, "composite.upsert": 1}
    assert salesforce_emulator.write_count() == 2
    assert [c.kind for c in salesforce_emulator.calls("composite")] == ["composite.upsert"]


def test_reset_counters_keeps_data(salesforce_emulator, sf_client):
    sf_client.Account.create({"Name": "A"})
    salesforce_emulator.reset_counters()
    assert salesforce_emulator.calls() == [] and salesforce_emulator.api_used == 0
    assert len(salesforce_emulator.records("Account")) == 1


def test_control_endpoints_reset_and_inspect(salesforce_emulator, sf_client):
    sf_client.Account.create({"Name": "A"})
    control = clients.salesforce_session(salesforce_emulator.ca_path)
    base = f"{salesforce_emulator.instance_url}/__emulator"
    assert [r["Name"] for r in control.get(f"{base}/records/Account").json()] == ["A"]
    assert control.get(f"{base}/usage").json()["write_calls"] == 1
    assert control.post(f"{base}/reset").status_code == 200
    assert salesforce_emulator.records("Account") == []
    assert salesforce_emulator.calls() == []  # control calls are not recorded


def test_clock_makes_timestamps_deterministic(salesforce_emulator, sf_client):
    from datetime import UTC, datetime

    salesforce_emulator.org.clock = lambda: datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    record_id = sf_client.Account.create({"Name": "A"})["id"]
    assert sf_client.Account.get(record_id)["CreatedDate"] == "2025-01-02T03:04:05.678+0000"


def test_describe_lists_the_schema(sf_client):
    described = sf_client.Expansion_Signal__c.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["keyPrefix"] == "a0B"
    assert fields["Signal_Id__c"]["externalId"] is True and fields["Signal_Id__c"]["unique"] is True
    assert [v["value"] for v in fields["Urgency__c"]["picklistValues"]] == ["high", "medium", "low"]


def test_collections_need_api_42(salesforce_emulator, raw):
    response = raw.post(
        url(salesforce_emulator, "composite/sobjects", "41.0"), json={"records": []}
    )
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_a_non_id_segment_reads_as_an_external_id_field(salesforce_emulator, raw):
    response = raw.get(url(salesforce_emulator, "sobjects/Account/not-an-id"))
    assert response.status_code == 404
    assert response.json() == [
        {
            "message": "Provided external ID field does not exist or is not accessible: not-an-id",
            "errorCode": "NOT_FOUND",
        }
    ]


def test_control_endpoints_seed_users_accounts_and_sessions(salesforce_emulator, sf_client):
    control = clients.salesforce_session(salesforce_emulator.ca_path)
    base = f"{salesforce_emulator.instance_url}/__emulator"
    user = control.post(f"{base}/users", json={"email": "ana@example.com"}).json()["id"]
    account = control.post(f"{base}/accounts", json={"name": "Acme"}).json()["id"]
    assert salesforce_emulator.record("User", user)["Email"] == "ana@example.com"
    assert salesforce_emulator.record("Account", account)["Name"] == "Acme"
    token = control.post(f"{base}/sessions").json()["session_id"]
    control.post(f"{base}/sessions/expire", json={"token": token})
    with pytest.raises(SalesforceExpiredSession):
        clients.salesforce_client(salesforce_emulator, session_id=token).limits()
    usage = control.post(f"{base}/usage", json={"api_used": 99_999}).json()
    assert usage["api_used"] == 99_999
    sf_client.limits()
    with pytest.raises(SalesforceRefusedRequest):
        sf_client.limits()
