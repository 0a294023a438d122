"""Token renewal under the retry policy, its error shapes, and no URLs or emails in errors."""

from __future__ import annotations

import json
import socket
from dataclasses import replace

import pytest
from expansion_dev.emulators import clients, faults
from simple_salesforce import Salesforce

from expansion_signals.connections import (
    SalesforceConnection,
    connect_salesforce,
    fetch_token,
    http_session,
)
from expansion_signals.errors import SyncAborted, describe, redact
from expansion_signals.sync_report import result_lines
from tests.sync.conftest import OWNER, signal_row

SIGNAL = "Expansion_Signal__c"


@pytest.fixture
def credentials_only(settings):
    """Salesforce settings that must fetch a token: client credentials, no access token."""
    return replace(settings.salesforce, access_token="")


def test_one_503_on_the_token_request_is_retried(salesforce_emulator, settings, credentials_only):
    salesforce_emulator.inject(faults.unavailable(), kind="oauth.token")
    connection = connect_salesforce(credentials_only, settings.retry)
    try:
        assert connection.client.query("SELECT Id FROM User")["totalSize"] == 1
    finally:
        connection.client.session.close()
    assert [c.status for c in salesforce_emulator.calls("oauth.token")] == [503, 200]


def test_token_request_gives_up_after_the_policys_attempts(salesforce_emulator, settings,
                                                            credentials_only):
    salesforce_emulator.inject(faults.unavailable(), kind="oauth.token", times=10)
    with pytest.raises(SyncAborted, match="HTTP 503 SERVER_UNAVAILABLE: maintenance"):
        fetch_token(credentials_only, http_session(credentials_only), settings.retry)
    assert len(salesforce_emulator.calls("oauth.token")) == settings.retry.attempts


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (faults.oauth_error(400, "invalid_client", "invalid client credentials"),
         "HTTP 400 invalid_client: invalid client credentials"),
        (faults.sf_error(403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization"),
         "HTTP 403 API_DISABLED_FOR_ORG: API is not enabled for this Organization"),
        (faults.html_error(502), "HTTP 502 not a JSON answer (text/html)"),
        (faults.respond(400, []), "HTTP 400 no reason given"),
        (faults.respond(200, {"token_type": "Bearer"}), "HTTP 200 without an access_token"),
        (faults.drop(), "ConnectionError"),
    ],
    ids=["oauth-object", "rest-array", "html", "empty-array", "no-token", "dropped"],
)
def test_every_token_error_shape_is_one_line_without_the_secret(
    salesforce_emulator, settings, credentials_only, fault, expected
):
    salesforce_emulator.inject(fault, kind="oauth.token", times=10)
    with pytest.raises(SyncAborted) as caught:
        fetch_token(credentials_only, http_session(credentials_only), settings.retry)
    text = str(caught.value)
    assert text.startswith(f"Salesforce token request to {salesforce_emulator.instance_url}"
                           "/services/oauth2/token failed: ")
    assert text.endswith(expected)
    assert "\n" not in text and credentials_only.client_secret not in text


def test_a_secret_echoed_by_the_server_is_not_repeated(salesforce_emulator, settings,
                                                        credentials_only):
    secret = credentials_only.client_secret
    salesforce_emulator.inject(
        faults.oauth_error(400, "invalid_client", f"client_secret {secret} is wrong\nretry"),
        kind="oauth.token",
    )
    with pytest.raises(SyncAborted) as caught:
        fetch_token(credentials_only, http_session(credentials_only), settings.retry)
    assert secret not in str(caught.value) and "***" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_failed_renewal_mid_run_fails_the_run_in_one_line(mart, run_sync, salesforce_emulator,
                                                         slack_emulator, settings, ops_channel):
    mart.write([signal_row(1)])
    connection = connect_salesforce(settings.salesforce, settings.retry)
    salesforce_emulator.expire_session()
    salesforce_emulator.inject(
        faults.sf_error(403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization"),
        kind="oauth.token",
    )
    try:
        result = run_sync(salesforce=connection)
    finally:
        connection.client.session.close()
    assert result.status == "failed" and result.exit_code == 1
    assert result.error is not None
    assert "HTTP 403 API_DISABLED_FOR_ORG" in result.error
    assert "AttributeError" not in result.error
    assert settings.salesforce.client_secret not in result.error
    [notice] = slack_emulator.messages(ops_channel)
    assert "API_DISABLED_FOR_ORG" in notice["text"]
    assert salesforce_emulator.records(SIGNAL) == []


def test_renewal_mid_run_survives_one_503(mart, run_sync, salesforce_emulator, settings):
    mart.write([signal_row(1)])
    connection = connect_salesforce(settings.salesforce, settings.retry)
    salesforce_emulator.expire_session()
    salesforce_emulator.inject(faults.unavailable(), kind="oauth.token")
    try:
        result = run_sync(salesforce=connection, slack_client=None)
    finally:
        connection.client.session.close()
    assert result.status == "ok", result.error
    assert len(salesforce_emulator.records(SIGNAL)) == 1


# --- no query strings or personal data in what people see -----------------------------


def test_redact_cuts_urls_and_removes_emails():
    raw = ("HTTPSConnectionPool(host='h', port=1): Max retries exceeded with url: "
           "/services/data/v59.0/query/?q=SELECT+Id+FROM+User+WHERE+Email+IN+"
           "%28%27ana%40example.com%27%29 (Caused by NewConnectionError('refused'))\n"
           "see https://bob:pw@x.example.com:8443/a/b?token=1#top, or mail o'neil@example.org.")
    assert redact(raw) == (
        "HTTPSConnectionPool(host='h', port=1): Max retries exceeded with url: "
        "/services/data/v59.0/query/ (Caused by NewConnectionError('refused')) "
        "see https://x.example.com:8443/a/b, or mail <email>."
    )
    assert redact("Is it done? yes") == "Is it done? yes"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_transport_error_in_the_owner_lookup_leaks_no_query_or_email(
    mart, run_sync, salesforce_emulator, slack_emulator, ops_channel
):
    mart.write([signal_row(1)])
    unreachable = f"https://127.0.0.1:{closed_port()}"
    client = Salesforce(instance_url=unreachable, session_id="00D!AQ.unused", version="59.0",
                        session=clients.salesforce_session(salesforce_emulator.ca_path))
    result = run_sync(salesforce=SalesforceConnection(client, unreachable))
    assert result.status == "failed" and result.error
    assert result.error.startswith("ConnectionError: ")
    assert "/services/data/v59.0/query/" in result.error  # where, without what
    rows = mart.query("select error from expansion_sync.runs")
    [notice] = slack_emulator.messages(ops_channel)
    seen = {
        "runs.error": rows[0][0],
        "printed": "\n".join(result_lines(result)),
        "ops notice": json.dumps(notice),
    }
    for where, text in seen.items():
        for leak in ("?q=", "SELECT", OWNER, OWNER.replace("@", "%40"), "example.com"):
            assert leak not in text, f"{leak!r} in {where}: {text}"


def test_describe_redacts_every_kind_of_error():
    error = ConnectionError("GET https://h/services/data/v59.0/query/?q=x failed for a@b.co")
    assert describe(error) == (
        "ConnectionError", "GET https://h/services/data/v59.0/query/ failed for <email>"
    )
    assert str(SyncAborted("see /x/?q=SELECT+1 for a@b.co")) == "see /x/ for <email>"
