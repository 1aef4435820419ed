"""The import page: upload, read the dry run, apply; refusals change nothing."""

from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import ImportUpload, Target
from tests.conftest import gc_row, make_xlsx


def _upload(client, data, name="台账.xlsx"):
    return client.post("/ledger/import/", {"file": SimpleUploadedFile(name, data)}, headers={"HX-Request": "true"})


def test_upload_shows_the_dry_run_and_apply_writes(client, targets, personas):
    client.force_login(personas["alice"])
    response = _upload(client, make_xlsx([gc_row("GC-0101")]))
    report = response.context["report"]
    assert report.ok and len(report.new) == 1
    assert not Target.objects.filter(code="GC-0101").exists()
    upload = ImportUpload.objects.get()
    applied = client.post("/ledger/import/%s/apply/" % upload.pk, {"reason": "补录"}, headers={"HX-Request": "true"})
    assert applied["HX-Redirect"] == "/ledger/"
    target = Target.objects.get(code="GC-0101")
    assert ChangeLogEntry.objects.get(object_id=str(target.pk)).reason == "补录"
    # An upload is applied once.
    assert client.post("/ledger/import/%s/apply/" % upload.pk).status_code == 404


def test_bad_row_is_named_and_apply_is_not_offered(client, targets, personas):
    client.force_login(personas["alice"])
    response = _upload(client, make_xlsx([gc_row("GC-0101", 占地面积="-5")]))
    html = response.content.decode()
    assert "第 3 行“占地面积（㎡）”列" in html
    assert 'id="apply"' not in html
    assert not Target.objects.filter(code="GC-0101").exists()


def test_applying_a_file_that_went_bad_meanwhile_changes_nothing(client, targets, personas):
    client.force_login(personas["alice"])
    _upload(client, make_xlsx([gc_row("GC-0001", 名称="新名称")]))
    upload = ImportUpload.objects.get()
    Target.objects.filter(code="GC-0001").update(version=5)  # someone else edited it since
    before = ChangeLogEntry.objects.count()
    response = client.post("/ledger/import/%s/apply/" % upload.pk, headers={"HX-Request": "true"})
    assert [c.code for c in response.context["report"].conflicts] == ["GC-0001"]
    assert Target.objects.get(code="GC-0001").name == "GC-0001大院"
    assert ChangeLogEntry.objects.count() == before


def test_file_over_the_cap_is_refused_before_reading(client, targets, personas, settings):
    settings.TAIZHANG_IMPORT_MAX_BYTES = 100
    client.force_login(personas["alice"])
    response = _upload(client, make_xlsx([gc_row()]))
    assert "100" in response.context["form"].errors["file"][0]
    assert 'id="problems"' in response.content.decode()
    assert ImportUpload.objects.count() == 0
