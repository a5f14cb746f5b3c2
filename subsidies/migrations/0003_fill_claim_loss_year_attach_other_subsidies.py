"""I10: existing claims get their loss year (the failed milestone's decision, else the payment, else the
record's date). I12: an existing other-policy subsidy attached to no premium is attached to the one
enterprise-insured policy of the same type and year where there is exactly one; the others stay
unattached and are listed for the reviewer in the premium figure's trace."""
from zoneinfo import ZoneInfo

from django.db import migrations

SH = ZoneInfo("Asia/Shanghai")


def forwards(apps, schema_editor):
    Claim = apps.get_model("subsidies", "InsuranceClaim")
    Policy = apps.get_model("subsidies", "InsurancePolicy")
    Other = apps.get_model("subsidies", "OtherPolicySubsidy")
    for claim in Claim.objects.filter(loss_year__isnull=True).select_related("milestone"):
        if claim.milestone_id and claim.milestone.decided_at:
            year = claim.milestone.decided_at.astimezone(SH).year
        elif claim.paid_on:
            year = claim.paid_on.year
        else:
            year = claim.created_at.astimezone(SH).year
        Claim.objects.filter(pk=claim.pk).update(loss_year=year)
    for other in Other.objects.filter(policy__isnull=True):
        matches = list(Policy.objects.filter(project__enterprise_id=other.enterprise_id, type=other.type,
                                             start_date__year=other.year, insured="enterprise")
                       .values_list("pk", flat=True)[:2])
        if len(matches) == 1:
            Other.objects.filter(pk=other.pk).update(policy_id=matches[0])


class Migration(migrations.Migration):

    dependencies = [
        ("subsidies", "0002_claim_loss_year_figure_recovery"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
