"""Notification templates of a chargeback of a deposit (kind `chargeback`), in English and
Arabic (in-app and email), beside the refund's of 0003. Same context: `amount`.

A template already present (edited in the admin) is left as it is; reversing removes only
the templates still holding the text below.
"""

# Arabic letters look like Latin ones to ruff's confusables check; they are meant.
# ruff: noqa: RUF001

from django.db import migrations

SIGN_OFF_EN = "\n\nThe Tessera team"
SIGN_OFF_AR = "\n\nفريق تيسيرا"

# Each entry: key, channel, language, subject, body.
CHARGEBACK_TEMPLATES = [
    ("wallet.chargeback_completed", "in_app", "en", "Deposit charged back",
     ("Your bank took back {{ amount }} of a deposit (a chargeback); it was taken from "
      "your wallet.")),
    ("wallet.chargeback_completed", "in_app", "ar", "استرجاع مصرفي لإيداع",
     "استرجع مصرفك {{ amount }} من إيداع (استرجاع مصرفي)، وخُصم المبلغ من محفظتك."),
    ("wallet.chargeback_completed", "email", "en", "{{ amount }} of your deposit was charged back",
     ("Hello,\n\nYour bank or card issuer took back {{ amount }} of a deposit you made (a "
      "chargeback), so it was taken from your wallet.\n\nIf you did not ask your bank for "
      "this, reply to this email." + SIGN_OFF_EN)),
    ("wallet.chargeback_completed", "email", "ar", "استُرجع {{ amount }} من إيداعك مصرفيًا",
     ("مرحبًا،\n\nاسترجع مصرفك أو مُصدر بطاقتك {{ amount }} من إيداع قمت به (استرجاع مصرفي)، "
      "فخُصم المبلغ من محفظتك.\n\nإن لم تطلب ذلك من مصرفك، فردّ على هذه الرسالة." + SIGN_OFF_AR)),
]


def load_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in CHARGEBACK_TEMPLATES:
        template_model.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def remove_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in CHARGEBACK_TEMPLATES:
        template_model.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0006_chargeback_kind"),
        ("notifications", "0005_account_change_templates"),
    ]

    operations = [
        migrations.RunPython(load_templates, remove_templates),
    ]
