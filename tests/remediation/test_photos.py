"""Photos: checked by content, capped, located from EXIF, served only within scope."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from taizhang.remediation.models import Photo, Verification
from taizhang.remediation.photos import PhotoError, photo_add


def _image(kind="JPEG", gps=None, size=(64, 48)):
    image, exif = Image.new("RGB", size, "green"), Image.Exif()
    if gps:
        exif.get_ifd(0x8825).update(gps)
    out = io.BytesIO()
    image.save(out, kind, **({"exif": exif} if kind == "JPEG" else {}))
    return out.getvalue()


BEIJING = {1: "N", 2: (39.0, 54.0, 36.0), 3: "E", 4: (116.0, 12.0, 0.0)}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_jpeg_with_gps_is_stored_with_its_location(targets, personas):
    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="现场.jpg",
                      data=_image(gps=BEIJING))
    assert (photo.content_type, photo.taken_latitude, photo.taken_longitude) == (
        "image/jpeg", Decimal("39.910000"), Decimal("116.200000"))
    assert photo.file.read()[:2] == b"\xff\xd8"


@pytest.mark.parametrize("kind", ["PNG", "HEIF"])
def test_png_and_heic_are_accepted(targets, personas, kind):
    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="x", data=_image(kind))
    assert photo.taken_latitude is None and photo.content_type in ("image/png", "image/heic")


@pytest.mark.parametrize(("name", "data"), [
    ("合同.jpg", "这不是照片".encode()),
    ("cut.jpg", _image()[:300]),
    ("empty.png", b""),
])
def test_what_is_not_a_photo_is_refused_by_content(targets, personas, name, data):
    with pytest.raises(PhotoError, match=name.split(".")[0]):
        photo_add(target=targets["GC-0001"], actor=personas["alice"], name=name, data=data)
    assert Photo.objects.count() == 0


def test_a_photo_over_the_cap_is_refused(targets, personas, settings):
    settings.TAIZHANG_PHOTO_MAX_BYTES = 500
    with pytest.raises(PhotoError, match="big.jpg"):
        photo_add(target=targets["GC-0001"], actor=personas["alice"], name="big.jpg", data=_image(size=(400, 400)))
    assert Photo.objects.count() == 0


def test_a_bad_photo_on_the_verification_form_saves_nothing(client, targets, personas):
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/verify/" % targets["GC-0001"].pk, {
        "resident_population": "50", "tenants-TOTAL_FORMS": "0", "tenants-INITIAL_FORMS": "0",
        "photos": [SimpleUploadedFile("ok.jpg", _image()), SimpleUploadedFile("bad.jpg", b"not an image")],
    })
    assert response.status_code == 200 and "bad.jpg" in response.content.decode()
    assert (Verification.objects.count(), Photo.objects.count()) == (0, 0)


def test_photos_are_served_only_within_scope(client, targets, personas):
    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="a.jpg", data=_image())
    url = "/work/photos/%d/" % photo.pk
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(personas["bob"])
    assert client.get(url).status_code == 404
    client.force_login(personas["dan"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_roles_without_work_on_the_target_cannot_add_photos(targets, personas):
    for name in ("bob", "erin", "lee"):
        with pytest.raises(PhotoError):
            photo_add(target=targets["GC-0001"], actor=personas[name], name="a.jpg", data=_image())
    assert Photo.objects.count() == 0


def test_acceptance_takes_photos_and_a_bad_one_records_nothing(client, targets, personas):
    from taizhang.ledger.models import Target
    from taizhang.remediation.models import Acceptance

    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(state="completion_reported")
    client.force_login(personas["carol"])
    url = "/work/targets/%d/acceptance/" % target.pk
    form = {"decision": "passed", "tenants_cleared": "on", "site_cleaned": "on", "land_returned": "on",
            "structures_demolished": "on", "demolished_area": "300"}
    client.post(url, {**form, "photos": [SimpleUploadedFile("bad.png", b"nope")]})
    assert (Acceptance.objects.count(), Photo.objects.count()) == (0, 0)
    assert Target.objects.get(pk=target.pk).state == "completion_reported"
    client.post(url, {**form, "photos": [SimpleUploadedFile("site.jpg", _image(gps=BEIJING))]})
    acceptance = Acceptance.objects.get()
    assert [p.acceptance_id for p in Photo.objects.all()] == [acceptance.pk]
    assert Target.objects.get(pk=target.pk).state == "closed"
