"""The policy library (政策库) of one compound, one policy: who keeps it, search, citations, pages."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from taizhang.campaigns.presets import preset_load
from taizhang.core.models import ChangeLogEntry
from taizhang.remediation.checks import RemediationError
from taizhang.remediation.demo import DEMO_POLICIES
from taizhang.remediation.models import Policy
from taizhang.remediation.plans import policies_search, policy_citations, policy_create, policy_update
from tests.conftest import PRESET
from tests.remediation.test_plans import _login, _plan, _policy

# The library

@pytest.mark.parametrize("name", ["carol", "gina"])
def test_the_office_and_working_groups_keep_the_library(campaign, personas, name):
    policy = policy_create(campaign=campaign, actor=personas[name], title="北京市城乡规划条例",
                           issuer="北京市人民代表大会常务委员会", tags="城乡规划， 违法建设、北京 北京")
    assert policy.tags == "城乡规划,违法建设,北京"
    policy = policy_update(policy=policy, actor=personas[name], changes={"number": "  第1号 "})
    assert Policy.objects.get(pk=policy.pk).number == "第1号"
    assert ChangeLogEntry.objects.filter(object_type="remediation.policy", object_id=str(policy.pk)).count() == 2


@pytest.mark.parametrize("name", ["alice", "bob", "dan", "erin", "lee", "jin", "olive"])
def test_other_roles_may_not_write_the_library(campaign, personas, name):
    policy = _policy(campaign)
    count = ChangeLogEntry.objects.count()
    with pytest.raises(RemediationError):
        policy_create(campaign=campaign, actor=personas[name], title="x")
    with pytest.raises(RemediationError):
        policy_update(policy=policy, actor=personas[name], changes={"title": "y"})
    assert (Policy.objects.count(), Policy.objects.get().title, ChangeLogEntry.objects.count()) == (
        1, "中华人民共和国合同法", count)


def test_a_policy_without_a_title_is_refused(campaign, personas):
    policy = _policy(campaign)
    count = ChangeLogEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        policy_create(campaign=campaign, actor=personas["carol"], title="  ")
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError):
        policy_update(policy=policy, actor=personas["carol"], changes={"title": ""})
    with pytest.raises(ValidationError):
        policy_update(policy=policy, actor=personas["carol"], changes={"campaign": None})
    assert (Policy.objects.get().title, ChangeLogEntry.objects.count()) == ("中华人民共和国合同法", count)


def test_search_reads_title_issuer_number_tags_and_text_and_tags_match_whole(campaign):
    contract = _policy(campaign, issuer="全国人民代表大会", number="主席令第十五号", tags="租赁合同,合同",
                       text="租赁合同的解除")
    planning = _policy(campaign, title="中华人民共和国城乡规划法", issuer="全国人民代表大会常务委员会",
                       tags="违法建设", text="规划许可")
    licence = _policy(campaign, title="无照经营查处取缔办法", issuer="国务院", tags="租赁合同补充")

    def found(**kw):
        return set(policies_search(campaign, **kw))
    assert found(q="城乡规划") == {planning}
    assert found(q="国务院") == {licence}
    assert found(q="第十五号") == {contract}
    assert found(q="违法建设") == {planning}
    assert found(q="规划许可") == {planning}
    assert found(q="全国人民代表大会") == {contract, planning}
    assert found(tag="合同") == {contract}
    assert found(tag="租赁合同") == {contract}
    assert found(q="国务院", tag="违法建设") == set()


def test_citations_are_limited_to_targets_the_reader_sees(campaign, targets, personas):
    law = _policy(campaign)
    for code, actor in (("GC-0001", "alice"), ("LG-0001", "bob")):
        _plan(targets[code], personas[actor], steps=[{"description": "解除租赁合同", "policies": [law.pk]}])

    def seen(name):
        return {s.plan.target.code for s in policy_citations(personas[name], law)}
    assert seen("alice") == {"GC-0001"}
    assert seen("bob") == {"LG-0001"}
    assert seen("carol") == seen("gina") == {"GC-0001", "LG-0001"}
    assert seen("olive") == set()



# Pages

def test_everyone_in_the_campaign_reads_the_library(client, campaign, targets, personas):
    law = _policy(campaign, tags="合同,租赁合同", text="租赁合同的解除")
    _plan(targets["LG-0001"], personas["bob"], steps=[{"description": "鲁谷：解除租赁合同", "policies": [law.pk]}])
    _plan(targets["GC-0001"], personas["alice"], steps=[{"description": "古城：解除租赁合同", "policies": [law.pk]}])
    _login(client, personas, "dan")
    listing = client.get("/work/policies/", {"q": "合同", "tag": "租赁合同"})
    assert listing.status_code == 200 and law.title in listing.content.decode()
    assert b"add-policy" not in listing.content
    partial = client.get("/work/policies/", {"q": "城乡"}, headers={"HX-Request": "true"})
    assert b"<html" not in partial.content and law.title.encode() not in partial.content
    detail = client.get("/work/policies/%d/" % law.pk).content.decode()
    assert "古城：解除租赁合同" in detail and "鲁谷：解除租赁合同" not in detail
    assert client.get("/work/policies/new/").status_code == 403
    assert client.get("/work/policies/%d/edit/" % law.pk).status_code == 403


def test_the_policy_group_adds_and_edits_a_policy_on_the_page(client, campaign, personas):
    _login(client, personas, "gina")
    response = client.post("/work/policies/new/", {"title": "无照经营查处取缔办法", "issuer": "国务院",
                                                    "number": "国务院令第370号", "issued_on": "2003-01-06",
                                                    "tags": "无照经营，废品回收", "text": "概要"})
    policy = Policy.objects.get()
    assert response["Location"] == "/work/policies/%d/" % policy.pk
    assert (policy.campaign, policy.tags, policy.issued_on) == (campaign, "无照经营,废品回收",
                                                                 datetime.date(2003, 1, 6))
    form = client.get("/work/policies/%d/edit/" % policy.pk).content.decode()
    assert "无照经营, 废品回收" in form
    client.post("/work/policies/%d/edit/" % policy.pk, {"title": "", "tags": ""})
    assert Policy.objects.get().title == "无照经营查处取缔办法"
    client.post("/work/policies/%d/edit/" % policy.pk, {"title": "无照经营查处取缔办法（2003）", "tags": "无照经营"})
    assert Policy.objects.get().title == "无照经营查处取缔办法（2003）"


def test_the_library_list_query_count_is_pinned(client, campaign, personas, django_assert_num_queries):
    for i in range(3):
        _policy(campaign, title="规定%d" % i, tags="a%d,b" % i)
    _login(client, personas, "alice")
    client.get("/work/policies/")
    with django_assert_num_queries(7):  # 7 with the header's unread notifications
        client.get("/work/policies/")


POLICY_PAGES = ["/work/policies/", "/work/policies/new/", "/work/policies/{p}/", "/work/policies/{p}/edit/"]


@pytest.mark.parametrize("url", POLICY_PAGES)
def test_anonymous_goes_to_login_on_every_policy_url(client, campaign, url):
    law = _policy(campaign)
    response = client.get(url.format(p=law.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", POLICY_PAGES)
def test_a_user_outside_the_campaign_gets_404_on_every_policy_url(client, campaign, personas, url):
    law = _policy(campaign)
    assert _login(client, personas, "olive").get(url.format(p=law.pk)).status_code == 404


def test_a_policy_of_another_campaign_is_404(client, campaign, personas):
    other, _created = preset_load(text=PRESET.read_text(encoding="utf-8").replace(
        'slug = "shijingshan-2015"', 'slug = "other-2016"'))
    foreign = _policy(other)
    _login(client, personas, "carol")
    assert client.get("/work/policies/%d/" % foreign.pk).status_code == 404
    assert client.post("/work/policies/%d/edit/" % foreign.pk, {"title": "x"}).status_code == 404
    assert Policy.objects.get(pk=foreign.pk).title == "中华人民共和国合同法"


# The demo library

def test_demo_policies_seeds_the_library_once(demo_database, campaign):
    call_command("demo_policies", verbosity=0)
    call_command("demo_policies", verbosity=0)
    assert Policy.objects.filter(campaign=campaign).count() == len(DEMO_POLICIES) >= 4
    assert Policy.objects.get(title="中华人民共和国合同法").issued_on == datetime.date(1999, 3, 15)


@pytest.mark.django_db
def test_setup_demo_includes_the_library(settings):
    settings.DEBUG = True  # the demo set-up refuses the production profile
    call_command("setup_demo", stdout=io.StringIO())
    assert Policy.objects.count() == len(DEMO_POLICIES)
