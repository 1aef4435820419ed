"""Authorization, URL by URL: each persona sees its own targets and gets 404 elsewhere."""

import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from taizhang.ledger.models import ImportUpload


def _codes_in_export(response):
    data = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    return sorted(row[0] for row in rows[2:])


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


@pytest.mark.parametrize("url", [
    "/", "/ledger/", "/ledger/export.xlsx", "/ledger/reconcile/", "/ledger/import/", "/ledger/units/",
    "/ledger/street/GC/", "/ledger/street/GC/export.xlsx", "/ledger/targets/1/",
])
def test_anonymous_is_sent_to_login(client, targets, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# persona -> the codes it must see
VISIBLE = {
    "alice": ["GC-0001", "GC-0002", "GC-0003"],
    "bob": ["LG-0001", "LG-0002"],
    "carol": ["GC-0001", "GC-0002", "GC-0003", "LG-0001", "LG-0002"],
    "dan": ["GC-0001", "GC-0002"],
    "erin": ["GC-0001", "GC-0002", "GC-0003"],
    "lee": ["GC-0001", "GC-0002", "GC-0003", "LG-0001", "LG-0002"],
    "gina": ["GC-0001", "GC-0002", "GC-0003", "LG-0001", "LG-0002"],
    "jin": ["GC-0001", "GC-0002", "GC-0003", "LG-0001", "LG-0002"],
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_sees_exactly_its_targets_on_every_url(client, targets, personas, persona):
    user, visible = personas[persona], VISIBLE[persona]
    page = _get(client, user, "/ledger/")
    assert page.context["page"].paginator.count == len(visible)
    assert sorted(t.code for t in page.context["page"]) == visible
    assert _codes_in_export(_get(client, user, "/ledger/export.xlsx")) == visible
    assert _get(client, user, "/ledger/reconcile/").context["total"] == len(visible)
    for code, target in targets.items():
        expected = 200 if code in visible else 404
        assert _get(client, user, target.get_absolute_url()).status_code == expected, code


@pytest.mark.parametrize(("persona", "ledger", "status"), [
    ("alice", "street/GC", 200), ("alice", "street/LG", 404), ("alice", "system/JT", 404),
    ("alice", "unit/U-GC", 404), ("bob", "street/GC", 404), ("bob", "street/LG", 200),
    ("dan", "unit/U-GC", 200), ("dan", "unit/U-LG", 404), ("dan", "street/GC", 404),
    ("erin", "street/GC", 200), ("erin", "street/LG", 404),
    ("carol", "street/LG", 200), ("carol", "system/JT", 200), ("carol", "unit/U-LG", 200),
    ("lee", "system/SG", 200), ("carol", "street/NOPE", 404), ("carol", "planet/GC", 404),
])
def test_classified_ledgers_and_their_exports(client, targets, personas, persona, ledger, status):
    user = personas[persona]
    assert _get(client, user, "/ledger/%s/" % ledger).status_code == status
    assert _get(client, user, "/ledger/%s/export.xlsx" % ledger).status_code == status


def test_street_ledger_lists_only_that_street(client, targets, personas):
    response = _get(client, personas["carol"], "/ledger/street/LG/")
    assert sorted(t.code for t in response.context["page"]) == ["LG-0001", "LG-0002"]
    assert _codes_in_export(_get(client, personas["carol"], "/ledger/street/LG/export.xlsx")) == [
        "LG-0001", "LG-0002"]


def test_unit_ledger_shows_exactly_the_units_targets(client, targets, personas):
    response = _get(client, personas["dan"], "/ledger/unit/U-GC/")
    assert sorted(t.code for t in response.context["page"]) == ["GC-0001", "GC-0002"]


@pytest.mark.parametrize(("persona", "status"), [
    ("alice", 200), ("carol", 200), ("dan", 404), ("erin", 404), ("lee", 404), ("jin", 404), ("olive", 404),
])
def test_only_editors_may_import(client, targets, personas, persona, status):
    assert _get(client, personas[persona], "/ledger/import/").status_code == status


def test_an_upload_can_only_be_applied_by_its_uploader(client, targets, personas, campaign):
    upload = ImportUpload.objects.create(campaign=campaign, user=personas["alice"], filename="x.csv",
                                         data=b"x")
    client.force_login(personas["bob"])
    assert client.post(reverse("ledger:import_apply", args=[upload.pk])).status_code == 404


def test_user_without_a_role_sees_no_campaign(client, targets, personas):
    assert _get(client, personas["olive"], "/").status_code == 403
    assert _get(client, personas["olive"], "/ledger/").status_code == 404
    assert _get(client, personas["olive"], "/ledger/export.xlsx").status_code == 404


@pytest.mark.parametrize(("persona", "expected"), [
    ("carol", {"古城杨庄股份经济合作社": 2, "北京鲁谷物流有限公司": 1}),
    ("alice", {}),
    ("dan", {"古城杨庄股份经济合作社": 2}),
])
def test_unit_index_lists_the_units_a_user_may_open(client, targets, personas, persona, expected):
    response = _get(client, personas[persona], "/ledger/units/")
    assert {u.name: u.n for u in response.context["units"]} == expected
