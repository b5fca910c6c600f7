"""Email template for changing an account's email address (tessera.accounts), in English
and Arabic.

Context: `code`, `link`, optional `minutes` (validity, default 1440) and `name`.

A template already present (edited in the admin) is left as it is; reversing removes only
the templates still holding the text below.
"""

from django.db import migrations

# Each entry: key, channel, language, subject, body.
ACCOUNT_CHANGE_TEMPLATES = [
    (
        "auth.email_change",
        "email",
        "en",
        "Confirm your new Tessera email address",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Someone asked to use this address for their Tessera account. Your code is "
            "{{ code }}, valid for {{ minutes|default:1440 }} minutes. You can also open this "
            "link:\n{{ link }}\n\n"
            "The account's address changes only once the code is confirmed. If you did not "
            "ask for this, ignore this email.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "auth.email_change",
        "email",
        "ar",
        "تأكيد بريدك الإلكتروني الجديد في تيسيرا",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "طلب أحدهم استخدام هذا العنوان لحسابه في تيسيرا. رمزك هو {{ code }}، وهو صالح "
            "لمدة {{ minutes|default:1440 }} دقيقة. ويمكنك أيضًا فتح هذا الرابط:\n{{ link }}\n\n"
            "لا يتغير عنوان الحساب إلا بعد تأكيد الرمز. إذا لم تطلب ذلك فتجاهل هذه الرسالة.\n\n"
            "فريق تيسيرا"
        ),
    ),
]


def load_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in ACCOUNT_CHANGE_TEMPLATES:
        template_model.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def remove_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in ACCOUNT_CHANGE_TEMPLATES:
        template_model.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_capsule_templates"),
    ]

    operations = [
        migrations.RunPython(load_templates, remove_templates),
    ]
