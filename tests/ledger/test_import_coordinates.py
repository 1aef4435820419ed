"""Coordinates in an import and in the correction form: the 坐标系 column, the page's default
system, and points outside the district or with longitude and latitude swapped, each named by
row, column and value with nothing changed (checking.location_problem, the one check)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from taizhang.ledger.forms import target_initial
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_update
from tests.conftest import HEADER, gc_row, ledger_state, make_xlsx

pytestmark = pytest.mark.usefixtures("english")

PLACED = [*HEADER, "经度", "纬度", "坐标系"]


def _row(code="GC-0101", longitude=116.2, latitude=39.9, system=None, **cells):
    return [*gc_row(code, **cells), longitude, latitude, system]


def _sheet(*rows, header=PLACED):
    return make_xlsx(list(rows), header=header)


def _prepare(campaign, user, data, **kwargs):
    return import_prepare(campaign=campaign, user=user, data=data, filename="台账.xlsx", **kwargs)


@pytest.mark.parametrize(("written", "stored"), [
    ("WGS84", "wgs84"), ("WGS-84", "wgs84"), ("GPS", "wgs84"), ("天地图", "wgs84"),
    ("GCJ02", "gcj02"), ("GCJ-02", "gcj02"), ("高德", "gcj02"), ("火星坐标", "gcj02"),
    ("BD09", "bd09"), ("百度", "bd09"), ("百度坐标系", "bd09"),
])
def test_the_coordinate_system_column_reads_the_names_offices_write(targets, personas, campaign, written, stored):
    target_import(campaign=campaign, user=personas["alice"], data=_sheet(_row(system=written)), filename="x.xlsx")
    target = Target.objects.get(code="GC-0101")
    assert (target.longitude, target.latitude, target.coordinate_system) == (
        Decimal("116.200000"), Decimal("39.900000"), stored)


def test_an_unknown_system_is_named_with_its_row_and_column(targets, personas, campaign):
    before = ledger_state()
    report = _prepare(campaign, personas["alice"], _sheet(_row(), _row("GC-0102", system="北京54")))
    [problem] = report.problems
    assert (problem.row, problem.column, problem.value) == (4, "Coordinate system", "北京54")
    assert "Unknown coordinate system “北京54”" in problem.message
    assert ledger_state() == before


def test_rows_that_do_not_say_take_the_system_the_page_gives(targets, personas, campaign):
    data = _sheet(_row("GC-0101"), _row("GC-0102", system="WGS84"), _row("GC-0103", longitude=None, latitude=None),
                  header=PLACED)
    target_import(campaign=campaign, user=personas["alice"], data=data, filename="x.xlsx", coordinate_system="gcj02")
    systems = dict(Target.objects.filter(code__startswith="GC-01").values_list("code", "coordinate_system"))
    # Without coordinates, nothing to say: the ledger's default.
    assert systems == {"GC-0101": "gcj02", "GC-0102": "wgs84", "GC-0103": "wgs84"}


def test_coordinates_unchanged_keep_their_system_whatever_the_page_says(targets, personas, campaign):
    target = targets["GC-0001"]
    target_update(target=target, actor=None, changes={"longitude": Decimal("116.2"), "latitude": Decimal("39.9"),
                                                       "coordinate_system": "bd09"})
    row = [*gc_row("GC-0001", 名称="GC-0001大院", 居住人口=120, 占地面积=1200, 登记日期="2015-11-20",
                   类型="低端产业聚集人群大院", 所属系统="集体经济系统"), 116.2, 39.9]
    report = _prepare(campaign, personas["carol"], make_xlsx([row], header=[*HEADER, "经度", "纬度"]),
                      coordinate_system="wgs84")
    assert report.ok and not report.changed and report.unchanged == 1


@pytest.mark.parametrize(("longitude", "latitude", "column", "value"), [
    (117.5, 39.9, "Longitude", "117.500000"),  # east of the district
    (116.2, 31.2, "Latitude", "31.200000"),  # Shanghai's latitude
    (121.5, 31.2, "Longitude / Latitude", "121.500000, 31.200000"),
])
def test_a_point_outside_the_district_is_named_and_nothing_changes(targets, personas, campaign, longitude, latitude,
                                                                 column, value):
    before = ledger_state()
    data = _sheet(_row("GC-0101"), _row("GC-0102", longitude=longitude, latitude=latitude))
    report = _prepare(campaign, personas["alice"], data)
    [problem] = report.problems
    assert (problem.row, problem.column, problem.value) == (4, column, value)
    assert "lies outside the district" in problem.message and "116.0–116.35" in problem.message
    with pytest.raises(ImportRejected):
        target_import(campaign=campaign, user=personas["alice"], data=data, filename="x.xlsx")
    assert ledger_state() == before


def test_swapped_longitude_and_latitude_are_named_as_such(targets, personas, campaign):
    before = ledger_state()
    report = _prepare(campaign, personas["alice"], _sheet(_row("GC-0101", longitude=39.91, latitude=116.2)))
    [problem] = report.problems
    assert (problem.row, problem.column, problem.value) == (3, "Longitude / Latitude", "39.910000, 116.200000")
    assert problem.message.startswith("Longitude and latitude are swapped")
    assert ledger_state() == before


def test_a_point_is_checked_in_the_system_it_is_given_in(targets, personas, campaign):
    """The district's box is WGS-84: a 百度 point 1 km east of its edge is inside it once converted."""
    east_edge_bd09 = _row("GC-0101", longitude=116.3605, latitude=39.9, system="百度")
    assert _prepare(campaign, personas["alice"], _sheet(east_edge_bd09)).ok
    same_numbers_as_gps = _row("GC-0101", longitude=116.3605, latitude=39.9, system="GPS")
    assert not _prepare(campaign, personas["alice"], _sheet(same_numbers_as_gps)).ok


def test_a_row_moving_one_coordinate_is_checked_with_the_other_as_stored(targets, personas, campaign):
    target_update(target=targets["GC-0001"], actor=None, changes={"longitude": Decimal("116.2"),
                                                                   "latitude": Decimal("39.9")})
    header = ["编号", "名称", "类型", "所属街道", "所属系统", "经度"]
    row = ["GC-0001", "GC-0001大院", "大院", "古城", "集体", 117.5]
    [problem] = _prepare(campaign, personas["carol"], make_xlsx([row], header=header)).problems
    assert (problem.column, problem.value) == ("Longitude", "117.500000")
    assert problem.message.startswith("117.500000, 39.900000 lies outside the district")


def test_the_import_page_keeps_the_system_until_the_file_is_applied(client, targets, personas):
    client.force_login(personas["alice"])
    page = client.get("/ledger/import/").content.decode()
    assert 'name="coordinate_system"' in page and "BD-09" in page
    data = _sheet(_row("GC-0101"), header=PLACED[:-1])
    response = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", data),
                                               "coordinate_system": "bd09"}, headers={"HX-Request": "true"})
    upload = response.context["upload"]
    assert upload.coordinate_system == "bd09"
    client.post("/ledger/import/%s/apply/" % upload.pk, headers={"HX-Request": "true"})
    assert Target.objects.get(code="GC-0101").coordinate_system == "bd09"


def test_the_import_page_refuses_a_system_it_does_not_offer(client, targets, personas):
    client.force_login(personas["alice"])
    before = ledger_state()
    response = client.post("/ledger/import/", {"file": SimpleUploadedFile("台账.xlsx", _sheet(_row())),
                                               "coordinate_system": "utm50"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "utm50 is not one of the available choices" in response.content.decode()
    assert ledger_state() == before


def test_the_command_takes_the_system_too(targets, personas, campaign, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_sheet(_row("GC-0101"), header=PLACED[:-1]))
    call_command("import_ledger", str(path), coordinate_system="gcj02", verbosity=0)
    assert Target.objects.get(code="GC-0101").coordinate_system == "gcj02"
    path.write_bytes(_sheet(_row("GC-0102", longitude=39.9, latitude=116.2)))
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), verbosity=0)
    assert not Target.objects.filter(code="GC-0102").exists()


def test_an_export_names_the_system_and_imports_back_unchanged(client, targets, personas, campaign):
    target_update(target=targets["GC-0001"], actor=None, changes={"longitude": Decimal("116.2"),
                                                                   "latitude": Decimal("39.9"),
                                                                   "coordinate_system": "gcj02"})
    client.force_login(personas["carol"])
    data = b"".join(client.get("/ledger/street/GC/export.xlsx").streaming_content)
    assert b"GCJ-02" in data or "GCJ-02" in _cells(data)
    report = _prepare(campaign, personas["carol"], data)
    assert report.ok and not report.changed and not report.new


def _cells(data: bytes) -> str:
    import io

    from python_calamine import CalamineWorkbook

    return str(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python())


def _edit(client, user, target, **changes):
    client.force_login(user)
    data = {name: value for name, value in target_initial(target).items() if value is not None and value is not False}
    data.pop("flags", None)
    data.update(changes)
    return client.post(reverse("ledger:target_edit", args=[target.pk]), data, HTTP_ACCEPT_LANGUAGE="en")


def test_the_form_refuses_a_point_outside_the_district_on_its_field(client, targets, personas):
    before = ledger_state()
    response = _edit(client, personas["carol"], targets["GC-0001"], longitude="117.5", latitude="39.9")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["longitude"] and "lies outside the district" in errors["longitude"][0]
    assert ledger_state() == before


def test_the_form_names_swapped_coordinates_on_both_fields(client, targets, personas):
    before = ledger_state()
    response = _edit(client, personas["carol"], targets["GC-0001"], longitude="39.9", latitude="116.2")
    errors = response.context["form"].errors
    assert sorted(errors) == ["latitude", "longitude"]
    assert errors["latitude"][0].startswith("Longitude and latitude are swapped")
    assert ledger_state() == before


def test_the_form_reads_a_typed_system_as_an_import_does(client, targets, personas):
    target = targets["GC-0001"]
    response = _edit(client, personas["carol"], target, longitude="116.2", latitude="39.9", coordinate_system="百度")
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.coordinate_system == "bd09"
    assert 'value="gcj02"' in client.get(reverse("ledger:target_edit", args=[target.pk])).content.decode()


def test_a_point_stored_outside_does_not_stop_other_corrections(client, targets, personas):
    """Only a point that moves is checked: a target stored before the district's box narrowed
    (or before the check existed) still has its name corrected."""
    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(longitude=Decimal("117.5"), latitude=Decimal("39.9"))
    target.refresh_from_db()
    assert _edit(client, personas["carol"], target, name="新名称").status_code == 302


def test_a_service_refuses_a_point_outside_the_district(targets):
    target = targets["GC-0001"]
    with pytest.raises(ValidationError) as refused:
        target_update(target=target, actor=None, changes={"longitude": Decimal("39.9"), "latitude": Decimal("116.2")})
    assert set(refused.value.message_dict) == {"longitude", "latitude"}
    assert Target.objects.get(pk=target.pk).version == target.version


def test_a_verification_on_site_is_held_to_the_district_too(targets, personas):
    """A point read on site (a phone's GPS: WGS-84) corrects the ledger once both sides confirm;
    one outside the district, or swapped, is refused when it is recorded."""
    from taizhang.remediation.checks import RemediationError
    from taizhang.remediation.models import Verification
    from taizhang.remediation.verification import verification_confirm, verification_record

    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(coordinate_system="bd09")
    with pytest.raises(RemediationError, match="swapped"):
        verification_record(target=target, actor=personas["alice"],
                            facts={"longitude": Decimal("39.9"), "latitude": Decimal("116.2")})
    assert not Verification.objects.exists()
    verification = verification_record(target=target, actor=personas["alice"],
                                       facts={"longitude": Decimal("116.2"), "latitude": Decimal("39.9")})
    verification_confirm(verification=verification, actor=personas["alice"])
    verification_confirm(verification=verification, actor=personas["dan"])
    target.refresh_from_db()
    assert (target.longitude, target.latitude, target.coordinate_system) == (
        Decimal("116.200000"), Decimal("39.900000"), "wgs84")
