"""Baseline for the upload benchmark: a bare WSGI app that reads the body in 256 KiB chunks
and throws it away. Its RSS growth is what the server itself costs on a 200 MB body."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    received = 0
    while chunk := stream.read(256 * 1024):
        received += len(chunk)
    body = str(received).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
