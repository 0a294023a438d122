"""The Slack emulator handle: start it, seed it, break it, inspect it.

    emu = SlackEmulator().start()
    client = slack_client(emu)                      # expansion_dev.emulators.clients
    owner = emu.seed_user("ana@example.com")
    emu.inject(faults.ratelimited(retry_after=0), api_method="chat.postMessage")
    ...
    emu.messages(channel=...); emu.calls("chat.postMessage"); emu.stop()

Plain HTTP: slack-sdk takes any base_url, so no TLS is needed here.
"""

from __future__ import annotations

from typing import Any

from expansion_dev.emulators.faults import Effect, FaultRule
from expansion_dev.emulators.httpbase import Call, Request, Response, RunningServer, start_server
from expansion_dev.emulators.slack_api import DEFAULT_SCOPES, SlackApp, TokenState


class SlackEmulator(SlackApp):
    """A local Slack Web API on http://127.0.0.1:<port>/api/."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self._server: RunningServer | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        self._server = start_server(self, self.host, self.port)
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SlackEmulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What `WebClient(base_url=...)` needs."""
        return f"{self.url}/api/"

    def reset(self) -> None:
        """Empty workspace, default token, no faults, no rate limits, no calls."""
        super().reset()
        self.reset_state()

    # --- seeding -------------------------------------------------------------------------

    def seed_user(
        self,
        email: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        deleted: bool = False,
        messages_tab: bool = True,
    ) -> str:
        """A workspace member findable by users.lookupByEmail; returns the U… id."""
        return self.workspace.add_user(
            email, name, real_name, deleted=deleted, messages_tab=messages_tab
        ).id

    def seed_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        is_member: bool = True,
        is_archived: bool = False,
    ) -> str:
        """A channel the bot is in (unless is_member=False); returns the C…/G… id."""
        return self.workspace.add_channel(
            name, is_private=is_private, is_member=is_member, is_archived=is_archived
        ).id

    def add_token(self, token: str, scopes: set[str] | frozenset[str] | None = None) -> str:
        self.tokens[token] = TokenState(frozenset(DEFAULT_SCOPES if scopes is None else scopes))
        return token

    def revoke_token(self, token: str | None = None) -> None:
        self.tokens[token or self.bot_token].revoked = True

    def set_scopes(self, scopes: set[str] | frozenset[str], token: str | None = None) -> None:
        self.tokens[token or self.bot_token].scopes = frozenset(scopes)

    def enable_rate_limit(
        self, per_second: float = 1.0, burst: int = 1, *, api_method: str | None = None
    ) -> None:
        """Answer 429 + Retry-After beyond `per_second` (after a burst).

        Without `api_method`: chat.postMessage per channel (Slack's ~1 message per
        second per channel). With it: that method across the workspace, like a tier.
        """
        if api_method is None:
            self.channel_rate = (per_second, float(burst))
        else:
            self.method_rates[api_method] = (per_second, float(burst))

    def disable_rate_limit(self) -> None:
        self.channel_rate = None
        self.method_rates.clear()

    # --- inspection ----------------------------------------------------------------------

    def calls(self, method: str | None = None, *, http_method: str | None = None) -> list[Call]:
        """Recorded calls, optionally of one Web API method ("chat.postMessage")."""
        return super().calls(method, method=http_method)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Posted messages, oldest first, each with its `channel` id (replies included)."""
        with self.workspace.lock:
            found = [dict(m) for m in self.workspace.messages]
        return [m for m in found if channel is None or m["channel"] == channel]

    def dm_channel(self, user_id: str) -> str | None:
        """The IM channel id the bot has with a user, if one was opened."""
        return self.workspace.ims.get(user_id)

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """Messages posted in the IM with one user."""
        channel = self.dm_channel(user_id)
        return self.messages(channel) if channel else []

    # --- faults --------------------------------------------------------------------------

    def inject(
        self,
        effect: Effect,
        *,
        times: int = 1,
        api_method: str | None = None,
        body_contains: str | None = None,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        """Queue a fault for the next `times` calls of a method (any method when None)."""
        return self.faults.add(effect, times=times, kind=api_method, body_contains=body_contains,
                               probability=probability, seed=seed)

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- control endpoints ---------------------------------------------------------------

    def control(self, req: Request, parts: list[str]) -> Response | None:
        head = parts[0] if parts else ""
        if head == "messages":
            channel = req.params().get("channel")
            return self._control_json(200, self.messages(channel))
        if head == "users" and req.method == "POST":
            body = req.json() or {}
            user_id = self.seed_user(
                body["email"],
                name=body.get("name"),
                real_name=body.get("real_name"),
                deleted=bool(body.get("deleted", False)),
                messages_tab=bool(body.get("messages_tab", True)),
            )
            return self._control_json(201, {"id": user_id})
        if head == "channels" and req.method == "POST":
            body = req.json() or {}
            channel_id = self.seed_channel(
                body["name"],
                is_private=bool(body.get("is_private", False)),
                is_member=bool(body.get("is_member", True)),
                is_archived=bool(body.get("is_archived", False)),
            )
            return self._control_json(201, {"id": channel_id})
        if head == "rate_limit" and req.method == "POST":
            body = req.json() or {}
            if body.get("enabled", True):
                self.enable_rate_limit(
                    float(body.get("per_second", 1.0)),
                    int(body.get("burst", 1)),
                    api_method=body.get("api_method"),
                )
            else:
                self.disable_rate_limit()
            return self._control_json(200, {"ok": True})
        return None
