"""Ready clients for the emulators, for tests, benchmarks and the demo.

The Salesforce client runs on a requests.Session that trusts the emulator's
test CA and ignores the environment (`trust_env=False`): this machine sets
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, which would otherwise override `verify`,
and proxy variables, which would route loopback traffic through a proxy.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce import Salesforce
from slack_sdk import WebClient

from expansion_dev.emulators.salesforce import API_VERSION, SalesforceEmulator
from expansion_dev.emulators.slack import SlackEmulator


class TimeoutSession(requests.Session):
    """A Session with a default timeout.

    simple-salesforce's SFType.create/upsert/update take no `timeout`, so the
    session is the only place to set one.
    """

    def __init__(self, timeout: float | tuple[float, float] | None = None) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def salesforce_session(
    ca_path: str, timeout: float | tuple[float, float] | None = None
) -> requests.Session:
    session = TimeoutSession(timeout)
    session.verify = ca_path
    session.trust_env = False
    return session


def salesforce_client(
    emulator: SalesforceEmulator,
    *,
    version: str = API_VERSION,
    timeout: float | tuple[float, float] | None = None,
    session_id: str | None = None,
) -> Salesforce:
    """simple_salesforce.Salesforce on a direct session (no login call) to the emulator."""
    return Salesforce(
        instance_url=emulator.instance_url,
        session_id=session_id or emulator.session_id,
        version=version,
        session=salesforce_session(emulator.ca_path, timeout),
    )


def slack_client(emulator: SlackEmulator, *, token: str | None = None, **kwargs: Any) -> WebClient:
    """slack_sdk.WebClient pointed at the emulator's /api/ (retry handlers as passed in kwargs)."""
    return WebClient(token=token or emulator.bot_token, base_url=emulator.base_url, **kwargs)


def start_salesforce_emulator(
    host: str = "127.0.0.1", port: int = 0, ca_dir: str | None = None
) -> SalesforceEmulator:
    return SalesforceEmulator(host, port, ca_dir).start()


def start_slack_emulator(host: str = "127.0.0.1", port: int = 0) -> SlackEmulator:
    return SlackEmulator(host, port).start()
