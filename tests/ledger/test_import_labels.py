"""One label per value everywhere: whatever a page or an export shows of a label, a situation
flag or a yes/no column, the import takes back as that value, in every language."""

import io
import itertools

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from taizhang.campaigns.models import OrgUnit
from taizhang.ledger.demo import demo_load
from taizhang.ledger.exporting import current_rows, write_xlsx
from taizhang.ledger.importing import import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.priorities import campaign_rules
from taizhang.ledger.services import target_update
from tests.conftest import HEADER, gc_row, ledger_state, make_target, make_xlsx

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _export(queryset, language):
    out = io.BytesIO()
    with translation.override(language):
        write_xlsx(out, current_rows(queryset), title="台账")
    return out.getvalue()


def _prepare(campaign, user, data):
    return import_prepare(campaign=campaign, user=user, data=data, filename="台账.xlsx")


@pytest.fixture
def every_value(units, campaign):
    """A ledger holding every street, system, type and flag, and both pilot values."""
    streets = [u for u in units.values() if u.kind == OrgUnit.Kind.STREET]
    systems = [u for u in units.values() if u.kind == OrgUnit.Kind.SYSTEM]
    types = list(campaign.target_types.all())
    flag_sets = [[], *([flag] for flag in Target.Flag.values), list(Target.Flag.values)]
    rights = [units["U-GC"], units["U-LG"], None]
    made = []
    for n, (street, system, target_type, flags, unit) in enumerate(zip(
            streets, itertools.cycle(systems), itertools.cycle(types), itertools.cycle(flag_sets),
            itertools.cycle(rights), strict=False)):
        target = make_target(units, "%s-%04d" % (street.code, n), street.code, system.code,
                             unit.code if unit else None, target_type=target_type, is_pilot=n % 2 == 0)
        made.append(target_update(target=target, actor=None, changes={"flags": flags}))
    # Flags the nine streets' targets did not reach, all on one more.
    last = make_target(units, "GC-9999", "GC", "ZF", target_type=types[-1], is_pilot=True)
    target_update(target=last, actor=None, changes={"flags": list(Target.Flag.values)})
    return campaign


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_export_imports_back_with_no_problem_and_no_change(every_value, personas, language):
    data = _export(Target.objects.all(), language)
    before = ledger_state()
    with translation.override(language):
        report = target_import(campaign=every_value, user=personas["carol"], data=data, filename="台账.xlsx")
    assert report.problems == [] and report.conflicts == []
    assert (len(report.new), len(report.changed), report.unchanged) == (0, 0, Target.objects.count())
    assert ledger_state() == before


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_demo_ledger_exports_and_imports_back_unchanged(campaign, language):
    demo_load(campaign=campaign, total=200)
    data = _export(Target.objects.all(), language)
    before = ledger_state()
    with translation.override(language):
        report = target_import(campaign=campaign, user=None, data=data, filename="台账.xlsx")
    assert report.problems == [] and (len(report.new), len(report.changed)) == (0, 0)
    assert ledger_state() == before


def _shown_words(campaign) -> dict[str, list[tuple[str, object]]]:
    """Every text a page or an export shows for a label, flag or yes/no value, in every
    language, with the value it stands for: column header -> [(text, value)]."""
    units = OrgUnit.objects.filter(campaign=campaign)
    words = {"类型": [], "所属街道": [], "所属系统": [], "责任单位": [], "重点情形": [], "试点": []}
    for target_type in campaign.target_types.all():
        words["类型"] += [(target_type.name, target_type.name)]
    for column, kind in (("所属街道", OrgUnit.Kind.STREET), ("所属系统", OrgUnit.Kind.SYSTEM),
                         ("责任单位", OrgUnit.Kind.RIGHTS_UNIT)):
        for unit in units.filter(kind=kind):
            # The ledger page shows the label, the target page and the export the name.
            words[column] += [(unit.name, unit.name), (unit.label, unit.name), (str(unit), unit.name)]
    for language in LANGUAGES:
        with translation.override(language):
            for code, label in Target.Flag.choices:
                words["重点情形"].append((str(label), code))
            words["试点"] += [(_("yes"), True), (_("no"), False), (_("pilot"), True)]
    # The ledger's 重点 column and the target page show a flag by its priority rule's label.
    for rule in campaign_rules(campaign):
        if rule["match"] == "flag" and len(rule["values"]) == 1:
            words["重点情形"].append((rule["label"], rule["values"][0]))
    return words


def test_every_label_a_page_shows_is_read_back_as_its_value(every_value, personas):
    words = _shown_words(every_value)
    header = ["编号", "名称", *words]
    # One new target per word, its other labels those of a target in the ledger.
    base = Target.objects.select_related("target_type", "street", "system").get(code="GC-9999")
    rows, expected = [], []
    for column, pairs in words.items():
        for text, value in pairs:
            row = {"编号": "GC-%04d" % (5000 + len(rows)), "名称": "大院", "类型": base.target_type.name,
                   "所属街道": base.street.name, "所属系统": base.system.name, "责任单位": None,
                   "重点情形": None, "试点": None}
            row[column] = text
            rows.append([row[h] for h in header])
            expected.append((column, text, value))
    report = _prepare(every_value, personas["carol"], make_xlsx(rows, header=header))
    assert [str(p) for p in report.problems] == []
    field = {"类型": "target_type", "所属街道": "street", "所属系统": "system", "责任单位": "responsible_unit",
             "重点情形": "flags", "试点": "is_pilot"}
    for write, (column, text, value) in zip(report._writes, expected, strict=True):
        got = write[field[column]]
        got = got.name if hasattr(got, "name") else got
        if column == "重点情形":  # read without a problem; the petition flag follows the petitions, not the file
            value = [] if value == Target.Flag.PETITION_RISK else [value]
        assert got == value, (column, text)


def test_a_flag_as_the_ledger_shows_it_is_accepted(targets, personas, campaign):
    """The ledger shows 存在重大安全隐患 (the priority rule's label) for the flag 重大安全隐患."""
    row = gc_row("GC-0001", 名称="GC-0001大院", 占地面积="1200", 居住人口=120, 登记日期="2015-11-20")
    data = make_xlsx([[*row, "存在重大安全隐患；影响重大工程"]], header=[*HEADER, "重点情形"])
    report = _prepare(campaign, personas["carol"], data)
    assert report.problems == []
    assert report.changed[0].diffs == [("重点情形", "", "影响重大工程、重大安全隐患")]
