"""A conflict is always caught: every row a file names, changed, unchanged or new, carries
what its dry run saw to the apply, and a row whose target moved meanwhile is never written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from taizhang.campaigns.models import OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.importing import ImportRejected, import_prepare, upload_apply, upload_keep
from taizhang.ledger.models import ImportUpload, Target
from taizhang.ledger.services import target_create, target_update
from tests.conftest import gc_row, ledger_state, make_xlsx

# GC-0001 as the ledger holds it (unchanged), GC-0003 with a new population, GC-0101 new.
FILE = make_xlsx([
    gc_row("GC-0001", 名称="GC-0001大院", 占地面积="1200", 居住人口=120, 登记日期="2015-11-20"),
    gc_row("GC-0003", 名称="GC-0003大院", 所属系统="首钢", 责任单位="", 占地面积="1200", 居住人口=121,
           登记日期="2015-11-20"),
    gc_row("GC-0101"),
])




def _dry_run(campaign, user, data=FILE):
    report = import_prepare(campaign=campaign, user=user, data=data, filename="台账.xlsx")
    assert report.ok, report.problems
    return report, upload_keep(campaign=campaign, user=user, filename="台账.xlsx", data=data, report=report)


def test_the_dry_run_keeps_the_version_of_every_row_it_names(targets, personas, campaign):
    report, upload = _dry_run(campaign, personas["alice"])
    assert (len(report.new), len(report.changed), report.unchanged) == (1, 1, 1)
    assert upload.seen_versions == {"GC-0001": 1, "GC-0003": 1, "GC-0101": None}


def test_an_unchanged_row_changed_meanwhile_is_a_conflict_not_put_back(targets, personas, campaign):
    _report, upload = _dry_run(campaign, personas["alice"])
    target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"resident_population": 999})
    before = ledger_state()
    with pytest.raises(ImportRejected) as rejected:
        upload_apply(upload_id=upload.pk, user=personas["alice"])
    [conflict] = rejected.value.report.conflicts
    assert (conflict.row, conflict.code) == (3, "GC-0001")
    assert "carol" in conflict.note and "版本 1" in conflict.note and "现为 2" in conflict.note
    assert ledger_state() == before
    assert Target.objects.get(code="GC-0001").resident_population == 999


def test_an_unchanged_row_whose_target_moved_elsewhere_is_still_nothing_to_do(targets, personas, campaign):
    """The office changed a field the file does not hold: applying writes the rest, leaves that one."""
    _report, upload = _dry_run(campaign, personas["alice"])
    target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"business_count": 30})
    report = upload_apply(upload_id=upload.pk, user=personas["alice"])
    assert (len(report.new), len(report.changed), report.unchanged, report.conflicts) == (1, 1, 1, [])
    gc1 = Target.objects.get(code="GC-0001")
    assert (gc1.business_count, gc1.version) == (30, 2)
    assert Target.objects.get(code="GC-0003").resident_population == 121


def test_a_code_created_meanwhile_is_a_conflict_not_overwritten(targets, personas, campaign, units):
    _report, upload = _dry_run(campaign, personas["alice"])
    target_create(actor=personas["carol"], campaign=campaign, code="GC-0101", name="办公室录入的大院",
                  target_type=campaign.target_types.get(code="compound"), street=units["GC"], system=units["JT"])
    before = ledger_state()
    with pytest.raises(ImportRejected) as rejected:
        upload_apply(upload_id=upload.pk, user=personas["alice"])
    [conflict] = rejected.value.report.conflicts
    assert (conflict.row, conflict.code) == (5, "GC-0101")
    assert "carol" in conflict.note and "他人录入" in conflict.note
    assert ledger_state() == before
    assert Target.objects.get(code="GC-0101").name == "办公室录入的大院"


def test_a_code_created_meanwhile_with_the_files_very_values_is_nothing_to_do(targets, personas, campaign,
                                                                             tmp_path):
    data = make_xlsx([gc_row("GC-0101")])
    _report, upload = _dry_run(campaign, personas["alice"], data)
    (tmp_path / "same.xlsx").write_bytes(data)  # the same row, imported by the office meanwhile
    call_command("import_ledger", str(tmp_path / "same.xlsx"), verbosity=0)
    version = Target.objects.get(code="GC-0101").version
    report = upload_apply(upload_id=upload.pk, user=personas["alice"])
    assert (report.new, report.changed, report.unchanged) == ([], [], 1)
    assert Target.objects.get(code="GC-0101").version == version


def test_a_changed_row_changed_again_meanwhile_is_still_a_conflict(targets, personas, campaign):
    _report, upload = _dry_run(campaign, personas["alice"])
    target_update(target=targets["GC-0003"], actor=personas["carol"], changes={"name": "改名"})
    before = ledger_state()
    with pytest.raises(ImportRejected) as rejected:
        upload_apply(upload_id=upload.pk, user=personas["alice"])
    assert [c.code for c in rejected.value.report.conflicts] == ["GC-0003"]
    assert ledger_state() == before


def _upload(client, data, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", data)}, headers=headers)


@pytest.mark.parametrize("htmx", [True, False])
def test_the_page_refuses_a_file_whose_rows_moved_since_its_check(client, targets, personas, units, htmx):
    client.force_login(personas["alice"])
    assert _upload(client, FILE, htmx).context["report"].ok
    upload = ImportUpload.objects.get()
    target_update(target=targets["GC-0001"], actor=personas["carol"], changes={"resident_population": 999})
    target_create(actor=personas["carol"], campaign=units["GC"].campaign, code="GC-0101", name="办公室录入的大院",
                  target_type=units["GC"].campaign.target_types.get(code="compound"), street=units["GC"],
                  system=units["JT"])
    before = ledger_state()
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post("/ledger/import/%s/apply/" % upload.pk, headers=headers)
    assert response.status_code == 200
    assert [c.code for c in response.context["report"].conflicts] == ["GC-0001", "GC-0101"]
    html = response.content.decode()
    assert "GC-0001" in html and "GC-0101" in html and 'id="apply"' not in html
    assert ("<html" in html) is not htmx  # the whole page without htmx, the report alone with it
    assert ledger_state() == before


def test_a_new_responsible_unit_for_a_stored_target_is_listed_and_created(targets, personas, campaign, units):
    data = make_xlsx([gc_row("GC-0001", 名称="GC-0001大院", 占地面积="1200", 居住人口=120, 登记日期="2015-11-20",
                             责任单位="杨庄新成立的合作社")])
    report = import_prepare(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    assert report.ok and report.new_units == ["杨庄新成立的合作社"]
    assert report.changed[0].diffs == [("责任单位", "古城杨庄股份经济合作社", "杨庄新成立的合作社")]
    _report, upload = _dry_run(campaign, personas["alice"], data)
    upload_apply(upload_id=upload.pk, user=personas["alice"])
    unit = Target.objects.get(code="GC-0001").responsible_unit
    assert (unit.name, unit.kind, unit.parent) == ("杨庄新成立的合作社", OrgUnit.Kind.RIGHTS_UNIT, units["JT"])
    entry = ChangeLogEntry.objects.filter(object_id=str(targets["GC-0001"].pk)).last()
    assert entry.after["responsible_unit"] == "杨庄新成立的合作社"


def test_the_command_lists_a_new_unit_for_a_stored_target(targets, campaign, tmp_path, capsys):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(make_xlsx([gc_row("GC-0003", 名称="GC-0003大院", 所属系统="首钢", 责任单位="首钢新单位")]))
    call_command("import_ledger", str(path), dry_run=True, verbosity=0)
    assert "new responsible units: 首钢新单位" in capsys.readouterr().out
    assert not OrgUnit.objects.filter(name="首钢新单位").exists()
    call_command("import_ledger", str(path), verbosity=0)
    assert Target.objects.get(code="GC-0003").responsible_unit.name == "首钢新单位"
