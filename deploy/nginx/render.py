"""Fill deploy/nginx/templates/tessera.conf.template, as the nginx image's envsubst does, and
write a whole nginx.conf around it for a Debian nginx run by an unprivileged prefix (the CI
check and scripts/cluster.py). Every placeholder must be given: a missing one is an error,
not an empty string."""

from __future__ import annotations

import os
import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "templates" / "tessera.conf.template"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def placeholders(text: str | None = None) -> set[str]:
    return set(PLACEHOLDER.findall(TEMPLATE.read_text() if text is None else text))


def render_site(values: dict[str, str]) -> str:
    text = TEMPLATE.read_text()
    missing = sorted(placeholders(text) - set(values))
    if missing:
        raise KeyError(f"nginx template placeholders without a value: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def render_main(*, prefix: Path, site_conf: Path, mime_types: Path, workers: int = 1) -> str:
    """A complete nginx.conf whose pid, logs and temporary files live under `prefix`."""
    temp = prefix / "tmp"
    # Started as root (CI, a root shell), workers would run as nobody and could not write the
    # cache under a private temporary directory: keep them as the user that started Nginx.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include {mime_types};
    default_type application/octet-stream;
    access_log {prefix / "access.log"};
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    sendfile on;
    keepalive_timeout 65;
    include {site_conf};
}}
"""


def write_config(*, prefix: Path, values: dict[str, str]) -> Path:
    """Render both files under `prefix`; return the nginx.conf path."""
    prefix.mkdir(parents=True, exist_ok=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    site = prefix / "tessera.conf"
    site.write_text(render_site(values))
    main = prefix / "nginx.conf"
    main.write_text(
        render_main(prefix=prefix, site_conf=site, mime_types=Path("/etc/nginx/mime.types"))
    )
    return main
