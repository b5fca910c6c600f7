"""Notification templates (English and Arabic) for the events module's kinds.

Context every kind gets: `title`, `when` (local time and zone), `place`, `link`; some add
`name` (who asked or invited), `paid` (a payment confirms the place) or `code` (the
ticket's code). A template already present (edited in the admin) is left as it is;
reversing removes only the templates still holding the text below.
"""

from django.db import migrations

PAY_EN = "{% if paid %} Pay within the hold time to confirm it.{% endif %}"
PAY_AR = "{% if paid %} ادفع خلال مدة الحجز لتأكيده.{% endif %}"

# kind: (channels, subject en, body en, subject ar, body ar)
KINDS = {
    "events.request_received": (
        ("in_app", "email"),
        "New request: {{ title }}",
        "{{ name }} asked to join {{ title }} ({{ when }}).",
        "طلب جديد: {{ title }}",
        "طلب {{ name }} الانضمام إلى {{ title }} ({{ when }}).",
    ),
    "events.request_accepted": (
        ("in_app", "email", "sms"),
        "You're in: {{ title }}",
        "Your place at {{ title }} on {{ when }} is reserved." + PAY_EN,
        "تم قبولك: {{ title }}",
        "تم حجز مكانك في {{ title }} بتاريخ {{ when }}." + PAY_AR,
    ),
    "events.request_declined": (
        ("in_app", "email"),
        "Request declined: {{ title }}",
        "The host could not offer you a place at {{ title }}.",
        "تم رفض الطلب: {{ title }}",
        "لم يتمكن المنظم من منحك مكانًا في {{ title }}.",
    ),
    "events.waitlisted": (
        ("in_app",),
        "On the waitlist: {{ title }}",
        "{{ title }} is full. You are on the waitlist and will get the next free place.",
        "على قائمة الانتظار: {{ title }}",
        "اكتمل عدد {{ title }}. أنت على قائمة الانتظار وستحصل على أول مكان يتوفر.",
    ),
    "events.waitlist_promoted": (
        ("in_app", "email", "sms"),
        "A place opened up: {{ title }}",
        "A place at {{ title }} on {{ when }} is now yours." + PAY_EN,
        "توفر مكان: {{ title }}",
        "أصبح لك مكان في {{ title }} بتاريخ {{ when }}." + PAY_AR,
    ),
    "events.invite": (
        ("in_app", "email", "sms"),
        "{{ name }} invited you: {{ title }}",
        "{{ name }} invited you to {{ title }} on {{ when }} at {{ place }}.",
        "دعاك {{ name }}: {{ title }}",
        "دعاك {{ name }} إلى {{ title }} بتاريخ {{ when }} في {{ place }}.",
    ),
    "events.changed": (
        ("in_app", "email"),
        "Event updated: {{ title }}",
        "{{ title }} has changed: it is now on {{ when }} at {{ place }}.",
        "تحديث الفعالية: {{ title }}",
        "تغيرت تفاصيل {{ title }}: الموعد الآن {{ when }} في {{ place }}.",
    ),
    "events.cancelled": (
        ("in_app", "email", "sms"),
        "Cancelled: {{ title }}",
        "{{ title }} on {{ when }} was cancelled. Paid tickets are refunded in full.",
        "أُلغيت: {{ title }}",
        "أُلغيت فعالية {{ title }} بتاريخ {{ when }}. تُسترد قيمة التذاكر المدفوعة كاملة.",
    ),
    "events.postponed": (
        ("in_app", "email", "sms"),
        "Postponed: {{ title }}",
        "{{ title }} is postponed. Your place is kept; new dates will follow.",
        "تأجيل: {{ title }}",
        "تم تأجيل {{ title }}. مكانك محفوظ، وسيتم إعلان الموعد الجديد لاحقًا.",
    ),
    "events.reminder": (
        ("in_app", "email", "sms"),
        "Soon: {{ title }}",
        "Reminder: {{ title }} starts {{ when }} at {{ place }}.",
        "قريبًا: {{ title }}",
        "تذكير: تبدأ {{ title }} في {{ when }} في {{ place }}.",
    ),
    "events.ticket": (
        ("in_app",),
        "Your ticket: {{ title }}",
        "Your ticket for {{ title }} on {{ when }} is ready. Code: {{ code }}.",
        "تذكرتك: {{ title }}",
        "تذكرتك لفعالية {{ title }} بتاريخ {{ when }} جاهزة. الرمز: {{ code }}.",
    ),
    "events.payment_refunded": (
        ("in_app", "email"),
        "Refunded: {{ title }}",
        "Your payment for {{ title }} came after the place was gone; it is refunded in full.",
        "تم الاسترداد: {{ title }}",
        "وصل دفعك لفعالية {{ title }} بعد نفاد الأماكن، وتم استرداده كاملًا.",
    ),
}


def _rows():
    for key, (channels, subject_en, body_en, subject_ar, body_ar) in KINDS.items():
        for language, subject, body in (("en", subject_en, body_en), ("ar", subject_ar, body_ar)):
            for channel in channels:
                text = body + "\n\n{{ link }}" if channel == "email" else body
                yield key, channel, language, "" if channel == "sms" else subject, text


def add(apps, schema_editor):
    template = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in _rows():
        template.objects.get_or_create(
            key=key, channel=channel, language=language, defaults={"subject": subject, "body": body}
        )


def remove(apps, schema_editor):
    template = apps.get_model("notifications", "NotificationTemplate")
    for key, channel, language, subject, body in _rows():
        template.objects.filter(
            key=key, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_search_indexes"),
        ("notifications", "0005_account_change_templates"),
    ]

    operations = [migrations.RunPython(add, remove)]
