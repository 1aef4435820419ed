"""A target's own change-log entries name it in the entry's target column (core 0004)."""

from django.db import migrations, models
from django.db.models.functions import Cast


def forwards(apps, schema_editor):
    entry = apps.get_model("core", "ChangeLogEntry")
    entry.objects.filter(object_type="ledger.target", target_id__isnull=True).update(
        target_id=Cast("object_id", models.BigIntegerField()))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_entry_target"),
        ("ledger", "0005_transitionevent_to_remediation"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
