"""The account pages: the list with its filters, an account, its roles, deactivation, resets."""

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.models import Membership, Profile
from taizhang.core.models import ChangeLogEntry
from tests.account_state import accounts_state

pytestmark = pytest.mark.usefixtures("english")
User = get_user_model()
Role = Membership.Role


@pytest.fixture
def office(client, personas):
    client.force_login(personas["carol"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def usernames(response):
    return [u.username for u in response.context["page"]]


def test_the_list_shows_the_campaign_s_accounts_with_their_roles(office, personas):
    response = office.get("/accounts/users/")
    assert response.status_code == 200
    assert usernames(response) == ["alice", "bob", "carol", "dan", "erin", "gina", "jin", "lee", "olive"]
    assert "古城街道 · street sub-command staff" in response.text


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "ali"}, ["alice"]),
    ({"q": "138001"}, ["bob"]),
    ({"role": "street"}, ["alice", "bob"]),
    ({"role": "liaison"}, ["erin"]),
    ({"unit": "GC"}, ["alice", "erin"]),
    ({"unit": "GC", "role": "street"}, ["alice"]),
    ({"status": "inactive"}, ["dan"]),
    ({"status": "all", "q": "d"}, ["dan"]),
])
def test_search_and_filters(office, personas, units, query, expected):
    Profile.objects.create(user=personas["bob"], phone="13800138000")
    User.objects.filter(username="dan").update(is_active=False)
    if "unit" in query:
        query = query | {"unit": units[query["unit"]].pk}
    assert usernames(office.get("/accounts/users/", query)) == expected


@pytest.mark.parametrize("query", [{"unit": "x"}, {"unit": "999999"}, {"role": "king"}, {"q": "a " * 30}])
def test_a_filter_that_cannot_be_applied_shows_no_account_and_says_why(office, personas, query):
    response = office.get("/accounts/users/", query)
    assert response.status_code == 400 and usernames(response) == []
    assert 'class="problems"' in response.text


def test_htmx_gets_the_results_alone(office, personas):
    response = office.get("/accounts/users/", {"q": "ali"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text and 'id="results"' in response.text


def test_the_list_takes_the_same_queries_for_few_accounts_or_many(office, personas, units,
                                                                  django_assert_max_num_queries):
    office.get("/accounts/users/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        office.get("/accounts/users/")
    for n in range(30):
        user = User.objects.create_user("extra%02d" % n, password="x")
        Membership.objects.create(user=user, unit=units["GC"], role=Role.STREET)
        Membership.objects.create(user=user, unit=units["LG"], role=Role.LIAISON)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = office.get("/accounts/users/")
    assert len(usernames(response)) == 39


def test_the_office_creates_an_account_and_sees_its_temporary_password_once(office, units):
    response = office.post("/accounts/users/new/", {"username": "wangfang", "name": "王芳", "phone": "13900000000",
                                                    "unit": units["GC"].pk, "role": "street", "password": ""})
    assert response.status_code == 201
    user = User.objects.get(username="wangfang")
    password = response.context["temporary_password"]
    assert user.check_password(password) and password in response.text
    assert user.profile.must_change_password and user.memberships.get().unit == units["GC"]
    assert ChangeLogEntry.objects.filter(object_type="accounts.user", object_id=str(user.pk)).count() == 1
    assert password not in office.get("/accounts/users/%d/" % user.pk).text  # shown that once only


def test_a_refused_account_is_shown_on_the_form_and_nothing_changes(office, units):
    before = accounts_state()
    response = office.post("/accounts/users/new/", {"username": "alice", "name": "王芳", "unit": units["GC"].pk,
                                                    "role": "street", "password": ""})
    assert response.status_code == 400
    assert "User name: “alice” is already taken." in response.text
    response = office.post("/accounts/users/new/", {"username": "wangfang", "name": "王芳", "unit": units["JT"].pk,
                                                    "role": "street", "password": ""})
    assert response.status_code == 400 and "would see nothing" in response.text
    response = office.post("/accounts/users/new/", {"username": "wangfang", "name": "王芳", "unit": units["GC"].pk,
                                                    "role": "street", "password": "short"})
    assert response.status_code == 400 and "too short" in response.text
    assert accounts_state() == before


def test_the_detail_page_shows_roles_and_history(office, personas, units):
    alice = personas["alice"]
    office.post("/accounts/users/%d/roles/" % alice.pk, {"unit": units["LG"].pk, "role": "liaison"})
    response = office.get("/accounts/users/%d/" % alice.pk)
    assert response.status_code == 200
    assert "鲁谷街道" in response.text and "liaison leader" in response.text
    assert [item.kind for item in response.context["history"]] == ["Membership"]


def test_edit(office, personas):
    alice = personas["alice"]
    response = office.post("/accounts/users/%d/edit/" % alice.pk, {"username": "alice", "name": "艾丽丝", "phone": ""})
    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).first_name == "艾丽丝"
    before = accounts_state()
    response = office.post("/accounts/users/%d/edit/" % alice.pk, {"username": "bob", "name": "艾丽丝"})
    assert response.status_code == 400 and "already taken" in response.text
    assert accounts_state() == before


def test_deactivate_reactivate_and_reset_from_the_page(office, personas):
    alice = personas["alice"]
    response = office.post("/accounts/users/%d/deactivate/" % alice.pk, {"reason": "调离"}, follow=True)
    assert "can no longer log in" in response.text
    assert User.objects.get(pk=alice.pk).is_active is False
    assert ChangeLogEntry.objects.latest("id").reason == "调离"
    response = office.post("/accounts/users/%d/deactivate/" % alice.pk, follow=True)
    assert "already deactivated" in response.text  # a second click: a message, nothing else
    office.post("/accounts/users/%d/reactivate/" % alice.pk)
    assert User.objects.get(pk=alice.pk).is_active is True
    response = office.post("/accounts/users/%d/password/" % alice.pk, {"password": "temporary pass 1"})
    assert response.status_code == 200 and "temporary pass 1" in response.text
    assert User.objects.get(pk=alice.pk).profile.must_change_password
    before = accounts_state()
    response = office.post("/accounts/users/%d/password/" % alice.pk, {"password": "abc"})
    assert response.status_code == 400 and "too short" in response.text
    assert accounts_state() == before


def test_roles_given_and_taken_away_from_the_page(office, personas, units):
    alice = personas["alice"]
    office.post("/accounts/users/%d/roles/" % alice.pk, {"unit": units["LG"].pk, "role": "liaison"})
    added = Membership.objects.get(user=alice, role="liaison")
    before = accounts_state()
    response = office.post("/accounts/users/%d/roles/" % alice.pk, {"unit": units["LG"].pk, "role": "liaison"})
    assert response.status_code == 400 and "already a liaison leader" in response.text
    assert accounts_state() == before
    office.post("/accounts/users/%d/roles/%d/remove/" % (alice.pk, added.pk))
    assert not Membership.objects.filter(pk=added.pk).exists()
    assert ChangeLogEntry.objects.latest("id").action == "delete"
