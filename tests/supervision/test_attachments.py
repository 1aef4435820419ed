"""Files sent with an answer: checked by their first bytes and size before anything reads them,
refused naming the file with nothing written, and served only to those who see the order."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from taizhang.core.errors import ServiceError
from taizhang.core.models import ChangeLogEntry
from taizhang.supervision import attachments
from taizhang.supervision.models import Attachment, Order, OrderEvent
from taizhang.supervision.orders import order_answer, order_step

pytestmark = pytest.mark.usefixtures("english")
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def signed(order, personas):
    order_step(actor=personas["alice"], order=order, to=Order.State.SIGNED)
    return order


def _zip(*names) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


def _upload(name, data):
    return SimpleUploadedFile(name, data)


def test_an_answer_carries_its_files(signed, personas, client):
    event = order_answer(actor=personas["alice"], order=signed, text="整改报告见附件", files=[
        _upload("整改报告.pdf", PDF), _upload("台账.xlsx", _zip("[Content_Types].xml", "xl/workbook.xml"))])
    files = {a.name: a.content_type for a in event.attachments.all()}
    assert files == {"整改报告.pdf": "application/pdf",
                     "台账.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert ChangeLogEntry.objects.filter(object_type="supervision.attachment").count() == 2
    pdf = event.attachments.get(name="整改报告.pdf")
    client.force_login(personas["carol"])
    page = client.get(signed.get_absolute_url()).content.decode()
    url = reverse("supervision:attachment", args=[signed.pk, pdf.pk])
    assert url in page
    response = client.get(url)
    assert b"".join(response.streaming_content) == PDF and response["Content-Type"] == "application/pdf"
    client.force_login(personas["bob"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("files", "message"), [
    ([("run.exe", b"MZ\x90\x00rest")], "run.exe: not a PDF, JPEG, PNG, Word"),
    ([("empty.pdf", b"")], "empty.pdf: the file is empty"),
    ([("x.docx", _zip("word/other.xml"))], "x.docx: not a PDF"),
    ([("broken.docx", b"PK\x03\x04garbage")], "broken.docx: not a PDF"),
    ([("a%d.pdf" % n, PDF) for n in range(6)], "At most 5 files with one answer"),
])
def test_a_file_not_taken_is_refused_naming_it_and_nothing_is_written(signed, personas, files, message):
    before = (OrderEvent.objects.count(), Attachment.objects.count(), ChangeLogEntry.objects.count())
    with pytest.raises(ServiceError, match=message):
        order_answer(actor=personas["alice"], order=signed, text="见附件", files=[_upload(n, d) for n, d in files])
    assert (OrderEvent.objects.count(), Attachment.objects.count(), ChangeLogEntry.objects.count()) == before


def test_a_file_too_large_is_refused_before_it_is_read(signed, personas, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_BYTES", 100)
    with pytest.raises(ServiceError, match="big.pdf: larger than 100"):
        order_answer(actor=personas["alice"], order=signed, text="x", files=[_upload("big.pdf", PDF * 10)])
    assert Attachment.objects.count() == 0


def test_a_zip_bomb_is_not_an_office_file(monkeypatch):
    monkeypatch.setattr(attachments, "MAX_ZIP_UNPACKED", 5)  # its two parts unpack to 8 bytes
    assert attachments._office(_zip("word/document.xml", "word/big.xml")) is None
