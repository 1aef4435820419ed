"""Which working group keeps the legal path and the petitions is the preset's word, not its name."""

import importlib

import pytest
from django.apps import apps

from taizhang.campaigns.models import Campaign, GroupDuty, OrgUnit
from taizhang.campaigns.presets import PresetError, preset_load
from taizhang.remediation.legal import may_record_judicial
from taizhang.remediation.petitions import may_handle_petitions
from tests.conftest import PRESET, group_member


def test_the_preset_names_the_groups_with_each_duty(campaign):
    assert campaign.rules["group_duties"] == {"petitions": ["G07"], "legal": ["G08"]}
    assert campaign.duty_groups(GroupDuty.LEGAL) == ["G08"]


def test_a_group_acts_by_its_duty_whatever_it_is_called(targets, personas, units, campaign):
    """Renamed in the preset, the legal group keeps its rights; other groups get none."""
    text = PRESET.read_text(encoding="utf-8").replace('name = "政策法规组"', 'name = "法制工作组"')
    preset_load(text=text)
    target = targets["GC-0001"]
    target.campaign.refresh_from_db()
    gina = personas["gina"]  # in G08, now 法制工作组
    assert OrgUnit.objects.get(campaign=campaign, code="G08").name == "法制工作组"
    assert may_record_judicial(gina, target) and not may_handle_petitions(gina, target)
    petitions = group_member(units, "G07", personas["olive"])
    assert may_handle_petitions(petitions, target) and not may_record_judicial(petitions, target)
    other = group_member(units, "G01", personas["jin"])
    assert not may_record_judicial(other, target) and not may_handle_petitions(other, target)


def test_a_group_without_the_duty_has_no_rights_even_by_its_old_name(targets, personas, campaign):
    text = PRESET.read_text(encoding="utf-8").replace('duties = ["legal"]\n', "")
    preset_load(text=text)
    target = targets["GC-0001"]
    target.campaign.refresh_from_db()
    assert not may_record_judicial(personas["gina"], target)  # 政策法规组, but no longer charged
    assert may_record_judicial(personas["alice"], target)  # the street keeps its own


def test_an_unknown_duty_names_its_key_and_loads_nothing(db):
    text = PRESET.read_text(encoding="utf-8").replace('duties = ["legal"]', 'duties = ["legal", "lawsuits"]')
    with pytest.raises(PresetError, match=r"groups\[7\]\.duties\[1\].*lawsuits"):
        preset_load(text=text)
    assert Campaign.objects.count() == 0


def test_campaigns_loaded_before_duties_keep_them_by_the_old_names(campaign):
    name_duties = importlib.import_module("taizhang.campaigns.migrations.0002_group_duties").name_duties
    campaign.rules.pop("group_duties")
    campaign.save(update_fields=["rules"])
    name_duties(apps, None)
    campaign.refresh_from_db()
    assert campaign.rules["group_duties"] == {"legal": ["G08"], "petitions": ["G07"]}
    campaign.rules["group_duties"] = {"legal": ["G01"]}  # a campaign that has them is left alone
    campaign.save(update_fields=["rules"])
    name_duties(apps, None)
    campaign.refresh_from_db()
    assert campaign.rules["group_duties"] == {"legal": ["G01"]}
