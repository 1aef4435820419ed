"""Priorities (重点): the preset's rules per target, the reasons shown, kept current on every write."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from taizhang.campaigns.models import Campaign
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.exporting import current_rows, write_xlsx
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.priorities import priorities_evaluate, priority_reasons, priority_text
from taizhang.ledger.services import target_update
from tests.conftest import HEADER, PRESET, gc_row, make_target, make_xlsx

RULES = [
    {"code": "collective", "label": "集体经济", "match": "system", "values": ["JT"]},
    {"code": "street_gc", "label": "古城街道", "match": "street", "values": ["GC"]},
    {"code": "area", "label": "衙门口地区", "match": "area", "values": ["衙门口"]},
    {"code": "safety", "label": "存在重大安全隐患", "match": "flag", "values": ["safety_hazard"]},
]


def _reasons(system="GZ", street="BBS", texts=("石景山路1号", "杨庄社区", "杨庄大院"), flags=()):
    return priority_reasons(RULES, system=system, street=street, texts=texts, flags=flags)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, []),
    ({"system": "JT"}, ["集体经济"]),
    ({"street": "GC"}, ["古城街道"]),
    ({"texts": ("石景山区衙门口路12号", "", "大院")}, ["衙门口地区"]),
    ({"texts": ("", "衙门口社区", "大院")}, ["衙门口地区"]),
    ({"texts": ("", "", "衙门口东大院")}, ["衙门口地区"]),
    ({"flags": ["safety_hazard"]}, ["存在重大安全隐患"]),
    ({"flags": ["environment"]}, []),
    # Rule order, whatever order the target's facts come in.
    ({"flags": ["safety_hazard"], "street": "GC", "system": "JT"}, ["集体经济", "古城街道", "存在重大安全隐患"]),
])
def test_each_rule_kind_matches_its_own_field(kwargs, expected):
    assert _reasons(**kwargs) == expected


def test_the_reasons_read_as_one_sentence():
    reasons = _reasons(system="JT", street="GC", flags=["safety_hazard"])
    with translation.override("zh-hans"):
        assert priority_text(reasons) == "重点：集体经济；古城街道；存在重大安全隐患"
    with translation.override("en"):
        assert priority_text(reasons) == "Priority: 集体经济；古城街道；存在重大安全隐患"
    assert priority_text([]) == ""


def _stored(code):
    return Target.objects.values_list("priority_reasons", "priority_rank").get(code=code)


def test_creating_and_editing_a_target_keeps_its_priority_current(targets, units, personas):
    assert _stored("GC-0001") == (["集体经济", "古城街道"], 2)
    assert _stored("LG-0002") == (["鲁谷街道"], 1)
    plain = make_target(units, "BBS-0001", "BBS", "GZ")
    assert _stored("BBS-0001") == ([], 0)
    target_update(target=plain, actor=personas["carol"],
                  changes={"flags": ["safety_hazard", "blocks_major_project"], "address": "衙门口路3号"})
    assert _stored("BBS-0001") == (["衙门口地区", "影响重大工程", "存在重大安全隐患"], 3)
    assert Target.objects.get(code="BBS-0001").flags == ["blocks_major_project", "safety_hazard"]
    target_update(target=targets["GC-0003"], actor=personas["carol"], changes={"street": units["BBS"]})
    assert _stored("GC-0003") == ([], 0)


def test_an_unknown_flag_is_refused_and_nothing_changes(targets, personas):
    before = (list(Target.objects.values()), ChangeLogEntry.objects.count())
    with pytest.raises(ValidationError, match="meteor"):
        target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"flags": ["meteor"]})
    assert (list(Target.objects.values()), ChangeLogEntry.objects.count()) == before


def test_editing_a_rule_and_reloading_the_preset_reevaluates_every_target(targets, units, campaign, tmp_path):
    make_target(units, "BBS-0001", "BBS", "GZ")
    versions = dict(Target.objects.values_list("code", "version"))
    log_size = ChangeLogEntry.objects.filter(object_type="ledger.target").count()
    text = PRESET.read_text(encoding="utf-8")
    text = text.replace('label = "古城街道"\nmatch = "street"\nvalues = ["GC"]',
                        'label = "古城、八宝山街道"\nmatch = "street"\nvalues = ["GC", "BBS"]')
    text = text.replace('values = ["JT"]\n[[priority_rules]]', 'values = ["SG"]\n[[priority_rules]]')
    preset = tmp_path / "edited.toml"
    preset.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("load_preset", str(preset), stdout=out)
    assert "priorities changed for 4 targets" in out.getvalue()
    stored = dict(Target.objects.values_list("code", "priority_reasons"))
    assert stored == {
        "GC-0001": ["古城、八宝山街道"], "GC-0002": ["古城、八宝山街道"], "GC-0003": ["集体经济", "古城、八宝山街道"],
        "LG-0001": ["鲁谷街道"], "LG-0002": ["鲁谷街道"], "BBS-0001": ["古城、八宝山街道"]}
    assert dict(Target.objects.values_list("code", "priority_rank"))["GC-0003"] == 2
    # Derived values: no version bump (exported files stay importable), no change-log entry.
    assert dict(Target.objects.values_list("code", "version")) == versions
    assert ChangeLogEntry.objects.filter(object_type="ledger.target").count() == log_size


def test_a_rule_on_an_unknown_flag_undoes_the_preset_load(targets, campaign, tmp_path):
    text = PRESET.read_text(encoding="utf-8").replace('values = ["petition_risk"]', 'values = ["meteor"]')
    text = text.replace('label = "集体经济"', 'label = "集体"')
    preset = tmp_path / "bad.toml"
    preset.write_text(text, encoding="utf-8")
    rules_before = Campaign.objects.get().rules
    with pytest.raises(CommandError, match=r"priority_rules\[9\]\.values\[0\]"):
        call_command("load_preset", str(preset))
    assert Campaign.objects.get().rules == rules_before
    assert _stored("GC-0001") == (["集体经济", "古城街道"], 2)


def test_evaluating_queries_do_not_grow_with_the_ledger(targets, units, campaign):
    def queries_to_evaluate():
        Target.objects.update(priority_reasons=[], priority_rank=0)
        with CaptureQueriesContext(connection) as captured:
            priorities_evaluate(campaign=campaign)
        return len(captured)

    few = queries_to_evaluate()
    for i in range(40):
        make_target(units, "GC-3%03d" % i, "GC", "JT")
        make_target(units, "LG-3%03d" % i, "LG", "ZF")
    assert queries_to_evaluate() == few
    assert Target.objects.filter(priority_rank=0).count() == 0


def test_evaluating_some_targets_leaves_the_others(targets, campaign):
    Target.objects.update(priority_reasons=[], priority_rank=0)
    assert priorities_evaluate(campaign=campaign, targets=[targets["GC-0001"], targets["LG-0001"].pk]) == 2
    assert dict(Target.objects.filter(priority_rank__gt=0).values_list("code", "priority_rank")) == {
        "GC-0001": 2, "LG-0001": 1}


def _codes(response):
    return [t.code for t in response.context["page"]]


def test_ledger_page_filters_and_sorts_by_priority(client, targets, units, personas):
    make_target(units, "BBS-0001", "BBS", "GZ")
    make_target(units, "BBS-0002", "BBS", "GZ", flags=["instability"])
    target_update(target=targets["LG-0002"], actor=None, changes={"flags": ["safety_hazard", "environment"]})
    client.force_login(personas["carol"])
    assert _codes(client.get("/ledger/", {"sort": "priority"})) == [
        "LG-0002", "GC-0001", "GC-0002", "BBS-0002", "GC-0003", "LG-0001", "BBS-0001"]
    response = client.get("/ledger/", {"priority": "on", "street": units["BBS"].pk})
    assert _codes(response) == ["BBS-0002"]
    page = response.content.decode()
    assert "存在不稳定因素" in page and 'name="priority" value="on" checked' in page
    assert "鲁谷街道；存在重大安全隐患；环境脏乱差" in client.get("/ledger/", {"q": "LG-0002"}).content.decode()


FLAGS_HEADER = [*HEADER, "重点情形"]


def _flags_row(code, flags, **overrides):
    return [*gc_row(code, **overrides), flags]


def test_flags_are_imported_from_labels_in_either_language_or_codes(targets, personas, campaign):
    data = make_xlsx([
        _flags_row("GC-0101", "重大安全隐患、环境脏乱差"),
        _flags_row("GC-0102", "blocks a major project; major safety hazard"),
        _flags_row("GC-0103", "instability environment，petition_risk"),
        _flags_row("GC-0104", "无"),
    ], header=FLAGS_HEADER)
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    flags = dict(Target.objects.filter(code__startswith="GC-01").values_list("code", "flags"))
    assert flags == {"GC-0101": ["environment", "safety_hazard"],
                     "GC-0102": ["blocks_major_project", "safety_hazard"],
                     # petition_risk follows the target's petitions, never the spreadsheet
                     "GC-0103": ["environment", "instability"], "GC-0104": []}
    assert _stored("GC-0101") == (["集体经济", "古城街道", "存在重大安全隐患", "环境脏乱差"], 4)


def test_changing_flags_by_import_changes_the_priority(targets, personas, campaign):
    data = make_xlsx([_flags_row("GC-0003", "存在火灾隐患", 名称="GC-0003大院", 所属系统="首钢", 责任单位="",
                                 居住人口=120)], header=FLAGS_HEADER)
    with pytest.raises(ImportRejected) as rejected:
        target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    problem = rejected.value.report.problems[0]
    assert (problem.row, problem.column, problem.value) == (3, "重点情形", "存在火灾隐患")
    assert "存在火灾隐患" in problem.message and "重大安全隐患、" in problem.message
    # The flag as the ledger's 重点 column shows it (the rule's label) is that flag.
    data = make_xlsx([_flags_row("GC-0003", "存在重大安全隐患", 名称="GC-0003大院", 所属系统="首钢", 责任单位="",
                                 居住人口=120)], header=FLAGS_HEADER)
    report = import_prepare(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert [r.diffs for r in report.changed] == [[("重点情形", "", "重大安全隐患")]]
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert Target.objects.get(code="GC-0003").flags == ["safety_hazard"]
    assert _stored("GC-0003") == (["古城街道", "存在重大安全隐患"], 2)
    entry = ChangeLogEntry.objects.filter(object_id=str(targets["GC-0003"].pk)).latest("id")
    assert (entry.before["flags"], entry.after["flags"]) == ([], ["safety_hazard"])


def test_exported_flags_reimport_unchanged(targets, personas, campaign):
    target_update(target=targets["GC-0001"], actor=None, changes={"flags": ["safety_hazard", "instability"]})
    out = io.BytesIO()
    write_xlsx(out, current_rows(Target.objects.all()), title="台账")
    report = import_prepare(campaign=campaign, user=personas["carol"], data=out.getvalue(), filename="台账.xlsx")
    assert (len(report.new), len(report.changed), report.unchanged, report.problems) == (0, 0, 5, [])


def test_target_page_says_why_it_is_a_priority(client, targets, personas):
    client.force_login(personas["alice"])
    response = client.get(targets["GC-0001"].get_absolute_url())
    assert response.context["priority"].startswith("重点：")
    assert "集体经济" in response.context["priority"] and "古城街道" in response.context["priority"]
