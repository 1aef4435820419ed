"""The change-log entries of records kept before entries named their target (core 0004)
get it from the record; an entry of a record deleted since keeps none."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Cast

# object type -> (model, the path from it to its target's id)
TARGETS = {
    "remediation.verification": ("Verification", "target_id"),
    "remediation.lease": ("Lease", "target_id"),
    "remediation.legalstep": ("LegalStep", "lease__target_id"),
    "remediation.petition": ("Petition", "target_id"),
    "remediation.plan": ("Plan", "target_id"),
    "remediation.acceptance": ("Acceptance", "target_id"),
    "remediation.inspection": ("Inspection", "target_id"),
    "remediation.outcome": ("Outcome", "target_id"),
    "remediation.pilotlesson": ("PilotLesson", "target_id"),
    "remediation.photo": ("Photo", "target_id"),
}


def forwards(apps, schema_editor):
    entry = apps.get_model("core", "ChangeLogEntry")
    for object_type, (name, path) in TARGETS.items():
        model = apps.get_model("remediation", name)
        record = model.objects.filter(pk=Cast(OuterRef("object_id"), models.BigIntegerField()))
        entry.objects.filter(object_type=object_type, target_id__isnull=True).update(
            target_id=Subquery(record.values(path)[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_entry_target"),
        ("remediation", "0002_transitionevent"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
