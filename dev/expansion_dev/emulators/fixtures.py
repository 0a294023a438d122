"""pytest fixtures for the emulators; tests/conftest.py re-exports them.

One server of each kind per test session (starting a TLS server per test
would cost more than the tests), reset before every test so tests stay
isolated: empty org and workspace, no faults, no latency, no recorded calls.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce
from slack_sdk import WebClient

from expansion_dev.emulators import clients
from expansion_dev.emulators.salesforce import SalesforceEmulator
from expansion_dev.emulators.slack import SlackEmulator

__all__ = [
    "emulator_salesforce_server",
    "emulator_slack_server",
    "salesforce_emulator",
    "sf_client",
    "slack_client",
    "slack_emulator",
]


@pytest.fixture(scope="session")
def emulator_salesforce_server() -> Iterator[SalesforceEmulator]:
    emulator = clients.start_salesforce_emulator()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def emulator_slack_server() -> Iterator[SlackEmulator]:
    emulator = clients.start_slack_emulator()
    yield emulator
    emulator.stop()


@pytest.fixture
def salesforce_emulator(emulator_salesforce_server: SalesforceEmulator) -> SalesforceEmulator:
    """The Salesforce emulator handle, freshly reset."""
    emulator_salesforce_server.reset()
    return emulator_salesforce_server


@pytest.fixture
def sf_client(salesforce_emulator: SalesforceEmulator) -> Iterator[Salesforce]:
    """simple_salesforce.Salesforce (API 59.0) on a session that trusts the test CA only."""
    client = clients.salesforce_client(salesforce_emulator)
    yield client
    client.session.close()


@pytest.fixture
def slack_emulator(emulator_slack_server: SlackEmulator) -> SlackEmulator:
    """The Slack emulator handle, freshly reset."""
    emulator_slack_server.reset()
    return emulator_slack_server


@pytest.fixture
def slack_client(slack_emulator: SlackEmulator) -> WebClient:
    """slack_sdk.WebClient: bot token, base_url=<emulator>/api/, default retry handlers."""
    return clients.slack_client(slack_emulator)
