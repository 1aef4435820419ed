"""Photos: checked by content, capped, located from EXIF, served only within scope."""

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
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
    assert response.status_code == 400 and "bad.jpg" in response.content.decode()
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


def _png_declaring(width, height):
    """A small PNG whose header declares width × height pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def _nan_gps_jpeg():
    """A JPEG whose GPS latitude degrees are the rational 0/0 (NaN when read)."""
    import struct

    data = _image(gps={1: "N", 2: (39.0, 54.0, 36.0), 3: "E", 4: (116.0, 12.0, 0.0)})
    for order in "<>":
        data = data.replace(struct.pack(order + "LL", 39, 1), struct.pack(order + "LL", 0, 0))
    return data


HOSTILE = [
    ("bomb.png", _png_declaring(30000, 30000)),
    ("warned.png", _png_declaring(12000, 12000)),  # over MAX_IMAGE_PIXELS, under its double: a warning
    ("nan-gps.jpg", _nan_gps_jpeg()),
    ("cut.heic", _image("HEIF")[:200]),
    ("junk.heic", b"\x00\x00\x00\x18ftypheic" + bytes(100)),
]


@pytest.mark.parametrize(("name", "data"), HOSTILE, ids=[n for n, _d in HOSTILE])
def test_hostile_photos_are_refused_at_the_service(targets, personas, name, data):
    with pytest.raises(PhotoError, match=name):
        photo_add(target=targets["GC-0001"], actor=personas["alice"], name=name, data=data)
    assert Photo.objects.count() == 0


VERIFY = {"resident_population": "50", "tenants-TOTAL_FORMS": "0", "tenants-INITIAL_FORMS": "0"}


@pytest.mark.parametrize(("name", "data"), HOSTILE, ids=[n for n, _d in HOSTILE])
def test_hostile_photos_on_the_verification_form_give_400_and_store_nothing(client, targets, personas, name, data):
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/verify/" % targets["GC-0001"].pk,
                           {**VERIFY, "photos": [SimpleUploadedFile(name, data)]})
    assert response.status_code == 400 and name in response.content.decode()
    assert (Verification.objects.count(), Photo.objects.count()) == (0, 0)


@pytest.mark.parametrize(("name", "data"), [HOSTILE[0], HOSTILE[2], HOSTILE[4]],
                         ids=["bomb.png", "nan-gps.jpg", "junk.heic"])
def test_hostile_photos_on_the_acceptance_form_give_400_and_record_nothing(client, targets, personas, name, data):
    from taizhang.ledger.models import Target
    from taizhang.remediation.models import Acceptance

    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(state="completion_reported")
    client.force_login(personas["carol"])
    response = client.post("/work/targets/%d/acceptance/" % target.pk, {
        "decision": "passed", "tenants_cleared": "on", "site_cleaned": "on", "land_returned": "on",
        "structures_demolished": "on", "demolished_area": "300", "photos": [SimpleUploadedFile(name, data)]})
    assert response.status_code == 400 and name in response.content.decode()
    assert (Acceptance.objects.count(), Photo.objects.count()) == (0, 0)
    assert Target.objects.get(pk=target.pk).state == "completion_reported"


def test_a_photo_over_the_cap_is_refused_by_its_declared_size_unread(targets, personas, settings):
    from taizhang.remediation.photos import photos_checked

    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read before the size check")

    settings.TAIZHANG_PHOTO_MAX_BYTES = 1000
    upload = Unreadable("huge.jpg", b"x")
    upload.size = 10**9
    with pytest.raises(PhotoError, match="huge.jpg"):
        photos_checked([upload])


def test_no_more_than_the_cap_is_read_even_if_the_declared_size_lies(settings):
    from taizhang.remediation.photos import photos_checked

    settings.TAIZHANG_PHOTO_MAX_BYTES = 1000
    upload = SimpleUploadedFile("liar.jpg", _image(size=(400, 400)))
    upload.size = 10
    with pytest.raises(PhotoError, match="liar.jpg"):
        photos_checked([upload])
    assert upload.tell() == 1001


# Thumbnails: made once on upload, the original kept; the pages that list photos send only them.

def _size(data):
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


def test_a_photo_gets_a_small_jpeg_thumbnail_and_keeps_its_original(targets, personas):
    original = _image(gps=BEIJING, size=(3000, 2000))
    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="现场.jpg", data=original)
    assert photo.file.read() == original
    thumbnail = photo.thumbnail.read()
    assert _size(thumbnail) == ("JPEG", (360, 240)) and len(thumbnail) < 20_000
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert not image.getexif().get_ifd(0x8825)  # the location stays in the original only


def test_a_heic_photos_thumbnail_is_a_jpeg_and_a_turned_photo_stands_upright(targets, personas):
    heic = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="x.heic", data=_image("HEIF"))
    assert heic.content_type == "image/heic" and _size(heic.thumbnail.read()) == ("JPEG", (64, 48))
    image, exif, out = Image.new("RGB", (400, 200), "green"), Image.Exif(), io.BytesIO()
    exif[0x0112] = 6  # taken with the phone turned: shown rotated by 90°
    image.save(out, "JPEG", exif=exif)
    turned = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="turned.jpg", data=out.getvalue())
    assert _size(turned.thumbnail.read()) == ("JPEG", (180, 360))


def test_the_pages_that_list_photos_send_thumbnails_and_link_the_originals(client, targets, personas):
    from taizhang.ledger.models import Target
    from taizhang.remediation.acceptance import acceptance_record
    from taizhang.remediation.verification import verification_record

    target = targets["GC-0001"]
    verification = verification_record(target=target, actor=personas["alice"], facts={})
    photo_add(target=target, actor=personas["alice"], name="a.heic", data=_image("HEIF"), verification=verification)
    photo_add(target=target, actor=personas["alice"], name="b.jpg", data=_image(), verification=verification)
    Target.objects.filter(pk=target.pk).update(state="completion_reported")
    acceptance = acceptance_record(target=Target.objects.get(pk=target.pk), actor=personas["carol"], decision="passed",
                                   tenants_cleared=True, site_cleaned=True, land_returned=True,
                                   structures_demolished=True, demolished_area=300)
    photo_add(target=target, actor=personas["carol"], name="c.png", data=_image("PNG"), acceptance=acceptance)
    client.force_login(personas["alice"])
    for url, count in (("/work/targets/%d/" % target.pk, 2), ("/work/targets/%d/acceptance/" % target.pk, 1)):
        html = client.get(url).content.decode()
        images = re.findall(r'<img src="([^"]+)"', html)
        assert len(images) == count and all(re.fullmatch(r"/work/photos/\d+/thumbnail/", src) for src in images)
        assert len(re.findall(r'<a href="/work/photos/\d+/" class="photo">', html)) == count
    for photo in Photo.objects.all():
        response = client.get("/work/photos/%d/thumbnail/" % photo.pk)
        assert response["Content-Type"] == "image/jpeg"
        assert _size(b"".join(response.streaming_content))[0] == "JPEG"


def test_thumbnails_are_served_only_within_scope(client, targets, personas):
    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="a.jpg", data=_image())
    url = "/work/photos/%d/thumbnail/" % photo.pk
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(personas["bob"])
    assert client.get(url).status_code == 404
    client.force_login(personas["dan"])
    assert client.get(url).status_code == 200


def test_photos_stored_before_thumbnails_get_theirs_and_an_unreadable_one_is_named(targets, personas):
    kept = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="a.jpg", data=_image(size=(800, 600)))
    lost = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="b.png", data=_image("PNG"))
    Photo.objects.update(thumbnail="")
    lost_name = lost.file.name
    lost.file.delete(save=False)
    errors = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("photo_thumbnails", stdout=io.StringIO(), stderr=errors)
    kept.refresh_from_db()
    assert _size(kept.thumbnail.read()) == ("JPEG", (360, 270))
    assert Photo.objects.get(pk=lost.pk).thumbnail == "" and lost_name in errors.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrating_gives_the_photos_stored_before_their_thumbnails(targets, personas):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    photo = photo_add(target=targets["GC-0001"], actor=personas["alice"], name="a.jpg", data=_image(size=(720, 480)))
    executor = MigrationExecutor(connection)
    executor.migrate([("remediation", "0003_entry_targets")])  # before photos had thumbnails
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    photo = Photo.objects.get(pk=photo.pk)
    assert photo.thumbnail.name.startswith("photos/thumbnails/")
    assert _size(photo.thumbnail.read()) == ("JPEG", (360, 240))
