"""The sync against the Slack emulator, through slack-sdk."""

from __future__ import annotations

from sync.emulators import faults
from tests.sync.conftest import OWNER, ledger_states, signal_row


def test_one_direct_message_per_signal_and_the_fallback_for_the_rest(
    mart, run_sync, salesforce_emulator, slack_emulator, fallback_channel
):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1), signal_row(2), signal_row(3, owner_email=None),
                signal_row(4, owner_email="no-slack@example.com")])
    result = run_sync()
    assert result.status == "ok"
    direct = slack_emulator.messages_to(user)
    assert sorted(m["metadata"]["event_payload"]["signal_id"] for m in direct) == [
        "sig-00001", "sig-00002"]
    assert len(slack_emulator.messages(fallback_channel)) == 2
    message = direct[0]
    assert message["text"].startswith("New medium-urgency expansion signal for Account 1")
    record = salesforce_emulator.find("Expansion_Signal__c", "Signal_Id__c", "sig-00001")[0]
    link = message["blocks"][-1]["elements"][0]["text"]
    assert link == (f"<{salesforce_emulator.instance_url}/lightning/r/Expansion_Signal__c/"
                    f"{record['Id']}/view|Open the signal in Salesforce>")
    assert "46 of 50 seats assigned (92%) for 14 days" in str(message["blocks"])
    assert len(slack_emulator.calls("users.lookupByEmail")) == 2  # cached per owner
    sent = len(slack_emulator.messages())
    assert run_sync().status == "ok"
    assert len(slack_emulator.messages()) == sent  # nothing twice
    assert slack_emulator.calls("chat.postMessage")[-1].status == 200


def test_account_name_with_markup_and_mentions_arrives_escaped(mart, run_sync, slack_emulator):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1, account_name="<!channel> *Acme* & <@U0EMUBOT01> <https://x|y>",
                           product="<!here>")])
    run_sync(salesforce=None)
    [message] = slack_emulator.messages_to(user)
    everything = str(message["blocks"]) + message["text"]
    for raw in ("<!channel>", "<!here>", "<@U0EMUBOT01>", "<https://x|y>"):
        assert raw not in everything
    header = message["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; *Acme* &amp; &lt;@U0EMUBOT01&gt;" in header


def test_more_than_five_new_signals_for_one_owner_is_one_digest(mart, run_sync, slack_emulator):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(n) for n in range(7)])
    result = run_sync()
    assert result.counts["slack.digest.sent"] == 1
    [digest] = slack_emulator.messages_to(user)
    assert digest["text"].startswith("7 new expansion signals")
    states = ledger_states(mart)
    assert {s.slack_ts for s in states.values()} == {digest["ts"]}


def test_urgency_rise_is_one_reply_in_the_thread(mart, run_sync, slack_emulator):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1, urgency="low")])
    run_sync()
    [first] = slack_emulator.messages_to(user)
    mart.write([signal_row(1, urgency="high")])
    run_sync()
    run_sync()
    messages = slack_emulator.messages_to(user)
    assert len(messages) == 2
    reply = messages[1]
    assert reply["thread_ts"] == first["ts"]
    assert reply["text"].startswith("Urgency rose from low to high for Account 1")


def test_rate_limits_are_waited_out(mart, run_sync, slack_emulator):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1), signal_row(2)])
    slack_emulator.inject(faults.ratelimited(retry_after=1), api_method="chat.postMessage")
    slack_emulator.inject(faults.ratelimited(retry_after=0), api_method="users.lookupByEmail")
    result = run_sync(salesforce=None)
    assert result.status == "ok"
    assert len(slack_emulator.messages_to(user)) == 2
    calls = slack_emulator.calls("chat.postMessage")
    assert calls[1].at - calls[0].at >= 1.0  # Retry-After honoured


def test_lost_answer_to_a_post_is_found_in_the_channel_not_posted_twice(
    mart, run_sync, slack_emulator
):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    slack_emulator.inject(faults.drop(commit=True), api_method="chat.postMessage")
    result = run_sync(salesforce=None)
    assert result.status == "ok"
    assert len(slack_emulator.messages_to(user)) == 1
    assert slack_emulator.calls("conversations.history")
    assert ledger_states(mart)["sig-00001"].slack_ts == slack_emulator.messages_to(user)[0]["ts"]


def test_a_message_that_cannot_be_sent_is_retried_on_the_next_run(
    mart, run_sync, slack_emulator
):
    user = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    slack_emulator.inject(faults.slack_error("channel_not_found"), api_method="chat.postMessage")
    result = run_sync(salesforce=None)
    assert result.status == "partial" and result.failures[0].error_code == "channel_not_found"
    assert slack_emulator.messages_to(user) == []
    assert run_sync(salesforce=None).status == "ok"
    assert len(slack_emulator.messages_to(user)) == 1


def test_revoked_token_fails_the_run(mart, run_sync, slack_emulator):
    slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    slack_emulator.revoke_token()
    result = run_sync(salesforce=None)
    assert result.status == "failed" and "token_revoked" in (result.error or "")
