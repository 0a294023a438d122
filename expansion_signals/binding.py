"""The sync state belongs to one Salesforce org and one Slack workspace.

The ledger remembers, per signal, the Salesforce ids and Slack messages it
made. Pointed at another org (a sandbox's credentials swapped for
production's) or another workspace, those ids mean nothing there: every
signal would look delivered and nothing would be sent, with a green run. So
the ledger is bound to the Organization Id and the Slack team id of its first
live run, and a run whose credentials point elsewhere stops before any write,
naming both. Moving is said explicitly (`--rebind salesforce|slack`): the
binding changes, and every open signal is new in the new org or workspace.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from expansion_signals.connections import SalesforceConnection
from expansion_signals.errors import RetryPolicy, with_retries

SALESFORCE, SLACK = "salesforce", "slack"
DESTINATIONS = (SALESFORCE, SLACK)
WHAT = {SALESFORCE: "Salesforce org", SLACK: "Slack workspace"}


class BindingMismatch(RuntimeError):
    """The credentials point at another org or workspace than the sync state's."""


@dataclass(frozen=True)
class Identity:
    destination: str  # salesforce | slack
    remote_id: str  # the Organization Id (00D...) or the team id (T...)
    name: str  # for people: the org's or workspace's name


def salesforce_identity(connection: SalesforceConnection, policy: RetryPolicy) -> Identity:
    """The org the credentials are for: `SELECT Id, Name FROM Organization` (one row)."""
    found = connection.call(lambda sf: sf.query("SELECT Id, Name FROM Organization"), policy)
    [org] = found["records"]
    return Identity(SALESFORCE, str(org["Id"]), str(org.get("Name") or ""))


def slack_identity(client: WebClient, policy: RetryPolicy) -> Identity:
    """The workspace the bot token is for: auth.test's team_id."""
    answer = with_retries(policy, lambda: client.auth_test())
    return Identity(SLACK, str(answer["team_id"]), str(answer.get("team") or ""))


def _named(remote_id: str, name: str) -> str:
    return f"{remote_id} ({name})" if name else remote_id


def mismatch_message(identity: Identity, bound: tuple[str, str]) -> str:
    what = WHAT[identity.destination]
    return (f"the sync state belongs to {what} {_named(*bound)}, but the credentials point "
            f"at {what} {_named(identity.remote_id, identity.name)}; nothing was written. To "
            "move the sync there (a sandbox to production), run it once with --rebind "
            f"{identity.destination}: every open signal is then new in the "
            f"{what.split()[1]} it moves to")
