"""Photos get a thumbnail made once on upload; the photos stored before get theirs here, from
their files (a file that cannot be read keeps none and is linked as before; `photo_thumbnails`
tries again, e.g. after the media folder is restored)."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    from taizhang.remediation.photos import thumbnails_fill

    thumbnails_fill(apps.get_model("remediation", "Photo").objects.all())


class Migration(migrations.Migration):

    dependencies = [
        ("remediation", "0003_entry_targets"),
    ]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="thumbnail",
            field=models.FileField(blank=True, upload_to="photos/thumbnails/%Y/%m/"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
