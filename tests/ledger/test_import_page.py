"""The import page: upload, read the dry run, apply; refusals change nothing."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.importing import import_prepare, upload_apply, upload_keep
from taizhang.ledger.models import ImportUpload, Target
from tests.conftest import gc_row, make_xlsx
from tests.racing import race


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


def test_uploads_are_kept_a_day_and_applied_bytes_are_dropped(client, targets, personas):
    client.force_login(personas["alice"])
    _upload(client, make_xlsx([gc_row("GC-0101")]))
    stale = ImportUpload.objects.get()
    ImportUpload.objects.filter(pk=stale.pk).update(uploaded_at=timezone.now() - datetime.timedelta(days=2))
    # A day-old dry run is not applied: the ledger may have moved on since.
    assert client.post("/ledger/import/%s/apply/" % stale.pk).status_code == 404
    _upload(client, make_xlsx([gc_row("GC-0102")]))
    fresh = ImportUpload.objects.get()  # the stale one went with the next upload
    assert fresh.pk != stale.pk and bytes(fresh.data)
    client.post("/ledger/import/%s/apply/" % fresh.pk, headers={"HX-Request": "true"})
    fresh.refresh_from_db()
    assert fresh.applied_at is not None and bytes(fresh.data) == b""
    assert Target.objects.filter(code="GC-0102").exists() and not Target.objects.filter(code="GC-0101").exists()


def _apply_upload(upload_id, username):
    user = get_user_model().objects.get(username=username)
    try:
        upload_apply(upload_id=upload_id, user=user)
    except ImportUpload.DoesNotExist:
        return "already applied"
    return "applied"


@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_apply_at_once_apply_the_file_once(targets, personas, campaign):
    data = make_xlsx([gc_row("GC-0101")])
    report = import_prepare(campaign=campaign, user=personas["alice"], data=data, filename="台账.xlsx")
    upload = upload_keep(campaign=campaign, user=personas["alice"], filename="台账.xlsx", data=data, report=report)
    answers = race("tests.ledger.test_import_page:_apply_upload", [(upload.pk, "alice"), (upload.pk, "alice")])
    assert answers == ["already applied", "applied"]
    target = Target.objects.get(code="GC-0101")
    assert ChangeLogEntry.objects.filter(object_id=str(target.pk)).count() == 1


def test_without_javascript_the_whole_page_shows_the_report(client, targets, personas):
    """A plain form post (no htmx): the report comes in the whole page, and apply works too."""
    client.force_login(personas["alice"])
    response = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", make_xlsx([gc_row("GC-0101")]))})
    html = response.content.decode()
    assert "<html" in html and 'id="import-form"' in html
    assert "台账.xlsx 检查结果" in html and 'id="apply"' in html
    upload = ImportUpload.objects.get()
    applied = client.post("/ledger/import/%s/apply/" % upload.pk, {"reason": "补录"})
    assert (applied.status_code, applied["Location"]) == (302, "/ledger/")
    assert Target.objects.filter(code="GC-0101").exists()


def test_without_javascript_problems_and_form_errors_are_shown(client, targets, personas):
    client.force_login(personas["alice"])
    html = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", make_xlsx(
        [gc_row("GC-0101", 占地面积="-5")]))}).content.decode()
    assert "<html" in html and "第 3 行“占地面积（㎡）”列" in html and 'id="apply"' not in html
    html = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", b"")}).content.decode()
    assert "<html" in html and 'id="problems"' in html and "空文件" in html
    assert not Target.objects.filter(code="GC-0101").exists() and ImportUpload.objects.count() == 1
