"""One place that says which API errors are worth retrying, and the one retry policy.

Salesforce and Slack report trouble in many shapes:
exception classes that cover many error codes, per-record `statusCode`s, HTTP
429 with Retry-After, raw transport errors. Everything is sorted here into

* TRANSIENT: retry with backoff now (connection, 5xx, 429, row locks, the
  concurrent-request limit);
* EXPIRED_SESSION: get a fresh token, rebuild the client, try again;
* FATAL: stop the run, retrying cannot help and every call would fail the same
  way (auth, the daily API allocation, a bad external-id field);
* PERMANENT: this record or message is wrong; record it, go on with the others,
  try again on the next run.

Whatever text an error carries on to people (the run log, the printed error,
the operations channel) goes through `redact` first: a transport error quotes
the URL it failed on, and a query's URL holds the SOQL with owners' emails.
"""

from __future__ import annotations

import http.client
import re
import socket
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import requests
import tenacity
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from slack_sdk.errors import SlackApiError

T = TypeVar("T")


class Kind(StrEnum):
    TRANSIENT = "transient"
    EXPIRED_SESSION = "expired_session"
    FATAL = "fatal"
    PERMANENT = "permanent"


# Per-record codes (collections `statusCode`, Bulk `sf__Error`) that another try can fix.
TRANSIENT_RECORD_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION", "REQUEST_RUNNING_TOO_LONG"}
)
SLACK_TRANSIENT = frozenset(
    {"ratelimited", "rate_limited", "fatal_error", "internal_error", "service_unavailable",
     "request_timeout"}
)
SLACK_FATAL = frozenset(
    {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive",
     "missing_scope", "no_permission", "ekm_access_denied"}
)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    socket.timeout,
    TimeoutError,
)


# A URL (its query, fragment and user:password@ are dropped), a `?a=b` query left
# anywhere (urllib3 quotes bare paths: "Max retries exceeded with url: /query/?q=..."),
# an email address, also percent-encoded (ana%40example.com).
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
_QUERY = re.compile(r"\?[^\s'\"<>=]*=[^\s'\"<>]*")
_EMAIL = re.compile(r"[\w.+%'-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_TRAILING = ").,;:!]}"
REDACTED_EMAIL = "<email>"


def _bare_url(match: re.Match[str]) -> str:
    text, trail = match.group(0), ""
    while text and text[-1] in _TRAILING:  # closes the sentence around the URL
        text, trail = text[:-1], text[-1] + trail
    base = re.split(r"[?#]", text, maxsplit=1)[0]
    return re.sub(r"//[^/@]*@", "//", base, count=1) + trail


def redact(text: str) -> str:
    """One line fit for people: URLs cut to scheme://host/path, no query string, no email."""
    text = _URL.sub(_bare_url, text)
    text = _QUERY.sub("", text)
    text = _EMAIL.sub(REDACTED_EMAIL, text)
    return " ".join(text.split())


class SyncAborted(RuntimeError):
    """A FATAL error: the run stops; what was acknowledged so far stays committed.

    Its message is shown to people as it is, so it is redacted here, once.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class RecordsLeftTransient(Exception):
    """Some records of a batch failed with a transient per-record code: send just those again."""

    def __init__(self, codes: list[str]) -> None:
        names = ", ".join(sorted(set(codes)))
        super().__init__(f"{len(codes)} records failed transiently: {names}")
        self.codes = codes


def salesforce_error_code(error: SalesforceError) -> str:
    """The errorCode of a top-level Salesforce error ('' when the body is not the JSON array)."""
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode") or "")
    return ""


def salesforce_error_message(error: SalesforceError) -> str:
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message") or "")
    return str(content)[:200]


def classify(error: BaseException) -> Kind:
    if isinstance(error, RecordsLeftTransient):
        return Kind.TRANSIENT
    if isinstance(error, SyncAborted):
        return Kind.FATAL
    if isinstance(error, SalesforceExpiredSession):
        return Kind.EXPIRED_SESSION
    if isinstance(error, SalesforceRefusedRequest):
        # One code, two limits: the concurrent one passes, the daily one does not.
        concurrent = "ConcurrentPerOrg" in salesforce_error_message(error)
        return Kind.TRANSIENT if concurrent else Kind.FATAL
    if isinstance(error, SalesforceMalformedRequest):
        if salesforce_error_code(error) in TRANSIENT_RECORD_CODES:
            return Kind.TRANSIENT
        return Kind.PERMANENT
    if isinstance(error, SalesforceResourceNotFound):
        return Kind.FATAL  # an object or external-id field the org does not have
    if isinstance(error, SalesforceGeneralError):
        return Kind.TRANSIENT if error.status >= 500 else Kind.PERMANENT
    if isinstance(error, SalesforceOperationError):
        return Kind.TRANSIENT  # a failed Bulk job: its rows are sent again
    if isinstance(error, SalesforceError):
        return Kind.PERMANENT
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = str(error.response.get("error", ""))
        if status == 429 or status >= 500 or code in SLACK_TRANSIENT:
            return Kind.TRANSIENT
        if code in SLACK_FATAL:
            return Kind.FATAL
        return Kind.PERMANENT
    if isinstance(error, requests.HTTPError):  # raise_for_status() of a plain request
        status = error.response.status_code if error.response is not None else 0
        return Kind.TRANSIENT if status == 429 or status >= 500 else Kind.PERMANENT
    if isinstance(error, TRANSPORT_ERRORS):
        return Kind.TRANSIENT
    return Kind.PERMANENT


def describe(error: BaseException) -> tuple[str, str]:
    """(code, message) for the operation log: short, redacted, and never a credential."""
    if isinstance(error, SalesforceError):
        code = salesforce_error_code(error) or f"HTTP_{error.status}"
        return code, redact(salesforce_error_message(error))[:300]
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "slack_error")), f"HTTP {error.response.status_code}"
    return type(error).__name__, redact(str(error))[:300]


def retry_after(error: BaseException) -> float | None:
    """Seconds the server asked us to wait (Slack's Retry-After on 429)."""
    if isinstance(error, SlackApiError):
        value = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after"
        )
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry TRANSIENT errors within a run; what is left waits for the next run."""

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential(
        multiplier=policy.initial_wait, max=policy.max_wait
    ) + tenacity.wait_random(0, policy.initial_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after(error) if error else None
        # Retry-After is the server's minimum, and is honoured even above max_wait.
        return max(asked, backoff(state)) if asked is not None else backoff(state)

    return wait


def with_retries(policy: RetryPolicy, action: Callable[[], T]) -> T:
    """`action` under the one retry policy: TRANSIENT errors tried again, the rest raised."""
    return retrying(policy)(action)


def retrying(policy: RetryPolicy) -> tenacity.Retrying:
    """The retry loop every API call goes through: TRANSIENT errors only, backoff, then re-raise."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda e: classify(e) is Kind.TRANSIENT),
        wait=_wait(policy),
        stop=tenacity.stop_after_attempt(max(1, policy.attempts)),
        reraise=True,
    )
