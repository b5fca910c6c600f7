"""Default templates for the platform's own kinds, in English and Arabic.

Context each kind expects:

- `otp.code`: `code`, optional `minutes` (validity, default 10) and `name`;
- `security.alert`: `event` (what happened, e.g. "New sign-in"), optional `ip_address`
  and `name`;
- `account.welcome`: optional `name`.

A template already present (edited in the admin) is left as it is; reversing removes only
the templates still holding the text below.
"""

from django.db import migrations

# Each entry: key, channel, language, subject, body.
DEFAULT_TEMPLATES = [
    (
        "otp.code",
        "sms",
        "en",
        "",
        (
            "Your Tessera code is {{ code }}. It expires in {{ minutes|default:10 }} minutes. "
            "Never share it with anyone."
        ),
    ),
    (
        "otp.code",
        "sms",
        "ar",
        "",
        (
            "رمز التحقق الخاص بك في تيسيرا هو {{ code }}. تنتهي صلاحيته خلال "
            "{{ minutes|default:10 }} دقائق. لا تشاركه مع أي شخص."
        ),
    ),
    (
        "otp.code",
        "email",
        "en",
        "Your Tessera verification code",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Your verification code is {{ code }}. It expires in {{ minutes|default:10 }} "
            "minutes.\n\n"
            "If you did not ask for this code, you can ignore this email. Never share the code "
            "with anyone.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "otp.code",
        "email",
        "ar",
        "رمز التحقق الخاص بك في تيسيرا",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "رمز التحقق الخاص بك هو {{ code }}، وتنتهي صلاحيته خلال {{ minutes|default:10 }} "
            "دقائق.\n\n"
            "إذا لم تطلب هذا الرمز فتجاهل هذه الرسالة. لا تشارك الرمز مع أي شخص.\n\n"
            "فريق تيسيرا"
        ),
    ),
    (
        "security.alert",
        "in_app",
        "en",
        "Security alert: {{ event }}",
        (
            "{{ event }}{% if ip_address %} from {{ ip_address }}{% endif %}. If this was not "
            "you, change your password and sign out of your other devices."
        ),
    ),
    (
        "security.alert",
        "in_app",
        "ar",
        "تنبيه أمني: {{ event }}",
        (
            "{{ event }}{% if ip_address %} من العنوان {{ ip_address }}{% endif %}. إذا لم تكن "
            "أنت، فغيّر كلمة المرور وسجّل الخروج من أجهزتك الأخرى."
        ),
    ),
    (
        "security.alert",
        "email",
        "en",
        "Security alert on your Tessera account",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "We noticed this on your account: {{ event }}"
            "{% if ip_address %} (from {{ ip_address }}){% endif %}.\n\n"
            "If this was you, there is nothing to do. If it was not, change your password now "
            "and sign out of your other devices.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "security.alert",
        "email",
        "ar",
        "تنبيه أمني بشأن حسابك في تيسيرا",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "لاحظنا ما يلي على حسابك: {{ event }}"
            "{% if ip_address %} (من العنوان {{ ip_address }}){% endif %}.\n\n"
            "إذا كنت أنت فلا داعي لأي إجراء. وإن لم تكن أنت، فغيّر كلمة المرور الآن وسجّل "
            "الخروج من أجهزتك الأخرى.\n\n"
            "فريق تيسيرا"
        ),
    ),
    (
        "security.alert",
        "sms",
        "en",
        "",
        "Tessera security alert: {{ event }}. If this was not you, change your password now.",
    ),
    (
        "security.alert",
        "sms",
        "ar",
        "",
        "تنبيه أمني من تيسيرا: {{ event }}. إذا لم تكن أنت، فغيّر كلمة المرور فورًا.",
    ),
    (
        "account.welcome",
        "in_app",
        "en",
        "Welcome to Tessera{% if name %}, {{ name }}{% endif %}",
        "Your account is ready. Complete your profile to get the most out of Tessera.",
    ),
    (
        "account.welcome",
        "in_app",
        "ar",
        "أهلًا بك في تيسيرا{% if name %} يا {{ name }}{% endif %}",
        "حسابك جاهز. أكمل ملفك الشخصي لتستفيد من تيسيرا على أكمل وجه.",
    ),
    (
        "account.welcome",
        "email",
        "en",
        "Welcome to Tessera{% if name %}, {{ name }}{% endif %}",
        (
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Your Tessera account is ready. Complete your profile to get the most out of it.\n\n"
            "If you did not create this account, reply to this email and we will look into it.\n\n"
            "The Tessera team"
        ),
    ),
    (
        "account.welcome",
        "email",
        "ar",
        "أهلًا بك في تيسيرا{% if name %} يا {{ name }}{% endif %}",
        (
            "مرحبًا{% if name %} {{ name }}{% endif %}،\n\n"
            "حسابك في تيسيرا جاهز. أكمل ملفك الشخصي لتستفيد منه على أكمل وجه.\n\n"
            "إذا لم تنشئ هذا الحساب، فردّ على هذه الرسالة وسنتحقق من الأمر.\n\n"
            "فريق تيسيرا"
        ),
    ),
]


def load_defaults(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in DEFAULT_TEMPLATES:
        template_model.objects.get_or_create(
            key=key,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body},
        )


def remove_defaults(apps, _schema_editor):
    template_model = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in DEFAULT_TEMPLATES:
        template_model.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_defaults, remove_defaults),
    ]
