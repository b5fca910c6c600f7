"""Files benchmarks: memory of a 200 MB upload, time and memory of image variants.

    .venv/bin/python bench/files/run.py [--upload-mb 200] [--image-runs 5] [--keep]

1. Upload: Tessera (config.settings.prod, granian WSGI, 1 worker, PostgreSQL at
   127.0.0.1:5432 database `tessera_bench_files` when it answers, else SQLite) receives a
   generated 200 MB file through `POST /api/files` from a streaming client; the worker's RSS
   is sampled every 10 ms before, during and after. Baseline in the same run: a bare WSGI app
   on the same server draining the same body (what granian itself costs).
2. Images: a generated 12-megapixel JPEG (EXIF orientation 6 and GPS) goes through
   `image_process` (orient, strip, re-encode, four variants) in a fresh process per run; CPU
   time (getrusage) and the process's peak RSS are recorded. Baseline: the same image decoded
   and re-encoded once by Pillow, nothing else.

Results go to bench/results/files-<UTC stamp>.json and .md (and files-latest.md). Not a
test: nothing asserts; the targets are reported as met or not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VENV_BIN = REPO / ".venv" / "bin"
RESULTS = REPO / "bench" / "results"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "tessera_bench_files"
UPLOAD_TARGET_MIB = 20.0
IMAGE_CPU_TARGET_S = 1.5
IMAGE_RSS_TARGET_MIB = 300.0
BOUNDARY = "tessera-bench-boundary-5c1e"
MIB = 1024 * 1024

sys.path.insert(0, str(REPO / "bench"))


# --- processes ---------------------------------------------------------------------------------


class Processes:
    """Every process this run starts, stopped by process group at the end, whatever happens."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        handle = log.open("ab")
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        self.started.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            self.stop(proc)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def worker_of(proc: subprocess.Popen[bytes]) -> psutil.Process:
    """granian's one worker: the leader's Python child."""
    leader = psutil.Process(proc.pid)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = leader.children(recursive=True)
        if children:
            return children[0]
        time.sleep(0.1)
    return leader


class RssSampler:
    def __init__(self, process: psutil.Process, interval: float = 0.01) -> None:
        self.process = process
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rss_mib(process: psutil.Process) -> float:
    return process.memory_info().rss / MIB


# --- environment ---------------------------------------------------------------------------


def database_url(var_dir: Path) -> str:
    try:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
        return f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}"
    except Exception as exc:  # noqa: BLE001 - any failure means: use SQLite
        print(f"  PostgreSQL unavailable ({type(exc).__name__}); using SQLite")
        return f"sqlite:///{var_dir / 'bench.sqlite3'}"


def tessera_env(var_dir: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        {
            "PATH": f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60)[:60],
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOW_CONSOLE_DELIVERY": "true",  # nothing is emailed or texted in a bench
            "TESSERA_VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            "STATIC_ROOT": str(var_dir / "static"),
            "FILE_UPLOAD_TEMP_DIR": str(var_dir / "tmp"),
            "DATABASE_URL": database_url(var_dir),
            "CELERY_BROKER_URL": f"sqla+sqlite:///{var_dir / 'broker.sqlite3'}",
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    (var_dir / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# Prints an access token for a bench user (created once); a script, not a secret.
TOKEN_SNIPPET = "\n".join(
    [
        "from tessera.accounts.models import User",
        "from tessera.accounts.tokens import access_token_issue",
        "email = 'bench-files@tessera.local'",
        "user = User.objects.filter(email=email).first() or User.objects.create_user(",
        "    email=email, password='bench-files-password-123')",
        "print(access_token_issue(user=user))",
    ]
)


# --- 1. upload ---------------------------------------------------------------------------------


def multipart_stream(size: int) -> tuple[Iterator[bytes], int, str]:
    """A multipart body of an MP4-typed file of `size` bytes, generated as it is sent."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bench.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    ftyp = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    block = hashlib.sha256(b"tessera").digest() * (MIB // 32)

    def body() -> Iterator[bytes]:
        yield head
        yield ftyp
        remaining = size - len(ftyp)
        while remaining > 0:
            piece = block[: min(len(block), remaining)]
            remaining -= len(piece)
            yield piece
        yield tail

    return body(), len(head) + size + len(tail), f"multipart/form-data; boundary={BOUNDARY}"


def one_upload(
    url: str, size: int, headers: dict[str, str], worker: psutil.Process
) -> dict[str, Any]:
    body, length, content_type = multipart_stream(size)
    before = rss_mib(worker)
    started = time.perf_counter()
    with RssSampler(worker) as sampler:
        response = httpx.post(
            url,
            content=body,
            headers={**headers, "Content-Type": content_type, "Content-Length": str(length)},
            timeout=600,
        )
    elapsed = time.perf_counter() - started
    time.sleep(0.5)
    after = rss_mib(worker)
    peak = max(sampler.peak / MIB, before, after)
    return {
        "status": response.status_code,
        "size_bytes": size,
        "seconds": round(elapsed, 3),
        "mib_per_second": round(size / MIB / elapsed, 1),
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_after_mib": round(after, 1),
        "rss_growth_peak_mib": round(peak - before, 1),
        "rss_growth_after_mib": round(after - before, 1),
        "reply": response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else response.text[:200],
    }


def refusal(port: int, headers: dict[str, str]) -> dict[str, Any]:
    """Declare 600 MB (over capsule media's 500 MB), send 1 MB: the reply must not wait for
    the rest. A raw connection, since HTTP clients refuse to send less than they declare."""
    import http.client

    body, _length, content_type = multipart_stream(1 * MIB)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    connection.putrequest("POST", "/api/files?purpose=capsule_media")
    for name, value in {**headers, "Content-Type": content_type}.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(600 * MIB))
    connection.endheaders()
    for piece in body:
        connection.send(piece)
    response = connection.getresponse()
    reply = json.loads(response.read())
    connection.close()
    return {
        "status": response.status,
        "code": reply["error"]["code"],
        "seconds": round(time.perf_counter() - started, 3),
    }


def granian(target: str, port: int) -> list[str]:
    return [
        str(VENV_BIN / "granian"),
        "--interface",
        "wsgi",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        "4",
    ]


def bench_upload(procs: Processes, var_dir: Path, size: int) -> dict[str, Any]:
    env = tessera_env(var_dir)
    print(f"  database: {env['DATABASE_URL']}")
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    token = manage(env, "shell", "-c", TOKEN_SNIPPET).strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    logs = var_dir / "logs"
    logs.mkdir(exist_ok=True)

    results: dict[str, Any] = {"database": env["DATABASE_URL"].split("@")[-1]}
    # Baseline first: the bare WSGI app draining the same body on the same server.
    port = free_port()
    baseline_env = {**env, "PYTHONPATH": f"{HERE}:{REPO}"}
    server = procs.start(granian("drain_wsgi:application", port), baseline_env, logs / "drain.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/", server)
        worker = worker_of(server)
        one_upload(f"http://127.0.0.1:{port}/", 1 * MIB, {}, worker)  # warm-up
        results["baseline_bare_wsgi_drain"] = one_upload(
            f"http://127.0.0.1:{port}/", size, {}, worker
        )
    finally:
        procs.stop(server)

    port = free_port()
    server = procs.start(granian("config.wsgi:application", port), env, logs / "tessera.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/health/", server)
        worker = worker_of(server)
        url = f"http://127.0.0.1:{port}/api/files?purpose=capsule_media"
        cold = rss_mib(worker)
        warm = one_upload(url, 1 * MIB, headers, worker)
        if warm["status"] != 201:
            raise RuntimeError(f"warm-up upload failed: {warm['status']} {warm['reply']}")
        measured = one_upload(url, size, headers, worker)
        measured["rss_cold_mib"] = round(cold, 1)
        data = measured["reply"].get("data", {}) if isinstance(measured["reply"], dict) else {}
        measured["stored_size_matches"] = data.get("size") == size
        measured["reply"] = {k: data.get(k) for k in ("status", "size", "contentType", "sha256")}
        results["tessera"] = measured
        results["over_limit_refusal"] = refusal(port, headers)
    finally:
        procs.stop(server)
    return results


# --- 2. images ---------------------------------------------------------------------------------


def make_12mp_jpeg(path: Path) -> dict[str, Any]:
    from PIL import Image

    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 48)
    detail = Image.effect_mandelbrot((width, height), (-2.2, -1.2, 1.0, 1.2), 64)
    photo = Image.merge("RGB", (gradient, detail, noise))
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    exif[0x0112] = 6
    exif[0x8825] = {1: "S", 2: (33.0, 55.0, 0.0), 3: "E", 4: (18.0, 25.0, 0.0)}
    photo.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return {"width": width, "height": height, "bytes": path.stat().st_size}


def image_run(mode: str, source: Path, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=env["FILE_UPLOAD_TEMP_DIR"]) as out_dir:
        result = subprocess.run(
            [str(VENV_BIN / "python"), str(HERE / "image_child.py"), mode, str(source), out_dir],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def bench_images(var_dir: Path, runs: int) -> dict[str, Any]:
    env = tessera_env(var_dir)
    source = var_dir / "photo-12mp.jpg"
    image = make_12mp_jpeg(source)
    measured: dict[str, list[dict[str, Any]]] = {"tessera": [], "pillow": []}
    for _ in range(runs):  # interleaved, so both see the same noise
        for mode in ("tessera", "pillow"):
            measured[mode].append(image_run(mode, source, env))

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "cpu_seconds_median": round(statistics.median(r["cpu_seconds"] for r in rows), 3),
            "cpu_seconds_max": round(max(r["cpu_seconds"] for r in rows), 3),
            "wall_seconds_median": round(statistics.median(r["wall_seconds"] for r in rows), 3),
            "peak_rss_mib_max": max(r["peak_rss_mib"] for r in rows),
            "rss_before_mib_median": round(statistics.median(r["rss_before_mib"] for r in rows), 1),
            "outputs": rows[0]["outputs"],
            "runs": rows,
        }

    tessera, pillow = summary(measured["tessera"]), summary(measured["pillow"])
    return {
        "source": image,
        "tessera": tessera,
        "baseline_pillow_decode_encode": pillow,
        "cpu_ratio_to_baseline": round(
            tessera["cpu_seconds_median"] / pillow["cpu_seconds_median"], 2
        ),
    }


# --- report ------------------------------------------------------------------------------------


def describe_machine() -> dict[str, Any]:
    try:
        from benchlib.machine import describe

        return describe(REPO)
    except Exception as exc:  # noqa: BLE001 - the description must not stop the run
        import platform

        return {
            "cpu_model": platform.processor(),
            "cpu_count_logical": os.cpu_count(),
            "memory_total_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "note": f"benchlib.machine unavailable: {exc}",
        }


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"# Files benchmark — {results['started_at']}",
        "",
        (
            f"Machine: {machine.get('cpu_model')}, {machine.get('cpu_count_logical')} cores, "
            f"{machine.get('memory_total_gib')} GiB; Python {machine.get('python')}; "
            f"git {machine.get('git_commit', '?')}{' (dirty)' if machine.get('git_dirty') else ''}."
        ),
        "",
    ]
    upload = results.get("upload")
    if upload:
        tessera, base = upload["tessera"], upload["baseline_bare_wsgi_drain"]
        met = "met" if tessera["rss_growth_peak_mib"] < UPLOAD_TARGET_MIB else "NOT met"
        lines += [
            f"## Upload of {tessera['size_bytes'] // MIB} MB through `POST /api/files`",
            "",
            f"granian WSGI, 1 worker, config.settings.prod, database {upload['database']}.",
            "",
            "| | worker RSS before | peak | after | growth (peak) | MB/s | status |",
            "|---|---|---|---|---|---|---|",
            (
                f"| Tessera | {tessera['rss_before_mib']} MiB | {tessera['rss_peak_mib']} MiB | "
                f"{tessera['rss_after_mib']} MiB | **{tessera['rss_growth_peak_mib']} MiB** | "
                f"{tessera['mib_per_second']} | {tessera['status']} |"
            ),
            (
                f"| baseline: bare WSGI drain | {base['rss_before_mib']} MiB | "
                f"{base['rss_peak_mib']} MiB | {base['rss_after_mib']} MiB | "
                f"{base['rss_growth_peak_mib']} MiB | {base['mib_per_second']} | {base['status']} |"
            ),
            "",
            (
                f"Target: growth < {UPLOAD_TARGET_MIB:.0f} MiB — {met}. Throughput "
                f"{tessera['mib_per_second'] / base['mib_per_second']:.2f}x the bare drain. "
                f"Over-limit body (600 MB declared): {upload['over_limit_refusal']['status']} "
                f"`{upload['over_limit_refusal']['code']}` in "
                f"{upload['over_limit_refusal']['seconds']} s."
            ),
            "",
        ]
    images = results.get("images")
    if images:
        tessera, floor = images["tessera"], images["baseline_pillow_decode_encode"]
        cpu_met = "met" if tessera["cpu_seconds_max"] < IMAGE_CPU_TARGET_S else "NOT met"
        rss_met = "met" if tessera["peak_rss_mib_max"] < IMAGE_RSS_TARGET_MIB else "NOT met"
        source = images["source"]
        lines += [
            (
                f"## Variants of a {source['width']}x{source['height']} JPEG "
                f"({source['bytes'] / MIB:.1f} MiB, EXIF orientation 6 + GPS)"
            ),
            "",
            f"Fresh process per run, {len(tessera['runs'])} runs each, interleaved.",
            "",
            "| | CPU s (median) | CPU s (max) | wall s (median) | peak RSS (max) |",
            "|---|---|---|---|---|",
            (
                f"| Tessera `image_process` (orient, strip, original + 4 variants) | "
                f"**{tessera['cpu_seconds_median']}** | {tessera['cpu_seconds_max']} | "
                f"{tessera['wall_seconds_median']} | **{tessera['peak_rss_mib_max']} MiB** |"
            ),
            (
                f"| baseline: Pillow decode + one full-size encode | "
                f"{floor['cpu_seconds_median']} | {floor['cpu_seconds_max']} | "
                f"{floor['wall_seconds_median']} | {floor['peak_rss_mib_max']} MiB |"
            ),
            "",
            (
                f"Targets: CPU < {IMAGE_CPU_TARGET_S} s — {cpu_met}; peak RSS < "
                f"{IMAGE_RSS_TARGET_MIB:.0f} MiB — {rss_met}. CPU is "
                f"{images['cpu_ratio_to_baseline']}x the Pillow floor. The process's RSS before "
                f"processing (Python, Django, Pillow loaded) was "
                f"{tessera['rss_before_mib_median']} MiB."
            ),
            "",
            "Outputs: "
            + ", ".join(f"{name} {w}x{h}" for name, (w, h, _s) in tessera["outputs"].items()),
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upload-mb", type=int, default=200)
    parser.add_argument("--image-runs", type=int, default=5)
    parser.add_argument("--only", choices=["upload", "images"], default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary var directory")
    args = parser.parse_args()

    started = datetime.now(tz=UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "machine": describe_machine(),
    }
    var_dir = Path(tempfile.mkdtemp(prefix="tessera-bench-files-"))
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if args.only in (None, "upload"):
            print(f"upload: {args.upload_mb} MB through POST /api/files")
            results["upload"] = bench_upload(procs, var_dir, args.upload_mb * MIB)
        if args.only in (None, "images"):
            print(f"images: 12 MP JPEG, {args.image_runs} runs")
            results["images"] = bench_images(var_dir, args.image_runs)
    finally:
        procs.stop_all()
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / f"files-{stamp}.json"
    md_path = RESULTS / f"files-{stamp}.md"
    json_path.write_text(json.dumps(results, indent=2, default=str))
    report = markdown(results)
    md_path.write_text(report)
    (RESULTS / "files-latest.md").write_text(report)
    print(report)
    print(f"written: {json_path.relative_to(REPO)}, {md_path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
