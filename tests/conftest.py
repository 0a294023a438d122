"""Shared pytest fixtures: the local Salesforce and Slack emulators and their clients, and the
small demo warehouse built once per session (tests/models, tests/report)."""

from expansion_dev.emulators.fixtures import *  # noqa: F401,F403

from tests.support.demo_warehouse import (  # noqa: F401
    built_warehouse,
    generated_warehouse,
    monkeypatch_session,
)
