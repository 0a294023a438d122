"""The emulated Slack workspace: users, channels, direct messages and posted messages.

Pure state with no HTTP: slack.py maps Web API calls onto it. Message `ts`
values are unique and strictly increasing (wall-clock based, so `oldest` /
`latest` filters behave as on Slack).
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0EMULATOR"
BOT_USER_ID = "U0EMUBOT01"
BOT_ID = "B0EMUBOT01"
APP_ID = "A0EMUAPP01"
BOT_NAME = "expansion-signals"


@dataclass
class SlackUser:
    id: str
    email: str
    name: str
    real_name: str
    deleted: bool = False
    messages_tab: bool = True  # the app's Messages tab; off -> messages_tab_disabled
    tz: str = "America/New_York"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": "Eastern Standard Time",
            "tz_offset": -18000,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "email": self.email,
                "team": TEAM_ID,
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1502138686,
        }


@dataclass
class Channel:
    id: str
    name: str = ""
    is_im: bool = False
    is_mpim: bool = False
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False
    user: str | None = None  # the other side of an IM
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def history_scope(self) -> str:
        if self.is_im:
            return "im:history"
        if self.is_mpim:
            return "mpim:history"
        return "groups:history" if self.is_private else "channels:history"

    def as_json(self) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_member": self.is_member,
        }


def encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def decode_cursor(cursor: str) -> str | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text.removeprefix("next_ts:") if text.startswith("next_ts:") else None


class Workspace:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, Channel] = {}
        self.ims: dict[str, str] = {}  # user id -> IM channel id
        self.messages: list[dict[str, Any]] = []  # in posting order, each with its "channel"
        self._counters: dict[str, int] = {}
        self._last_ts = 0.0

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self._counters[prefix] = self._counters.get(prefix, 0) + 1
            return f"{prefix}0E{self._counters[prefix]:07d}"

    def next_ts(self) -> str:
        with self.lock:
            self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
            return f"{self._last_ts:.6f}"

    # --- users and channels --------------------------------------------------------------

    def add_user(
        self, email: str, name: str | None, real_name: str | None, **flags: Any
    ) -> SlackUser:
        local = email.split("@")[0]
        user = SlackUser(
            self.next_id("U"), email, name or local, real_name or local.title(), **flags
        )
        with self.lock:
            self.users[user.id] = user
        return user

    def user_by_email(self, email: str) -> SlackUser | None:
        wanted = email.strip().lower()
        with self.lock:
            return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def add_channel(self, name: str, **flags: Any) -> Channel:
        prefix = "G" if flags.get("is_private") else "C"
        channel = Channel(self.next_id(prefix), name.lstrip("#"), **flags)
        with self.lock:
            self.channels[channel.id] = channel
        return channel

    def channel_by_name(self, name: str) -> Channel | None:
        wanted = name.lstrip("#").lower()
        with self.lock:
            return next(
                (c for c in self.channels.values() if c.name.lower() == wanted and not c.is_im),
                None,
            )

    def open_im(self, user_id: str) -> tuple[Channel, bool]:
        """The IM with one user, created on first use; returns (channel, already_open)."""
        with self.lock:
            existing = self.ims.get(user_id)
            if existing:
                return self.channels[existing], True
            channel = Channel(self.next_id("D"), is_im=True, user=user_id)
            self.channels[channel.id] = channel
            self.ims[user_id] = channel.id
            return channel, False

    def open_mpim(self, user_ids: list[str]) -> tuple[Channel, bool]:
        name = "mpdm-" + "--".join(sorted(user_ids))
        with self.lock:
            found = self.channel_by_name(name)
            if found:
                return found, True
            return self.add_channel(name, is_mpim=True, is_private=True), False

    # --- messages ------------------------------------------------------------------------

    def post(self, channel: Channel, message: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            message = {**message, "ts": self.next_ts(), "channel": channel.id}
            parent_ts = message.get("thread_ts")
            parent = self.find_message(channel.id, parent_ts) if parent_ts else None
            if parent is not None and parent is not message:
                parent.setdefault("thread_ts", parent["ts"])
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = message["ts"]
                parent["reply_users"] = sorted({*parent.get("reply_users", []), message["user"]})
                parent["reply_users_count"] = len(parent["reply_users"])
                message["parent_user_id"] = parent.get("user")
            self.messages.append(message)
            return message

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        with self.lock:
            return next(
                (m for m in self.messages if m["channel"] == channel_id and m["ts"] == ts), None
            )

    def history(
        self,
        channel_id: str,
        *,
        oldest: str | None,
        latest: str | None,
        inclusive: bool,
        limit: int,
        cursor_ts: str | None,
    ) -> tuple[list[dict[str, Any]], bool, str | None]:
        """Top-level messages newest first; returns (page, has_more, next_cursor)."""
        low = float(oldest) if oldest else 0.0
        high = float(latest) if latest else float("inf")
        start = float(cursor_ts) if cursor_ts else None
        with self.lock:
            candidates = [
                m
                for m in reversed(self.messages)
                if m["channel"] == channel_id
                and (
                    not m.get("thread_ts")
                    or m["thread_ts"] == m["ts"]
                    or m.get("subtype") == "thread_broadcast"
                )
            ]
        selected = []
        for message in candidates:
            ts = float(message["ts"])
            inside_low = ts >= low if inclusive else ts > low
            inside_high = ts <= high if inclusive else ts < high
            if inside_low and inside_high and (start is None or ts <= start):
                selected.append(message)
        page, rest = selected[:limit], selected[limit:]
        return page, bool(rest), encode_cursor(rest[0]["ts"]) if rest else None

    def replies(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        with self.lock:
            return [
                m
                for m in self.messages
                if m["channel"] == channel_id and (m["ts"] == ts or m.get("thread_ts") == ts)
            ]
