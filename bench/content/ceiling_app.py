"""The server's ceiling for this reply: a WSGI callable that answers every request with the
bytes and headers Tessera sent for GET /api/website-data/ (recorded by run.py into the file
named by `CEILING_REPLY`), doing nothing else. What granian alone costs for a reply of this
shape on this machine; whatever Tessera adds on top is the edge's own work."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_recorded = json.loads(Path(os.environ["CEILING_REPLY"]).read_text())
_BODY = _recorded["body"].encode()
_HEADERS = [(name, value) for name, value in _recorded["headers"]]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", list(_HEADERS))
    return [_BODY]
