"""A worker killed between crediting and acknowledging: the credit is not lost (it committed)
and not doubled (the redelivered task finds the delivery processed). A real Celery worker
process on RabbitMQ and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from config.celery import app
from tessera.payments.models import DeliveryState, PaymentOrder, WebhookDelivery
from tessera.payments.tasks import process_webhook
from tessera.payments.tests.helpers import purchase_body
from tessera.wallet import services
from tessera.wallet.models import LedgerTransfer
from tessera.wallet.tests.helpers import balance

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[3]


def _worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(Path(__file__).with_name("dying_worker.py"))],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 90) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not seen; output:\n{''.join(seen[-40:])}")


def test_a_worker_killed_after_the_credit_and_before_the_ack(
    user: Any, broker_url: str, tmp_path: Path, settings: Any
) -> None:
    deposit = services.deposit_create(
        user=user, amount_minor=15_000, currency="ZAR", idempotency_key="d"
    )
    order = PaymentOrder.objects.get(pk=str(deposit.payment_order_id))
    body = purchase_body(purchase_id=order.provider_purchase_id, total=15_000)
    # The intake already stored it (its own task is what the broker will carry).
    delivery = WebhookDelivery.objects.create(
        provider="sandbox",
        body=body,
        body_sha256=uuid.uuid4().hex * 2,
        headers={},
        signature_verdict="valid",
        state=DeliveryState.RECEIVED,
        accepted=True,
        event_id="purchase.paid:x:1",
        event_type="purchase.paid",
    )
    queue = f"tessera_pay_crash_{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": (
            f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "DYING_WORKER_MARKER": str(tmp_path / "died"),
        "DYING_WORKER_QUEUE": queue,
        "LOG_FORMAT": "console",
        "TESSERA_VAR_DIR": str(tmp_path / "var"),
    }
    previous = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]
    first = _worker(env)
    try:
        _wait_for_line(first, "ready")
        process_webhook.apply_async(kwargs={"delivery_id": str(delivery.pk)}, queue=queue)
        assert first.wait(timeout=90) == 9  # it died right after the commit
        assert (tmp_path / "died").exists()
        # The credit committed before the crash: not lost.
        assert balance(user) == 15_000
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PROCESSED

        second = _worker(env)
        try:
            # The unacknowledged message comes back to the next worker, which finds the
            # delivery processed.
            line = _wait_for_line(second, "payments.process_webhook")
            line = line if "succeeded" in line else _wait_for_line(second, "succeeded")
            assert "already processed" in line
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)  # type: ignore[attr-defined]
        app.conf.update(previous)
        app._pool = None  # type: ignore[attr-defined]
        app.amqp._producer_pool = None  # type: ignore[attr-defined]
    assert balance(user) == 15_000
    assert LedgerTransfer.objects.filter(kind="deposit").count() == 1
    assert services.ledger_check().ok
