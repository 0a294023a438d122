"""Shared pytest fixtures: the local Salesforce and Slack emulators and their clients, and the
small demo warehouse built once per session (tests/models, tests/report)."""

import os
import tempfile

from expansion_dev.emulators.fixtures import *  # noqa: F401,F403

from tests.support.demo_warehouse import (  # noqa: F401
    built_warehouse,
    generated_warehouse,
    monkeypatch_session,
)


def pytest_configure(config) -> None:
    """dbt's target/ and logs/ in a folder of this test process, not the checkout's: two
    pytest workers (pytest-xdist) never share dbt's manifest and run results."""
    if not os.environ.get("EXPANSION_WORK_DIR"):
        os.environ["EXPANSION_WORK_DIR"] = tempfile.mkdtemp(prefix="expansion-tests-")
