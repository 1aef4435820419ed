"""Loading the campaign preset: what the speech declares, idempotent, all or nothing."""

import pytest
from django.core.management import CommandError, call_command

from taizhang.campaigns.models import Campaign, Liaison, Milestone, OrgUnit, Phase, TargetType
from taizhang.campaigns.presets import PresetError, preset_load
from tests.conftest import PRESET


def _counts():
    return {model.__name__: model.objects.count()
            for model in (Campaign, OrgUnit, TargetType, Phase, Milestone, Liaison)}


def test_preset_declares_the_campaign_of_the_speech(campaign):
    units = OrgUnit.objects.filter(campaign=campaign)
    assert units.filter(kind=OrgUnit.Kind.STREET).count() == 9
    assert units.filter(kind=OrgUnit.Kind.GROUP).count() == 11
    systems = dict(units.filter(kind=OrgUnit.Kind.SYSTEM).values_list("name", "expected_targets"))
    assert systems == {"集体经济系统": 334, "国资系统": 67, "首钢系统": 42, "政府部门和社会单位": 85}
    assert campaign.target_total == 528
    assert list(campaign.phases.values_list("starts_on", flat=True))[0].isoformat() == "2015-11-01"
    milestones = list(campaign.milestones.values_list("due_on", "required_pct", "stretch_pct"))
    assert [(d.isoformat(), r, s) for d, r, s in milestones][1:3] == [
        ("2016-06-30", 30, 50), ("2016-12-31", 60, 80)]
    assert campaign.liaisons.count() == 9
    assert len(campaign.rules["slogans"]) == 9
    assert campaign.rules["pilots"]["per_street_max"] == 2
    assert campaign.resolve_label("古城") == "古城街道"
    assert campaign.resolve_label("废品收购站") == "废品回收"


def test_loading_the_preset_twice_changes_nothing(campaign):
    before = _counts()
    call_command("load_preset", str(PRESET))
    assert _counts() == before


def test_a_reloaded_preset_updates_in_place(campaign):
    text = PRESET.read_text(encoding="utf-8").replace('name = "古城街道"', 'name = "古城街道办事处"')
    preset_load(text=text)
    assert OrgUnit.objects.get(campaign=campaign, code="GC").name == "古城街道办事处"
    assert OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).count() == 9


def test_a_reload_logs_what_the_campaign_was_before(campaign):
    from taizhang.core.models import ChangeLogEntry

    first_sha = campaign.preset_sha256
    text = PRESET.read_text(encoding="utf-8").replace('name = "石景山区治乱疏解建高端"', 'name = "石景山区治乱疏解"')
    preset_load(text=text)
    entry = ChangeLogEntry.objects.filter(object_type="campaigns.campaign").order_by("id").last()
    assert entry.action == "update"
    assert (entry.before["name"], entry.before["preset_sha256"]) == ("石景山区治乱疏解建高端", first_sha)
    assert entry.after["name"] == "石景山区治乱疏解"


def test_a_second_campaign_lives_beside_the_first(campaign):
    text = PRESET.read_text(encoding="utf-8").replace(
        'slug = "shijingshan-2015"', 'slug = "kaiqiang-2017"').replace(
        'name = "石景山区治乱疏解建高端"', 'name = "开墙打洞整治"')
    second, created = preset_load(text=text)
    assert created is True
    assert Campaign.objects.count() == 2
    assert OrgUnit.objects.filter(campaign=second, kind=OrgUnit.Kind.STREET).count() == 9
    assert OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).count() == 9


@pytest.mark.parametrize(("edit", "names"), [
    (lambda t: t.replace('ends_on = 2017-10-31', 'ends_on = "soon"'), "campaign.ends_on"),
    (lambda t: t.replace('code = "GC"\n', ''), "streets[3].code"),
    (lambda t: t.replace('street = "LG"', 'street = "XX"'), "liaisons[8].street"),
    (lambda t: t.replace('required_pct = 60', 'required_pct = 160'), "milestones[2].required_pct"),
    (lambda t: t.replace('code = "LG"', 'code = "GC"'), "GC"),
    (lambda t: t.replace('[campaign]', '[campaign', 1), "line 5"),
])
def test_malformed_preset_names_the_key_and_loads_nothing(db, edit, names):
    text = edit(PRESET.read_text(encoding="utf-8"))
    with pytest.raises(PresetError, match=names.replace("[", r"\[").replace("]", r"\]")):
        preset_load(text=text)
    assert Campaign.objects.count() == 0
    assert OrgUnit.objects.count() == 0


def test_load_preset_command_reports_the_problem(db, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(PRESET.read_text(encoding="utf-8").replace("target_total = 528", "target_total = true"),
                   encoding="utf-8")
    with pytest.raises(CommandError, match="campaign.target_total"):
        call_command("load_preset", str(bad))
    assert Campaign.objects.count() == 0


RULE = '[[priority_rules]]\ncode = "street_gc"\nlabel = "古城街道"\nmatch = "street"\nvalues = ["GC"]'


@pytest.mark.parametrize(("rule", "names"), [
    ('code = "x"\nlabel = "x"\nmatch = "district"\nvalues = ["GC"]', "priority_rules[1].match"),
    ('code = "x"\nlabel = "x"\nmatch = "street"\nvalues = "GC"', "priority_rules[1].values"),
    ('code = "x"\nlabel = "x"\nmatch = "street"\nvalues = []', "priority_rules[1].values"),
    ('code = "x"\nlabel = "x"\nmatch = "area"\nvalues = ["衙门口", 3]', "priority_rules[1].values[1]"),
    ('code = "x"\nlabel = "x"\nmatch = "street"\nvalues = ["GC", "XX"]', "priority_rules[1].values[1]"),
    ('code = "x"\nlabel = "x"\nmatch = "system"\nvalues = ["GC"]', "priority_rules[1].values[0]"),
    ('code = "x"\nmatch = "street"\nvalues = ["GC"]', "priority_rules[1].label"),
    ('code = "street_gc"\nlabel = "x"\nmatch = "street"\nvalues = ["GC"]', "priority_rules[1].code"),
])
def test_malformed_priority_rule_names_the_key_and_loads_nothing(db, rule, names):
    text = PRESET.read_text(encoding="utf-8")
    start, end = text.index("[[priority_rules]]"), text.index("[aliases]")
    text = text[:start] + RULE + "\n[[priority_rules]]\n" + rule + "\n\n" + text[end:]
    with pytest.raises(PresetError, match=names.replace("[", r"\[").replace("]", r"\]")):
        preset_load(text=text)
    assert Campaign.objects.count() == 0


def test_priority_rules_are_kept_as_the_preset_gives_them(campaign):
    rules = campaign.rules["priority_rules"]
    assert rules[0] == {"code": "collective", "label": "集体经济", "match": "system", "values": ["JT"]}
    assert [r["label"] for r in rules if r["match"] == "street"] == ["古城街道", "鲁谷街道", "八角街道"]
