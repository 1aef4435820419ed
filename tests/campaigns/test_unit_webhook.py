"""A unit's group robot: set by the command (http(s) only), resolved by the rooms that notify."""

import pytest
from django.core.management import CommandError, call_command

from taizhang.campaigns.webhooks import unit_webhook_set, webhook_urls
from taizhang.core.errors import ServiceError

pytestmark = pytest.mark.usefixtures("english")

ROBOT = "https://oapi.dingtalk.com/robot/send?access_token=abc"


def test_the_command_sets_and_removes_a_units_robot(units, campaign):
    call_command("unit_webhook", campaign.slug, "GC", ROBOT, stdout=None)
    units["GC"].refresh_from_db()
    assert units["GC"].webhook_url == ROBOT
    assert webhook_urls([units["GC"], units["LG"], units["GC"]]) == [ROBOT]
    call_command("unit_webhook", campaign.slug, "GC", "")
    units["GC"].refresh_from_db()
    assert units["GC"].webhook_url == "" and webhook_urls([units["GC"]]) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.gov.cn/robot", "javascript:alert(1)", "robot"])
def test_only_http_urls_are_taken(units, campaign, url):
    with pytest.raises(ServiceError):
        unit_webhook_set(unit=units["GC"], url=url)
    with pytest.raises(CommandError):
        call_command("unit_webhook", campaign.slug, "GC", url)
    units["GC"].refresh_from_db()
    assert units["GC"].webhook_url == ""


def test_an_unknown_unit_is_named(campaign):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("unit_webhook", campaign.slug, "NOPE", ROBOT)
