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

from expansion_signals.errors import (
    Kind,
    RetryPolicy,
    SyncAborted,
    classify,
    describe,
    with_retries,
)
from expansion_signals.ledger import SlackRecipient, SlackRecipients
from expansion_signals.slack_messages import Message

HISTORY_PAGE = 200
# A message is looked for from a little before its intent was recorded: clocks differ.
CLOCK_MARGIN_SECONDS = 300
# A post to a remembered direct-message channel answered with one of these: the channel
# or its user is gone, and the owner is worth looking up again.
GONE_RECIPIENT_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "user_not_found", "user_disabled"}
)


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
        *,
        recipients: SlackRecipients,
    ) -> None:
        # The SDK's own retry handlers would repost after a dropped connection; retries
        # here go through expansion_signals.errors, which looks in the channel first.
        client.retry_handlers = []
        self.client = client
        self.event_type = event_type
        self.policy = policy or RetryPolicy()
        self.fallback_channel = fallback_channel
        self.ops_channel = ops_channel
        self.recipients = recipients
        self._asked: set[str] = set()  # owners looked up in this run: asking again is futile

    def _call(self, method: str, **kwargs: Any) -> Any:
        def once() -> Any:
            try:
                return getattr(self.client, method)(**kwargs)
            except SlackApiError as error:
                if classify(error) is Kind.FATAL:
                    code, _ = describe(error)
                    raise SyncAborted(f"Slack {method}: {code}") from error
                raise

        return with_retries(self.policy, once)

    # --- recipients ----------------------------------------------------------------------

    def user_id(self, email: str) -> str | None:
        """The Slack user with this email, asked of Slack; None when there is none."""
        try:
            found = self._call("users_lookupByEmail", email=email.strip())
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise
            return None
        user = found["user"]
        return None if user.get("deleted") else str(user["id"])

    def recipient(self, email: str) -> SlackRecipient:
        """The owner's user and DM channel: remembered, else looked up and remembered."""
        known = self.recipients.get(email)
        if known is not None:
            return known
        self._asked.add(email.strip().lower())
        user = self.user_id(email)
        channel = None
        if user is not None:
            channel = str(self._call("conversations_open", users=user)["channel"]["id"])
        found = SlackRecipient(user, channel)
        self.recipients.remember(email, found)
        return found

    def forget_gone_channel(
        self, owner_email: str | None, channel: str, error: BaseException
    ) -> bool:
        """Forget the owner's DM channel, remembered by an earlier run, if a post says it is gone.

        True when it was forgotten: the next channel_for looks the owner up again.
        """
        if not owner_email or owner_email.strip().lower() in self._asked:
            return False
        if not isinstance(error, SlackApiError):
            return False
        if error.response.get("error") not in GONE_RECIPIENT_ERRORS:
            return False
        known = self.recipients.get(owner_email)
        if known is None or known.channel_id != channel:
            return False
        self.recipients.forget(owner_email)
        return True

    def channel_for(self, owner_email: str | None) -> str:
        """The owner's direct-message channel, else the fallback channel."""
        channel = self.recipient(owner_email).channel_id if owner_email else None
        if channel is not None:
            return channel
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

        def attempt() -> Posted:
            nonlocal ambiguous
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

        return with_retries(self.policy, attempt)

    def post_ops(self, message: Message, channel: str | None = None) -> bool:
        """Best effort: an ops notice must never turn a run's outcome around. To the ops
        channel, or to `channel` when given."""
        channel = channel or self.ops_channel
        if not channel:
            return False
        try:
            self._call("chat_postMessage", channel=channel, text=message.text,
                       blocks=message.blocks)
        except Exception:  # the run's own status is already recorded in the run log
            return False
        return True
