"""Correcting a target by hand (修改对象信息): who may, the import's checks, the change log,
and a change meanwhile named without losing what was typed."""

import pytest
from django.urls import reverse

from taizhang.campaigns.models import OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.forms import target_initial
from taizhang.ledger.models import Target
from tests.conftest import ledger_state

pytestmark = pytest.mark.usefixtures("english")


def _post(client, user, target, **changes):
    client.force_login(user)
    data = {name: value for name, value in target_initial(target).items() if value is not None and value is not False}
    data.pop("flags", None)
    data.update(changes)
    return client.post(reverse("ledger:target_edit", args=[target.pk]), data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize(("persona", "status"), [
    ("carol", 200), ("alice", 200),  # the HQ office; the target's street
    ("bob", 404), ("olive", 404),  # another street; no role: not visible
    ("dan", 403), ("erin", 403), ("lee", 403), ("gina", 403), ("jin", 403),  # see it, may not correct it
])
def test_who_may_open_the_form(client, targets, personas, persona, status):
    client.force_login(personas[persona])
    url = reverse("ledger:target_edit", args=[targets["GC-0001"].pk])
    assert client.get(url).status_code == status
    before = ledger_state()
    response = _post(client, personas[persona], targets["GC-0001"], name="改过的名字")
    assert response.status_code == (302 if status == 200 else status)
    assert (ledger_state() == before) is (status != 200)


def test_the_target_page_offers_the_form_to_those_who_may(client, targets, personas):
    url = reverse("ledger:target", args=[targets["GC-0001"].pk])
    client.force_login(personas["alice"])
    assert b'id="edit-link"' in client.get(url).content
    client.force_login(personas["dan"])
    assert b'id="edit-link"' not in client.get(url).content


def test_a_correction_is_checked_as_an_import_and_logged(client, targets, personas):
    target = targets["GC-0001"]
    response = _post(client, personas["carol"], target, rented_floor_area="约1,500㎡", resident_population="300人左右",
                     street="古城街道", registered_on="2015年12月1日", reason="核查更正")
    assert response.status_code == 302
    target.refresh_from_db()
    assert (str(target.rented_floor_area), target.resident_population, target.registered_on.isoformat()) == (
        "1500.00", 300, "2015-12-01")
    assert target.version == 2
    entry = ChangeLogEntry.objects.filter(object_type="ledger.target", object_id=str(target.pk)).latest("id")
    assert (entry.action, entry.actor_name, entry.reason) == ("update", "carol", "核查更正")
    assert entry.before["rented_floor_area"] == "800.00" and entry.after["rented_floor_area"] == "1500.00"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "This field is required."),
    ("name", "杨庄\x01东大院", "U+0001"),
    ("community", "院" * 101, "Longer than 100 characters."),
    ("land_area", "-5", "negative"),
    ("longitude", "200", "out of range"),
    ("resident_population", "12.5", "not a whole number"),
    ("registered_on", "2016-02-30", "not a valid date"),
    ("system", "不存在的系统", "Unknown"),
])
def test_bad_input_names_the_field_and_changes_nothing(client, targets, personas, field, value, message):
    before = ledger_state()
    response = _post(client, personas["carol"], targets["GC-0001"], **{field: value})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in errors[field][0]
    assert ledger_state() == before


def test_a_change_meanwhile_is_named_and_what_was_typed_stays(client, targets, personas):
    target = targets["GC-0001"]
    Target.objects.filter(pk=target.pk).update(version=5)  # someone saved meanwhile
    response = _post(client, personas["carol"], target, name="我刚输入的名字")
    assert response.status_code == 409
    assert "Someone else changed this target meanwhile" in response.content.decode()
    assert response.context["form"]["name"].value() == "我刚输入的名字"
    assert Target.objects.get(pk=target.pk).name == target.name


def test_a_new_responsible_unit_is_made_and_logged_as_an_import_makes_it(client, targets, personas):
    target = targets["GC-0001"]
    assert _post(client, personas["carol"], target, responsible_unit="杨庄新成立的合作社").status_code == 302
    unit = OrgUnit.objects.get(name="杨庄新成立的合作社")
    assert (unit.kind, unit.parent) == (OrgUnit.Kind.RIGHTS_UNIT, target.system)
    assert Target.objects.get(pk=target.pk).responsible_unit == unit
    assert ChangeLogEntry.objects.filter(object_type="campaigns.orgunit", object_id=str(unit.pk)).exists()


def test_nothing_changed_writes_nothing(client, targets, personas):
    before = ledger_state()
    assert _post(client, personas["carol"], targets["GC-0001"]).status_code == 302
    assert ledger_state() == before
