"""Notification templates of the wallet, in English and Arabic (in-app and email).

Context: `amount` (formatted for the reader, e.g. "R 150.00"), `currency`, `reason` (why a
deposit or withdrawal failed; an adjustment's reason).

A template already present (edited in the admin) is left as it is; reversing removes only
the templates still holding the text below.
"""

# Arabic letters look like Latin ones to ruff's confusables check; they are meant.
# ruff: noqa: RUF001

from django.db import migrations

SIGN_OFF_EN = "\n\nThe Tessera team"
SIGN_OFF_AR = "\n\nفريق تيسيرا"

# Each entry: key, channel, language, subject, body.
WALLET_TEMPLATES = [
    # Deposit completed
    ("wallet.deposit_completed", "in_app", "en", "Deposit received",
     "{{ amount }} is in your wallet."),
    ("wallet.deposit_completed", "in_app", "ar", "تم استلام الإيداع",
     "أُضيف {{ amount }} إلى محفظتك."),
    ("wallet.deposit_completed", "email", "en", "Your deposit of {{ amount }} arrived",
     "Hello,\n\nYour deposit of {{ amount }} has been paid and is now in your Tessera "
     "wallet." + SIGN_OFF_EN),
    ("wallet.deposit_completed", "email", "ar", "وصل إيداعك بقيمة {{ amount }}",
     "مرحبًا،\n\nتم دفع إيداعك بقيمة {{ amount }} وهو الآن في محفظتك على تيسيرا." + SIGN_OFF_AR),
    # Deposit failed, expired or cancelled
    ("wallet.deposit_failed", "in_app", "en", "Deposit not completed",
     "Your deposit of {{ amount }} did not go through. Nothing was taken."),
    ("wallet.deposit_failed", "in_app", "ar", "لم يكتمل الإيداع",
     "لم يتم إيداع {{ amount }}. لم يُخصم أي مبلغ."),
    ("wallet.deposit_failed", "email", "en", "Your deposit of {{ amount }} did not go through",
     "Hello,\n\nYour deposit of {{ amount }} was not completed, so nothing was added to your "
     "wallet and nothing was taken.{% if reason %}\n\nReason: {{ reason }}{% endif %}\n\n"
     "You can start a new deposit at any time." + SIGN_OFF_EN),
    ("wallet.deposit_failed", "email", "ar", "لم يكتمل إيداعك بقيمة {{ amount }}",
     "مرحبًا،\n\nلم يكتمل إيداعك بقيمة {{ amount }}، فلم يُضف شيء إلى محفظتك ولم يُخصم أي "
     "مبلغ.{% if reason %}\n\nالسبب: {{ reason }}{% endif %}\n\nيمكنك بدء إيداع جديد في أي وقت."
     + SIGN_OFF_AR),
    # Withdrawal completed
    ("wallet.withdrawal_completed", "in_app", "en", "Withdrawal paid out",
     "{{ amount }} was sent to your bank account."),
    ("wallet.withdrawal_completed", "in_app", "ar", "تم تحويل السحب",
     "أُرسل {{ amount }} إلى حسابك المصرفي."),
    ("wallet.withdrawal_completed", "email", "en", "Your withdrawal of {{ amount }} was paid out",
     "Hello,\n\nYour withdrawal of {{ amount }} has been paid out to your bank account. "
     "Banks can take a day or two to show it." + SIGN_OFF_EN),
    ("wallet.withdrawal_completed", "email", "ar", "تم تحويل سحبك بقيمة {{ amount }}",
     "مرحبًا،\n\nتم تحويل سحبك بقيمة {{ amount }} إلى حسابك المصرفي. قد يستغرق ظهوره لدى "
     "المصرف يومًا أو يومين." + SIGN_OFF_AR),
    # Withdrawal failed
    ("wallet.withdrawal_failed", "in_app", "en", "Withdrawal failed",
     "Your withdrawal of {{ amount }} failed; the money is back in your wallet."),
    ("wallet.withdrawal_failed", "in_app", "ar", "فشل السحب",
     "فشل سحب {{ amount }}، وأُعيد المبلغ إلى محفظتك."),
    ("wallet.withdrawal_failed", "email", "en", "Your withdrawal of {{ amount }} failed",
     "Hello,\n\nYour withdrawal of {{ amount }} could not be paid out, and the money is back "
     "in your wallet.{% if reason %}\n\nReason: {{ reason }}{% endif %}\n\nCheck your bank "
     "details and try again." + SIGN_OFF_EN),
    ("wallet.withdrawal_failed", "email", "ar", "فشل سحبك بقيمة {{ amount }}",
     ("مرحبًا،\n\nتعذّر تحويل سحبك بقيمة {{ amount }}، وأُعيد المبلغ إلى محفظتك."
      "{% if reason %}\n\nالسبب: {{ reason }}{% endif %}\n\nتحقق من بياناتك المصرفية وحاول مجددًا."
      + SIGN_OFF_AR)),
    # Refund of a deposit
    ("wallet.refund_completed", "in_app", "en", "Deposit refunded",
     "{{ amount }} of a deposit was refunded to where you paid from."),
    ("wallet.refund_completed", "in_app", "ar", "استُرد إيداع",
     "استُرد {{ amount }} من إيداع إلى وسيلة الدفع التي استخدمتها."),
    ("wallet.refund_completed", "email", "en", "{{ amount }} of your deposit was refunded",
     "Hello,\n\n{{ amount }} of a deposit was refunded to the card or account you paid "
     "with, and taken from your wallet." + SIGN_OFF_EN),
    ("wallet.refund_completed", "email", "ar", "استُرد {{ amount }} من إيداعك",
     "مرحبًا،\n\nاستُرد {{ amount }} من إيداع إلى البطاقة أو الحساب الذي دفعت منه، وخُصم من "
     "محفظتك." + SIGN_OFF_AR),
    # Adjustment by staff
    ("wallet.adjustment_completed", "in_app", "en", "Wallet adjusted",
     ("{% if direction == 'credit' %}{{ amount }} was added to{% else %}{{ amount }} was taken "
      "from{% endif %} your wallet: {{ reason }}")),
    ("wallet.adjustment_completed", "in_app", "ar", "تعديل على المحفظة",
     ("{% if direction == 'credit' %}أُضيف {{ amount }} إلى{% else %}خُصم {{ amount }} من"
      "{% endif %} محفظتك: {{ reason }}")),
    ("wallet.adjustment_completed", "email", "en", "Your wallet was adjusted",
     "Hello,\n\nOur team {% if direction == 'credit' %}added {{ amount }} to{% else %}took "
     "{{ amount }} from{% endif %} your wallet.\n\nReason: {{ reason }}" + SIGN_OFF_EN),
    ("wallet.adjustment_completed", "email", "ar", "عُدّلت محفظتك",
     "مرحبًا،\n\n{% if direction == 'credit' %}أضاف فريقنا {{ amount }} إلى{% else %}خصم "
     "فريقنا {{ amount }} من{% endif %} محفظتك.\n\nالسبب: {{ reason }}" + SIGN_OFF_AR),
]


def load_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in WALLET_TEMPLATES:
        template_model.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def remove_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in WALLET_TEMPLATES:
        template_model.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wallet", "0002_ledger_triggers"),
        ("notifications", "0005_account_change_templates"),
    ]

    operations = [
        migrations.RunPython(load_templates, remove_templates),
    ]
