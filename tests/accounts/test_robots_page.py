"""The HQ office sets a unit's group robot on a page; the token never shows; others may not."""

import pytest
from django.urls import reverse

from taizhang.campaigns.models import OrgUnit

pytestmark = pytest.mark.usefixtures("english")
URL = "https://oapi.dingtalk.com/robot/send?access_token=secret-token"


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_office_sets_and_removes_a_units_robot(client, personas, units):
    client.force_login(personas["carol"])
    response = client.post(reverse("accounts:robot_set", args=[units["GC"].pk]), {"url": URL}, follow=True)
    assert "古城街道: group robot saved." in response.content.decode()
    assert OrgUnit.objects.get(pk=units["GC"].pk).webhook_url == URL
    page = client.get(reverse("accounts:robots")).content.decode()
    assert "https://oapi.dingtalk.com/robot/send" in page and "secret-token" not in page
    client.post(reverse("accounts:robot_set", args=[units["GC"].pk]), {"url": ""})
    assert OrgUnit.objects.get(pk=units["GC"].pk).webhook_url == ""


def test_an_address_that_is_not_http_is_refused_naming_the_unit(client, personas, units):
    client.force_login(personas["carol"])
    response = client.post(reverse("accounts:robot_set", args=[units["GC"].pk]), {"url": "file:///etc/passwd"},
                           follow=True)
    assert "古城街道: Group robot webhook:" in response.content.decode()
    assert OrgUnit.objects.get(pk=units["GC"].pk).webhook_url == ""


@pytest.mark.parametrize("persona", ["alice", "lee", "jin", "gina", "dan"])
def test_only_the_hq_office_sees_or_sets_robots(client, personas, units, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("accounts:robots")).status_code == 403
    assert client.post(reverse("accounts:robot_set", args=[units["GC"].pk]), {"url": URL}).status_code == 403
    assert OrgUnit.objects.get(pk=units["GC"].pk).webhook_url == ""
