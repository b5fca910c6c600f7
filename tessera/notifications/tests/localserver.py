"""A real HTTP server on 127.0.0.1 for provider tests: it records every request exactly as
received and answers from a script of replies, so adapters are tested over real HTTP
without the internet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LocalServer:
    base_url: str
    replies: list[Reply]
    requests: list[RecordedRequest] = field(default_factory=list)


@contextmanager
def local_server(replies: list[Reply]) -> Iterator[LocalServer]:
    """Serve `replies` in order (the last one repeats) and record the requests."""
    state = LocalServer(base_url="", replies=list(replies))

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length),
                )
            )
            index = min(len(state.requests), len(state.replies)) - 1
            reply = state.replies[index]
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        do_POST = _answer  # noqa: N815
        do_GET = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def local_smtp_server(*, rcpt_reply: str) -> Iterator[int]:
    """A minimal SMTP server on 127.0.0.1 that answers RCPT TO with `rcpt_reply`.

    Yields its port.
    """
    import socketserver

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 localhost ESMTP test\r\n")
            for raw in self.rfile:
                command = raw.decode().strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    reply = "250 localhost"
                elif command.startswith("RCPT"):
                    reply = rcpt_reply
                elif command.startswith("QUIT"):
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    reply = "250 OK"
                self.wfile.write(f"{reply}\r\n".encode())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
