"""Building the Salesforce and Slack clients from settings (the CLI does; tests hand in their own).

The sync itself never builds a client: it is handed a SalesforceConnection and
a WebClient, so the same code talks to a real org and workspace or to the
local emulators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession
from slack_sdk import WebClient

from expansion_signals.config import SalesforceSettings, SlackSettings
from expansion_signals.errors import RetryPolicy, SyncAborted, with_retries

T = TypeVar("T")
TOKEN_PATH = "/services/oauth2/token"
REASON_LIMIT = 200


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

    def once(self, action: Callable[[Salesforce], T]) -> T:
        """One try of an API call, renewing an expired session once."""
        try:
            return action(self.client)
        except SalesforceExpiredSession:
            self.refresh()
            return action(self.client)

    def call(self, action: Callable[[Salesforce], T], policy: RetryPolicy) -> T:
        """One API call under the retry policy, renewing an expired session once."""
        return with_retries(policy, lambda: self.once(action))

    def record_url(self, sobject: str, record_id: str) -> str:
        return f"{self.instance_url}/lightning/r/{sobject}/{record_id}/view"


def token_error_reason(response: requests.Response) -> str:
    """The server's reason for refusing a token, from any of the shapes it comes in.

    OAuth errors are `{"error", "error_description"}`; a REST-style failure is the
    array `[{"message", "errorCode"}]`; a proxy or maintenance page
    is not JSON at all, and only its type is worth saying.
    """
    try:
        body = response.json()
    except ValueError:
        kind = (response.headers.get("Content-Type") or "no content type").split(";")[0]
        return f"not a JSON answer ({kind})"
    parts: list[Any] = []
    if isinstance(body, dict):
        parts = [body.get("error"), body.get("error_description")]
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        parts = [body[0].get("errorCode"), body[0].get("message")]
    return ": ".join(str(p) for p in parts if p) or "no reason given"


def fetch_token(
    settings: SalesforceSettings, session: requests.Session, policy: RetryPolicy | None = None
) -> str:
    """OAuth 2.0 client-credentials flow, under the one retry policy.

    Connection errors, 5xx and 429 are retried; what is left is one line naming
    the URL (no query), the HTTP status and the server's reason, never the secret.
    """
    url = f"{settings.login_url or settings.instance_url}{TOKEN_PATH}"
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
    }

    def post() -> requests.Response:
        response = session.post(url, data=form)
        if response.status_code == 429 or response.status_code >= 500:
            response.raise_for_status()  # an HTTPError the policy calls transient
        return response

    def refused(what: str) -> SyncAborted:
        if settings.client_secret:  # a server may echo what it was sent
            what = what.replace(settings.client_secret, "***")
        return SyncAborted(f"Salesforce token request to {url} failed: {what[:REASON_LIMIT]}")

    try:
        response = with_retries(policy or RetryPolicy(), post)
    except requests.HTTPError as error:  # still 5xx or 429 after the retries
        response = error.response
    except requests.RequestException as error:
        raise refused(type(error).__name__) from None
    if response.status_code != 200:
        raise refused(f"HTTP {response.status_code} {token_error_reason(response)}")
    try:
        token = response.json().get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not token:
        raise refused("HTTP 200 without an access_token")
    return str(token)


def connect_salesforce(
    settings: SalesforceSettings, policy: RetryPolicy | None = None
) -> SalesforceConnection:
    def build(token: str) -> Salesforce:
        return Salesforce(
            instance_url=settings.instance_url,
            session_id=token,
            version=settings.api_version,
            session=http_session(settings),
        )

    def renew() -> Salesforce:
        return build(fetch_token(settings, http_session(settings), policy))

    can_renew = settings.has_client_credentials
    client = build(settings.access_token) if settings.access_token else renew()
    return SalesforceConnection(client, settings.instance_url, renew if can_renew else None)


def connect_slack(settings: SlackSettings) -> WebClient:
    # No SDK retry handlers: retries are the sync's (expansion_signals.errors), and a blind retry
    # of chat.postMessage after a dropped connection could post twice.
    return WebClient(
        token=settings.bot_token, base_url=settings.api_url, timeout=int(settings.timeout),
        retry_handlers=[],
    )
