"""Fault injection shared by both emulators.

A test queues a fault for the next n requests that match it; each matching
request consumes one use, after which the emulator behaves normally again, so
retry paths can be exercised end to end. Faults come in two families:

* transport faults (`Respond`, `Delay`, `Drop`) replace or disturb the whole
  HTTP exchange and are applied before any endpoint runs;
* data faults (`RecordErrors`, `BulkJobFails`) are consumed only by endpoints
  that can express them (sObject Collections, Bulk 2.0), which is why a
  record-lock fault with no path does not get eaten by a query.

The same faults can be queued over HTTP (`POST /__emulator/faults`) with a JSON
body such as `{"kind": "expired_session", "times": 2, "path": "composite"}`,
see `fault_from_json`.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

TEXT_HTML = "text/html; charset=utf-8"
SF_JSON = "application/json;charset=UTF-8"
SLACK_JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Respond:
    """Answer with this status, body and headers instead of running the endpoint."""

    status: int
    body: Any = None  # str/bytes are sent as they are, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = SF_JSON
    name: str = "respond"


@dataclass(frozen=True)
class Delay:
    """Hold the response `seconds` long, past the client's timeout.

    With `commit=True` the write is applied before the wait (the client times
    out but the record landed); otherwise the request is dropped after the wait
    and nothing is applied.
    """

    seconds: float
    commit: bool = False
    name: str = "delay"


@dataclass(frozen=True)
class Drop:
    """Close the connection without a response, optionally after applying the write."""

    commit: bool = False
    name: str = "drop"


@dataclass(frozen=True)
class RecordErrors:
    """Fail chosen records of a collection or a Bulk upload with a per-record error.

    `indexes` are positions in the request (0-based); None fails every record.
    """

    status_code: str = "UNABLE_TO_LOCK_ROW"
    message: str = "unable to obtain exclusive access to this record"
    indexes: tuple[int, ...] | None = (0,)
    name: str = "record_errors"


@dataclass(frozen=True)
class BulkJobFails:
    """The Bulk 2.0 job ends in state Failed with this errorMessage."""

    message: str = "InternalServerError : an internal error occurred while processing the job"
    name: str = "bulk_job_fails"


Effect = Respond | Delay | Drop | RecordErrors | BulkJobFails
TRANSPORT_EFFECTS: tuple[type, ...] = (Respond, Delay, Drop)


@dataclass
class FaultRule:
    """One queued fault: what to do, to which requests, how many more times."""

    effect: Effect
    times: int = 1
    kind: str | None = None  # endpoint kind ("composite.upsert") or Slack method; prefix match
    method: str | None = None  # HTTP method
    path: str | None = None  # regex searched in the path (with query string)
    body_contains: str | None = None
    # Below 1: each matching request is hit with this probability, drawn from `rng`
    # (seeded by the test, so a replay fails the same calls every time).
    probability: float = 1.0
    rng: random.Random | None = field(default=None, repr=False, compare=False)

    def matches(self, method: str, path: str, kind: str, body: bytes) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.kind and not (kind == self.kind or kind.startswith(self.kind + ".")):
            return False
        if self.path and not re.search(self.path, path):
            return False
        return not (self.body_contains and self.body_contains.encode() not in body)

    def hits(self) -> bool:
        return self.probability >= 1.0 or (self.rng or random).random() < self.probability

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("rng", None)
        data["effect"] = {"type": type(self.effect).__name__, **asdict(self.effect)}
        return data


class FaultQueue:
    """Thread-safe FIFO of fault rules."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        effect: Effect,
        *,
        times: int = 1,
        kind: str | None = None,
        method: str | None = None,
        path: str | None = None,
        body_contains: str | None = None,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        rng = random.Random(seed) if probability < 1.0 else None
        rule = FaultRule(effect, times, kind, method, path, body_contains, probability, rng)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(
        self,
        method: str,
        path: str,
        kind: str,
        body: bytes,
        accept: tuple[type, ...],
    ) -> Effect | None:
        """Consume one use of the first pending rule of an accepted type that matches."""
        with self._lock:
            for rule in self._rules:
                if isinstance(rule.effect, accept) and rule.matches(method, path, kind, body):
                    if not rule.hits():
                        continue
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return rule.effect
        return None

    def pending(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


# --- Salesforce presets (the error bodies Salesforce returns) -------------------------------


def sf_error(status: int, error_code: str, message: str, *, name: str | None = None) -> Respond:
    """A top-level Salesforce error: a JSON array with errorCode."""
    body = [{"message": message, "errorCode": error_code}]
    return Respond(status, body, name=name or error_code.lower())


def expired_session() -> Respond:
    return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid", name="expired_session")


def daily_limit() -> Respond:
    # The Salesforce app stamps `api-usage=max/max` on responses carrying this name.
    return sf_error(
        403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", name="daily_limit"
    )


def concurrent_limit() -> Respond:
    return sf_error(
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentPerOrgLongTxn Limit exceeded.",
        name="concurrent_limit",
    )


def unavailable() -> Respond:
    return sf_error(503, "SERVER_UNAVAILABLE", "maintenance", name="unavailable")


def unknown_error() -> Respond:
    return sf_error(
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
        name="unknown_error",
    )


def row_lock() -> Respond:
    """UNABLE_TO_LOCK_ROW on a single-record DML call (400, SalesforceMalformedRequest)."""
    return sf_error(
        400,
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record",
        name="row_lock",
    )


def html_error(status: int = 503) -> Respond:
    """An edge/gateway failure with an HTML body instead of JSON."""
    title = {502: "502 Bad Gateway", 503: "503 Service Unavailable"}.get(status, f"{status} Error")
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return Respond(status, body, content_type=TEXT_HTML, name=f"html_{status}")


def oauth_error(
    status: int = 400,
    error: str = "invalid_grant",
    description: str = "authentication failure",
) -> Respond:
    """The token endpoint's own error shape: a JSON object, not the REST array.

    Queue it with `kind="oauth.token"`; the REST presets above (e.g. `unavailable()`)
    give the token endpoint an array body.
    """
    return Respond(status, {"error": error, "error_description": description}, name=error)


def record_lock(indexes: tuple[int, ...] | list[int] | None = (0,)) -> RecordErrors:
    """Per-record UNABLE_TO_LOCK_ROW in a collection result or Bulk failedResults."""
    return RecordErrors(indexes=None if indexes is None else tuple(indexes), name="record_lock")


# --- Slack presets (Slack's error envelope, rate limits) -------------------------------------


def ratelimited(retry_after: int = 1) -> Respond:
    """HTTP 429 with an integer Retry-After: slack-sdk would crash on a decimal."""
    return Respond(
        429,
        {"ok": False, "error": "ratelimited"},
        headers={"Retry-After": str(int(retry_after))},
        content_type=SLACK_JSON,
        name="ratelimited",
    )


def slack_error(error: str, status: int = 200, **extra: Any) -> Respond:
    """A Slack application error: HTTP 200 with ok=false, unless `status` says otherwise."""
    return Respond(
        status, {"ok": False, "error": error, **extra}, content_type=SLACK_JSON, name=error
    )


# --- Generic ------------------------------------------------------------------------------


def delay(seconds: float, commit: bool = False) -> Delay:
    return Delay(seconds, commit)


def drop(commit: bool = False) -> Drop:
    return Drop(commit)


def respond(
    status: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content_type: str = SF_JSON,
) -> Respond:
    return Respond(status, body, dict(headers or {}), content_type)


def bulk_job_fails(message: str = BulkJobFails.message) -> BulkJobFails:
    return BulkJobFails(message)


def record_errors(
    status_code: str = "UNABLE_TO_LOCK_ROW",
    message: str = RecordErrors.message,
    indexes: list[int] | None = None,
) -> RecordErrors:
    return RecordErrors(status_code, message, None if indexes is None else tuple(indexes))


PRESETS: dict[str, Callable[..., Effect]] = {
    "respond": respond,
    "delay": delay,
    "drop": drop,
    "record_errors": record_errors,
    "record_lock": record_lock,
    "bulk_job_fails": bulk_job_fails,
    "expired_session": expired_session,
    "daily_limit": daily_limit,
    "concurrent_limit": concurrent_limit,
    "unavailable": unavailable,
    "unknown_error": unknown_error,
    "row_lock": row_lock,
    "html_error": html_error,
    "oauth_error": oauth_error,
    "ratelimited": ratelimited,
    "slack_error": slack_error,
}

MATCH_KEYS = ("times", "method", "path", "body_contains")


def fault_from_json(data: dict[str, Any]) -> tuple[Effect, dict[str, Any]]:
    """Split a control-endpoint body into an effect and the keyword arguments for `add`.

    `{"kind": "<preset>", ...}` names the effect; the keys in MATCH_KEYS select
    requests (`"match_kind"` selects by endpoint kind, since `kind` is taken).
    """
    args = dict(data)
    preset = args.pop("kind", None)
    if preset not in PRESETS:
        raise ValueError(f"unknown fault kind {preset!r}; one of {sorted(PRESETS)}")
    match = {key: args.pop(key) for key in MATCH_KEYS if key in args}
    if "match_kind" in args:
        match["kind"] = args.pop("match_kind")
    return PRESETS[preset](**args), match
