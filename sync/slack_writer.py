"""Sending Slack messages exactly once: find the recipient, post, and look before reposting.

chat.postMessage is not idempotent: a post whose answer was lost may have
landed. Every message therefore carries its notice id in Slack message
metadata, and before a message is sent again (a retry within the run, or an
intent left by a run that died) the channel is searched for that id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync.errors import Kind, RetryPolicy, SyncAborted, classify, describe, retrying
from sync.slack_messages import Message

HISTORY_PAGE = 200
# A message is looked for from a little before its intent was recorded: clocks differ.
CLOCK_MARGIN_SECONDS = 300


class NoRecipient(Exception):
    """No Slack user for the owner and no fallback channel configured."""


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    recovered: bool  # found in the channel, not posted again


def may_have_posted(error: BaseException) -> bool:
    """True when a failed post got no clear answer (no response, or a 5xx)."""
    if isinstance(error, SlackApiError):
        return error.response.status_code >= 500
    return classify(error) is Kind.TRANSIENT


def posted_after_now() -> str:
    return f"{time.time() - CLOCK_MARGIN_SECONDS:.6f}"


class SlackWriter:
    def __init__(
        self,
        client: WebClient,
        event_type: str,
        policy: RetryPolicy | None = None,
        fallback_channel: str = "",
        ops_channel: str = "",
    ) -> None:
        # The SDK's own retry handlers would repost after a dropped connection; retries
        # here go through sync.errors, which looks in the channel first.
        client.retry_handlers = []
        self.client = client
        self.event_type = event_type
        self.policy = policy or RetryPolicy()
        self.fallback_channel = fallback_channel
        self.ops_channel = ops_channel
        self._users: dict[str, str | None] = {}
        self._dms: dict[str, str] = {}

    def _call(self, method: str, **kwargs: Any) -> Any:
        for attempt in retrying(self.policy):
            with attempt:
                try:
                    return getattr(self.client, method)(**kwargs)
                except SlackApiError as error:
                    if classify(error) is Kind.FATAL:
                        code, _ = describe(error)
                        raise SyncAborted(f"Slack {method}: {code}") from error
                    raise
        raise AssertionError("unreachable: tenacity re-raises the last error")

    # --- recipients ----------------------------------------------------------------------

    def user_id(self, email: str) -> str | None:
        key = email.strip().lower()
        if key not in self._users:
            try:
                found = self._call("users_lookupByEmail", email=email.strip())
                user = found["user"]
                self._users[key] = None if user.get("deleted") else user["id"]
            except SlackApiError as error:
                if error.response.get("error") != "users_not_found":
                    raise
                self._users[key] = None
        return self._users[key]

    def channel_for(self, owner_email: str | None) -> str:
        """The owner's direct-message channel, else the fallback channel."""
        user = self.user_id(owner_email) if owner_email else None
        if user is not None:
            if user not in self._dms:
                opened = self._call("conversations_open", users=user)
                self._dms[user] = opened["channel"]["id"]
            return self._dms[user]
        if self.fallback_channel:
            return self.fallback_channel
        who = "an owner with no Slack user" if owner_email else "a signal with no owner"
        raise NoRecipient(f"{who} and no SLACK_FALLBACK_CHANNEL")

    # --- finding what was sent -----------------------------------------------------------

    def _carries(self, message: dict[str, Any], notice_id: str) -> bool:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        return meta.get("event_type") == self.event_type and payload.get("notice_id") == notice_id

    def find_posted(
        self, channel: str, notice_id: str, posted_after: str, thread_ts: str | None = None
    ) -> str | None:
        """The ts of a message already carrying this notice id, or None."""
        cursor: str | None = None
        while True:
            if thread_ts:
                page = self._call(
                    "conversations_replies", channel=channel, ts=thread_ts, oldest=posted_after,
                    include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor,
                )
            else:
                page = self._call(
                    "conversations_history", channel=channel, oldest=posted_after,
                    include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor,
                )
            for message in page.get("messages", []):
                if self._carries(message, notice_id):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return None

    # --- posting -------------------------------------------------------------------------

    def post(
        self,
        channel: str,
        message: Message,
        notice_id: str,
        posted_after: str,
        thread_ts: str | None = None,
    ) -> Posted:
        ambiguous = False  # did an earlier try fail in a way that may have posted?
        for attempt in retrying(self.policy):
            with attempt:
                if ambiguous:
                    found = self.find_posted(channel, notice_id, posted_after, thread_ts)
                    if found:
                        return Posted(channel, found, recovered=True)
                try:
                    answer = self.client.chat_postMessage(
                        channel=channel, text=message.text, blocks=message.blocks,
                        metadata=message.metadata, thread_ts=thread_ts,
                        unfurl_links=False, unfurl_media=False,
                    )
                except SlackApiError as error:
                    if classify(error) is Kind.FATAL:
                        code = describe(error)[0]
                        raise SyncAborted(f"Slack chat.postMessage: {code}") from error
                    # A 429 or an application error was answered: nothing was posted.
                    ambiguous = may_have_posted(error)
                    raise
                except Exception as error:
                    ambiguous = may_have_posted(error)  # no answer: it may be in the channel
                    raise
                return Posted(str(answer["channel"]), str(answer["ts"]), recovered=False)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def post_ops(self, message: Message) -> bool:
        """Best effort: an ops notice must never turn a run's outcome around."""
        if not self.ops_channel:
            return False
        try:
            self._call("chat_postMessage", channel=self.ops_channel, text=message.text,
                       blocks=message.blocks)
        except Exception:  # the run's own status is already recorded in the run log
            return False
        return True
