"""Campaigns loaded before the preset's `[[groups]] duties` key keep their groups' duties.

Until then the legal and petitions groups were found by name (政策法规, 信访维稳); this
carries that over once, into the rules a preset now gives, for campaigns that have none.
"""

from django.db import migrations

BY_NAME = {"legal": "政策法规", "petitions": "信访维稳"}


def name_duties(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    OrgUnit = apps.get_model("campaigns", "OrgUnit")
    for campaign in Campaign.objects.all():
        if "group_duties" in campaign.rules:
            continue
        groups = OrgUnit.objects.filter(campaign=campaign, kind="group")
        campaign.rules["group_duties"] = {
            duty: codes for duty, name in BY_NAME.items()
            if (codes := list(groups.filter(name__contains=name).order_by("code").values_list("code", flat=True)))}
        campaign.save(update_fields=["rules"])


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(name_duties, migrations.RunPython.noop)]
