"""Milestones keep who decided them, when work started and when they first fell overdue, in their own
fields; the rows that existed before are filled in from their audit trail (read here once, never again)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DECISIONS = ("review_met", "review_not_met")


def backfill(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("core", "AuditEvent")
    Milestone = apps.get_model("projects", "Milestone")
    ct = ContentType.objects.filter(app_label="projects", model="milestone").first()
    if ct is None:
        return
    first: dict = {}
    latest: dict = {}
    actions = (*DECISIONS, "declare_breach", "confirm_deposit", "mark_overdue", "mark_balance_overdue")
    rows = (AuditEvent.objects.filter(content_type=ct, action__in=actions).order_by("at", "pk")
            .values_list("object_id", "action", "actor_id", "at"))
    for object_id, action, actor_id, at in rows.iterator():
        key = (int(object_id), "decision" if action in DECISIONS else action)
        first.setdefault(key, (actor_id, at))
        latest[key] = (actor_id, at)
    for pk in {k[0] for k in first}:
        values = {}
        if (pk, "decision") in latest:
            values["decided_by_id"] = latest[(pk, "decision")][0]
        if (pk, "declare_breach") in latest:
            values["breached_by_id"] = latest[(pk, "declare_breach")][0]
        if (pk, "confirm_deposit") in first:
            values["started_at"] = first[(pk, "confirm_deposit")][1]
        overdue = first.get((pk, "mark_overdue")) or first.get((pk, "mark_balance_overdue"))
        if overdue:
            values["overdue_at"] = overdue[1]
        Milestone.objects.filter(pk=pk).update(**values)


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0005_milestone_balance_overdue_breach_cancelled'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0005_notification_text_unbounded'),
    ]

    operations = [
        migrations.AddField(
            model_name='milestone',
            name='breached_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='违约认定人'),
        ),
        migrations.AddField(
            model_name='milestone',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审核人'),
        ),
        migrations.AddField(
            model_name='milestone',
            name='overdue_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='首次逾期时间'),
        ),
        migrations.AddField(
            model_name='milestone',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='保证金到账时间'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
