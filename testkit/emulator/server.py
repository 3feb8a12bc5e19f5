"""A local HTTP server that emulates the four vendors' APIs, for tests, the demo and benchmarks.

One server on 127.0.0.1 (random port) serves every vendor under its own path prefix:
`/ckct/api/` (CallKeeper call tracking), `/uis` (UIS Data API), `/callkeeper/` (CallKeeper
REST API) and `/ria/` (RIA.com). Each vendor module registers a handler; faults are injected
through `Emulator.faults` (see `faults.py`) and every request is logged for request-count tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from testkit.emulator.faults import FaultPlan


@dataclass
class Request:
    """What a vendor handler sees of one HTTP request."""

    method: str
    path: str  # path below the vendor prefix, e.g. "/getCallsInfo"
    query: str  # raw query string, without "?"
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status=status, body=body, headers=headers or {})


Handler = Callable[[Request], Response]


@dataclass
class LoggedRequest:
    vendor: str
    method: str
    path: str
    query: str
    body: bytes
    status: int
    answer: bytes = b""  # the body sent back, when `Emulator.keep_answers` is set


class Emulator:
    """Starts the server on a random port; `with Emulator() as emu:` stops it afterwards."""

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self.handlers: dict[str, Handler] = {}
        self.vendors: dict[str, object] = {}
        self.faults = FaultPlan()
        self.latency_seconds = latency_seconds
        self.log: list[LoggedRequest] = []
        self.keep_log = True
        self.keep_answers = False  # also log every answer's body (tests of what exactly was sent)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- vendors -------------------------------------------------------------------------
    def register(self, prefix: str, vendor) -> None:
        """`vendor` has a `handle(Request) -> Response` method; it serves `/{prefix}/...`."""
        self.handlers[prefix] = vendor.handle
        self.vendors[prefix] = vendor
        if hasattr(vendor, "faults"):
            vendor.faults = self.faults  # one plan for the server's faults and the vendor's own errors

    def url(self, prefix: str) -> str:
        assert self._server is not None, "emulator is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{prefix}"

    # ---- log -----------------------------------------------------------------------------
    def requests_to(self, vendor: str, path_contains: str = "") -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.vendor == vendor and path_contains in (r.path + "?" + r.query)]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> Emulator:
        emulator = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall per request

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                emulator._dispatch(self, body)

            do_GET = _serve
            do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_until_terminated(self) -> None:
        """Serve (the server runs in its own thread) until SIGTERM or Ctrl-C, then stop."""
        import signal

        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        self.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- dispatch ------------------------------------------------------------------------
    def _split(self, raw_path: str) -> tuple[str, str, str]:
        parts = urlsplit(raw_path)
        segments = parts.path.lstrip("/").split("/", 1)
        vendor = segments[0]
        rest = "/" + (segments[1] if len(segments) > 1 else "")
        return vendor, rest, parts.query

    def _dispatch(self, http: BaseHTTPRequestHandler, body: bytes) -> None:
        vendor, path, query = self._split(http.path)
        request = Request(http.command, path, query, dict(http.headers.items()), body)
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        handler = self.handlers.get(vendor)
        fault = self.faults.take(vendor, request, except_kinds=("error",))
        if fault is not None and fault.kind == "reset":
            self._record(vendor, request, 0, b"")
            http.close_connection = True
            try:
                http.connection.shutdown(2)
            except OSError:
                pass
            return
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds)
        if fault is not None and fault.response is not None:
            response = fault.response(request) if callable(fault.response) else fault.response
        elif handler is None:
            response = Response(404, b"<html><body>404 Not Found</body></html>", "text/html")
        else:
            response = handler(request)
        if fault is not None and fault.kind == "short":
            response = self.vendors[vendor].shortened(response)
        self._record(vendor, request, response.status, response.body)
        body_out = response.body
        if fault is not None and fault.kind == "truncate":
            body_out = body_out[: max(1, len(body_out) // 2)]
        try:
            http.send_response(response.status)
            http.send_header("Content-Type", response.content_type)
            http.send_header("Content-Length", str(len(body_out)))
            for name, value in response.headers.items():
                http.send_header(name, value)
            http.end_headers()
            if fault is not None and fault.kind == "drop":
                # The whole length announced, half the body sent, then the connection closed.
                http.wfile.write(body_out[: len(body_out) // 2])
                http.wfile.flush()
                http.close_connection = True
                http.connection.shutdown(2)
                return
            http.wfile.write(body_out)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _record(self, vendor: str, request: Request, status: int, answer: bytes) -> None:
        if self.keep_log:
            kept = answer if self.keep_answers else b""
            with self._lock:
                self.log.append(LoggedRequest(vendor, request.method, request.path, request.query, request.body, status, kept))
