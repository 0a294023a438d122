"""The token endpoint's faults, sObject Describe and API versions on the Salesforce emulator."""

from __future__ import annotations

import pytest
import requests
from expansion_dev.emulators import clients, faults
from expansion_dev.emulators.salesforce import SalesforceEmulator
from simple_salesforce import SalesforceResourceNotFound

TOKEN = "/services/oauth2/token"


@pytest.fixture
def session(salesforce_emulator: SalesforceEmulator) -> requests.Session:
    return clients.salesforce_session(salesforce_emulator.ca_path)


def ask_token(emulator: SalesforceEmulator, session: requests.Session) -> requests.Response:
    return session.post(f"{emulator.instance_url}{TOKEN}", data={
        "grant_type": "client_credentials",
        "client_id": emulator.settings.client_id,
        "client_secret": emulator.settings.client_secret,
    })


def test_token_endpoint_answers_503_once_then_a_token(salesforce_emulator, session):
    salesforce_emulator.inject(faults.unavailable(), kind="oauth.token")
    refused = ask_token(salesforce_emulator, session)
    assert refused.status_code == 503
    assert refused.json() == [{"message": "maintenance", "errorCode": "SERVER_UNAVAILABLE"}]
    granted = ask_token(salesforce_emulator, session)
    assert granted.status_code == 200 and granted.json()["access_token"]
    assert [c.status for c in salesforce_emulator.calls("oauth.token")] == [503, 200]


def test_token_endpoint_error_shapes(salesforce_emulator, session):
    salesforce_emulator.inject(
        faults.sf_error(403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization"),
        kind="oauth.token",
    )
    salesforce_emulator.inject(faults.oauth_error(400, "invalid_grant", "no such user"),
                               kind="oauth.token")
    salesforce_emulator.inject(faults.html_error(502), kind="oauth.token")
    as_array = ask_token(salesforce_emulator, session)
    assert as_array.status_code == 403
    assert as_array.json()[0]["errorCode"] == "API_DISABLED_FOR_ORG"
    as_object = ask_token(salesforce_emulator, session)
    assert as_object.json() == {"error": "invalid_grant", "error_description": "no such user"}
    as_html = ask_token(salesforce_emulator, session)
    assert as_html.status_code == 502 and as_html.text.startswith("<html>")
    wrong = session.post(f"{salesforce_emulator.instance_url}{TOKEN}",
                         data={"grant_type": "client_credentials", "client_id": "x",
                               "client_secret": "y"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"


def test_describe_lists_the_fields_and_an_unknown_object_is_404(sf_client):
    described = sf_client.restful("sobjects/Expansion_Signal__c/describe")
    fields = {f["name"]: f for f in described["fields"]}
    assert described["name"] == "Expansion_Signal__c"
    assert fields["Signal_Id__c"]["externalId"] is True
    assert fields["Urgency__c"]["externalId"] is False
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf_client.restful("sobjects/No_Such_Object__c/describe")
    assert caught.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_a_version_the_org_does_not_offer_is_404_under_its_base(salesforce_emulator):
    offered = clients.salesforce_client(salesforce_emulator, version="59.0")
    assert "sobjects" in offered.restful("")
    unknown = clients.salesforce_client(salesforce_emulator, version="99.0")
    for path in ("", "sobjects/Task/describe"):
        with pytest.raises(SalesforceResourceNotFound) as caught:
            unknown.restful(path)
        assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    offered.session.close()
    unknown.session.close()
