"""The operator's metrics in /metrics: task outcomes and durations from Celery's signals, the
scrape-time gauges apps register (capsule sweep lag), queue depth read from a real broker."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from celery import current_app
from django.test import Client, override_settings
from kombu import Connection, Exchange, Queue

from tessera.capsules.tests.factories import make_capsule
from tessera.core import metrics
from tessera.core.tasks import purge_idempotency_records


def _scrape() -> str:
    reply = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert reply.status_code == 200
    return reply.content.decode()


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, flags=re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.fixture(autouse=True)
def _fresh_sources() -> Any:
    metrics.scrape_cache_clear()
    yield
    metrics.scrape_cache_clear()


@pytest.mark.django_db
def test_task_outcomes_and_durations_are_counted() -> None:
    sample = 'tessera_celery_tasks_total{outcome="succeeded",task="core.purge_idempotency_records"}'
    duration = 'tessera_celery_task_duration_seconds_count{task="core.purge_idempotency_records"}'
    before = _scrape()

    purge_idempotency_records.delay()  # eager in tests: the same signals a worker sends

    after = _scrape()
    assert _value(after, sample) == _value(before, sample) + 1
    assert _value(after, duration) == _value(before, duration) + 1


@pytest.mark.django_db
def test_the_capsule_sweep_lag_is_the_most_overdue_capsules_wait(
    user: Any, other_user: Any
) -> None:
    assert _value(_scrape(), "tessera_capsule_sweep_lag_seconds") == 0.0
    make_capsule(sender=user, receiver=other_user, unlock_in=-timedelta(minutes=7))
    make_capsule(sender=user, receiver=other_user, unlock_in=-timedelta(minutes=2))
    metrics.scrape_cache_clear()

    lag = _value(_scrape(), "tessera_capsule_sweep_lag_seconds")

    assert 7 * 60 <= lag < 7 * 60 + 30


@pytest.mark.django_db
def test_a_source_that_fails_is_reported_down_not_an_error() -> None:
    def broken() -> Any:
        raise ConnectionError("nobody home")

    metrics.register_gauge("tessera_test_broken", "A source that fails.", broken)
    try:
        text = _scrape()
    finally:
        metrics._gauge_sources.pop("tessera_test_broken")
    assert 'tessera_metric_source_up{source="tessera_test_broken"} 0.0' in text


@pytest.mark.django_db
def test_with_several_processes_the_values_read_from_the_database_are_still_served(
    monkeypatch: Any, tmp_path: Any
) -> None:
    """PROMETHEUS_MULTIPROC_DIR (several web processes, README) makes /metrics read the
    processes' shared files instead of the registry: the collectors apps register that read
    the database at scrape time (webhook backlog, ledger check) must still be served."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    text = _scrape()

    assert "tessera_wallet_ledger_check_ok -1.0" in text
    assert 'tessera_payments_webhooks_backlog{state="received"} 0.0' in text
    assert "tessera_capsule_sweep_lag_seconds" in text
    # Per-process values come from the shared files only, never twice.
    assert text.count("# TYPE tessera_http_request_duration_seconds ") <= 1


@pytest.mark.broker
@pytest.mark.django_db
def test_queue_depth_is_read_from_the_broker(broker_url: str) -> None:
    queue = Queue("tessera_ops_metrics_depth", Exchange("tessera_ops_metrics_depth"), "depth")
    with Connection(broker_url) as conn:
        producer = conn.Producer()
        bound = queue(conn.default_channel)
        bound.declare()
        bound.purge()
        for number in range(3):
            producer.publish(
                {"n": number}, exchange=queue.exchange, routing_key="depth", declare=[queue]
            )
        previous = current_app.conf.broker_url
        current_app.conf["broker_url"] = broker_url
        try:
            with override_settings(METRICS_QUEUES=["tessera_ops_metrics_depth"]):
                text = _scrape()
        finally:
            current_app.conf["broker_url"] = previous
            bound.delete()
    assert 'tessera_celery_queue_depth{queue="tessera_ops_metrics_depth"} 3.0' in text
    assert 'tessera_metric_source_up{source="tessera_celery_queue_depth"} 1.0' in text


def test_every_alert_rule_names_exported_metrics() -> None:
    names = metrics.exported_names()
    assert {
        "tessera_celery_tasks_total",
        "tessera_celery_queue_depth",
        "tessera_capsule_sweep_lag_seconds",
        "tessera_payments_webhook_processing_lag_seconds_bucket",
        "tessera_payments_webhooks_received_total",
        "tessera_wallet_ledger_check_ok",
        "tessera_wallet_ledger_check_last_run_timestamp_seconds",
    } <= names
    # Names an app does not record are not exported: an alert on one could never fire.
    assert "tessera_ledger_discrepancies" not in names


@pytest.mark.broker
@pytest.mark.slow
def test_a_worker_serves_its_task_metrics_on_its_own_port(broker_url: str, tmp_path: Any) -> None:
    """A real worker process (solo pool) with CELERY_METRICS_PORT: tasks it runs are counted
    on its own /metrics, which Prometheus scrapes beside the web processes'."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from celery import Celery

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    queue = "tessera_ops_worker_metrics"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "TESSERA_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_METRICS_PORT": str(port),
        "CELERY_METRICS_ADDR": "127.0.0.1",
    }
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "-l",
            "WARNING",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sender = Celery(broker=broker_url)
        task = "core.purge_idempotency_records"
        sample = f'tessera_celery_tasks_total{{outcome="succeeded",task="{task}"}}'
        deadline = time.monotonic() + 60
        text = ""
        sent = False
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    text = r.read().decode()
            except OSError:
                time.sleep(0.5)
                continue
            if not sent:
                sender.send_task(task, queue=queue)
                sent = True
            if _value(text, sample) >= 1:
                break
            time.sleep(0.5)
        assert _value(text, sample) == 1.0, [x for x in text.splitlines() if "celery_task" in x]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
