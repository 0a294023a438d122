"""Building the Salesforce and Slack clients from settings (the CLI does; tests hand in their own).

The sync itself never builds a client: it is handed a SalesforceConnection and
a WebClient, so the same code talks to a real org and workspace or to the
local emulators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from simple_salesforce import Salesforce
from slack_sdk import WebClient

from sync.config import SalesforceSettings, SlackSettings
from sync.errors import SyncAborted


class TimeoutSession(requests.Session):
    """simple-salesforce's create/upsert take no timeout; the session is where one can be set."""

    def __init__(self, timeout: float | None) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def http_session(settings: SalesforceSettings) -> requests.Session:
    session = TimeoutSession(settings.timeout)
    if settings.ca_bundle:
        session.verify = settings.ca_bundle
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment would override `verify`.
        session.trust_env = False
    return session


@dataclass
class SalesforceConnection:
    """A client plus, when client credentials are configured, a way to get a fresh one."""

    client: Salesforce
    instance_url: str
    renew: Callable[[], Salesforce] | None = None

    def refresh(self) -> None:
        if self.renew is None:
            raise SyncAborted(
                "the Salesforce session expired and no client credentials are configured "
                "(SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET) to renew it"
            )
        self.client = self.renew()

    def record_url(self, sobject: str, record_id: str) -> str:
        return f"{self.instance_url}/lightning/r/{sobject}/{record_id}/view"


def fetch_token(settings: SalesforceSettings, session: requests.Session) -> str:
    """OAuth 2.0 client-credentials flow; the error names the HTTP status, never the secret."""
    url = f"{settings.login_url or settings.instance_url}/services/oauth2/token"
    try:
        response = session.post(
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            },
        )
    except requests.RequestException as error:
        name = type(error).__name__
        raise SyncAborted(f"Salesforce token request to {url} failed: {name}") from None
    if response.status_code != 200:
        try:
            reason = response.json().get("error", "")
        except ValueError:
            reason = ""
        raise SyncAborted(f"Salesforce token request failed: HTTP {response.status_code} {reason}")
    return str(response.json()["access_token"])


def connect_salesforce(settings: SalesforceSettings) -> SalesforceConnection:
    def build(token: str) -> Salesforce:
        return Salesforce(
            instance_url=settings.instance_url,
            session_id=token,
            version=settings.api_version,
            session=http_session(settings),
        )

    def renew() -> Salesforce:
        return build(fetch_token(settings, http_session(settings)))

    can_renew = settings.has_client_credentials
    client = build(settings.access_token) if settings.access_token else renew()
    return SalesforceConnection(client, settings.instance_url, renew if can_renew else None)


def connect_slack(settings: SlackSettings) -> WebClient:
    # No SDK retry handlers: retries are the sync's (sync.errors), and a blind retry
    # of chat.postMessage after a dropped connection could post twice.
    return WebClient(
        token=settings.bot_token, base_url=settings.api_url, timeout=int(settings.timeout),
        retry_handlers=[],
    )
