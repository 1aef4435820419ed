"""Petitions (信访): recording, handling and reply, the stability-risk flag that feeds priority, and the pages."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from taizhang.accounts.models import Membership
from taizhang.core.models import ChangeLogEntry
from taizhang.ledger.models import Target
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.models import Petition
from taizhang.remediation.petitions import petition_flag, petition_handle, petition_record

pytestmark = pytest.mark.usefixtures("english")


TODAY = datetime.date(2016, 6, 15)
D = datetime.date
RISK = "petition_risk"
RISK_REASON = "信访稳定风险"  # the preset's label of the petition rule


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Today is 2016-06-15 for every date check in these tests."""
    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, tz=None: TODAY if value is None else real(value, tz))


@pytest.fixture
def pete(units):
    """A member of the 信访维稳 working group."""
    user = get_user_model().objects.create_user("pete", password="x")
    Membership.objects.create(user=user, unit=units["G07"], role=Membership.Role.GROUP)
    return user


def _db():
    """Everything a refused write must leave alone."""
    return (list(Petition.objects.order_by("pk").values()), ChangeLogEntry.objects.count(),
            list(Target.objects.order_by("pk").values_list("flags", "priority_reasons", "version")))


def _record(target, actor, **kwargs):
    fields = {"petitioner": "赵六", "channel": "visit", "content": "院内群租，消防通道堵塞",
              "received_on": D(2016, 3, 1)}
    fields.update(kwargs)
    return petition_record(target=target, actor=actor, **fields)


def _flags(target):
    target.refresh_from_db()
    return target.flags, target.priority_reasons


# --- the stability-risk flag -------------------------------------------------------------

def test_a_risk_petition_sets_the_targets_flag_through_the_ledger_and_raises_priority(targets, personas):
    target = targets["GC-0003"]
    rank = target.priority_rank
    entries = ChangeLogEntry.objects.count()
    _record(target, personas["alice"], stability_risk=True)
    flags, reasons = _flags(target)
    assert flags == [RISK] and RISK_REASON in reasons and target.priority_rank == rank + 1
    logged = ChangeLogEntry.objects.filter(pk__gt=0).order_by("-pk")[:2]
    assert [e.object_type for e in logged] == ["ledger.target", "remediation.petition"]
    assert ChangeLogEntry.objects.count() == entries + 2


def test_a_petition_without_risk_leaves_the_target_alone(targets, personas):
    target = targets["GC-0003"]
    version = target.version
    _record(target, personas["alice"])
    target.refresh_from_db()
    assert (target.flags, target.version) == ([], version)


def test_flagging_and_unflagging_a_petition_sets_and_clears_the_flag(targets, personas):
    target = targets["GC-0003"]
    petition = _record(target, personas["carol"])
    petition_flag(petition=petition, actor=personas["carol"], stability_risk=True)
    assert _flags(target)[0] == [RISK]
    petition_flag(petition=petition, actor=personas["carol"], stability_risk=False)
    flags, reasons = _flags(target)
    assert flags == [] and RISK_REASON not in reasons


def test_the_flag_stays_until_the_last_risk_petition_is_closed(targets, personas):
    target = targets["GC-0003"]
    first = _record(target, personas["alice"], stability_risk=True)
    second = _record(target, personas["alice"], stability_risk=True, petitioner="钱七")
    petition_handle(petition=first, actor=personas["alice"], status="closed")
    assert _flags(target)[0] == [RISK]
    petition_handle(petition=second, actor=personas["alice"], status="replied", reply="已答复",
                    replied_on=D(2016, 3, 5))
    assert _flags(target)[0] == [RISK]  # replied is not closed
    petition_handle(petition=second, actor=personas["alice"], status="closed")
    assert _flags(target)[0] == []


def test_other_flags_of_the_target_are_kept(targets, personas):
    from taizhang.ledger.services import target_update

    target = target_update(target=targets["GC-0003"], actor=None, changes={"flags": ["safety_hazard"]})
    petition = _record(target, personas["alice"], stability_risk=True)
    assert _flags(target)[0] == [RISK, "safety_hazard"]
    petition_flag(petition=petition, actor=personas["alice"], stability_risk=False)
    assert _flags(target)[0] == ["safety_hazard"]


# --- handling and reply ------------------------------------------------------------------

def test_a_petition_is_handled_replied_and_closed(targets, personas, pete):
    petition = _record(targets["GC-0001"], pete, channel="phone")
    petition_handle(petition=petition, actor=pete, status="handling")
    petition_handle(petition=petition, actor=personas["alice"], status="replied", reply="已约谈出租方",
                    replied_on=D(2016, 3, 1))
    petition.refresh_from_db()
    assert (petition.status, petition.reply, petition.replied_on) == ("replied", "已约谈出租方", D(2016, 3, 1))
    petition_handle(petition=petition, actor=personas["carol"], status="closed")
    assert Petition.objects.get(pk=petition.pk).status == "closed"


@pytest.mark.parametrize(("kwargs", "field", "words"), [
    ({"status": "replied", "reply": "已答复", "replied_on": D(2016, 2, 29)}, "replied_on", "2016-03-01"),
    ({"status": "replied", "reply": "已答复", "replied_on": D(2016, 6, 16)}, "replied_on", "future"),
    ({"status": "replied", "reply": "已答复"}, "replied_on", "date"),
    ({"status": "replied", "reply": " ", "replied_on": D(2016, 3, 2)}, "reply", "text"),
    ({"status": "handling", "replied_on": D(2016, 3, 2)}, "reply", "text"),
    ({"status": "received"}, "status", "back"),
    ({"status": "lost"}, "status", "lost"),
])
def test_bad_handling_is_refused_naming_the_field(targets, personas, kwargs, field, words):
    petition = _record(targets["GC-0001"], personas["alice"], stability_risk=True)
    petition_handle(petition=petition, actor=personas["alice"], status="handling")
    before = _db()
    with pytest.raises(ValidationError) as exc:
        petition_handle(petition=petition, actor=personas["alice"], **kwargs)
    assert list(exc.value.message_dict) == [field] and words in exc.value.messages[0]
    assert str(Petition._meta.get_field(field).verbose_name) in exc.value.messages[0]
    assert _db() == before


def test_a_closed_petition_cannot_change(targets, personas):
    petition = _record(targets["GC-0001"], personas["alice"])
    petition_handle(petition=petition, actor=personas["alice"], status="closed")
    before = _db()
    with pytest.raises(ValidationError, match="closed"):
        petition_flag(petition=petition, actor=personas["alice"], stability_risk=True)
    with pytest.raises(ValidationError, match="closed"):
        petition_handle(petition=petition, actor=personas["alice"], status="closed")
    assert _db() == before


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"received_on": D(2016, 6, 16)}, "received_on"),
    ({"received_on": None}, "received_on"),
    ({"petitioner": ""}, "petitioner"),
    ({"content": "  "}, "content"),
    ({"channel": "pigeon"}, "channel"),
])
def test_a_bad_petition_is_refused_naming_the_field(targets, personas, kwargs, field):
    before = _db()
    with pytest.raises(ValidationError) as exc:
        _record(targets["GC-0001"], personas["alice"], stability_risk=True, **kwargs)
    assert list(exc.value.message_dict) == [field]
    assert str(Petition._meta.get_field(field).verbose_name) in exc.value.messages[0]
    assert _db() == before


# --- who may record ----------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["bob", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_only_street_office_and_the_petitions_group_record_and_handle(targets, personas, persona):
    petition = _record(targets["GC-0001"], personas["alice"])
    before = _db()
    with pytest.raises(RemediationError):
        _record(targets["GC-0001"], personas[persona], stability_risk=True)
    with pytest.raises(RemediationError):
        petition_handle(petition=petition, actor=personas[persona], status="closed")
    with pytest.raises(RemediationError):
        petition_flag(petition=petition, actor=personas[persona], stability_risk=True)
    assert _db() == before


def test_the_petitions_group_acts_across_the_campaign(targets, pete):
    _record(targets["LG-0002"], pete, stability_risk=True)
    assert _flags(targets["LG-0002"])[0] == [RISK]


# --- pages -------------------------------------------------------------------------------

def test_recording_a_risk_petition_through_the_page(client, targets, personas):
    target = targets["GC-0001"]
    client.force_login(personas["alice"])
    response = client.post("/work/targets/%d/petitions/" % target.pk, {
        "petitioner": "赵六", "channel": "letter", "received_on": "2016-03-01", "content": "噪音扰民",
        "stability_risk": "on"}, headers={"HX-Request": "true"})
    assert b"<html" not in response.content and b'id="petition-' in response.content
    assert _flags(target)[0] == [RISK]
    petition = Petition.objects.get()
    client.post("/work/petitions/%d/risk/" % petition.pk, {})
    assert Petition.objects.get().stability_risk is False and _flags(target)[0] == []
    client.post("/work/petitions/%d/handle/" % petition.pk,
                {"status": "replied", "reply": "已处理", "replied_on": "2016-03-04"})
    assert Petition.objects.get().status == "replied"


def test_a_refused_reply_through_the_page_says_which_field(client, targets, personas):
    petition = _record(targets["GC-0001"], personas["alice"])
    client.force_login(personas["alice"])
    before = _db()
    response = client.post("/work/petitions/%d/handle/" % petition.pk,
                           {"status": "replied", "reply": "已处理", "replied_on": "2016-02-01"}, follow=True)
    assert str(Petition._meta.get_field("replied_on").verbose_name) in response.content.decode()
    assert _db() == before


def test_the_petitioner_is_withheld_from_those_who_do_not_handle_petitions(client, targets, personas):
    _record(targets["GC-0001"], personas["alice"], petitioner="赵六")
    url = "/work/targets/%d/legal/" % targets["GC-0001"].pk
    client.force_login(personas["alice"])
    assert "赵六" in client.get(url).content.decode()
    client.force_login(personas["dan"])
    page = client.get(url).content.decode()
    assert "赵六" not in page and "院内群租" in page and "/handle/" not in page


def _urls(targets, personas):
    petition = _record(targets["GC-0001"], personas["alice"])
    return [("/work/targets/%d/petitions/" % targets["GC-0001"].pk,
             {"petitioner": "x", "channel": "visit", "received_on": "2016-03-01", "content": "x",
              "stability_risk": "on"}),
            ("/work/petitions/%d/handle/" % petition.pk, {"status": "closed"}),
            ("/work/petitions/%d/risk/" % petition.pk, {"stability_risk": "on"})]


def test_other_street_gets_404_on_every_petition_url_and_nothing_changes(client, targets, personas):
    urls = _urls(targets, personas)
    client.force_login(personas["bob"])
    before = _db()
    for url, data in urls:
        assert client.post(url, data).status_code == 404, url
    assert _db() == before


def test_anonymous_goes_to_login_on_every_petition_url(client, targets, personas):
    urls = _urls(targets, personas)
    before = _db()
    for url, data in urls:
        assert client.post(url, data)["Location"].startswith("/accounts/login/"), url
    assert _db() == before


@pytest.mark.parametrize("persona", ["dan", "erin", "gina"])
def test_a_role_that_sees_but_may_not_handle_is_refused_through_the_page(client, targets, personas, persona):
    urls = _urls(targets, personas)
    client.force_login(personas[persona])
    before = _db()
    for url, data in urls:
        assert client.post(url, data, follow=True).status_code == 200, url
    assert _db() == before
