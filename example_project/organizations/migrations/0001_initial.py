from __future__ import annotations

from django.db import migrations, models

# The two demo organizations the example switches between.
DEMO = [("acme", "Acme"), ("globex", "Globex")]


def create_demo_organizations(apps, schema_editor):
    organization = apps.get_model("organizations", "Organization")
    for slug, name in DEMO:
        organization.objects.get_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Organization",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("slug", models.SlugField(unique=True)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.RunPython(create_demo_organizations, migrations.RunPython.noop),
    ]
