"""Contract of the Slack emulator, through slack-sdk's WebClient (and raw requests where the
SDK cannot say it)."""

from __future__ import annotations

import re
import time
from urllib.error import URLError

import pytest
import requests
from expansion_dev.emulators import clients, faults
from expansion_dev.emulators.slack import SlackEmulator
from expansion_dev.emulators.slack_workspace import BOT_ID, BOT_USER_ID
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

TS = re.compile(r"^\d{10}\.\d{6}$")


def slack_error(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture
def channel(slack_emulator: SlackEmulator) -> str:
    return slack_emulator.seed_channel("expansion-signals")


# --- transport, envelope ----------------------------------------------------


def test_post_message_answers_ok_with_channel_ts_and_message(slack_emulator, slack_client, channel):
    response = slack_client.chat_postMessage(
        channel=channel, text="New signal", blocks=[section("*Acme*")]
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response["ok"] is True and response["channel"] == channel
    assert TS.match(response["ts"])
    message = response["message"]
    assert (message["type"], message["user"], message["bot_id"]) == ("message", BOT_USER_ID, BOT_ID)
    assert message["text"] == "New signal" and message["ts"] == response["ts"]
    assert message["blocks"] == [section("*Acme*")]
    [stored] = slack_emulator.messages(channel)
    assert stored["text"] == "New signal" and stored["channel"] == channel


def test_sdk_sends_post_with_json_or_form_and_both_are_recorded(
    slack_emulator, slack_client, channel
):
    slack_emulator.seed_user("ana@example.com")
    slack_client.chat_postMessage(channel=channel, text="hi")
    slack_client.users_lookupByEmail(email="ana@example.com")
    post, lookup = slack_emulator.calls()
    assert (post.method, post.path, post.kind) == (
        "POST",
        "/api/chat.postMessage",
        "chat.postMessage",
    )
    assert post.body == {"channel": channel, "text": "hi"}
    assert (lookup.method, lookup.kind, lookup.body) == (
        "POST",
        "users.lookupByEmail",
        {"email": "ana@example.com"},
    )
    assert slack_emulator.counts() == {"chat.postMessage": 1, "users.lookupByEmail": 1}
    assert [c.kind for c in slack_emulator.calls("chat.postMessage")] == ["chat.postMessage"]


def test_token_as_parameter_blocks_as_json_string_get_and_multipart(slack_emulator, channel):
    api = slack_emulator.base_url
    form = requests.post(
        api + "chat.postMessage",
        data={
            "token": slack_emulator.bot_token,
            "channel": channel,
            "text": "t",
            "blocks": '[{"type": "divider"}]',
        },
    ).json()
    assert form["ok"] is True and form["message"]["blocks"] == [{"type": "divider"}]
    assert requests.get(api + "auth.test", params={"token": slack_emulator.bot_token}).json()["ok"]
    multipart = requests.post(
        api + "chat.postMessage",
        data={"channel": channel, "text": "multi"},
        files={"ignored": ("a.txt", b"x")},
        headers={"Authorization": f"Bearer {slack_emulator.bot_token}"},
    ).json()
    assert multipart["ok"] is True and multipart["message"]["text"] == "multi"


def test_unknown_method(slack_emulator):
    response = requests.post(
        slack_emulator.base_url + "chat.nope", data={"token": slack_emulator.bot_token}
    )
    assert response.status_code == 404 and response.json()["error"] == "unknown_method"


# --- auth and scopes ---------------------------------------------------------------


def test_no_token_is_not_authed(slack_emulator):
    error = slack_error(lambda: WebClient(base_url=slack_emulator.base_url).auth_test())
    assert error.response.status_code == 200
    assert error.response.data == {"ok": False, "error": "not_authed"}


def test_unknown_token_is_invalid_auth(slack_emulator):
    client = clients.slack_client(slack_emulator, token="xoxb-wrong")
    assert slack_error(client.auth_test).response["error"] == "invalid_auth"


def test_revoked_token(slack_emulator, slack_client):
    slack_emulator.revoke_token()
    assert slack_error(slack_client.auth_test).response["error"] == "token_revoked"


def test_missing_scope_names_needed_and_provided(slack_emulator, slack_client):
    slack_emulator.set_scopes({"chat:write", "users:read"})
    error = slack_error(lambda: slack_client.users_lookupByEmail(email="a@example.com"))
    assert error.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "users:read.email",
        "provided": "chat:write,users:read",
    }


def test_auth_test_identifies_the_bot(slack_client):
    response = slack_client.auth_test()
    assert (response["user_id"], response["bot_id"]) == (BOT_USER_ID, BOT_ID)
    assert "chat:write" in response.headers["x-oauth-scopes"]


# --- chat.postMessage --------------------------------------------------------------


def test_channel_by_name_and_channel_errors(slack_emulator, slack_client, channel):
    assert (
        slack_client.chat_postMessage(channel="#expansion-signals", text="x")["channel"] == channel
    )
    outside = slack_emulator.seed_channel("random", is_member=False)
    archived = slack_emulator.seed_channel("old", is_archived=True)
    for target, code in [
        ("C999", "channel_not_found"),
        (outside, "not_in_channel"),
        (archived, "is_archived"),
    ]:
        error = slack_error(lambda t=target: slack_client.chat_postMessage(channel=t, text="x"))
        assert error.response.status_code == 200 and error.response["error"] == code


def test_posting_to_a_user_id_opens_and_reuses_the_im(slack_emulator, slack_client):
    ana = slack_emulator.seed_user("ana@example.com")
    first = slack_client.chat_postMessage(channel=ana, text="one")
    second = slack_client.chat_postMessage(channel=ana, text="two")
    assert first["channel"].startswith("D") and first["channel"] == second["channel"]
    assert slack_client.conversations_open(users=ana)["channel"]["id"] == first["channel"]
    assert [m["text"] for m in slack_emulator.messages_to(ana)] == ["one", "two"]


def test_messages_tab_disabled(slack_emulator, slack_client):
    bob = slack_emulator.seed_user("bob@example.com", messages_tab=False)
    assert slack_error(lambda: slack_client.chat_postMessage(channel=bob, text="x")).response[
        "error"
    ] == ("messages_tab_disabled")


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_no_text_blocks_or_attachments_is_no_text(slack_client, channel):
    assert (
        slack_error(lambda: slack_client.chat_postMessage(channel=channel)).response["error"]
        == "no_text"
    )


def test_ts_is_unique_and_increasing(slack_client, channel):
    stamps = [slack_client.chat_postMessage(channel=channel, text=str(n))["ts"] for n in range(30)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 30


def test_text_over_40000_characters_is_truncated(slack_emulator, slack_client, channel):
    response = slack_client.chat_postMessage(channel=channel, text="x" * 40_050)
    assert len(response["message"]["text"]) == 40_000


def test_metadata_and_thread_replies(slack_emulator, slack_client, channel):
    metadata = {"event_type": "expansion_signal", "event_payload": {"signal_id": "sig-1"}}
    parent = slack_client.chat_postMessage(channel=channel, text="signal", metadata=metadata)
    assert parent["message"]["metadata"] == metadata
    reply = slack_client.chat_postMessage(
        channel=channel, text="urgency rose", thread_ts=parent["ts"]
    )
    assert reply["message"]["thread_ts"] == parent["ts"]
    history = slack_client.conversations_history(channel=channel)
    [top] = history["messages"]  # replies stay in their thread
    assert "metadata" not in top and top["reply_count"] == 1
    with_metadata = slack_client.conversations_history(channel=channel, include_all_metadata=True)
    assert with_metadata["messages"][0]["metadata"] == metadata
    thread = slack_client.conversations_replies(channel=channel, ts=parent["ts"])
    assert [m["text"] for m in thread["messages"]] == ["signal", "urgency rose"]


def test_invalid_metadata(slack_client, channel):
    error = slack_error(
        lambda: slack_client.chat_postMessage(channel=channel, text="x", metadata={"x": 1})
    )
    assert error.response["error"] == "invalid_metadata_format"


# --- Block Kit --------------------------------------------------------------------


def test_more_than_50_blocks(slack_client, channel):
    error = slack_error(
        lambda: slack_client.chat_postMessage(
            channel=channel, text="x", blocks=[{"type": "divider"}] * 51
        )
    )
    assert error.response.data == {
        "ok": False,
        "error": "invalid_blocks",
        "errors": ["no more than 50 items allowed [json-pointer:/blocks]"],
        "response_metadata": {
            "messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
        },
    }


def test_section_text_over_3000_matches_slacks_wording(slack_client, channel):
    error = slack_error(
        lambda: slack_client.chat_postMessage(
            channel=channel, text="x", blocks=[section("y" * 3001)]
        )
    )
    assert error.response["errors"] == [
        "failed to match all allowed schemas [json-pointer:/blocks/0/text]",
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ]
    assert slack_client.chat_postMessage(channel=channel, text="x", blocks=[section("y" * 3000)])[
        "ok"
    ]


def test_header_fields_and_unknown_block_limits(slack_client, channel):
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    fields = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}
    long_field = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}
    error = slack_error(
        lambda: slack_client.chat_postMessage(
            channel=channel, text="x", blocks=[header, fields, long_field, {"type": "bogus"}]
        )
    )
    assert error.response["errors"] == [
        "must be no longer than 150 characters [json-pointer:/blocks/0/text/text]",
        "no more than 10 items allowed [json-pointer:/blocks/1/fields]",
        "failed to match all allowed schemas [json-pointer:/blocks/2/fields/0]",
        "must be less than 2001 characters [json-pointer:/blocks/2/fields/0/text]",
        "failed to match all allowed schemas [json-pointer:/blocks/3]",
    ]


def test_unparseable_blocks_are_invalid_blocks_format(slack_emulator, channel):
    response = requests.post(
        slack_emulator.base_url + "chat.postMessage",
        data={"channel": channel, "text": "x", "blocks": "[{not json"},
        headers={"Authorization": f"Bearer {slack_emulator.bot_token}"},
    )
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": "invalid_blocks_format"}


# --- users.lookupByEmail, conversations.open ------------------------------------


def test_lookup_by_email_is_case_insensitive(slack_emulator, slack_client):
    ana = slack_emulator.seed_user("Ana.Lopez@Example.com", real_name="Ana Lopez")
    user = slack_client.users_lookupByEmail(email="ana.lopez@example.COM")["user"]
    assert (user["id"], user["real_name"], user["deleted"]) == (ana, "Ana Lopez", False)
    assert user["profile"]["email"] == "Ana.Lopez@Example.com"


def test_lookup_miss_is_users_not_found(slack_client):
    error = slack_error(lambda: slack_client.users_lookupByEmail(email="nobody@example.com"))
    assert error.response.status_code == 200
    assert error.response.data == {"ok": False, "error": "users_not_found"}


def test_deactivated_users_are_returned_as_deleted(slack_emulator, slack_client):
    slack_emulator.seed_user("gone@example.com", deleted=True)
    assert slack_client.users_lookupByEmail(email="gone@example.com")["user"]["deleted"] is True


def test_conversations_open_is_stable_and_says_already_open(slack_emulator, slack_client):
    ana = slack_emulator.seed_user("ana@example.com")
    first = slack_client.conversations_open(users=ana)
    assert first.data == {"ok": True, "channel": {"id": first["channel"]["id"]}}
    again = slack_client.conversations_open(users=[ana])
    assert again["no_op"] is True and again["already_open"] is True
    assert again["channel"]["id"] == first["channel"]["id"] and again["channel"]["is_im"] is True


def test_conversations_open_errors(slack_emulator, slack_client):
    users = [slack_emulator.seed_user(f"u{n}@example.com") for n in range(9)]
    gone = slack_emulator.seed_user("gone@example.com", deleted=True)
    for users_arg, code in [
        (users, "too_many_users"),
        (["U404"], "user_not_found"),
        ([gone], "user_disabled"),
        ("", "users_list_not_supplied"),
    ]:
        assert (
            slack_error(lambda u=users_arg: slack_client.conversations_open(users=u)).response[
                "error"
            ]
            == code
        )


# --- conversations.history (recovery after a crash) ---------------------------------------------


def test_history_pages_newest_first_with_cursor(slack_client, channel):
    stamps = [slack_client.chat_postMessage(channel=channel, text=str(n))["ts"] for n in range(5)]
    first = slack_client.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in first["messages"]] == ["4", "3"] and first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = []
    while cursor:
        page = slack_client.conversations_history(channel=channel, limit=2, cursor=cursor)
        rest += [m["text"] for m in page["messages"]]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
    assert rest == ["2", "1", "0"]
    recent = slack_client.conversations_history(channel=channel, oldest=stamps[2])
    assert [m["text"] for m in recent["messages"]] == ["4", "3"]
    inclusive = slack_client.conversations_history(
        channel=channel, oldest=stamps[2], inclusive=True
    )
    assert len(inclusive["messages"]) == 3


def test_history_of_an_im_needs_im_history(slack_emulator, slack_client):
    ana = slack_emulator.seed_user("ana@example.com")
    dm = slack_client.chat_postMessage(channel=ana, text="hi")["channel"]
    assert len(slack_client.conversations_history(channel=dm)["messages"]) == 1
    slack_emulator.set_scopes({"chat:write", "channels:history"})
    assert (
        slack_error(lambda: slack_client.conversations_history(channel=dm)).response["needed"]
        == "im:history"
    )
    missing = slack_error(lambda: slack_client.conversations_history(channel="C404"))
    assert missing.response["error"] == "channel_not_found"


# --- rate limits --------------------------------------------------------------


def test_429_with_integer_retry_after(slack_emulator, slack_client, channel):
    slack_emulator.inject(faults.ratelimited(retry_after=1), api_method="chat.postMessage")
    error = slack_error(lambda: slack_client.chat_postMessage(channel=channel, text="x"))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "1"
    assert error.response.data == {"ok": False, "error": "ratelimited"}
    assert slack_emulator.messages() == []


def test_sdk_rate_limit_handler_retries_after_a_429(slack_emulator, channel):
    slack_emulator.inject(faults.ratelimited(retry_after=0), api_method="chat.postMessage")
    client = clients.slack_client(
        slack_emulator, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )
    assert client.chat_postMessage(channel=channel, text="x")["ok"] is True
    assert [c.status for c in slack_emulator.calls()] == [429, 200]
    assert len(slack_emulator.messages()) == 1


def test_per_channel_rate_limit_when_switched_on(slack_emulator, slack_client, channel):
    other = slack_emulator.seed_channel("other")
    slack_emulator.enable_rate_limit(per_second=1.0, burst=1)
    slack_client.chat_postMessage(channel=channel, text="1")
    error = slack_error(lambda: slack_client.chat_postMessage(channel=channel, text="2"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
    assert slack_client.chat_postMessage(channel=other, text="elsewhere")["ok"] is True
    slack_emulator.disable_rate_limit()
    assert slack_client.chat_postMessage(channel=channel, text="3")["ok"] is True


def test_rate_limit_is_off_by_default(slack_client, channel):
    for n in range(20):
        slack_client.chat_postMessage(channel=channel, text=str(n))


# --- faults -----------------------------------------------------------------------------------


def test_application_error_fault_is_http_200(slack_emulator, slack_client, channel):
    slack_emulator.inject(faults.slack_error("rate_limited"), api_method="chat.postMessage")
    error = slack_error(lambda: slack_client.chat_postMessage(channel=channel, text="x"))
    assert (error.response.status_code, error.response["error"]) == (200, "rate_limited")


def test_503_html_is_a_non_json_error_and_server_error_handler_retries(slack_emulator, channel):
    slack_emulator.inject(faults.html_error(503))
    bare = clients.slack_client(slack_emulator)
    error = slack_error(lambda: bare.chat_postMessage(channel=channel, text="x"))
    assert error.response.status_code == 503
    assert error.response["error"].startswith("Received a response in a non-JSON format")
    slack_emulator.inject(faults.html_error(503))
    retrying = clients.slack_client(
        slack_emulator, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)]
    )
    assert retrying.chat_postMessage(channel=channel, text="x")["ok"] is True


def test_timeout_after_the_message_was_recorded(slack_emulator, channel):
    slack_emulator.inject(faults.delay(1.0, commit=True), api_method="chat.postMessage")
    client = clients.slack_client(slack_emulator, timeout=0.3)
    with pytest.raises((TimeoutError, URLError)):
        client.chat_postMessage(channel=channel, text="maybe sent")
    # The message exists although the sender never saw an answer: look before resending.
    assert [m["text"] for m in slack_emulator.messages(channel)] == ["maybe sent"]


@pytest.mark.parametrize(("commit", "stored"), [(False, 1), (True, 2)])
def test_disconnect_is_retried_once_by_the_sdk(
    slack_emulator, slack_client, channel, commit, stored
):
    slack_emulator.inject(faults.drop(commit=commit), api_method="chat.postMessage")
    assert slack_client.chat_postMessage(channel=channel, text="x")["ok"] is True
    assert [c.status for c in slack_emulator.calls()] == [0, 200]
    assert len(slack_emulator.messages(channel)) == stored  # a retried post duplicates if it landed


def test_control_endpoints(slack_emulator, slack_client, channel):
    control = f"{slack_emulator.url}/__emulator"
    queued = requests.post(
        f"{control}/faults",
        json={"kind": "ratelimited", "retry_after": 0, "match_kind": "chat.postMessage"},
    )
    assert queued.status_code == 201
    assert (
        slack_error(
            lambda: slack_client.chat_postMessage(channel=channel, text="x")
        ).response.status_code
        == 429
    )
    slack_client.chat_postMessage(channel=channel, text="y")
    assert [m["text"] for m in requests.get(f"{control}/messages").json()] == ["y"]
    user = requests.post(f"{control}/users", json={"email": "c@example.com"}).json()["id"]
    assert slack_client.users_lookupByEmail(email="c@example.com")["user"]["id"] == user
    assert requests.post(f"{control}/reset").status_code == 200
    assert slack_emulator.messages() == [] and slack_emulator.calls() == []


def test_latency(slack_emulator, slack_client):
    slack_emulator.latency = 0.05
    started = time.perf_counter()
    slack_client.auth_test()
    assert time.perf_counter() - started >= 0.05


def test_calls_filter_by_web_api_method(slack_emulator, slack_client, channel):
    slack_client.auth_test()
    slack_client.chat_postMessage(channel=channel, text="x")
    assert [c.kind for c in slack_emulator.calls(method="chat.postMessage")] == ["chat.postMessage"]
    assert len(slack_emulator.calls(http_method="POST")) == 2


def test_method_rate_limit_like_a_tier(slack_emulator, slack_client):
    slack_emulator.seed_user("ana@example.com")
    slack_emulator.enable_rate_limit(per_second=0.5, burst=2, api_method="users.lookupByEmail")
    for _ in range(2):
        slack_client.users_lookupByEmail(email="ana@example.com")
    error = slack_error(lambda: slack_client.users_lookupByEmail(email="ana@example.com"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "2"


def test_invalid_json_body(slack_emulator):
    response = requests.post(
        slack_emulator.base_url + "chat.postMessage",
        data=b"{nope",
        headers={
            "Authorization": f"Bearer {slack_emulator.bot_token}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    assert response.json() == {"ok": False, "error": "invalid_json"}
