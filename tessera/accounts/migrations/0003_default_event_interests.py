"""The event interests a profile can pick from, in English and Arabic (editable in the admin).

Reversing removes only the interests that still hold the values below and no user picked.
"""

from django.db import migrations

DEFAULT_INTERESTS = [
    ("music", "Music", "الموسيقى"),
    ("sports", "Sports", "الرياضة"),
    ("food-drink", "Food & drink", "الطعام والشراب"),
    ("art-culture", "Art & culture", "الفن والثقافة"),
    ("technology", "Technology", "التقنية"),
    ("outdoors", "Outdoors & adventure", "الهواء الطلق والمغامرة"),
    ("nightlife", "Nightlife", "السهر"),
    ("wellness", "Health & wellness", "الصحة والعافية"),
    ("gaming", "Gaming", "الألعاب"),
    ("travel", "Travel", "السفر"),
    ("film", "Film & TV", "الأفلام والتلفزيون"),
    ("networking", "Business & networking", "الأعمال والتواصل"),
    ("learning", "Learning & workshops", "التعلّم وورش العمل"),
    ("community", "Community & volunteering", "المجتمع والتطوع"),
]


def load(apps, _schema_editor):
    interest_model = apps.get_model("accounts", "EventInterest")
    for position, (slug, name, name_ar) in enumerate(DEFAULT_INTERESTS):
        interest_model.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_ar": name_ar, "position": position}
        )


def unload(apps, _schema_editor):
    interest_model = apps.get_model("accounts", "EventInterest")
    for slug, name, name_ar in DEFAULT_INTERESTS:
        interest_model.objects.filter(
            slug=slug, name=name, name_ar=name_ar, users__isnull=True
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_auth_flows"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
