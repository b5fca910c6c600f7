"""Notices are sent by a drain over the due rows (services/notices.py), which this partial
index keeps cheap to find. Rows settled more than a day before this migration whose notice
was never written (a task lost or failed before the drain existed) are marked told rather
than told now, late."""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F, Q
from django.utils import timezone

FINAL = ["completed", "failed", "expired", "cancelled"]


def mark_old_rows_told(apps, schema_editor):
    transactions = apps.get_model("wallet", "WalletTransaction")
    transactions.objects.filter(
        status__in=FINAL, updated_at__lt=timezone.now() - timedelta(days=1)
    ).exclude(notified_status=F("status")).update(notified_status=F("status"))


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0007_chargeback_templates"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="wallettransaction",
            index=models.Index(
                condition=Q(status__in=FINAL) & ~Q(notified_status=F("status")),
                fields=["updated_at"],
                name="wallet_tx_notice_due_idx",
            ),
        ),
        migrations.RunPython(mark_old_rows_told, migrations.RunPython.noop),
    ]
