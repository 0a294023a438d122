"""`expansion demo --with-emulators`: sync the demo warehouse into local emulators and show it.

The emulated org and workspace start empty, so the demo first gives them what
a real org and workspace would already have: an Account for every
crm_account_id the mart names (the emulator issues its own ids, so the demo
mart's rows are pointed at them), Salesforce and Slack users for most owners
(the rest go to the fallback channel), and the channels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

from expansion_dev.emulators.clients import start_salesforce_emulator, start_slack_emulator
from expansion_dev.emulators.salesforce import SalesforceEmulator
from expansion_dev.emulators.slack import SlackEmulator
from expansion_signals.config import SalesforceSettings, SlackSettings, load_settings
from expansion_signals.connections import connect_salesforce, connect_slack
from expansion_signals.engine import SyncRun
from expansion_signals.mapping import load_mapping
from expansion_signals.sync_report import result_lines
from expansion_signals.warehouse import Database, connect_warehouse

OWNERS_WITHOUT_SLACK = 2  # so the demo shows the fallback channel too


def seed_from_mart(db: Database, salesforce: SalesforceEmulator, slack: SlackEmulator) -> None:
    accounts = db.execute(
        "select distinct crm_account_id, account_name from marts.expansion_signals "
        "where crm_account_id is not null order by crm_account_id"
    )
    for crm_id, name in accounts:
        emulated = salesforce.seed_account(str(name)[:255])
        db.execute(
            "update marts.expansion_signals set crm_account_id = ? where crm_account_id = ?",
            [emulated, crm_id],
        )
    owners = [r[0] for r in db.execute(
        "select distinct owner_email from marts.expansion_signals "
        "where owner_email is not null order by 1"
    )]
    for n, email in enumerate(owners):
        salesforce.seed_user(email)
        if n >= OWNERS_WITHOUT_SLACK:
            slack.seed_user(email)


def run_demo_sync(as_of: date | None = None) -> int:
    salesforce = start_salesforce_emulator()
    slack = start_slack_emulator()
    try:
        fallback = slack.seed_channel("expansion-signals")
        ops = slack.seed_channel("revops-alerts")
        settings = replace(
            load_settings({}),
            salesforce=SalesforceSettings(
                instance_url=salesforce.instance_url, access_token=salesforce.session_id,
                client_id=salesforce.settings.client_id,
                client_secret=salesforce.settings.client_secret, ca_bundle=salesforce.ca_path,
            ),
            slack=SlackSettings(bot_token=slack.bot_token, api_url=slack.base_url,
                                fallback_channel=fallback, ops_channel=ops),
            bulk_poll_seconds=0.2,
        )
        db = connect_warehouse("duckdb")
        try:
            seed_from_mart(db, salesforce, slack)
            result = SyncRun(
                db, settings, load_mapping(), connect_salesforce(settings.salesforce),
                connect_slack(settings.slack), as_of=as_of,
            ).run()
        finally:
            db.close()
        print("\nSync into the local emulators:")
        for line in result_lines(result):
            print(line)
        show_landed(salesforce, slack, fallback)
        return result.exit_code
    finally:
        salesforce.stop()
        slack.stop()


def show_landed(salesforce: SalesforceEmulator, slack: SlackEmulator, fallback: str) -> None:
    print("\nWhat landed in the emulated Salesforce org:")
    for sobject in ("Expansion_Signal__c", "Opportunity", "Task"):
        print(f"  {sobject:<22} {len(salesforce.records(sobject)):>6} records")
    messages = slack.messages()
    where = Counter("fallback channel" if m["channel"] == fallback else "direct messages"
                    for m in messages)
    print("And in the emulated Slack workspace:")
    for place, count in sorted(where.items()):
        print(f"  {place:<22} {count:>6} messages")
    if messages:
        print(f"  for example: {messages[0]['text'][:300]}")
