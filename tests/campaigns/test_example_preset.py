"""The second, small example preset (presets/example-kaiqiang-2017.toml, docs/presets.md):
it loads into an empty database, and the ledger works on it — import with its short names and
aliases, the ledger and reconciliation pages, priorities, export — as it does on the built-in one."""

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from python_calamine import CalamineWorkbook

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.campaigns.presets import preset_load
from taizhang.core.changelog import Break, changelog_verify
from taizhang.ledger.importing import target_import
from taizhang.ledger.models import Target

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "presets" / "example-kaiqiang-2017.toml"
# As an office would write it: short names, aliases, a blank cell.
SHEET = """编号,名称,类型,街道,所属系统,地址,重点情形,居住人口
DJ-001,东大街12号底商,破墙开店,东街,公房,示例区东大街12号,,3
DJ-002,东街5号楼住改商,住改商,东街街道,自管房,示例区东街5号楼,重大安全隐患,
XJ-001,西街8号门洞,开墙打洞,西街,直管公房,示例区西街8号,,1
"""


@pytest.fixture
def example(db):
    campaign, created = preset_load(text=EXAMPLE.read_text(encoding="utf-8"), source=EXAMPLE.name)
    assert created is True
    return campaign


@pytest.fixture
def office(example):
    user = get_user_model().objects.create_user("ming", password="correct horse battery")
    Membership.objects.create(user=user, role=Membership.Role.OFFICE,
                              unit=OrgUnit.objects.get(campaign=example, kind=OrgUnit.Kind.OFFICE))
    return user


def test_the_example_loads_into_an_empty_database(example):
    assert Campaign.objects.get() == example
    kinds = dict(OrgUnit.objects.filter(campaign=example).values_list("code", "kind"))
    assert kinds == {"HQ": "command", "OFFICE": "office", "ZF": "group", "XF": "group",
                     "DJ": "street", "XJ": "street", "ZG": "system", "ZC": "system"}
    assert example.duty_groups("legal") == ["ZF"] and example.duty_groups("petitions") == ["XF"]
    assert [t.name for t in example.target_types.all()] == ["开墙打洞", "住改商"]
    assert example.milestones.count() == 2 and example.phases.count() == 2
    # Loading it again changes nothing but logs the load.
    units = list(OrgUnit.objects.order_by("pk").values())
    preset_load(text=EXAMPLE.read_text(encoding="utf-8"))
    assert list(OrgUnit.objects.order_by("pk").values()) == units


def test_the_ledger_works_on_it(client, example, office):
    report = target_import(campaign=example, user=office, data=SHEET.encode(), filename="东街西街.csv",
                           reason="首次导入")
    assert report.ok and len(report.new) == 3, [str(p) for p in report.problems]
    targets = {t.code: t for t in Target.objects.select_related("street", "system", "target_type")}
    assert (targets["DJ-001"].street.code, targets["DJ-001"].system.code, targets["DJ-001"].target_type.code) == (
        "DJ", "ZG", "opening")
    assert targets["DJ-002"].system.code == "ZC" and targets["DJ-002"].target_type.code == "home_shop"
    # The preset's own priority rules: an area in the address, a situation flag.
    assert targets["DJ-001"].priority_reasons == ["主要大街沿线"]
    assert targets["DJ-002"].priority_reasons == ["存在重大安全隐患"]
    assert targets["XJ-001"].priority_reasons == []

    client.force_login(office)
    page = client.get("/ledger/")
    assert page.status_code == 200 and page.context["campaign"] == example
    assert {t.code for t in page.context["page"].object_list} == {"DJ-001", "DJ-002", "XJ-001"}
    street = client.get("/ledger/street/DJ/")
    assert {t.code for t in street.context["page"].object_list} == {"DJ-001", "DJ-002"}
    reconcile = client.get("/ledger/reconcile/").content.decode()
    assert "直管公房" in reconcile and "25" in reconcile  # the preset's baseline beside the count

    export = client.get("/ledger/system/ZG/export.xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(export.streaming_content))).get_sheet_by_index(0)
    assert sorted(row[0] for row in rows.to_python()[2:]) == ["DJ-001", "XJ-001"]
    assert not any(isinstance(item, Break) for item in changelog_verify())


def test_the_command_exports_its_ledger(example, office, tmp_path):
    target_import(campaign=example, user=office, data=SHEET.encode(), filename="东街西街.csv")
    output = tmp_path / "zg.xlsx"
    call_command("export_ledger", campaign=example.slug, ledger="system:公房", output=output, stdout=io.StringIO())
    rows = CalamineWorkbook.from_path(str(output)).get_sheet_by_index(0).to_python()
    codes = sorted(row[0] for row in rows[2:])
    assert codes == ["DJ-001", "XJ-001"]


def test_reloading_keeps_what_the_file_no_longer_names_except_milestones(example, office):
    """docs/presets.md, "Reloading": a unit, type or phase removed from the file stays (with its
    targets); a removed milestone goes; a changed name is updated in place."""
    target_import(campaign=example, user=office, data=SHEET.encode(), filename="东街西街.csv")
    text = EXAMPLE.read_text(encoding="utf-8")
    xj = text.index('[[streets]]\ncode = "XJ"')
    text = text[:xj] + text[text.index("[[systems]]"):]  # 西街 left out
    text = text.replace('name = "东街街道"', 'name = "东街街道办事处"')
    text = text.replace('[[milestones]]\ndue_on = 2017-06-30\ntitle = "完成台账任务的50%"\nrequired_pct = 50\n', "")
    text = text.replace('[[phases]]\nnumber = 2\nname = "集中整治"\nstarts_on = 2017-05-01\nends_on = 2017-12-31\n', "")
    _campaign, created = preset_load(text=text)
    assert created is False
    west = OrgUnit.objects.get(campaign=example, code="XJ")
    assert west.name == "西街街道" and Target.objects.filter(street=west).count() == 1
    assert OrgUnit.objects.get(campaign=example, code="DJ").name == "东街街道办事处"
    assert example.phases.count() == 2
    assert list(example.milestones.values_list("title", flat=True)) == ["全部完成"]
