"""Remediation pages, URL by URL: the work page, steps, verification and confirmation."""

import pytest

from taizhang.ledger.models import Target
from taizhang.remediation.models import Verification
from taizhang.remediation.verification import verification_record


def test_street_user_verifies_on_the_phone_form_and_both_confirm(client, targets, personas):
    target = targets["GC-0001"]
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/verify/" % target.pk, {
        "land_rights": "collective", "land_rights_holder": "古城杨庄股份经济合作社", "rented_floor_area": "900",
        "resident_population": "88", "business_count": "8", "hazards": "", "longitude": "", "latitude": "",
        "notes": "", "tenants-TOTAL_FORMS": "3", "tenants-INITIAL_FORMS": "0",
        "tenants-0-name": "李四", "tenants-0-kind": "business", "tenants-0-people": "3",
        # the empty rows as a browser posts them, with their defaults
        "tenants-1-kind": "person", "tenants-1-people": "0", "tenants-2-kind": "person", "tenants-2-people": "0",
    })
    assert response.status_code == 302
    verification = Verification.objects.get()
    assert [t.name for t in verification.tenants.all()] == ["李四"]
    client.post("/work/verifications/%d/confirm/" % verification.pk)
    client.force_login(personas["dan"])
    client.post("/work/verifications/%d/confirm/" % verification.pk)
    client.force_login(personas["alice"])
    client.post("/work/targets/%d/step/" % target.pk, {"to": "verified", "comment": "ok"})
    target.refresh_from_db()
    assert (target.state, target.resident_population) == ("verified", 88)
    page = client.get("/work/targets/%d/" % target.pk)
    assert page.status_code == 200 and b'id="timeline"' in page.content


def test_refused_step_shows_the_missing_condition(client, targets, personas):
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/step/" % targets["GC-0001"].pk, {"to": "verified"}, follow=True)
    assert "核查" in response.content.decode()
    assert Target.objects.get(pk=targets["GC-0001"].pk).state == "registered"


@pytest.mark.parametrize("url", ["/work/targets/%d/", "/work/targets/%d/verify/"])
def test_other_street_gets_404_on_remediation_pages(client, targets, personas, url):
    client.force_login(personas["bob"])
    assert client.get(url % targets["GC-0001"].pk).status_code == 404


def test_other_street_gets_404_on_step_and_confirm(client, targets, personas):
    verification = verification_record(target=targets["GC-0001"], actor=personas["alice"], facts={})
    client.force_login(personas["bob"])
    assert client.post("/work/targets/%d/step/" % targets["GC-0001"].pk, {"to": "verified"}).status_code == 404
    assert client.post("/work/verifications/%d/confirm/" % verification.pk).status_code == 404
    verification.refresh_from_db()
    assert verification.street_confirmed_at is None


@pytest.mark.parametrize("url", ["/work/targets/1/", "/work/targets/1/verify/"])
def test_anonymous_goes_to_login(client, targets, url):
    assert client.get(url)["Location"].startswith("/accounts/login/")
