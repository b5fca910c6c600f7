"""Email templates for the sign-in flows (tessera.accounts), in English and Arabic.

Context each kind expects:

- `auth.email_verification`: `code`, `link`, optional `name`;
- `auth.password_reset`: `link`, `token`, optional `minutes` (validity, default 60), `name`;
- `auth.register_existing`: `link` (to the login page), optional `name`.

A template already present (edited in the admin) is left as it is; reversing removes only
the templates still holding the text below.
"""

from django.db import migrations

# Each entry: key, channel, language, subject, body.
AUTH_TEMPLATES = [
    (
        "auth.email_verification",
        "email",
        "en",
        "Verify your Tessera email address",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Your verification code is {{ code }}. You can also open this link:\n{{ link }}\n\n"
            "If you did not create a Tessera account, ignore this email.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "auth.email_verification",
        "email",
        "ar",
        "تأكيد بريدك الإلكتروني في تيسيرا",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "رمز التأكيد الخاص بك هو {{ code }}. ويمكنك أيضًا فتح هذا الرابط:\n{{ link }}\n\n"
            "إذا لم تنشئ حسابًا في تيسيرا فتجاهل هذه الرسالة.\n\n"
            "فريق تيسيرا"
        ),
    ),
    (
        "auth.password_reset",
        "email",
        "en",
        "Reset your Tessera password",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Someone asked to reset the password of your Tessera account. To choose a new "
            "password, open this link within {{ minutes|default:60 }} minutes:\n{{ link }}\n\n"
            "The link works once. If you did not ask for it, ignore this email: your password "
            "stays as it is.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "auth.password_reset",
        "email",
        "ar",
        "إعادة تعيين كلمة المرور في تيسيرا",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "طلب أحدهم إعادة تعيين كلمة مرور حسابك في تيسيرا. لاختيار كلمة مرور جديدة افتح "
            "هذا الرابط خلال {{ minutes|default:60 }} دقيقة:\n{{ link }}\n\n"
            "يعمل الرابط مرة واحدة. إذا لم تطلب ذلك فتجاهل هذه الرسالة وستبقى كلمة المرور كما "
            "هي.\n\n"
            "فريق تيسيرا"
        ),
    ),
    (
        "auth.register_existing",
        "email",
        "en",
        "Someone tried to register with your email address",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Someone tried to create a Tessera account with this email address, which already "
            "has one. If it was you, log in instead (or reset your password):\n{{ link }}\n\n"
            "If it was not you, there is nothing to do.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "auth.register_existing",
        "email",
        "ar",
        "محاولة تسجيل ببريدك الإلكتروني",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "حاول أحدهم إنشاء حساب في تيسيرا بهذا البريد الإلكتروني، وله حساب بالفعل. إذا كنت "
            "أنت فسجّل الدخول بدلًا من ذلك (أو أعد تعيين كلمة المرور):\n{{ link }}\n\n"
            "وإن لم تكن أنت فلا داعي لأي إجراء.\n\n"
            "فريق تيسيرا"
        ),
    ),
]


def load_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in AUTH_TEMPLATES:
        template_model.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def remove_templates(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in AUTH_TEMPLATES:
        template_model.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_default_templates"),
    ]

    operations = [
        migrations.RunPython(load_templates, remove_templates),
    ]
