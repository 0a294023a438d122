"""The sync against the Slack emulator, through slack-sdk."""

from __future__ import annotations

from collections import Counter

from expansion_dev.emulators import faults

from tests.sync.conftest import OWNER, ledger_states, signal_row

LOOKUPS = ("users.lookupByEmail", "conversations.open")


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


# --- recipients remembered between runs -------------------------------------------------


def lookups(slack_emulator) -> Counter:
    return Counter(c.kind for c in slack_emulator.calls() if c.kind in LOOKUPS)


def day_of_signals(first: int) -> list[dict]:
    """New signals for two owners in Slack, one owner who is not, and one with no owner."""
    return [signal_row(first), signal_row(first + 1),
            signal_row(first + 2, owner_email="bo@example.com"),
            signal_row(first + 3, owner_email="no-slack@example.com"),
            signal_row(first + 4, owner_email=None)]


def test_a_daily_run_asks_slack_only_about_owners_it_has_not_seen(
    mart, run_sync, slack_emulator, fallback_channel
):
    ana, bo = slack_emulator.seed_user(OWNER), slack_emulator.seed_user("bo@example.com")
    mart.write(day_of_signals(1))
    assert run_sync(salesforce=None).status == "ok"
    first = lookups(slack_emulator)
    assert first == {"users.lookupByEmail": 3, "conversations.open": 2}
    mart.write(day_of_signals(1) + day_of_signals(10))  # the next day: new signals, same owners
    result = run_sync(salesforce=None)
    assert result.status == "ok" and result.counts["slack.signal.sent"] == 5
    assert lookups(slack_emulator) == first  # not one more lookup or conversations.open
    assert len(slack_emulator.messages_to(ana)) == 4 and len(slack_emulator.messages_to(bo)) == 2
    assert len(slack_emulator.messages(fallback_channel)) == 4
    remembered = mart.query("select owner_email, user_id, channel_id "
                            "from expansion_sync.slack_recipients order by owner_email")
    assert remembered == [(OWNER, ana, slack_emulator.dm_channel(ana)),
                          ("bo@example.com", bo, slack_emulator.dm_channel(bo)),
                          ("no-slack@example.com", None, None)]


def test_an_expired_recipient_is_looked_up_again(mart, run_sync, slack_emulator):
    ana = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    run_sync(salesforce=None)
    mart.query("update expansion_sync.slack_recipients "
               "set looked_up_at = looked_up_at - interval 8 day")
    mart.write([signal_row(1), signal_row(2)])
    assert run_sync(salesforce=None).status == "ok"
    assert lookups(slack_emulator) == {"users.lookupByEmail": 2, "conversations.open": 2}
    mart.write([signal_row(n) for n in range(1, 4)])
    assert run_sync(salesforce=None, slack_lookup_days=30).status == "ok"
    assert lookups(slack_emulator) == {"users.lookupByEmail": 2, "conversations.open": 2}
    assert len(slack_emulator.messages_to(ana)) == 3


def test_a_remembered_channel_that_is_gone_is_looked_up_again_once(
    mart, run_sync, slack_emulator
):
    ana = slack_emulator.seed_user(OWNER)
    mart.write([signal_row(1)])
    run_sync(salesforce=None)
    slack_emulator.inject(faults.slack_error("channel_not_found"), api_method="chat.postMessage")
    mart.write([signal_row(1), signal_row(2)])
    result = run_sync(salesforce=None)
    assert result.status == "ok" and result.counts["slack.signal.sent"] == 1
    assert lookups(slack_emulator) == {"users.lookupByEmail": 2, "conversations.open": 2}
    assert len(slack_emulator.messages_to(ana)) == 2
    # Gone again after a fresh look-up: the message fails and waits for the next run.
    slack_emulator.inject(faults.slack_error("is_archived"), api_method="chat.postMessage",
                          times=2)
    mart.write([signal_row(n) for n in range(1, 4)])
    result = run_sync(salesforce=None)
    assert result.status == "partial" and result.failures[0].error_code == "is_archived"
    assert lookups(slack_emulator) == {"users.lookupByEmail": 3, "conversations.open": 3}

