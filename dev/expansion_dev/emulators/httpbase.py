"""HTTP plumbing shared by both emulators.

A threaded HTTP/1.1 server (keep-alive, so thousands of calls do not pay a TLS
handshake each), a request/response model, the call log, fault application and
the `/__emulator/...` control endpoints. The Salesforce and Slack apps only
classify and answer requests.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import traceback
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from expansion_dev.emulators.faults import (
    TRANSPORT_EFFECTS,
    Delay,
    Drop,
    Effect,
    FaultQueue,
    Respond,
    fault_from_json,
)

CONTROL_PREFIX = "/__emulator/"
CONTROL_JSON = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").lower()

    def params(self) -> dict[str, str]:
        """Query-string parameters, first value wins."""
        return {k: v[0] for k, v in parse_qs(self.query, keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    status: int, data: Any, content_type: str, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return Response(status, body, content_type, dict(headers or {}))


def effect_response(effect: Respond) -> Response:
    body = effect.body
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = json.dumps(body).encode("utf-8")
    return Response(effect.status, raw, effect.content_type, dict(effect.headers))


@dataclass
class Call:
    """One request as the emulator saw it, for assertions."""

    method: str
    path: str
    query: str
    kind: str  # endpoint kind, e.g. "composite.upsert" or a Slack method
    status: int  # 0 when the connection was dropped without an answer
    body: Any  # decoded: JSON value, form dict, CSV text
    headers: dict[str, str]
    fault: str | None
    at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decode_body(req: Request) -> Any:
    if not req.body:
        return None
    ctype = req.content_type
    try:
        if "json" in ctype:
            return req.json()
        if "x-www-form-urlencoded" in ctype:
            return {k: v[0] for k, v in parse_qs(req.text(), keep_blank_values=True).items()}
        return req.text()
    except (ValueError, UnicodeDecodeError):
        return req.body


class EmulatorApp:
    """Base class: call log, latency, faults and control endpoints; subclasses answer."""

    control_content_type = CONTROL_JSON

    def __init__(self) -> None:
        self.faults = FaultQueue()
        self.latency = 0.0
        self._calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._in_flight = 0
        self.peak_in_flight = 0  # most requests being answered at once since the last reset

    # --- to override ---------------------------------------------------------------------

    def classify(self, req: Request) -> str:
        raise NotImplementedError

    def handle(self, req: Request, kind: str) -> Response:
        raise NotImplementedError

    def finalize(self, req: Request, kind: str, resp: Response, effect: Effect | None) -> Response:
        """Last touch on every non-control response (e.g. Salesforce's limit header)."""
        return resp

    def internal_error(self, exc: BaseException) -> Response:
        return json_response(500, {"error": repr(exc)}, CONTROL_JSON)

    def control(self, req: Request, parts: list[str]) -> Response | None:
        """Emulator-specific control endpoints; None means not found."""
        return None

    def reset(self) -> None:
        self.faults.clear()
        self.latency = 0.0
        self.reset_calls()

    # --- request pipeline ----------------------------------------------------------------

    def dispatch(self, req: Request) -> Response | None:
        """Answer one request; None tells the server to close the connection unanswered."""
        if req.path.startswith(CONTROL_PREFIX):
            return self._control(req)
        with self._calls_lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            return self._dispatch(req)
        finally:
            with self._calls_lock:
                self._in_flight -= 1

    def _dispatch(self, req: Request) -> Response | None:
        if self.latency > 0:
            time.sleep(self.latency)
        kind = self.classify(req)
        effect = self.faults.take(req.method, req.target, kind, req.body, TRANSPORT_EFFECTS)
        if isinstance(effect, Respond):
            resp = self.finalize(req, kind, effect_response(effect), effect)
            self._record(req, kind, resp.status, effect)
            return resp
        if isinstance(effect, Delay | Drop) and not effect.commit:
            self._record(req, kind, 0, effect)
            if isinstance(effect, Delay):
                time.sleep(effect.seconds)
            return None
        resp = self._run(req, kind, effect)
        self._record(req, kind, resp.status if not isinstance(effect, Drop) else 0, effect)
        if isinstance(effect, Drop):
            return None
        if isinstance(effect, Delay):
            time.sleep(effect.seconds)  # the write is committed; the answer comes too late
        return resp

    def _run(self, req: Request, kind: str, effect: Effect | None) -> Response:
        try:
            resp = self.handle(req, kind)
        except Exception as exc:  # an emulator bug must surface as a 500, not a hung client
            traceback.print_exc()
            resp = self.internal_error(exc)
        return self.finalize(req, kind, resp, effect)

    # --- call log ------------------------------------------------------------------------

    def _record(self, req: Request, kind: str, status: int, effect: Effect | None) -> None:
        call = Call(
            method=req.method,
            path=req.path,
            query=req.query,
            kind=kind,
            status=status,
            body=decode_body(req),
            headers={k: v for k, v in req.headers.items() if k.lower() != "authorization"},
            fault=effect.name if effect is not None else None,
            at=time.time(),
        )
        with self._calls_lock:
            self._calls.append(call)

    def calls(self, kind: str | None = None, *, method: str | None = None) -> list[Call]:
        """Recorded calls, optionally of one endpoint kind (exact or dotted prefix)."""
        with self._calls_lock:
            calls = list(self._calls)
        if kind is not None:
            calls = [c for c in calls if c.kind == kind or c.kind.startswith(kind + ".")]
        if method is not None:
            calls = [c for c in calls if c.method == method.upper()]
        return calls

    def counts(self) -> dict[str, int]:
        """Number of calls per endpoint kind."""
        return dict(Counter(c.kind for c in self.calls()))

    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()
            self.peak_in_flight = self._in_flight

    # --- control endpoints ---------------------------------------------------------------

    def _control(self, req: Request) -> Response:
        parts = [p for p in req.path[len(CONTROL_PREFIX) :].split("/") if p]
        try:
            resp = self._control_common(req, parts) or self.control(req, parts)
        except (ValueError, TypeError, KeyError) as exc:
            return self._control_json(400, {"ok": False, "error": str(exc)})
        return resp or self._control_json(404, {"ok": False, "error": "no such control endpoint"})

    def _control_json(self, status: int, data: Any) -> Response:
        return json_response(status, data, self.control_content_type)

    def _control_common(self, req: Request, parts: list[str]) -> Response | None:
        head = parts[0] if parts else ""
        if head == "health":
            return self._control_json(200, {"ok": True})
        if head == "reset" and req.method == "POST":
            self.reset()
            return self._control_json(200, {"ok": True})
        if head == "faults":
            if req.method == "POST":
                effect, match = fault_from_json(req.json() or {})
                rule = self.faults.add(effect, **match)
                return self._control_json(201, {"ok": True, "fault": rule.describe()})
            if req.method == "DELETE":
                self.faults.clear()
                return self._control_json(200, {"ok": True})
            return self._control_json(200, [r.describe() for r in self.faults.pending()])
        if head == "calls":
            if req.method == "DELETE":
                self.reset_calls()
                return self._control_json(200, {"ok": True})
            kind = req.params().get("kind")
            return self._control_json(200, [c.as_dict() for c in self.calls(kind)])
        if head == "counts":
            return self._control_json(200, self.counts())
        if head == "latency" and req.method == "POST":
            self.latency = float((req.json() or {}).get("seconds", 0))
            return self._control_json(200, {"ok": True, "latency": self.latency})
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "emulator/1"
    disable_nagle_algorithm = True  # headers and body go in two writes; no 40 ms stalls
    timeout = 120  # an idle keep-alive connection frees its thread eventually
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        req = Request(self.command, split.path, split.query, self.headers, self._read_body())
        resp = self.server.app.dispatch(req)
        if resp is None:
            self.close_connection = True
            return
        try:
            self.send_response(resp.status)
            if resp.content_type:
                self.send_header("Content-Type", resp.content_type)
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD" and resp.body:
                self.wfile.write(resp.body)
        except (OSError, ssl.SSLError):
            # The client gave up (e.g. its timeout fired during an injected delay).
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class EmulatorServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that does the TLS handshake in the worker thread.

    Wrapping the listening socket would run every handshake in the accept
    loop, so one slow client would stall all others.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], app: EmulatorApp, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.app = app
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_Handler.timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


@dataclass
class RunningServer:
    """A server running on a background thread."""

    server: EmulatorServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(
    app: EmulatorApp,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> RunningServer:
    """Bind (port 0 picks a free one) and serve on a daemon thread."""
    server = EmulatorServer((host, port), app, ssl_context)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    return RunningServer(server, thread)
