"""The change log becomes keyed: entries written from now on are sealed with HMAC-SHA256.

Entries already written keep their SHA-256 hashes and still verify: the head records the
first keyed id, and its own seal (under the key) covers that boundary.
"""

from django.db import migrations, models


def seal_head(apps, schema_editor):
    from taizhang.core.changelog import head_seal
    from taizhang.core.keys import chain_key

    ChainHead = apps.get_model("core", "ChainHead")
    head, _created = ChainHead.objects.get_or_create(pk=1)
    head.keyed_from = head.last_id + 1
    head.seal = head_seal(chain_key(), keyed_from=head.keyed_from, last_id=head.last_id, last_hash=head.last_hash)
    head.save()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_chain_head_row")]

    operations = [
        migrations.AddField(model_name="chainhead", name="keyed_from", field=models.BigIntegerField(default=1)),
        migrations.AddField(model_name="chainhead", name="seal", field=models.CharField(blank=True, max_length=64)),
        migrations.RunPython(seal_head, migrations.RunPython.noop),
    ]
