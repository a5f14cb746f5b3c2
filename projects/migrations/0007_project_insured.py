"""A proposal says whether the cooperation is insured (R9), so its policy is filed with it (R12)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0006_milestone_decided_by_started_overdue"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="insured",
            field=models.BooleanField(default=False, verbose_name="投保科创保险"),
        ),
    ]
