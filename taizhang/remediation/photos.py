"""Photos from the field: checked by content, capped in size, located from EXIF when present,
each with a small JPEG thumbnail made once, on upload.

Files live under MEDIA_ROOT (outside the static root, never served by URL); the only way
to see one is the `photo` view (the original) or `photo_thumbnail`, which apply the scoping
rule. Pages that list photos show the thumbnails and link to the originals, which are kept
as they came (a HEIC stays a HEIC; its thumbnail is a JPEG every browser shows).
"""

import hashlib
import io
import math
import warnings
from decimal import Decimal
from typing import NamedTuple

import pillow_heif
from django.conf import settings
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ServiceError

from .models import Photo
from .snapshots import PHOTO

pillow_heif.register_heif_opener()

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "HEIF": ("image/heic", "heic")}
GPS_IFD = 0x8825
# The longest side of a thumbnail, in pixels: sharp at 120 CSS pixels on a phone's screen.
THUMBNAIL_SIZE = 360


class PhotoError(ServiceError):
    """A photo refused; the message names the file."""


class CheckedPhoto(NamedTuple):
    """A photo that passed the checks, with what was read from it."""

    name: str
    data: bytes
    content_type: str
    extension: str
    location: tuple[Decimal, Decimal] | None
    thumbnail: bytes


def photo_check(name: str, data: bytes) -> CheckedPhoto:
    """The photo checked and read: type, extension, (longitude, latitude) or None, thumbnail."""
    limit = settings.TAIZHANG_PHOTO_MAX_BYTES
    if len(data) > limit:
        raise _too_big(name, len(data), limit)
    try:
        # A decompression bomb (a PNG declaring 30000 × 30000 pixels) warns below
        # Image.MAX_IMAGE_PIXELS' double and raises above it: both are refusals here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                image.verify()  # reads the whole file: a truncated photo fails here
            with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable
                location = _exif_location(image)
            # Decoding the pixels is the last proof the photo is usable (verify() does not decode a JPEG).
            thumbnail = thumbnail_bytes(data)
    except Exception:  # noqa: BLE001 -- whatever a parser raises on a hostile file is a refusal, never a 500
        kind = None
    if kind not in FORMATS:
        raise PhotoError(_("“%(name)s” is not a usable JPEG, PNG or HEIC photo.") % {"name": name})
    content_type, extension = FORMATS[kind]
    return CheckedPhoto(name, data, content_type, extension, location, thumbnail)


def thumbnail_bytes(data: bytes) -> bytes:
    """A small JPEG of a photo, upright as it was taken, without the photo's EXIF (its location)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # a JPEG is decoded at a fraction of its size
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        if upright.mode in ("RGBA", "LA", "P"):  # transparency on white, not black
            upright = upright.convert("RGBA")
            upright = Image.alpha_composite(Image.new("RGBA", upright.size, "white"), upright)
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _exif_location(image) -> tuple[Decimal, Decimal] | None:
    """(longitude, latitude) from EXIF GPS tags (WGS-84 as cameras write it), if present."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
    except (AttributeError, KeyError, ValueError):
        return None
    if not all(tag in gps for tag in (1, 2, 3, 4)):
        return None
    try:
        latitude = _degrees(gps[2]) * (-1 if gps[1] in ("S", b"S") else 1)
        longitude = _degrees(gps[4]) * (-1 if gps[3] in ("W", b"W") else 1)
    except (TypeError, ZeroDivisionError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return longitude.quantize(Decimal("0.000001")), latitude.quantize(Decimal("0.000001"))


def _degrees(dms) -> Decimal:
    values = [float(x) for x in dms]
    if not all(map(math.isfinite, values)):
        # A rational of 0/0 or n/0: no camera writes it; the file was made to break readers.
        raise ValueError("GPS value not finite")
    d, m, s = (Decimal(str(v)) for v in values)
    return d + m / 60 + s / 3600


def photo_add(*, target, actor, name: str, data: bytes, verification=None, acceptance=None) -> Photo:
    """Check and store one photo of a target (optionally of its verification or acceptance)."""
    if not may(actor, target, Action.PHOTO_ADD):
        raise PhotoError(_("Your role may not add photos to this target."))
    return _photo_store(target=target, actor=actor, checked=photo_check(name, data), verification=verification,
                        acceptance=acceptance)


@atomic
def _photo_store(*, target, actor, checked: CheckedPhoto, verification=None, acceptance=None) -> Photo:
    if not may(actor, target, Action.PHOTO_ADD):
        raise PhotoError(_("Your role may not add photos to this target."))
    sha = hashlib.sha256(checked.data).hexdigest()
    location = checked.location
    photo = Photo(target=target, verification=verification, acceptance=acceptance,
                  content_type=checked.content_type, size=len(checked.data), sha256=sha, uploaded_by=actor,
                  taken_longitude=location[0] if location else None,
                  taken_latitude=location[1] if location else None)
    # Callers check every photo first (photo_check), so a bad photo is refused before
    # anything is written; a file left behind by a rolled-back transaction is only unused.
    photo.file.save("%s.%s" % (sha[:20], checked.extension), ContentFile(checked.data), save=False)
    photo.thumbnail.save("%s.jpg" % sha[:20], ContentFile(checked.thumbnail), save=False)
    photo.full_clean()
    photo.save()
    changelog_append(changes=[PHOTO.created(photo)], actor=actor, reason=_("photo added"))
    return photo


def thumbnails_fill(photos) -> tuple[int, list[str]]:
    """Make the thumbnails `photos` (a queryset of photos stored before thumbnails were made)
    lack; returns how many were made and the files that could not be read. A migration and the
    `photo_thumbnails` command call it."""
    made, failed = 0, []
    for photo in photos.filter(thumbnail="").iterator(chunk_size=100):
        try:
            with photo.file.open("rb") as original:
                thumbnail = thumbnail_bytes(original.read())
        except Exception:  # noqa: BLE001 -- a missing or broken file keeps its link; the rest go on
            failed.append(photo.file.name)
            continue
        photo.thumbnail.save("%s.jpg" % photo.sha256[:20], ContentFile(thumbnail), save=False)
        type(photo).objects.filter(pk=photo.pk).update(thumbnail=photo.thumbnail.name)
        made += 1
    return made, failed


def photos_checked(uploads) -> list[CheckedPhoto]:
    """(name, bytes) of uploaded photos, every one checked before the caller writes anything.

    The declared size is checked before a byte is read, and no more than the cap and
    one byte is ever read (a size can lie): a 1 GB upload waits on disk, not in memory.
    """
    limit = settings.TAIZHANG_PHOTO_MAX_BYTES
    photos = []
    for upload in uploads:
        if upload.size is None or upload.size > limit:
            raise _too_big(upload.name, upload.size or limit + 1, limit)
        photos.append(photo_check(upload.name, upload.read(limit + 1)))
    return photos


def _too_big(name, size, limit) -> PhotoError:
    return PhotoError(_("Photo “%(name)s” is %(size)s; the limit is %(limit)s.") % {
        "name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)})


def photos_attach(*, target, actor, photos: list[CheckedPhoto], **record) -> None:
    """Store checked photos (photos_checked) of a target, linked to its verification or acceptance (`record`)."""
    for checked in photos:
        _photo_store(target=target, actor=actor, checked=checked, **record)
