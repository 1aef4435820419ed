"""The chain's head row exists from the start.

Created on the first append otherwise: two first-ever writers on PostgreSQL could both
find it missing and one of them fail on inserting it.
"""

from django.db import migrations


def create_head(apps, schema_editor):
    ChainHead = apps.get_model("core", "ChainHead")
    ChainHead.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
