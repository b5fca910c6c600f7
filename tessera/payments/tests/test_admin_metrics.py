"""The payments admin (read-only lists with filters, replay of dead letters for staff with
the permission) and the metrics in /metrics."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tessera.audit.models import AuditLog
from tessera.payments import services
from tessera.payments.models import DeliveryState, PaymentOrder, WebhookDelivery
from tessera.payments.tests.helpers import (
    TEST_PURPOSE,
    RecordingHandler,
    post_webhook,
    purchase_body,
    sandbox_sign,
)

pytestmark = pytest.mark.django_db


def _staff(django_user_model: Any, *, replay: bool) -> Client:
    staff = django_user_model.objects.create_user(
        email=f"staff{int(replay)}@example.com", password="a long staff password", is_staff=True
    )
    codenames = ["view_webhookdelivery", "view_paymentorder"] + (
        ["replay_webhookdelivery"] if replay else []
    )
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="payments", codename__in=codenames)
    )
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def dead_letter(user: Any, handler: RecordingHandler, settings: Any) -> WebhookDelivery:
    order = services.payment_order_create(
        owner_id=user.pk,
        purpose=TEST_PURPOSE,
        reference="t",
        amount_minor=100,
        currency="ZAR",
        idempotency_key="k",
    )
    body = purchase_body(purchase_id=order.provider_purchase_id, total=100)
    receipt = services.webhook_receive(
        provider_name="sandbox", body=body, headers={"X-Signature": sandbox_sign(body)}
    )
    settings.PAYMENTS_WEBHOOK_MAX_ATTEMPTS = 1
    handler.fail_with = RuntimeError("product down")
    with pytest.raises(RuntimeError):
        services.webhook_process(delivery_id=receipt.delivery_id)
    services.webhook_record_failure(
        delivery_id=receipt.delivery_id, error=RuntimeError("product down")
    )
    handler.fail_with = None
    return WebhookDelivery.objects.get(pk=receipt.delivery_id)


def test_deliveries_are_listed_with_filters_and_cannot_be_edited(
    django_user_model: Any, dead_letter: WebhookDelivery
) -> None:
    client = _staff(django_user_model, replay=False)
    listing = client.get("/admin/payments/webhookdelivery/?state__exact=failed&provider=sandbox")
    assert listing.status_code == 200
    assert "purchase.paid" in listing.content.decode()
    detail = client.get(f"/admin/payments/webhookdelivery/{dead_letter.pk}/change/")
    assert detail.status_code == 200
    assert "product down" in detail.content.decode()
    assert client.get("/admin/payments/webhookdelivery/add/").status_code == 403
    assert client.get("/admin/payments/paymentorder/?status__exact=pending").status_code == 200


def test_replay_needs_the_permission_and_is_audited(
    django_user_model: Any,
    dead_letter: WebhookDelivery,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
) -> None:
    action = {"action": "replay", "_selected_action": [str(dead_letter.pk)]}
    without = _staff(django_user_model, replay=False)
    without.post("/admin/payments/webhookdelivery/", action)
    dead_letter.refresh_from_db()
    assert dead_letter.state == DeliveryState.FAILED

    with_permission = _staff(django_user_model, replay=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply = with_permission.post("/admin/payments/webhookdelivery/", action, follow=True)
    assert reply.status_code == 200
    dead_letter.refresh_from_db()
    assert dead_letter.state == DeliveryState.PROCESSED
    assert PaymentOrder.objects.get().status == "paid"
    assert handler.names() == ["paid"]
    assert (
        AuditLog.objects.filter(
            action="payments.webhook.replayed", target_id=str(dead_letter.pk)
        ).count()
        == 1
    )


def test_the_replay_command_lists_then_replays_dead_letters_only(
    dead_letter: WebhookDelivery,
    handler: RecordingHandler,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    listed = StringIO()
    call_command("webhooks_replay", "--dry-run", stdout=listed)
    assert str(dead_letter.pk) in listed.getvalue()
    assert "1 delivery(ies) listed" in listed.getvalue()
    dead_letter.refresh_from_db()
    assert dead_letter.state == DeliveryState.FAILED  # a dry run changes nothing

    other_provider = StringIO()
    call_command("webhooks_replay", "--provider", "revio", stdout=other_provider)
    assert "0 delivery(ies) sent" in other_provider.getvalue()

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("webhooks_replay", "--since", "2000-01-01", stdout=out)
    assert "1 delivery(ies) sent to processing again" in out.getvalue()
    dead_letter.refresh_from_db()
    assert dead_letter.state == DeliveryState.PROCESSED
    assert PaymentOrder.objects.get().status == "paid"
    assert handler.names() == ["paid"]
    assert AuditLog.objects.filter(action="payments.webhook.replayed").count() == 1

    again = StringIO()
    call_command("webhooks_replay", stdout=again)  # nothing is dead any more
    assert "0 delivery(ies) sent" in again.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command("webhooks_replay", "--since", "yesterday")


def test_metrics_count_verdicts_and_show_the_backlog(
    api: Any, dead_letter: WebhookDelivery, client: Any
) -> None:
    body = b'{"forged": true}'
    post_webhook(api, "sandbox", body, "AAAA")
    text = client.get("/metrics").content.decode()
    assert 'tessera_payments_webhooks_received_total{provider="sandbox",verdict="invalid"}' in text
    assert 'tessera_payments_webhooks_backlog{state="failed"} 1.0' in text
    assert "tessera_payments_webhook_oldest_waiting_seconds" in text
    assert 'tessera_payments_webhook_failures_total{dead="true",provider="sandbox"}' in text
