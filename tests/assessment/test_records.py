"""Performance records (实绩档案): who may open whose, what each holds, the Excel copy, and the
HQ office's commendations."""

import datetime
import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from taizhang.accounts.models import Membership
from taizhang.assessment.models import Commendation
from taizhang.assessment.records import RecordError, commendation_record
from taizhang.core.models import ChangeLogEntry
from taizhang.supervision.models import Order
from taizhang.supervision.orders import accountability_record, order_answer, order_refer, order_step
from tests.supervision.conftest import TODAY, issue

pytestmark = pytest.mark.usefixtures("english")
State = Order.State


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def history(today, personas, units, targets):
    """古城: one order done on time by Alice, one done late, one overdue and referred (约谈 for
    Alice); a commendation for her; 鲁谷 one order done on time by Bob."""
    alice, carol, bob = personas["alice"], personas["carol"], personas["bob"]
    on_time, late, overdue = (issue(carol, units, deadline=TODAY + datetime.timedelta(days=d)) for d in (5, 2, 3))
    lg = issue(carol, units, receiver="LG", deadline=TODAY + datetime.timedelta(days=5))
    for order, user in ((on_time, alice), (late, alice), (overdue, alice), (lg, bob)):
        order_step(actor=user, order=order, to=State.SIGNED)
    for order, user in ((on_time, alice), (lg, bob)):
        order_answer(actor=user, order=order, text="完成", done=True)
        order_step(actor=carol, order=order, to=State.DONE)
    today.set(TODAY + datetime.timedelta(days=4))
    order_answer(actor=alice, order=late, text="完成", done=True)
    order_step(actor=carol, order=late, to=State.DONE)
    referral = order_refer(actor=carol, order=overdue, reason="逾期")
    accountability_record(actor=personas["jin"], referral=referral, person=alice, unit=units["GC"], outcome="约谈",
                          reason="推进迟缓")
    commendation_record(actor=carol, campaign=units["GC"].campaign, person=alice, unit=units["GC"], text="带头腾退",
                        order=on_time)
    return {"on_time": on_time, "late": late, "overdue": overdue, "lg": lg}


def _record(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_a_person_sees_their_own_record(client, history, personas):
    response = _record(client, personas["alice"], reverse("assessment:person", args=[personas["alice"].pk]))
    record = response.context["record"]
    assert [c.text for c in record.commendations] == ["带头腾退"]
    assert [a.outcome for a in record.outcomes] == ["约谈"]
    assert {o.number: o.timeliness for o in record.orders} == {
        history["on_time"].number: "on_time", history["late"].number: "late", history["overdue"].number: "overdue"}
    assert (record.on_time, record.late) == (1, 2)
    assert "1 commendations · 1 accountability outcomes · 1 orders done on time · 2 late or overdue" in \
        response.content.decode()


@pytest.mark.parametrize(("viewer", "whose", "status"), [
    ("alice", "bob", 404), ("bob", "alice", 404), ("dan", "alice", 404), ("gina", "alice", 404),
    ("lee", "alice", 200), ("jin", "alice", 200), ("carol", "alice", 200), ("erin", "alice", 404),
])
def test_another_persons_record_is_theirs_the_heads_and_the_overseers(client, history, personas, viewer, whose,
                                                                        status):
    url = reverse("assessment:person", args=[personas[whose].pk])
    assert _record(client, personas[viewer], url).status_code == status
    assert _record(client, personas[viewer], url + "?format=xlsx").status_code == status


def test_a_units_head_sees_the_unit_and_its_people(client, history, personas, units):
    alice, erin = personas["alice"], personas["erin"]
    unit_url = reverse("assessment:unit", args=[units["GC"].pk])
    assert _record(client, erin, unit_url).status_code == 404
    Membership.objects.filter(user=erin).update(is_head=True)  # the liaison leader made 古城's head
    erin = erin.__class__.objects.get(pk=erin.pk)
    response = _record(client, erin, unit_url)
    assert response.status_code == 200
    assert sorted(o.number for o in response.context["record"].orders) == sorted(
        history[k].number for k in ("on_time", "late", "overdue"))
    assert _record(client, erin, reverse("assessment:person", args=[alice.pk])).status_code == 200
    assert _record(client, erin, reverse("assessment:person", args=[personas["bob"].pk])).status_code == 404
    assert _record(client, erin, reverse("assessment:unit", args=[units["LG"].pk])).status_code == 404
    index = _record(client, erin, reverse("assessment:records")).context
    assert list(index["units"]) == [units["GC"]] and personas["bob"] not in index["people"]


def test_the_record_downloads_as_the_rows_the_page_shows(client, history, personas):
    response = _record(client, personas["jin"],
                       reverse("assessment:person", args=[personas["alice"].pk]) + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    orders = book.get_sheet_by_name("Supervision orders").to_python()
    assert sorted(row[0] for row in orders[2:]) == sorted(history[k].number for k in ("on_time", "late", "overdue"))
    assert book.get_sheet_by_name("Accountability").to_python()[2][3] == "约谈"
    assert book.get_sheet_by_name("Commendations").to_python()[2][3] == "带头腾退"


def test_only_the_hq_office_records_commendations(client, history, personas, units):
    before = (Commendation.objects.count(), ChangeLogEntry.objects.count())
    with pytest.raises(RecordError, match="Only the HQ office"):
        commendation_record(actor=personas["lee"], campaign=units["GC"].campaign, person=personas["alice"],
                            unit=units["GC"], text="好")
    with pytest.raises(RecordError, match="For what: this field is required"):
        commendation_record(actor=personas["carol"], campaign=units["GC"].campaign, person=personas["alice"],
                            unit=units["GC"], text=" ")
    client.force_login(personas["jin"])
    response = client.post(reverse("assessment:commend", args=[personas["alice"].pk]),
                           {"unit": units["GC"].pk, "text": "好"}, follow=True)
    assert "Only the HQ office records commendations." in response.content.decode()
    assert (Commendation.objects.count(), ChangeLogEntry.objects.count()) == before
    client.force_login(personas["carol"])
    response = client.post(reverse("assessment:commend", args=[personas["alice"].pk]),
                           {"unit": units["GC"].pk, "text": "主动作为"}, follow=True)
    assert "Commendation recorded." in response.content.decode()
    assert Commendation.objects.count() == before[0] + 1


def test_the_office_names_a_units_head_on_the_account_page(client, personas, units):
    client.force_login(personas["carol"])
    client.post(reverse("accounts:user_membership_add", args=[personas["olive"].pk]),
                {"unit": units["GC"].pk, "role": "street", "is_head": "on"})
    membership = Membership.objects.get(user=personas["olive"])
    assert membership.is_head is True
    entry = ChangeLogEntry.objects.filter(object_type="accounts.membership").latest("id")
    assert entry.after["is_head"] is True
