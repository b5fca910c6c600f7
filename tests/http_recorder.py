"""A real HTTP server on 127.0.0.1 that records requests and replies as told: adapters for
outside services (PostHog, Twilio, SendGrid, gateways) are tested against it."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    status: int = 200
    reply: Any = field(default_factory=dict)
    # Statuses answered first, one per request, before `status` (a retry after a 503).
    first_statuses: list[int] = field(default_factory=list)


@contextmanager
def recording_server(status: int = 200, reply: Any = None) -> Iterator[Recorder]:
    recorder = Recorder(url="", status=status, reply=reply if reply is not None else {})

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            recorder.requests.append(
                RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
            )
            payload = json.dumps(recorder.reply).encode()
            status = recorder.first_statuses.pop(0) if recorder.first_statuses else recorder.status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
