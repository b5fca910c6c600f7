"""Templates for time capsules (tessera.capsules), in English and Arabic.

Context each kind expects: `title` (the capsule's), `name` (the sender's, or the replier's
for `capsules.reply`), and for `capsules.unfolding` `unlock_at` (UTC).

A template already present (edited in the admin) is left as it is; reversing removes only
the templates still holding the text below.
"""

from django.db import migrations

# Each entry: key, channel, language, subject, body.
CAPSULE_TEMPLATES = [
    (
        "capsules.ready",
        "in_app",
        "en",
        "Your time capsule is ready",
        "“{{ title }}” from {{ name }} can be opened now.",
    ),
    (
        "capsules.ready",
        "in_app",
        "ar",
        "كبسولتك الزمنية جاهزة",
        "يمكنك الآن فتح «{{ title }}» من {{ name }}.",
    ),
    (
        "capsules.ready",
        "email",
        "en",
        "Your time capsule from {{ name }} is ready",
        (
            "Hello,\n\nThe time capsule “{{ title }}” that {{ name }} sealed for you has "
            "unlocked. Open Tessera to read it.\n\nThe Tessera team"
        ),
    ),
    (
        "capsules.ready",
        "email",
        "ar",
        "كبسولتك الزمنية من {{ name }} جاهزة",
        (
            "مرحبًا،\n\nفُتح قفل الكبسولة الزمنية «{{ title }}» التي ختمها لك {{ name }}. "
            "افتح تيسيرا لقراءتها.\n\nفريق تيسيرا"
        ),
    ),
    (
        "capsules.unfolding",
        "in_app",
        "en",
        "A time capsule is unfolding",
        "“{{ title }}” from {{ name }} unlocks on {{ unlock_at }}.",
    ),
    (
        "capsules.unfolding",
        "in_app",
        "ar",
        "كبسولة زمنية تتكشّف",
        "تُفتح «{{ title }}» من {{ name }} في {{ unlock_at }}.",
    ),
    (
        "capsules.unfolding",
        "email",
        "en",
        "A time capsule from {{ name }} unlocks soon",
        (
            "Hello,\n\n{{ name }} sealed a time capsule for you, “{{ title }}”. It unlocks "
            "on {{ unlock_at }}.\n\nThe Tessera team"
        ),
    ),
    (
        "capsules.unfolding",
        "email",
        "ar",
        "كبسولة زمنية من {{ name }} تُفتح قريبًا",
        (
            "مرحبًا،\n\nختم لك {{ name }} كبسولة زمنية بعنوان «{{ title }}». ستُفتح في "
            "{{ unlock_at }}.\n\nفريق تيسيرا"
        ),
    ),
    (
        "capsules.reply",
        "in_app",
        "en",
        "{{ name }} replied to your capsule",
        "{{ name }} replied to “{{ title }}”.",
    ),
    (
        "capsules.reply",
        "in_app",
        "ar",
        "ردّ {{ name }} على كبسولتك",
        "ردّ {{ name }} على «{{ title }}».",
    ),
]


def load_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in CAPSULE_TEMPLATES:
        template_model.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def remove_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in CAPSULE_TEMPLATES:
        template_model.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_auth_templates"),
    ]

    operations = [
        migrations.RunPython(load_templates, remove_templates),
    ]
