"""Run both emulators in one process, so a user or the demo can point the sync at them.

`python -m expansion_dev.emulators` (or `expansion emulators`) starts Salesforce on
https://127.0.0.1:8443 and Slack on http://127.0.0.1:8444/api/, prints what to
export, and on Ctrl-C writes what landed to the state directory.
"""

from __future__ import annotations

import json
import shlex
import signal
import threading
from pathlib import Path

from expansion_dev.emulators.salesforce import SalesforceEmulator
from expansion_dev.emulators.slack import SlackEmulator

DEFAULT_STATE_DIR = ".emulators"
FALLBACK_CHANNEL = "expansion-signals"
OBJECTS_SHOWN = ("Expansion_Signal__c", "Opportunity", "Task", "Account", "User")


def environment(salesforce: SalesforceEmulator, slack: SlackEmulator) -> dict[str, str]:
    """The variables that point a sync at these emulators (the tokens are emulator-only)."""
    fallback = slack.workspace.channel_by_name(FALLBACK_CHANNEL)
    channels = {"SLACK_FALLBACK_CHANNEL": fallback.id} if fallback else {}
    return {
        "SALESFORCE_INSTANCE_URL": salesforce.instance_url,
        "SALESFORCE_ACCESS_TOKEN": salesforce.session_id,
        "SALESFORCE_CLIENT_ID": salesforce.settings.client_id,
        "SALESFORCE_CLIENT_SECRET": salesforce.settings.client_secret,
        "SALESFORCE_CA_BUNDLE": salesforce.ca_path,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.base_url,
        **channels,
    }


def export_lines(salesforce: SalesforceEmulator, slack: SlackEmulator) -> list[str]:
    # Quoted: the Salesforce token holds a "!", which an interactive shell would expand.
    return [f"export {k}={shlex.quote(v)}" for k, v in environment(salesforce, slack).items()]


def banner(salesforce: SalesforceEmulator, slack: SlackEmulator, state: Path) -> str:
    exports = "\n".join(f"  {line}" for line in export_lines(salesforce, slack))
    return (
        f"Salesforce emulator  {salesforce.instance_url}  (API v{salesforce.version})\n"
        f"  CA bundle          {salesforce.ca_path}\n"
        f"  integration user   {salesforce.integration_user_id}\n"
        f"Slack emulator       {slack.base_url}\n"
        f"  fallback channel   #{FALLBACK_CHANNEL}\n"
        f"\nPoint the sync at them:\n{exports}\n"
        f"\nInspect what landed:\n"
        f"  curl --cacert {salesforce.ca_path} "
        f"{salesforce.instance_url}/__emulator/records/Expansion_Signal__c\n"
        f"  curl {slack.url}/__emulator/messages\n"
        f'Seed an owner:  curl --cacert {salesforce.ca_path} -d \'{{"email": "ana@example.com"}}\' '
        f"{salesforce.instance_url}/__emulator/users\n"
        f'                curl -d \'{{"email": "ana@example.com"}}\' {slack.url}/__emulator/users\n'
        f"\nOn Ctrl-C the records and messages are written to {state}/.\n"
    )


def write_state(salesforce: SalesforceEmulator, slack: SlackEmulator, state: Path) -> None:
    records = {name: salesforce.records(name) for name in OBJECTS_SHOWN}
    (state / "salesforce-records.json").write_text(json.dumps(records, indent=2, default=str))
    (state / "slack-messages.json").write_text(json.dumps(slack.messages(), indent=2, default=str))


def serve(
    host: str = "127.0.0.1",
    salesforce_port: int = 8443,
    slack_port: int = 8444,
    state_dir: str | None = None,
) -> None:
    """Run both servers until interrupted (Ctrl-C or SIGTERM)."""
    state = Path(state_dir or DEFAULT_STATE_DIR)
    state.mkdir(parents=True, exist_ok=True)
    salesforce = SalesforceEmulator(host, salesforce_port, ca_dir=state).start()
    slack = SlackEmulator(host, slack_port).start()
    slack.seed_channel(FALLBACK_CHANNEL)
    (state / "env.sh").write_text("\n".join(export_lines(salesforce, slack)) + "\n")
    print(banner(salesforce, slack, state), flush=True)
    stopped = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        write_state(salesforce, slack, state)
        salesforce.stop()
        slack.stop()
        print(f"Emulators stopped; state written to {state}/", flush=True)
