"""Products by setting (TESSERA_PRODUCTS): a deployment of its own — production settings, a
fresh SQLite database, migrations, demo data and the production web server in subprocesses —
with one product, and with none."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.localprod import production_env

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    env: dict[str, str]
    port: int

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def get(self, path: str, **headers: str) -> tuple[int, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def settings_report(self) -> dict[str, Any]:
        script = (
            "import json; from django.conf import settings; from django.contrib import admin; "
            "print(json.dumps({'admin': sorted({m._meta.app_label for m in admin.site._registry}),"
            " 'beat': sorted(e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()),"
            " 'edge': sorted(settings.EDGE_ROUTES), 'products': settings.TESSERA_PRODUCTS}))"
        )
        done = self.manage("shell", "-c", script)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _env(tmp: Path, products: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **keep,
        **production_env(
            TESSERA_VAR_DIR=str(tmp),
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            CELERY_BROKER_URL="memory://",
            LOG_LEVEL="WARNING",
            TESSERA_PRODUCTS=products,
        ),
    }


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Any]:
    servers: list[subprocess.Popen[bytes]] = []

    def start(products: str) -> Deployment:
        deployment = Deployment(env=_env(tmp_path / products.replace(",", "-"), products), port=0)
        Path(deployment.env["TESSERA_VAR_DIR"]).mkdir(parents=True)
        migrated = deployment.manage("migrate", "--noinput")
        assert migrated.returncode == 0, migrated.stderr
        cache_table = deployment.manage("createcachetable")  # no Redis here: the database cache
        assert cache_table.returncode == 0, cache_table.stderr
        deployment.port = _free_port()
        server = subprocess.Popen(
            [
                str(BIN / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(deployment.port),
                "--workers",
                "1",
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env=deployment.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if deployment.get("/health/")[0] == 200:
                    return deployment
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"the {products!r} deployment did not answer /health/ in 30 s")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=15)


def _operations(deployment: Deployment) -> set[str]:
    status, schema = deployment.get("/api/openapi.json")
    assert status == 200
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def test_one_product_mounts_only_its_routes_admin_jobs_and_demo(deploy: Any) -> None:
    deployment = deploy("capsules")

    operations = _operations(deployment)
    assert "GET /api/capsules" in operations
    assert "POST /api/drafts" in operations
    assert not any("website-data" in op or "update-redis" in op for op in operations)
    assert "POST /api/auth/login" in operations  # the platform is always there
    status, body = deployment.get("/api/website-data/")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = deployment.get("/api/capsules")
    assert (status, body["error"]["code"]) == (401, "not_authenticated")
    assert deployment.get("/health/ready")[0] == 200

    report = deployment.settings_report()
    assert report["products"] == ["capsules"]
    assert "capsules" in report["admin"]
    assert "content" not in report["admin"]
    assert "capsules.unlock_sweep" in report["beat"]
    assert report["edge"] == []  # signed-in reads are never the edge's (0032)

    seeded = deployment.manage("seed_demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "Demo data for capsules" in seeded.stdout
    assert "Demo data for content" not in seeded.stdout


def test_the_platform_runs_with_no_product(deploy: Any) -> None:
    deployment = deploy("none")

    operations = _operations(deployment)
    assert not any(
        word in op for op in operations for word in ("capsules", "drafts", "website-data")
    )
    assert {"POST /api/auth/login", "POST /api/files", "GET /api/notifications"} <= operations
    assert deployment.get("/api/capsules")[0] == 404
    assert deployment.get("/health/ready")[0] == 200
    report = deployment.settings_report()
    assert report["products"] == []
    assert not {"capsules", "content"} & set(report["admin"])
    assert not any(task.startswith(("capsules.", "content.")) for task in report["beat"])
    seeded = deployment.manage("seed_demo")
    assert seeded.returncode == 0, seeded.stderr


def test_an_unknown_product_is_refused_at_start(tmp_path: Path) -> None:
    env = _env(tmp_path, "capsules,casino")
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "TESSERA_PRODUCTS names unknown product(s) casino" in done.stderr
