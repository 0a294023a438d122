"""The Slack Web API methods a notifier needs, over the emulated workspace.

Application errors are HTTP 200 with ok=false; only rate limiting is a 429
with an integer Retry-After. Every method accepts POST
or GET, JSON, form or multipart bodies, and the token as a Bearer header or a
`token` parameter.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from expansion_dev.emulators.faults import SLACK_JSON
from expansion_dev.emulators.httpbase import EmulatorApp, Request, Response, json_response
from expansion_dev.emulators.slack_blocks import validate_blocks
from expansion_dev.emulators.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_ID,
    Channel,
    SlackUser,
    Workspace,
    decode_cursor,
)

DEFAULT_TOKEN = "xoxb-0000000000-emulator-bot-token"
DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "chat:write.public",
        "users:read",
        "users:read.email",
        "im:write",
        "mpim:write",
        "channels:read",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
    }
)
MAX_TEXT = 40_000  # longer text is truncated, not rejected
MAX_ATTACHMENTS = 100
MAX_CONVERSATION_USERS = 8


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class TokenState:
    scopes: frozenset[str]
    revoked: bool = False


@dataclass
class TokenBucket:
    """`rate` per second with `burst` capacity; take() returns seconds to wait, 0 when allowed."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Method:
    handler: Callable[[dict[str, Any]], dict[str, Any]]
    scopes: tuple[str, ...]  # any one of them is enough; () means none needed


class SlackApp(EmulatorApp):
    """The Web API methods over a Workspace, with Slack's auth, scopes and rate limits."""

    control_content_type = SLACK_JSON

    def __init__(self) -> None:
        super().__init__()
        self.team_id = TEAM_ID  # auth.test's; a test may point the token at another workspace
        self._bucket_lock = threading.Lock()
        self._methods = self.methods()
        self.reset_state()

    def reset_state(self) -> None:
        self.workspace = Workspace()
        self.tokens: dict[str, TokenState] = {DEFAULT_TOKEN: TokenState(DEFAULT_SCOPES)}
        self.bot_token = DEFAULT_TOKEN
        # Off by default so functional tests are deterministic; (per second, burst).
        self.channel_rate: tuple[float, float] | None = None
        self.method_rates: dict[str, tuple[float, float]] = {}
        with self._bucket_lock:
            self._buckets: dict[tuple[str, str], TokenBucket] = {}

    # --- pipeline hooks ------------------------------------------------------------------

    def classify(self, req: Request) -> str:
        path = req.path
        return path[len("/api/") :].strip("/") if path.startswith("/api/") else "unknown"

    def handle(self, req: Request, kind: str) -> Response:
        method = self._methods.get(kind)
        if method is None:
            return self.reply(404, {"ok": False, "error": "unknown_method", "req_method": kind})
        token: str = ""
        state: TokenState | None = None
        try:
            params = parse_params(req)
            token = self._token(req, params)
            state = self.tokens.get(token) if token else None
            if not token:
                raise SlackError("not_authed")
            if state is None:
                raise SlackError("invalid_auth")
            if state.revoked:
                raise SlackError("token_revoked")
            if method.scopes and not set(method.scopes) & state.scopes:
                raise SlackError(
                    "missing_scope",
                    needed=",".join(method.scopes),
                    provided=",".join(sorted(state.scopes)),
                )
            self._throttle(("method", kind), self.method_rates.get(kind))
            params["_scopes"] = state.scopes
            with self.workspace.lock:
                data = method.handler(params)
        except SlackError as err:
            if err.error == "ratelimited":
                retry_after = int(err.extra.get("retry_after", 1))
                return self.reply(
                    429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
                )
            return self.reply(
                200,
                {"ok": False, "error": err.error, **err.extra},
                self._scope_headers(token, state),
            )
        return self.reply(200, {"ok": True, **data}, self._scope_headers(token, state))

    def internal_error(self, exc: BaseException) -> Response:
        return self.reply(200, {"ok": False, "error": "internal_error"})

    @staticmethod
    def reply(status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        return json_response(status, data, SLACK_JSON, headers)

    @staticmethod
    def _token(req: Request, params: dict[str, Any]) -> str:
        scheme, _, value = (req.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return str(params.pop("token", "") or "")

    @staticmethod
    def _scope_headers(token: str | None, state: TokenState | None) -> dict[str, str]:
        if not token or state is None:
            return {}
        return {"x-oauth-scopes": ",".join(sorted(state.scopes))}

    def methods(self) -> dict[str, Method]:
        return {
            "api.test": Method(self.api_test, ()),
            "auth.test": Method(self.auth_test, ()),
            "chat.postMessage": Method(self.chat_post_message, ("chat:write",)),
            "users.lookupByEmail": Method(self.users_lookup_by_email, ("users:read.email",)),
            "users.info": Method(self.users_info, ("users:read",)),
            "conversations.open": Method(self.conversations_open, ("im:write", "mpim:write")),
            "conversations.history": Method(
                self.conversations_history,
                ("channels:history", "groups:history", "im:history", "mpim:history"),
            ),
            "conversations.replies": Method(
                self.conversations_replies,
                ("channels:history", "groups:history", "im:history", "mpim:history"),
            ),
        }

    # --- helpers -------------------------------------------------------------------------

    def _throttle(self, key: tuple[str, str], rate: tuple[float, float] | None) -> None:
        if rate is None:
            return
        with self._bucket_lock:
            bucket = self._buckets.setdefault(key, TokenBucket(*rate))
            wait = bucket.take()
        if wait > 0:
            raise SlackError("ratelimited", retry_after=max(1, math.ceil(wait)))

    def _channel_for_post(self, value: str) -> Channel:
        ws = self.workspace
        if not value:
            raise SlackError("channel_not_found")
        if value[0] in "UW":
            user = ws.users.get(value)
            if user is None:
                raise SlackError("channel_not_found")
            if user.deleted:
                raise SlackError("user_disabled")
            if not user.messages_tab:
                raise SlackError("messages_tab_disabled")
            return ws.open_im(user.id)[0]
        channel = ws.channels.get(value) or ws.channel_by_name(value)
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.is_archived:
            raise SlackError("is_archived")
        if not channel.is_member and not channel.is_im:
            raise SlackError("not_in_channel")
        return channel

    def _readable_channel(self, value: str | None, scopes: frozenset[str]) -> Channel:
        channel = self.workspace.channels.get(value or "")
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.history_scope not in scopes:
            raise SlackError(
                "missing_scope", needed=channel.history_scope, provided=",".join(sorted(scopes))
            )
        if not channel.is_member and not channel.is_im:
            raise SlackError("not_in_channel")
        return channel

    @staticmethod
    def _json_param(value: Any, error: str) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value

    @staticmethod
    def message_json(message: dict[str, Any], with_metadata: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in message.items() if k != "channel"}
        if not with_metadata:
            out.pop("metadata", None)
        return out

    # --- methods -------------------------------------------------------------------------

    def api_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"args": {k: v for k, v in params.items() if k != "token"}}

    def auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://emulator.slack.com/",
            "team": "Emulator",
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_for_post(str(params.get("channel") or ""))
        self._throttle(("channel", channel.id), self.channel_rate)
        text = params.get("text")
        blocks = self._json_param(params.get("blocks"), "invalid_blocks_format")
        attachments = self._json_param(params.get("attachments"), "invalid_attachments")
        if blocks is not None and not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        if not text and not blocks and not attachments and not params.get("markdown_text"):
            raise SlackError("no_text")
        if blocks:
            errors = validate_blocks(blocks)
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        if attachments is not None and (
            not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS
        ):
            raise SlackError(
                "too_many_attachments" if isinstance(attachments, list) else "invalid_attachments"
            )
        metadata = self._json_param(params.get("metadata"), "invalid_metadata_format")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        message: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": str(text or params.get("markdown_text") or "")[:MAX_TEXT],
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
        }
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
            if str(params.get("reply_broadcast", "")).lower() in ("true", "1"):
                message["subtype"] = "thread_broadcast"
        if metadata is not None:
            message["metadata"] = metadata
        stored = self.workspace.post(channel, message)
        return {"channel": channel.id, "ts": stored["ts"], "message": self.message_json(stored)}

    def users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.user_by_email(str(params.get("email") or ""))
        if user is None:
            raise SlackError("users_not_found")
        return {"user": user.as_json()}

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.users.get(str(params.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.as_json()}

    def conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ws = self.workspace
        if params.get("channel"):
            channel = ws.channels.get(str(params["channel"]))
            if channel is None:
                raise SlackError("channel_not_found")
            return {"no_op": True, "already_open": True, "channel": channel.as_json()}
        users = params.get("users")
        ids = [
            u.strip()
            for u in (users if isinstance(users, list) else str(users or "").split(","))
            if u.strip()
        ]
        if not ids:
            raise SlackError("users_list_not_supplied")
        if len(ids) > MAX_CONVERSATION_USERS:
            raise SlackError("too_many_users")
        for user_id in ids:
            user: SlackUser | None = ws.users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            if user.deleted:
                raise SlackError("user_disabled")
        channel, already_open = ws.open_im(ids[0]) if len(ids) == 1 else ws.open_mpim(ids)
        full = already_open or str(params.get("return_im", "")).lower() in ("true", "1")
        result: dict[str, Any] = {"channel": channel.as_json() if full else {"id": channel.id}}
        if already_open:
            result = {"no_op": True, "already_open": True, **result}
        return result

    def conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._readable_channel(params.get("channel"), params["_scopes"])
        limit = min(max(int(params.get("limit") or 100), 1), 999)
        cursor = params.get("cursor")
        cursor_ts = decode_cursor(str(cursor)) if cursor else None
        if cursor and cursor_ts is None:
            raise SlackError("invalid_cursor")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("true", "1")
        page, has_more, next_cursor = self.workspace.history(
            channel.id,
            oldest=params.get("oldest"),
            latest=params.get("latest"),
            inclusive=str(params.get("inclusive", "")).lower() in ("true", "1"),
            limit=limit,
            cursor_ts=cursor_ts,
        )
        result: dict[str, Any] = {
            "messages": [self.message_json(m, with_metadata) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if next_cursor:
            result["response_metadata"] = {"next_cursor": next_cursor}
        return result

    def conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._readable_channel(params.get("channel"), params["_scopes"])
        thread = self.workspace.replies(channel.id, str(params.get("ts") or ""))
        if not thread:
            raise SlackError("thread_not_found")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("true", "1")
        return {
            "messages": [self.message_json(m, with_metadata) for m in thread],
            "has_more": False,
        }


def parse_params(req: Request) -> dict[str, Any]:
    """Query string plus body, whichever encoding the client chose."""
    params: dict[str, Any] = req.params()
    ctype = req.content_type
    if not req.body:
        return params
    if "json" in ctype:
        try:
            data = req.json()
        except (ValueError, UnicodeDecodeError):
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("invalid_json")
        params.update(data)
    elif "multipart/form-data" in ctype:
        header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + req.body)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name and not part.get_filename():
                params[str(name)] = part.get_content()
    else:
        params.update({k: v[0] for k, v in parse_qs(req.text(), keep_blank_values=True).items()})
    return params
