"""Shared pytest fixtures: the local Salesforce and Slack emulators and their clients."""

from expansion_dev.emulators.fixtures import *  # noqa: F401,F403
