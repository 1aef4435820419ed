"""Who reaches the account pages, URL by URL: only those who manage accounts (the HQ office, from
the access table's Action.USERS_MANAGE); an account outside their campaign is a 404."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import Campaign, OrgUnit
from tests.account_state import accounts_state

User = get_user_model()
OTHERS = ["alice", "bob", "dan", "erin", "lee", "gina", "jin", "olive"]


def _urls(alice, membership):
    """(method, URL, data) of every account page, about Alice."""
    return [
        ("get", "/accounts/users/", {}),
        ("get", "/accounts/users/new/", {}),
        ("post", "/accounts/users/new/", {"username": "x1", "name": "X", "unit": membership.unit_id,
                                          "role": "street"}),
        ("get", "/accounts/users/%d/" % alice.pk, {}),
        ("get", "/accounts/users/%d/edit/" % alice.pk, {}),
        ("post", "/accounts/users/%d/edit/" % alice.pk, {"username": "alice", "name": "A"}),
        ("post", "/accounts/users/%d/deactivate/" % alice.pk, {}),
        ("post", "/accounts/users/%d/reactivate/" % alice.pk, {}),
        ("post", "/accounts/users/%d/password/" % alice.pk, {"password": ""}),
        ("post", "/accounts/users/%d/roles/" % alice.pk, {"unit": membership.unit_id, "role": "liaison"}),
        ("post", "/accounts/users/%d/roles/%d/remove/" % (alice.pk, membership.pk), {}),
        ("get", "/accounts/users/import/", {}),
        ("post", "/accounts/users/import/", {}),
        ("post", "/accounts/users/import/%s/apply/" % uuid.uuid4(), {}),
    ]


@pytest.mark.parametrize("persona", OTHERS)
def test_no_one_but_the_office_reaches_any_account_page(client, personas, persona):
    alice = personas["alice"]
    membership = alice.memberships.get()
    client.force_login(personas[persona])
    before = accounts_state()
    for method, url, data in _urls(alice, membership):
        assert getattr(client, method)(url, data).status_code == 403, (method, url)
    assert accounts_state() == before


def test_the_office_opens_every_account_page(client, personas):
    """Its writes are each tried in test_user_pages and test_user_import."""
    alice = personas["alice"]
    client.force_login(personas["carol"])
    pages = [url for method, url, _data in _urls(alice, alice.memberships.get()) if method == "get"]
    assert {url: client.get(url).status_code for url in pages} == dict.fromkeys(pages, 200)


def test_anonymous_visitors_are_sent_to_log_in(client, personas):
    alice = personas["alice"]
    for method, url, data in _urls(alice, alice.memberships.get()):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_an_account_of_another_campaign_is_a_404_for_the_office(client, personas, campaign):
    other = Campaign.objects.create(slug="other", name="另一个专项行动", district="石景山区",
                                    starts_on=campaign.starts_on, ends_on=campaign.ends_on)
    street = OrgUnit.objects.create(campaign=other, kind=OrgUnit.Kind.STREET, code="X", name="另一个街道")
    stranger = User.objects.create_user("stranger", password="x")
    membership = Membership.objects.create(user=stranger, unit=street, role=Membership.Role.STREET)
    client.force_login(personas["carol"])
    before = accounts_state()
    for method, url, data in _urls(stranger, membership):
        if "/users/%d/" % stranger.pk in url:
            assert getattr(client, method)(url, data).status_code == 404, url
    assert "stranger" not in [u.username for u in client.get("/accounts/users/").context["page"]]
    # Nor may the office place anyone in the other campaign's units.
    response = client.post("/accounts/users/%d/roles/" % personas["alice"].pk, {"unit": street.pk, "role": "street"})
    assert response.status_code == 400
    assert accounts_state() == before


def test_the_header_links_only_managers_to_the_account_pages(client, personas):
    client.force_login(personas["carol"])
    assert 'href="/accounts/users/"' in client.get("/").text
    client.force_login(personas["alice"])
    assert 'href="/accounts/users/"' not in client.get("/").text
