"""The sync's settings, from environment variables only.

Secrets (tokens, client secret) are kept out of every repr and message: the
dataclasses hide them, and `describe()` says only whether each one is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from expansion_signals.errors import RetryPolicy, redact
from expansion_signals.project import work_dir

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
MY_DOMAIN_EXAMPLE = "https://yourcompany.my.salesforce.com"
DEFAULT_API_VERSION = "59.0"
API_VERSION_FORM = re.compile(r"[1-9][0-9]*\.[0-9]")  # 59.0; a leading v is dropped


class ConfigError(ValueError):
    """A setting is present but unusable (a bad number, half a credential pair)."""


@dataclass(frozen=True)
class SalesforceSettings:
    instance_url: str = ""
    access_token: str = field(default="", repr=False)
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    login_url: str = ""  # where the client-credentials token comes from; default instance_url
    ca_bundle: str = ""
    api_version: str = DEFAULT_API_VERSION
    timeout: float = 60.0

    @property
    def has_client_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def configured(self) -> bool:
        return bool(self.instance_url and (self.access_token or self.has_client_credentials))


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_SLACK_API_URL
    fallback_channel: str = ""  # channel ID (C…) for signals with no owner or no Slack user
    ops_channel: str = ""  # channel ID for failed / recovered run notices
    timeout: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.bot_token)


@dataclass(frozen=True)
class SyncSettings:
    salesforce: SalesforceSettings = field(default_factory=SalesforceSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    bulk_threshold: int = 2000  # more records than this for one object: Bulk API 2.0
    digest_threshold: int = 5  # more new signals than this for one owner: one digest
    bulk_poll_seconds: float = 2.0  # the first look at a Bulk job; later looks wait longer
    parallel_calls: int = 4  # sObject Collections calls in flight together
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lock_timeout_minutes: int = 120  # a lock older than this belongs to a dead run
    mapping_path: Path | None = None
    slack_lookup_days: int = 7  # owner -> Slack user and DM channel remembered this long
    backlog_days: int = 30  # an episode older than this when first seen is backlog
    backlog_per_owner: int = 5  # backlog signals worked per owner; the rest: records only
    max_new_opportunities: int = 200  # more in one run: the volume guard holds it

    def describe(self) -> list[str]:
        """What is configured, for people; values of secrets are never shown."""
        sf, slack = self.salesforce, self.slack

        def state(value: str) -> str:
            return "set" if value else "not set"

        return [
            f"Salesforce: {sf.instance_url or 'not configured'}"
            f" (access token {state(sf.access_token)},"
            f" client credentials {state(sf.client_id and sf.client_secret)})",
            f"Slack: {'bot token set' if slack.bot_token else 'not configured'}"
            f"{', API ' + slack.api_url if slack.api_url != DEFAULT_SLACK_API_URL else ''}"
            f", fallback channel {slack.fallback_channel or 'none'}"
            f", ops channel {slack.ops_channel or 'none'}",
        ]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _url(env: Mapping[str, str], name: str, example: str, default: str = "") -> str:
    """An http(s) URL with a host, checked now rather than after a run's worth of retries."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        parts = urlsplit(raw)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        usable = False
    if not usable or any(c.isspace() for c in raw):
        shown = redact(raw)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise ConfigError(f"{name} must be an http(s) URL with a host, like {example}; "
                          f"got {shown!r}")
    return raw


def _api_version(env: Mapping[str, str]) -> str:
    raw = env.get("SALESFORCE_API_VERSION", "").strip()
    version = raw.removeprefix("v") or DEFAULT_API_VERSION
    if not API_VERSION_FORM.fullmatch(version):
        raise ConfigError(f"SALESFORCE_API_VERSION must look like {DEFAULT_API_VERSION}, "
                          f"got {raw[:40]!r}")
    return version


def load_settings(env: Mapping[str, str] | None = None) -> SyncSettings:
    env = os.environ if env is None else env

    def text(name: str, default: str = "") -> str:
        return env.get(name, "").strip() or default

    salesforce = SalesforceSettings(
        instance_url=_url(env, "SALESFORCE_INSTANCE_URL", MY_DOMAIN_EXAMPLE).rstrip("/"),
        access_token=text("SALESFORCE_ACCESS_TOKEN"),
        client_id=text("SALESFORCE_CLIENT_ID"),
        client_secret=text("SALESFORCE_CLIENT_SECRET"),
        login_url=_url(env, "SALESFORCE_LOGIN_URL", MY_DOMAIN_EXAMPLE).rstrip("/"),
        ca_bundle=text("SALESFORCE_CA_BUNDLE"),
        api_version=_api_version(env),
        timeout=_float(env, "SALESFORCE_TIMEOUT_SECONDS", 60.0),
    )
    if bool(salesforce.client_id) != bool(salesforce.client_secret):
        raise ConfigError("set both SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET, or neither")
    if (salesforce.access_token or salesforce.client_id) and not salesforce.instance_url:
        raise ConfigError("Salesforce credentials are set but SALESFORCE_INSTANCE_URL is not")
    slack = SlackSettings(
        bot_token=text("SLACK_BOT_TOKEN"),
        api_url=_url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL, DEFAULT_SLACK_API_URL),
        fallback_channel=text("SLACK_FALLBACK_CHANNEL"),
        ops_channel=text("SLACK_OPS_CHANNEL"),
        timeout=_float(env, "SLACK_TIMEOUT_SECONDS", 30.0),
    )
    mapping = text("EXPANSION_SYNC_MAPPING")
    mapping_path = None
    if mapping:
        mapping_path = Path(mapping)
        if not mapping_path.is_absolute():
            mapping_path = work_dir() / mapping_path
    return SyncSettings(
        salesforce=salesforce,
        slack=slack,
        bulk_threshold=_int(env, "EXPANSION_SYNC_BULK_THRESHOLD", 2000, minimum=1),
        digest_threshold=_int(env, "EXPANSION_SYNC_DIGEST_THRESHOLD", 5, minimum=1),
        bulk_poll_seconds=_float(env, "EXPANSION_SYNC_BULK_POLL_SECONDS", 2.0),
        parallel_calls=_int(env, "EXPANSION_SYNC_PARALLEL_CALLS", 4, minimum=1),
        retry=RetryPolicy(
            attempts=_int(env, "EXPANSION_SYNC_RETRY_ATTEMPTS", 5, minimum=1),
            initial_wait=_float(env, "EXPANSION_SYNC_RETRY_WAIT_SECONDS", 0.5),
            max_wait=30.0,
        ),
        lock_timeout_minutes=_int(env, "EXPANSION_SYNC_LOCK_TIMEOUT_MINUTES", 120, minimum=1),
        mapping_path=mapping_path,
        slack_lookup_days=_int(env, "EXPANSION_SYNC_SLACK_LOOKUP_DAYS", 7, minimum=0),
        backlog_days=_int(env, "EXPANSION_SYNC_BACKLOG_DAYS", 30, minimum=0),
        backlog_per_owner=_int(env, "EXPANSION_SYNC_BACKLOG_PER_OWNER", 5, minimum=0),
        max_new_opportunities=_int(env, "EXPANSION_SYNC_MAX_NEW_OPPORTUNITIES", 200,
                                   minimum=0),
    )
