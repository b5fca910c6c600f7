"""The production topology on this machine, without containers (`make cluster`).

Debian's Nginx, configured from deploy/nginx/templates/tessera.conf.template exactly as
deploy/compose.yaml configures its Nginx, on loopback high ports (HTTPS with a test
certificate), in front of 3 web processes (granian, the production command), 2 Celery
workers and 1 beat, on PostgreSQL (a database of its own), RabbitMQ (a vhost of its own)
and a Redis server the cluster starts itself on its own port. The environment is
deploy/.env.example's set variables with config.settings.prod, pointed at those servers.

    .venv/bin/python scripts/cluster.py            # start, print the URLs, run until Ctrl-C
    .venv/bin/python scripts/cluster.py --keep     # ... and keep the database and vhost

Everything it starts is stopped on exit (Ctrl-C, SIGTERM, an error); the database and vhost
it created are dropped unless --keep. scripts/soak.py drives it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "bench"),
    str(ROOT / "deploy"),
    str(ROOT / "deploy" / "nginx"),
]

from benchlib.procs import Managed, Registry, install_signal_handlers, tail  # noqa: E402

from config.localprod import production_env  # noqa: E402

# Two clusters on one machine (two checkouts' test runs) need other names and ports.
NAME = os.environ.get("CLUSTER_NAME", "ops_cluster")
DATABASE = f"tessera_{NAME}"
VHOST = f"tessera_{NAME}"
PG_ADMIN_URL = os.environ.get(
    "CLUSTER_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RABBIT = os.environ.get("CLUSTER_RABBITMQ", "guest:guest@127.0.0.1:5672")
# Ports: 18000 + 100 * 6 (this engineer's Redis index) + k.
PORT_BASE = int(os.environ.get("CLUSTER_PORT_BASE", "18600"))
DOMAIN = "tessera.test"
WEB_PROCESSES = 3
WORKERS = 2


class ClusterError(RuntimeError):
    pass


def env_example_values() -> dict[str, str]:
    """The variables deploy/.env.example sets (not the commented ones)."""
    values = {}
    for line in (ROOT / "deploy" / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Cluster:
    workdir: Path
    keep: bool = False
    registry: Registry = field(default_factory=Registry)
    web: list[Managed | None] = field(default_factory=list)
    workers: list[Managed | None] = field(default_factory=list)
    beat: Managed | None = None
    redis: Managed | None = None
    nginx: Managed | None = None
    env: dict[str, str] = field(default_factory=dict)
    created_vhost: bool = False

    # --- ports and URLs ----------------------------------------------------------------------
    @property
    def https_port(self) -> int:
        return PORT_BASE + 43

    @property
    def http_port(self) -> int:
        return PORT_BASE + 80

    @property
    def redis_port(self) -> int:
        return PORT_BASE + 10

    def web_port(self, index: int) -> int:
        return PORT_BASE + 1 + index

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def database_url(self) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"

    # --- setup -------------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        env.update(env_example_values())
        # What deploy/compose.yaml sets for the app services, pointed at this machine.
        env.update(
            {
                "PATH": f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
                "PYTHONPATH": str(ROOT),
                **production_env(),
                "DJANGO_ALLOWED_HOSTS": f"{DOMAIN},127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": f"https://{DOMAIN}",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "CELERY_BROKER_URL": f"amqp://{RABBIT}/{VHOST}",
                "TRUSTED_PROXY_HOPS": "1",
                # The sandbox gateway calls back the way a gateway in the same private network
                # would: straight to a web process (webhooks are signed; retried with backoff
                # while that process is down). People reach the checkout through Nginx.
                "PAYMENTS_PUBLIC_URL": f"https://{DOMAIN}",
                "PAYMENTS_SANDBOX_WEBHOOK_URL": (
                    f"http://127.0.0.1:{self.web_port(0)}/webhooks/sandbox"
                ),
                "TESSERA_VAR_DIR": str(self.workdir / "var"),
                "STATIC_ROOT": str(self.workdir / "static"),
                "MEDIA_ROOT": str(self.workdir / "media"),
                "METRICS_ALLOWED_IPS": "127.0.0.1,::1",
                "LOG_LEVEL": "INFO",
                "ACCESS_LOG_LEVEL": "WARNING",
            }
        )
        env.update(
            {
                k[len("CLUSTER_ENV_") :]: v
                for k, v in os.environ.items()
                if k.startswith("CLUSTER_ENV_")
            }
        )
        return env

    def _manage(self, *args: str) -> None:
        log = self.workdir / "logs" / "manage.log"
        with log.open("ab") as out:
            done = subprocess.run(
                [str(BIN / "python"), "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=900,
                check=False,
            )
        if done.returncode != 0:
            raise ClusterError(f"manage.py {' '.join(args)} failed:\n{tail(log)}")

    def _database(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _vhost(self) -> None:
        ctl = shutil.which("rabbitmqctl")
        if ctl is None:
            raise ClusterError("rabbitmqctl is not installed: it creates the cluster's vhost")
        for args in (
            ["delete_vhost", VHOST],
            ["add_vhost", VHOST],
            ["set_permissions", "-p", VHOST, RABBIT.split(":", 1)[0], ".*", ".*", ".*"],
        ):
            done = subprocess.run([ctl, *args], capture_output=True, text=True, check=False)
            if done.returncode != 0 and args[0] != "delete_vhost":
                raise ClusterError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
        self.created_vhost = True

    def _ports(self) -> None:
        wanted = [self.https_port, self.http_port, self.redis_port] + [
            self.web_port(i) for i in range(WEB_PROCESSES)
        ]
        busy = [port for port in wanted if not port_free(port)]
        if busy:
            raise ClusterError(f"ports in use: {busy} (another cluster running?)")

    def prepare(self) -> None:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        for name in ("var", "static", "media", "redis", "nginx"):
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
        self._ports()
        self.env = self._environment()
        print(f"cluster: database {DATABASE}, vhost {VHOST}, Redis :{self.redis_port}")
        self._database()
        self._vhost()
        self.start_redis()
        self._manage("migrate", "--noinput")
        self._manage("collectstatic", "--noinput")
        self._manage("seed_demo")

    # --- processes ---------------------------------------------------------------------------
    def _start(self, name: str, argv: list[str]) -> Managed:
        return self.registry.start(
            name, argv, env=self.env, cwd=ROOT, log_path=self.workdir / "logs" / f"{name}.log"
        )

    def start_redis(self) -> None:
        self.redis = self._start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir / "redis"),
            ],
        )
        wait_for(lambda: _redis_ping(self.redis_port), 20, "Redis")

    def restart_redis(self) -> float:
        """Stop Redis hard and start it again (empty: no persistence); seconds it was away."""
        if self.redis is None:
            raise ClusterError("Redis was not started")
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.redis.pid, signal.SIGKILL)
        self.registry.stop(self.redis)
        self.start_redis()
        return time.monotonic() - started

    def start_web(self, index: int) -> Managed:
        argv = [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "config.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.web_port(index)),
            "--workers",
            "1",
            "--blocking-threads",
            "2",
        ]
        managed = self._start(f"web{index + 1}", argv)
        while len(self.web) <= index:
            self.web.append(None)
        self.web[index] = managed
        return managed

    def web_ready(self, index: int) -> bool:
        return _http_ok(f"http://127.0.0.1:{self.web_port(index)}/health/", host=DOMAIN)

    def start_worker(self, index: int) -> Managed:
        argv = [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-l",
            "INFO",
            "--concurrency",
            "2",
            "-n",
            f"ops-cluster-w{index + 1}@%h",
        ]
        managed = self._start(f"worker{index + 1}", argv)
        while len(self.workers) <= index:
            self.workers.append(None)
        self.workers[index] = managed
        return managed

    def worker_ready(self, index: int, since: int = 0) -> bool:
        """The worker's log (after byte `since`) says it is ready to take tasks."""
        managed = self.workers[index]
        if managed is None or not managed.alive():
            return False
        try:
            with managed.log_path.open("rb") as log:
                log.seek(since)
                return b" ready." in log.read()
        except OSError:
            return False

    def kill(self, managed: Managed) -> None:
        """kill -9 the whole process group (the server and its children), then reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(managed.pid, signal.SIGKILL)
        self.registry.stop(managed, grace=5)

    def start_nginx(self) -> None:
        import render
        from selfsigned_cert import write_self_signed

        prefix = self.workdir / "nginx"
        cert, key = prefix / "tls" / "fullchain.pem", prefix / "tls" / "privkey.pem"
        write_self_signed(DOMAIN, cert, key)
        upstreams = " ".join(
            f"server 127.0.0.1:{self.web_port(i)} max_fails=1 fail_timeout=2s;"
            for i in range(WEB_PROCESSES)
        )
        config = render.write_config(
            prefix=prefix,
            values={
                "TESSERA_DOMAIN": f"{DOMAIN} 127.0.0.1",
                "NGINX_UPSTREAM_SERVERS": upstreams,
                "NGINX_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
                "NGINX_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
                "NGINX_TLS_CERT": str(cert),
                "NGINX_TLS_KEY": str(key),
                "NGINX_ACME_WEBROOT": str(prefix / "acme"),
                "NGINX_STATIC_ROOT": str(self.workdir / "static"),
                "NGINX_MEDIA_ROOT": str(self.workdir / "media"),
                "NGINX_CACHE_DIR": str(prefix / "cache"),
                "NGINX_FLOWER_UPSTREAM": f"127.0.0.1:{PORT_BASE + 55}",
                "NGINX_RATE_PER_SECOND": self.env.get("NGINX_RATE_PER_SECOND", "20"),
                "NGINX_RATE_BURST": self.env.get("NGINX_RATE_BURST", "40"),
                "NGINX_AUTH_RATE_PER_SECOND": self.env.get("NGINX_AUTH_RATE_PER_SECOND", "5"),
            },
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = self._start(
            "nginx", [nginx, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"]
        )
        wait_for(lambda: _http_ok(f"{self.base_url}/health/", host=DOMAIN), 30, "Nginx")

    def start(self) -> None:
        self.prepare()
        for index in range(WEB_PROCESSES):
            self.start_web(index)
        for index in range(WORKERS):
            self.start_worker(index)
        self.beat = self._start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(self.workdir / "var" / "beat-schedule"),
            ],
        )
        for index in range(WEB_PROCESSES):
            wait_for(
                lambda i=index: self.web_ready(i), 60, f"web{index + 1}", managed=self.web[index]
            )
        for index in range(WORKERS):
            wait_for(
                lambda i=index: self.worker_ready(i),
                60,
                f"worker{index + 1}",
                managed=self.workers[index],
            )
        self.start_nginx()

    def stop(self) -> None:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        self.registry.stop_all()
        if self.keep:
            return
        with (
            contextlib.suppress(Exception),
            psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn,
        ):
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if self.created_vhost and shutil.which("rabbitmqctl"):
            subprocess.run(["rabbitmqctl", "delete_vhost", VHOST], capture_output=True, check=False)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE  # the cluster's own test certificate


def _http_ok(url: str, *, host: str) -> bool:
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 - our loopback
    try:
        with urllib.request.urlopen(request, timeout=2, context=_INSECURE) as reply:  # noqa: S310
            return 200 <= reply.status < 300
    except OSError:
        return False


def wait_for(check: Any, timeout: float, what: str, *, managed: Managed | None = None) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        if managed is not None and not managed.alive():
            raise ClusterError(f"{what} exited:\n{tail(managed.log_path)}")
        time.sleep(0.1)
    log = f":\n{tail(managed.log_path)}" if managed is not None else ""
    raise ClusterError(f"{what} was not ready after {timeout:.0f} s{log}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the database and vhost")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    install_signal_handlers()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tessera-ops-cluster-"))
    cluster = Cluster(workdir=workdir, keep=args.keep)
    try:
        cluster.start()
        print(f"cluster: up at {cluster.base_url}/ (Host {DOMAIN}); logs in {workdir}/logs")
        print("cluster: Ctrl-C stops everything")
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
