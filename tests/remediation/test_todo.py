"""My to-do list (我的待办): each line for the user who may act on it, and for no one else; its
page, its count in the header, the home page per role and the list of petitions.

One world holds a line of every kind in 古城 (GC) and in 鲁谷 (LG). Each persona's list is
compared with exactly what waits for it: street staff see their own street's lines only,
the rights unit its own targets', the HQ office what only it may do, the legal group the
court's work, discipline inspection what is overdue everywhere; the leader and the liaison
leader act on nothing. Today is Wednesday 2016-06-15: the week ends on Sunday 2016-06-19.
"""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import Liaison
from taizhang.campaigns.presets import preset_load
from taizhang.ledger.demo import demo_load, demo_users
from taizhang.ledger.models import Target
from taizhang.remediation.acceptance import acceptance_record
from taizhang.remediation.legal import lease_answer, lease_expose, lease_notice, lease_record, legal_step_open
from taizhang.remediation.models import Inspection, Verification
from taizhang.remediation.petitions import petition_handle, petition_record
from taizhang.remediation.plans import plan_approve, plan_create, plan_new_version, plan_submit
from taizhang.remediation.todo import KINDS, todo_count, todo_sections
from taizhang.remediation.verification import verification_confirm, verification_record
from taizhang.remediation.workflow import target_step
from tests.conftest import PASSWORD, PRESET, make_target

pytestmark = pytest.mark.usefixtures("english")

S = Target.State
TODAY = datetime.date(2016, 6, 15)
D = datetime.date


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, tz=None: TODAY if value is None else real(value, tz))


def _put(target, state):
    """Arrange a state directly: how a target got there belongs to the workflow's tests."""
    Target.objects.filter(pk=target.pk).update(state=state)
    target.refresh_from_db()


def _plan(target, actor, steps):
    return plan_create(target=target, actor=actor, planned_on=D(2016, 5, 1), means=["persuasion"], steps=steps)


def _refused_lease(target, actor, lessee):
    lease = lease_record(target=target, actor=actor, lessee=lessee)
    lease_notice(lease=lease, actor=actor, sent_on=D(2016, 1, 5))
    lease_answer(lease=lease, actor=actor, answer="refused", answered_on=D(2016, 1, 20))
    return lease


@pytest.fixture
def world(units, targets, personas):
    """A line of every kind; returns the extra targets by code."""
    alice, bob, carol, gina = personas["alice"], personas["bob"], personas["carol"], personas["gina"]
    more = {code: make_target(units, code, street, system) for code, street, system in (
        ("GC-0004", "GC", "SG"), ("LG-0003", "LG", "ZF"))}
    # Plans waiting for approval: GC-0001 v1, and LG-0002 v2 beside its approved v1.
    plan_submit(plan=_plan(targets["GC-0001"], alice, [{"description": "约谈产权人"}]), actor=alice)
    # LG-0002 carries out its approved v1: a step overdue, one due this week (the legal group's), one later.
    approved = _plan(targets["LG-0002"], bob, [
        {"description": "约谈产权人", "due_on": D(2016, 6, 1)},
        {"description": "起诉", "due_on": D(2016, 6, 17), "owner": units["G08"]},
        {"description": "拆除", "due_on": D(2016, 7, 30)}])
    plan_approve(plan=approved, actor=carol)
    _put(targets["LG-0002"], S.IN_REMEDIATION)
    plan_submit(plan=plan_new_version(target=targets["LG-0002"], actor=bob), actor=bob)
    # A completion waiting for acceptance.
    _put(targets["GC-0002"], S.IN_REMEDIATION)
    target_step(target=targets["GC-0002"], to=S.COMPLETION_REPORTED, actor=alice)
    # A verification neither side has confirmed (GC-0001: 古城, Dan's unit).
    verification_record(target=targets["GC-0001"], actor=alice, facts={"resident_population": 130})
    # GC-0003: one refused lease with no judicial step yet; another whose first step is overdue.
    lease_expose(lease=_refused_lease(targets["GC-0003"], alice, "张三"), actor=alice, exposed_on=D(2016, 2, 1))
    legal_step_open(lease=_refused_lease(targets["GC-0003"], alice, "李四"), actor=gina, stage="research",
                    due_on=D(2016, 6, 10))
    # LG-0001 closed: one re-inspection overdue, one due this week, the rest later.
    _put(targets["LG-0001"], S.IN_REMEDIATION)
    target_step(target=targets["LG-0001"], to=S.COMPLETION_REPORTED, actor=bob)
    acceptance_record(target=targets["LG-0001"], actor=carol, decision="passed")
    visits = list(Inspection.objects.filter(target=targets["LG-0001"]).order_by("due_on"))
    Inspection.objects.filter(pk=visits[0].pk).update(due_on=D(2016, 6, 10))
    Inspection.objects.filter(pk=visits[1].pk).update(due_on=D(2016, 6, 19))
    # Holds: GC-0004 reviewed today, LG-0003 past its review date.
    target_step(target=more["GC-0004"], to=S.ON_HOLD, actor=carol, hold_reason="产权诉讼中",
                hold_review_on=D(2016, 6, 15))
    target_step(target=more["LG-0003"], to=S.ON_HOLD, actor=carol, hold_reason="待规划调整",
                hold_review_on=D(2016, 6, 1))
    # Petitions: GC-0001's open 75 days (over the preset's 60); GC-0002's 14 days; LG-0002's old one closed.
    petition_record(target=targets["GC-0001"], actor=alice, petitioner="王五", channel="visit",
                    content="噪音扰民", received_on=D(2016, 4, 1))
    petition_record(target=targets["GC-0002"], actor=alice, petitioner="赵六", channel="letter",
                    content="垃圾", received_on=D(2016, 6, 1))
    closed = petition_record(target=targets["LG-0002"], actor=bob, petitioner="钱七", channel="phone",
                             content="占道", received_on=D(2016, 3, 1))
    petition_handle(petition=closed, actor=bob, status="closed")
    return more


# persona -> {kind: [target codes, one per line]}
EXPECTED = {
    "alice": {"verifications": ["GC-0001"], "leases": ["GC-0003"], "judicial_steps": ["GC-0003"],
              "petitions": ["GC-0001"]},
    "bob": {"plan_steps": ["LG-0002", "LG-0002"], "inspections": ["LG-0001", "LG-0001"]},
    "carol": {"plans": ["GC-0001", "LG-0002"], "acceptances": ["GC-0002"], "verifications": ["GC-0001"],
              "leases": ["GC-0003"], "judicial_steps": ["GC-0003"], "inspections": ["LG-0001", "LG-0001"],
              "holds": ["LG-0003", "GC-0004"], "petitions": ["GC-0001"]},
    "dan": {"verifications": ["GC-0001"]},
    "erin": {},
    "lee": {},
    "gina": {"leases": ["GC-0003"], "judicial_steps": ["GC-0003"], "plan_steps": ["LG-0002"]},
    "jin": {"plan_steps": ["LG-0002"], "judicial_steps": ["GC-0003"], "inspections": ["LG-0001"],
            "holds": ["LG-0003"], "petitions": ["GC-0001"]},
    "olive": {},
}


def _lines(user, campaign):
    return {s.kind.code: [line.target.code for line in s.lines] for s in todo_sections(user, campaign, TODAY)}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_line_waits_for_exactly_the_users_who_may_act_on_it(campaign, world, personas, persona):
    assert _lines(personas[persona], campaign) == EXPECTED[persona]


def test_a_street_never_sees_another_streets_lines(campaign, world, personas):
    for persona, street in (("alice", "GC-"), ("bob", "LG-")):
        codes = [code for codes in _lines(personas[persona], campaign).values() for code in codes]
        assert codes and all(code.startswith(street) for code in codes), persona


def test_due_lines_say_overdue_or_due_and_link_to_the_place_to_act(campaign, world, targets, personas):
    sections = {s.kind.code: s.lines for s in todo_sections(personas["bob"], campaign, TODAY)}
    steps = sections["plan_steps"]
    assert [(line.day, line.overdue) for line in steps] == [(D(2016, 6, 1), True), (D(2016, 6, 17), False)]
    assert steps[0].url == "/work/targets/%d/plans/#plan-v1" % targets["LG-0002"].pk
    assert "约谈产权人" in steps[0].text and "起诉" in steps[1].text and "政策法规组" in steps[1].text
    assert [line.url for line in sections["inspections"]] == [
        "/work/targets/%d/acceptance/#inspection-form" % targets["LG-0001"].pk] * 2
    carol = {s.kind.code: s.lines for s in todo_sections(personas["carol"], campaign, TODAY)}
    petition = carol["petitions"][0]
    # Due the day it passed the 60 days, so overdue since then; the petitioner is not named.
    assert (petition.day, petition.overdue) == (D(2016, 5, 31), True) and "王五" not in petition.text
    assert re.fullmatch(r"/work/targets/\d+/legal/#petition-\d+", petition.url)
    assert carol["acceptances"][0].url == "/work/targets/%d/acceptance/#acceptance-form" % targets["GC-0002"].pk
    assert carol["holds"][1].url == "/work/targets/%d/#state" % world["GC-0004"].pk


def test_a_verification_leaves_each_side_once_it_has_confirmed(campaign, world, targets, personas):
    verification = Verification.objects.get(target=targets["GC-0001"])
    verification_confirm(verification=verification, actor=personas["dan"])
    assert "verifications" not in _lines(personas["dan"], campaign)
    assert _lines(personas["alice"], campaign)["verifications"] == ["GC-0001"]
    verification_confirm(verification=verification, actor=personas["alice"])
    for persona in ("alice", "carol", "dan"):
        assert "verifications" not in _lines(personas[persona], campaign), persona


def test_a_verification_superseded_by_a_confirmed_one_waits_no_more(campaign, world, targets, personas):
    newer = verification_record(target=targets["GC-0001"], actor=personas["alice"], facts={})
    assert _lines(personas["alice"], campaign)["verifications"] == ["GC-0001", "GC-0001"]
    verification_confirm(verification=newer, actor=personas["alice"])
    verification_confirm(verification=newer, actor=personas["dan"])
    assert "verifications" not in _lines(personas["alice"], campaign)


def test_work_done_leaves_the_list(campaign, world, targets, personas):
    carol = personas["carol"]
    target_step(target=world["LG-0003"], to=S.REGISTERED, actor=carol)
    for plan in targets["GC-0001"].plans.all():
        plan_approve(plan=plan, actor=carol)
    lines = _lines(carol, campaign)
    assert lines["holds"] == ["GC-0004"] and lines["plans"] == ["LG-0002"]
    assert "holds" not in _lines(personas["jin"], campaign)


def test_the_petitions_limit_is_the_presets(campaign, world, targets, personas):
    petition_record(target=targets["GC-0003"], actor=personas["alice"], petitioner="孙八", channel="online",
                    content="扬尘", received_on=D(2016, 5, 1))
    assert _lines(personas["alice"], campaign)["petitions"] == ["GC-0001"]
    campaign.rules["petitions"] = {"open_limit_days": 30}
    campaign.save(update_fields=["rules"])
    assert _lines(personas["alice"], campaign)["petitions"] == ["GC-0001", "GC-0003"]


def test_the_count_is_the_number_of_lines(campaign, world, personas):
    for name, user in personas.items():
        expected = sum(len(codes) for codes in EXPECTED[name].values())
        assert todo_count(user, campaign, TODAY) == expected, name


def test_every_kind_is_on_someones_list(campaign, world, personas):
    seen = {kind for user in personas.values() for kind in _lines(user, campaign)}
    assert seen == {kind.code for kind in KINDS}


def test_a_deactivated_user_has_nothing_waiting(campaign, world, personas):
    carol = personas["carol"]
    carol.is_active = False
    assert _lines(carol, campaign) == {} and todo_count(carol, campaign, TODAY) == 0


# --- the pages ----------------------------------------------------------------------------------

PAGES = ["/", "/work/todo/", "/work/petitions/"]
COUNT = "/work/todo/count/"


def _get(client, user, url):
    """The page as `user` reads it in English (the source text these tests assert)."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(url)


def _header_count(client, user) -> int:
    """The number the header shows (none when nothing waits)."""
    found = re.search(r'<mark class="todo-count">(\d+)</mark>', _get(client, user, COUNT).content.decode())
    return int(found.group(1)) if found else 0


def _page_lines(client, user) -> int:
    return _get(client, user, "/work/todo/").content.decode().count('<li class="todo-line')


# --- who may open what (the authorization matrix of these pages) -----------------------------

@pytest.mark.parametrize("url", [*PAGES, COUNT])
def test_anonymous_is_sent_to_login(client, targets, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_every_role_opens_the_pages_and_a_user_without_a_role_is_told_so(client, targets, personas, persona, url):
    assert _get(client, personas[persona], url).status_code == (403 if persona == "olive" else 200)


def test_a_user_without_a_role_has_an_empty_count(client, world, personas):
    response = _get(client, personas["olive"], COUNT)
    assert response.status_code == 200 and _header_count(client, personas["olive"]) == 0


@pytest.mark.parametrize("url", [*PAGES, COUNT])
def test_the_pages_refuse_posts(client, targets, personas, url):
    client.force_login(personas["carol"])
    assert client.post(url).status_code == 405


# --- the header's count ------------------------------------------------------------------------

def test_every_page_header_links_the_list_and_asks_for_its_count(client, targets, personas):
    html = _get(client, personas["alice"], "/ledger/").content.decode()
    assert 'href="/work/todo/" id="todo-link"' in html and 'hx-get="/work/todo/count/"' in html


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_the_header_count_equals_the_pages_lines(client, world, personas, persona):
    expected = sum(len(codes) for codes in EXPECTED[persona].values())
    assert _header_count(client, personas[persona]) == expected
    if persona != "olive":
        assert _page_lines(client, personas[persona]) == expected


def test_the_page_says_when_nothing_waits(client, world, personas):
    html = _get(client, personas["lee"], "/work/todo/").content.decode()
    assert 'id="todo-empty"' in html and "todo-line" not in html


def test_a_street_sees_none_of_another_streets_lines_on_the_page(client, world, personas):
    alice = _get(client, personas["alice"], "/work/todo/").content.decode()
    bob = _get(client, personas["bob"], "/work/todo/").content.decode()
    assert "GC-0003" in alice and "LG-" not in alice
    assert "LG-0002" in bob and "GC-" not in bob


# --- queries ------------------------------------------------------------------------------------

def _more(targets, units, personas):
    """More lines of several kinds for the HQ office."""
    alice = personas["alice"]
    for n in range(5, 9):
        target = make_target(units, "GC-%04d" % n, "GC", "JT", "U-GC")
        plan_submit(plan=plan_create(target=target, actor=alice, planned_on=TODAY, means=["persuasion"],
                                     steps=[{"description": "约谈"}]), actor=alice)
        petition_record(target=target, actor=alice, petitioner="周九", channel="visit", content="扰民",
                        received_on=TODAY.replace(month=1))


# session, user, memberships, campaigns, then one query per kind of line (9 for the HQ office; a kind
# none of the user's roles acts on costs none), the header's unread notifications
TODO_QUERIES = 14
# session, user, campaigns, memberships, then one UNION of every kind
COUNT_QUERIES = 5
# session, user, memberships, campaigns; each kind of line counted (9, 5 for discipline inspection, the
# plan steps' owners for the liaison); the figures; the 5 overdue kinds; the milestone; the ledgers'
# units; the liaison's pairs, or discipline inspection's petitions; the header's unread notifications
HOME_QUERIES = {"carol": 22, "jin": 19, "erin": 15}


def test_the_list_and_its_count_run_a_fixed_number_of_queries(client, world, targets, units, personas,
                                                               django_assert_num_queries):
    carol = personas["carol"]
    client.force_login(carol)
    with django_assert_num_queries(TODO_QUERIES):
        client.get("/work/todo/")
    with django_assert_num_queries(COUNT_QUERIES):
        client.get(COUNT)
    _more(targets, units, personas)
    with django_assert_num_queries(TODO_QUERIES):
        lines = client.get("/work/todo/").content.decode().count('<li class="todo-line')
    assert lines == sum(len(codes) for codes in EXPECTED["carol"].values()) + 8
    with django_assert_num_queries(COUNT_QUERIES):
        client.get(COUNT)


@pytest.mark.parametrize("persona", sorted(HOME_QUERIES))
def test_the_home_page_runs_a_fixed_number_of_queries(client, world, targets, units, personas, persona,
                                                      django_assert_num_queries):
    client.force_login(personas[persona])
    with django_assert_num_queries(HOME_QUERIES[persona]):
        client.get("/")
    _more(targets, units, personas)
    with django_assert_num_queries(HOME_QUERIES[persona]):
        client.get("/")


# --- the home page, per role ---------------------------------------------------------------------

def _home(client, user) -> str:
    return _get(client, user, "/").content.decode()


def test_street_staff_see_their_lines_and_their_streets_figures(client, world, personas):
    html = _home(client, personas["alice"])
    assert "<h2>古城街道</h2>" in html and "Open the ledger (4 targets)" in html
    assert 'href="/work/todo/#todo-verifications"' in html and "todo-plans" not in html
    assert 'id="home-petitions"' not in html


def test_the_leader_sees_the_whole_campaign_and_nothing_to_do(client, world, personas):
    html = _home(client, personas["lee"])
    assert "The whole campaign" in html and "Open the ledger (7 targets)" in html
    assert "Nothing waits for you." in html
    assert '<li data-kind="inspections">Re-inspections overdue <strong class="bad">1</strong>' in html
    # One closed of seven, against the pledge of 30 % by 2016-06-30.
    assert "Closed (销账): 14%." in html and "Milestone 2016-06-30: 完成台账任务的30%，力争完成50%." in html
    assert '<span class="bad">Behind: 30% required.</span>' in html


def test_the_liaison_leader_sees_the_street_he_is_paired_with_named_with_its_figures(client, world, personas):
    html = _home(client, personas["erin"])
    assert re.search(r'id="liaison-street">The street you follow: <a href="/ledger/street/GC/">古城街道</a>', html)
    assert "联系古城街道的区领导" in html and "Open the ledger (4 targets)" in html
    assert "鲁谷" not in html.split('id="home-links"')[0]


def test_discipline_inspection_gets_the_petitions_and_the_overdue_items(client, world, personas):
    html = _home(client, personas["jin"])
    assert 'id="home-petitions"' in html and "Open: 2, of which stability risks: 0, open too long: 1." in html
    for kind in ("plan_steps", "judicial_steps", "inspections", "holds", "petitions"):
        assert 'href="/work/todo/#todo-%s"' % kind in html


# --- liaison pairs: the membership is the pairing ------------------------------------------------

def test_the_liaison_membership_alone_pairs_a_leader_with_a_street(client, world, units, personas, campaign):
    luke = get_user_model().objects.create_user("luke", password=PASSWORD)
    Membership.objects.create(user=luke, unit=units["LG"], role=Membership.Role.LIAISON)
    html = _home(client, luke)
    assert "The street you follow: <a href=\"/ledger/street/LG/\">鲁谷街道</a>" in html
    assert "联系鲁谷街道的区领导" in html and "Open the ledger (3 targets)" in html
    # The preset's pairs grant nothing: without them Erin still follows 古城, and a pair naming
    # 鲁谷 gives her nothing there.
    Liaison.objects.all().delete()
    Liaison.objects.create(campaign=campaign, leader="联系古城街道的区领导", street=units["LG"])
    html = _home(client, personas["erin"])
    assert 'href="/ledger/street/GC/">古城街道</a>' in html and "Open the ledger (4 targets)" in html
    assert "鲁谷" not in html.split('id="home-links"')[0]
    assert _get(client, personas["erin"], "/ledger/street/LG/").status_code == 404


def test_loading_the_preset_neither_makes_nor_removes_liaison_memberships(campaign, personas):
    before = list(Membership.objects.order_by("pk").values_list("user__username", "unit__code", "role"))
    preset_load(text=PRESET.read_text(encoding="utf-8"))
    assert list(Membership.objects.order_by("pk").values_list("user__username", "unit__code", "role")) == before
    assert campaign.liaisons.count() == 9


# --- the list of petitions -----------------------------------------------------------------------

def _rows(html):
    return re.findall(r'<a href="/work/targets/\d+/legal/#petition-\d+">([A-Z]+-\d+)</a>', html)


@pytest.mark.parametrize(("persona", "codes", "names"), [
    ("alice", ["GC-0001", "GC-0002"], True), ("bob", [], True), ("carol", ["GC-0001", "GC-0002"], True),
    ("dan", ["GC-0001", "GC-0002"], False), ("erin", ["GC-0001", "GC-0002"], False),
    ("jin", ["GC-0001", "GC-0002"], False), ("gina", ["GC-0001", "GC-0002"], False),
])
def test_the_petitions_list_is_scoped_and_names_petitioners_only_to_those_who_handle_them(
        client, world, personas, persona, codes, names):
    html = _get(client, personas[persona], "/work/petitions/").content.decode()
    assert _rows(html) == codes
    if codes:
        assert ("王五" in html) is names and ("petitioner withheld" in html) is not names


def test_the_petitions_list_shows_the_closed_ones_on_asking(client, world, personas):
    assert _rows(_get(client, personas["bob"], "/work/petitions/?all=1").content.decode()) == ["LG-0002"]
    assert _rows(_get(client, personas["carol"], "/work/petitions/?all=1").content.decode()) == [
        "LG-0002", "GC-0001", "GC-0002"]


def test_the_petitions_list_runs_a_fixed_number_of_queries(client, world, targets, units, personas,
                                                           django_assert_num_queries):
    client.force_login(personas["jin"])
    # session, user, campaigns, memberships, count, the page with targets and streets, the header's unread notifications
    with django_assert_num_queries(7):
        client.get("/work/petitions/")
    _more(targets, units, personas)
    with django_assert_num_queries(7):
        assert len(_rows(client.get("/work/petitions/").content.decode())) == 6


# --- the demo accounts, one per role -------------------------------------------------------------

def test_each_demo_account_gets_its_home_and_its_list(client, campaign):
    demo_load(campaign=campaign, total=60)
    demo_users(campaign)
    users = {u.username: u for u in get_user_model().objects.all()}
    pages = {name: _home(client, users[name]) for name in users}
    for name in users:
        assert _get(client, users[name], "/work/todo/").status_code == 200, name
    street = Membership.objects.get(user__username="liaison").unit
    assert street == Membership.objects.get(user__username="street").unit
    assert 'The street you follow: <a href="/ledger/street/%s/">%s</a>' % (street.code, street.name) in pages["liaison"]
    assert "<h2>%s</h2>" % street.name in pages["street"]
    assert all('id="home-petitions"' in pages[n] for n in ("discipline",))
    assert not any('id="home-petitions"' in pages[n] for n in users if n != "discipline")
    assert all("The whole campaign" in pages[n] for n in ("leader", "office", "group", "discipline"))
