from django.db import migrations

MODELS = (("hero", "image"), ("partner", "logo"), ("seoentry", "image"), ("homesection", "image"))


class Migration(migrations.Migration):
    dependencies = [("content", "0002_images_as_stored_files")]

    operations = [
        migrations.RemoveField(model_name=name, name=f"legacy_{field}")
        for model, field in MODELS
        for name in (model, f"historical{model}")
    ]
