"""The Salesforce emulator handle: start it, seed it, break it, inspect it.

    emu = SalesforceEmulator().start()
    sf = salesforce_client(emu)              # expansion_dev.emulators.clients
    owner = emu.seed_user("ana@example.com")
    emu.inject(faults.record_lock([3]), kind="composite.upsert")
    ...
    emu.records("Expansion_Signal__c"); emu.write_count(); emu.stop()

HTTPS only, because simple-salesforce always builds https:// URLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from expansion_dev.emulators import sf_ids
from expansion_dev.emulators.faults import Effect, FaultRule
from expansion_dev.emulators.httpbase import Call, Request, Response, RunningServer, start_server
from expansion_dev.emulators.schema import (
    INTEGRATION_USER_EMAIL,
    ORG_ID_PREFIX,
    ORGANIZATION,
    lookup_object,
)
from expansion_dev.emulators.sf_api import WRITE_KINDS, SalesforceApp
from expansion_dev.emulators.tls import LoopbackCA, make_test_ca

API_VERSION = "59.0"


class SalesforceEmulator(SalesforceApp):
    """A local org on https://127.0.0.1:<port>, with a Python handle for tests."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, ca_dir: str | Path | None = None
    ) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.version = API_VERSION
        self._ca_dir = ca_dir
        self._ca: LoopbackCA | None = None
        self._server: RunningServer | None = None
        self.session_id = ""
        self.integration_user_id = ""
        self._seed_defaults()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> SalesforceEmulator:
        self._ca = make_test_ca(self._ca_dir)
        self._server = start_server(self, self.host, self.port, self._ca.server_context)
        self.port = self._server.port
        self.instance_url = f"https://{self.host}:{self.port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SalesforceEmulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ca_path(self) -> str:
        """PEM of the test CA: hand it to `requests.Session.verify`."""
        if self._ca is None:
            raise RuntimeError("the emulator is not started")
        return str(self._ca.ca_path)

    def reset(self) -> None:
        """Back to a fresh org: no records but the integration user, no faults, no calls."""
        super().reset()
        self.reset_state()
        self._seed_defaults()

    def _seed_defaults(self) -> None:
        self.integration_user_id = self.seed_user(
            INTEGRATION_USER_EMAIL, first_name="Integration", last_name="User"
        )
        self.org.current_user_id = self.integration_user_id
        self.org.put_fixed(ORGANIZATION, self.org_id, {
            "Name": "Emulator", "IsSandbox": False, "InstanceName": "EMU1"})
        # A fixed token, so a client built before a reset keeps working after it.
        self.session_id = f"{self.org_id[:15]}!AQ.emulator-session"
        self.sessions[self.session_id] = True

    # --- seeding -------------------------------------------------------------------------

    def seed_record(self, sobject: str, fields: dict[str, Any], *, validate: bool = True) -> str:
        """Insert a record; `validate=False` skips every rule (e.g. to duplicate an external id)."""
        spec = lookup_object(sobject)
        if spec is None:
            raise KeyError(sobject)
        # Canonical field names; an unknown name is kept so an unvalidated seed can use it.
        values = {getattr(spec.field(k), "name", k): v for k, v in fields.items()}
        with self.org.lock:
            return self.org.create(spec, values, validate=validate)

    def seed_user(
        self,
        email: str,
        *,
        first_name: str = "",
        last_name: str | None = None,
        is_active: bool = True,
        username: str | None = None,
    ) -> str:
        fields: dict[str, Any] = {
            "Email": email,
            "Username": username or email,
            "LastName": last_name or email.split("@")[0].title(),
            "IsActive": is_active,
        }
        if first_name:
            fields["FirstName"] = first_name
        return self.seed_record("User", fields)

    def become_org(self, serial: int) -> str:
        """Another org from now on (a sandbox, a new production org): another Organization Id,
        no records. Returns the new Organization Id."""
        self.org_id = sf_ids.to18(ORG_ID_PREFIX + sf_ids.POD + f"{serial:010d}")
        self.reset()
        return self.org_id

    def seed_account(self, name: str = "Acme Corp", **fields: Any) -> str:
        return self.seed_record("Account", {"Name": name, **fields})

    # --- inspection ----------------------------------------------------------------------

    def records(self, sobject: str) -> list[dict[str, Any]]:
        """Copies of every record of an object, in insertion order."""
        spec = lookup_object(sobject)
        return self.org.records(spec.name) if spec else []

    def record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        spec = lookup_object(sobject)
        found = self.org.get(spec.name, record_id) if spec else None
        return dict(found) if found else None

    def find(self, sobject: str, field: str, value: Any) -> list[dict[str, Any]]:
        """Records whose field equals value (text compared case-insensitively)."""

        def same(a: Any) -> bool:
            if isinstance(a, str) and isinstance(value, str):
                return a.lower() == value.lower()
            return a == value

        return [r for r in self.records(sobject) if same(r.get(field))]

    def calls(
        self, kind: str | None = None, *, method: str | None = None, writes: bool | None = None
    ) -> list[Call]:
        """Recorded calls; `writes=True` keeps only calls that can change data."""
        calls = super().calls(kind, method=method)
        if writes is not None:
            calls = [c for c in calls if (c.kind in WRITE_KINDS) == writes]
        return calls

    def write_calls(self) -> list[Call]:
        return self.calls(writes=True)

    def write_count(self) -> int:
        return len(self.write_calls())

    def reset_counters(self) -> None:
        """Forget recorded calls and API usage; keep the data."""
        self.reset_calls()
        with self.org.lock:
            self.api_used = 0
            self.bulk_batches_used = 0

    # --- faults and sessions -------------------------------------------------------------

    def inject(self, effect: Effect, **match: Any) -> FaultRule:
        """Queue a fault for matching requests: FaultQueue.add's times, kind, method, path,
        body_contains, probability and seed."""
        return self.faults.add(effect, **match)

    def clear_faults(self) -> None:
        self.faults.clear()

    def expire_session(self, token: str | None = None) -> None:
        """Make one token (default: all) answer 401 INVALID_SESSION_ID from now on."""
        for known in list(self.sessions):
            if token is None or known == token:
                self.sessions[known] = False

    # --- control endpoints ---------------------------------------------------------------

    def control(self, req: Request, parts: list[str]) -> Response | None:
        head = parts[0] if parts else ""
        if head == "records" and len(parts) == 2:
            return self._control_json(200, self.records(parts[1]))
        if head == "users" and req.method == "POST":
            body = req.json() or {}
            user_id = self.seed_user(
                body["email"],
                first_name=body.get("first_name", ""),
                last_name=body.get("last_name"),
                is_active=body.get("is_active", True),
            )
            return self._control_json(201, {"id": user_id})
        if head == "accounts" and req.method == "POST":
            body = dict(req.json() or {})
            return self._control_json(
                201, {"id": self.seed_account(body.pop("name", "Acme Corp"), **body)}
            )
        if head == "sessions" and req.method == "POST":
            if parts[1:] == ["expire"]:
                self.expire_session((req.json() or {}).get("token"))
                return self._control_json(200, {"ok": True})
            with self.org.lock:
                return self._control_json(201, {"session_id": self.issue_session()})
        if head == "usage":
            with self.org.lock:
                if req.method == "POST":
                    body = req.json() or {}
                    self.api_used = int(body.get("api_used", self.api_used))
                    self.settings.api_limit = int(body.get("api_limit", self.settings.api_limit))
                return self._control_json(
                    200,
                    {
                        "api_used": self.api_used,
                        "api_limit": self.settings.api_limit,
                        "bulk_batches_used": self.bulk_batches_used,
                        "write_calls": self.write_count(),
                        "calls": self.counts(),
                    },
                )
        return None
