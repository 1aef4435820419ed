"""What the change log records of a campaign and of its org units (core.snapshots): records
of no one target, shown in no target's history."""

from django.utils.translation import gettext_lazy as _

from taizhang.core.snapshots import LABEL, Field, declare

from .models import Campaign, LabelAlias, OrgUnit


def _unit_count(campaign: Campaign) -> int:
    return campaign.units.count()


CAMPAIGN = declare(
    "campaigns.campaign", Campaign,
    ("slug", "name", "district", "starts_on", "ends_on", "target_total", "preset_sha256", "units"),
    target=None, campaign="pk", special={"units": Field(_unit_count, whole=True)},
    headings={"preset_sha256": _("preset file (SHA-256)"), "units": _("units")},
    describe=lambda campaign: campaign.name)
ORG_UNIT = declare("campaigns.orgunit", OrgUnit, ("kind", "code", "name", "parent"), target=None,
                   campaign="campaign_id", special={"parent": LABEL}, kind=_("org unit"),
                   describe=lambda unit: unit.name)
LABEL_ALIAS = declare("campaigns.labelalias", LabelAlias, ("column", "text", "value"), target=None,
                      campaign="campaign_id", kind=_("label alias"))
