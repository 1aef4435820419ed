"""Files sent with an answer, checked by their first bytes and their size before anything
else reads them: PDF, JPEG, PNG, and Word or Excel files (.docx, .xlsx: a zip holding the
parts those formats must have). Anything else is refused, naming the file."""

import hashlib
import io
import zipfile

from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from taizhang.core.errors import ServiceError

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# A .docx or .xlsx is a zip: its entries are counted and sized before they are trusted.
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_UNPACKED = 200 * 1024 * 1024
OFFICE_PARTS = {"word/document.xml": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                      ".docx"),
                "xl/workbook.xml": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")}


class AttachmentError(ServiceError):
    """A file refused; the message names it."""


def checked(files) -> list[tuple[str, bytes, str]]:
    """(name, bytes, content type) of each uploaded file, or AttachmentError naming the first
    that is too big, empty, or not one of the kinds taken."""
    files = list(files)
    if len(files) > MAX_FILES:
        raise AttachmentError(_("At most %(n)d files with one answer.") % {"n": MAX_FILES})
    found = []
    for upload in files:
        name = (upload.name or "file")[-200:]
        if upload.size > MAX_BYTES:
            raise AttachmentError(_("%(name)s: larger than %(limit)s.") % {
                "name": name, "limit": filesizeformat(MAX_BYTES)})
        data = upload.read(MAX_BYTES + 1)
        if not data:
            raise AttachmentError(_("%(name)s: the file is empty.") % {"name": name})
        kind = _kind(data)
        if kind is None:
            raise AttachmentError(_("%(name)s: not a PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx) file.") % {
                "name": name})
        found.append((name, data, kind))
    return found


def _kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return None


def _office(data: bytes) -> str | None:
    """The Office type of a zip, from its part names only (no part is unpacked)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_ZIP_UNPACKED:
        return None
    names = {e.filename for e in entries}
    return next((kind for part, (kind, _suffix) in OFFICE_PARTS.items() if part in names), None)


def stored(name: str, data: bytes) -> tuple[ContentFile, int, str]:
    """The file to save, its size and its SHA-256."""
    return ContentFile(data, name=name), len(data), hashlib.sha256(data).hexdigest()
